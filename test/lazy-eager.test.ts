/**
 * The lazy executor against eager mode: each program runs once op by op (eager), then lazily with
 * graph bounds that cut its graph at every few launches, so fusion, carried kernels, dead stores
 * and plan replay meet in-place writes, views of pending results and reads of views after writes
 * to their base. Every run must read the same values.
 */
import { afterEach, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { describeDevices } from './devices.js';

const BOUNDS = [256, 1, 2, 3, 5, 8, 16, 64];

const read = (ts: Tensor[]) => Promise.all(ts.map(async (t) => Array.from((await t.data()) as ArrayLike<number>, Number)));

afterEach(() => {
  torch.setEager(false);
  torch.setGraphBound(256);
  torch.setDefaultDevice('cpu');
});

describeDevices('lazy execution reads what eager mode reads, on %s', (device) => {
  /** Runs `prog` eagerly (values checked by `check`), then lazily under each bound. */
  const same = (name: string, prog: () => Tensor[], check?: (eager: number[][]) => void, replays = false) => {
    it(name, async () => {
      torch.setDefaultDevice(device);
      torch.setEager(true);
      const want = await read(prog());
      check?.(want);
      torch.setEager(false);
      const r0 = torch.planStats.replayed;
      for (const b of BOUNDS) {
        torch.setGraphBound(b);
        expect(await read(prog()), `graph bound ${b}`).toEqual(want);
      }
      // Small bounds cut a loop's graphs alike: later ones replay cached plans on new buffers.
      if (replays) expect(torch.planStats.replayed).toBeGreaterThan(r0);
    });
  };

  same('an in-place write to the input of pending kernels', () => {
    const a = torch.tensor([1, 2, 3]);
    const b = a.mul(2);
    const c = b.add(1);
    a.add_(10);
    return [c, b, a];
  }, (w) => expect(w).toEqual([[3, 5, 7], [2, 4, 6], [11, 12, 13]]));

  same('views of a fused result, then an in-place write to it', () => {
    const b = torch.arange(12).float().reshape(3, 4).mul(2).add(1);
    const t = b.t(), s = b.slice(1, 1, null, 2);
    const before = s.add(0);
    b.mul_(0);
    return [before, t, s, b];
  });

  same('a view read after in-place writes to its base and through itself', () => {
    const base = torch.arange(6).float();
    const v = base.narrow(0, 1, 3);
    base.mul_(10);
    const w = v.add(1);
    v.sub_(1);
    return [v, w, base];
  }, (w) => expect(w).toEqual([[9, 19, 29], [11, 21, 31], [0, 9, 19, 29, 40, 50]]));

  same('int32 and bool through fused kernels', () => {
    const a = torch.tensor(new Int32Array([7, -7, 5, 100000]));
    const sq = a.mul(a).add(3); // 100000² wraps as in int32 (PyTorch: 1410065411)
    const m = a.gt(0).logicalAnd(a.lt(10));
    const r = torch.where(m, a, a.neg()).remainder(3);
    const e = a.fmod(3).add(a.remainder(-4)).mul(a.sign());
    const s = m.add(a.eq(-7));
    return [sq, m, r, e, s, a.div(2)];
  }, (w) => {
    // PyTorch 1.13 on int32 tensors: a*a+3, (a>0)&(a<10), where(...).remainder(3),
    // (a.fmod(3) + a.remainder(-4)) * a.sign(), bool + bool, a / 2
    expect(w).toEqual([[52, 52, 28, 1410065411], [1, 0, 1, 0], [1, 1, 2, 2], [0, 4, -1, 1], [1, 1, 1, 0], [3.5, -3.5, 2.5, 50000]]);
  });

  same('backward through an in-place write to a view (CopySlices)', () => {
    const x = torch.arange(6).float().reshape(2, 3).requiresGrad_();
    const y = x.mul(2);
    y.select(0, 1).mul_(3);
    y.pow(2).sum().backward();
    return [y, x.grad!];
  }, (w) => {
    // y = 2x with row 1 tripled; d/dx sum(y²) = 2y · dy/dx = [8x | 72x]
    expect(w).toEqual([[0, 2, 4, 18, 24, 30], [0, 8, 16, 216, 288, 360]]);
  });

  same('a loop accumulating in place, read through clones', () => {
    const out: Tensor[] = [];
    const acc = torch.zeros([4]);
    for (let i = 0; i < 6; i++) {
      const t = torch.arange(4).float().add(i);
      acc.add_(t.mul(t).sub(1));
      const w = acc.clone();
      w.mul_(0.5);
      out.push(w);
    }
    return out;
  }, undefined, true);

  same('a partial copy_ into a pending result, then a fill of it', () => {
    const a = torch.zeros([3, 3]);
    const b = a.add(1);
    b.view(9).slice(0, 0, null, 4).copy_(torch.tensor([7, 8, 9]));
    const c = b.t().contiguous();
    b.fill_(2);
    return [c, a.add(b)];
  }, (w) => expect(w[0]).toEqual([7, 1, 1, 1, 8, 1, 1, 1, 9]));

  same('an expanded view of a tensor written in place later', () => {
    const a = torch.tensor([1, 2]);
    const e = a.unsqueeze(0).expand(3, 2);
    const f = e.mul(1);
    a.add_(5);
    return [f, e];
  }, (w) => expect(w).toEqual([[1, 2, 1, 2, 1, 2], [6, 7, 6, 7, 6, 7]]));

  same('long chains: carried kernels, then views and in-place writes on them', () => {
    const out: Tensor[] = [];
    const a = torch.arange(24).float().reshape(4, 6);
    let h = a.clone();
    for (let i = 0; i < 12; i++) {
      h = h.mul(0.5).add(i).sin().mul(10);
      const hv = h.t().narrow(0, 1, 3);
      if (i % 3 === 0) hv.mul_(2);
      if (i % 4 === 1) h.narrow(1, 0, 2).copy_(a.narrow(1, 2, 2));
      if (i % 5 === 2) a.add_(h.sum());
      const m = h.gt(0);
      out.push(hv.sum(1), m.int().add(torch.arange(6).int()).remainder(4), m.logicalAnd(a.lt(10)));
      if (i % 2 === 0) out.push(h.clone());
    }
    return out;
  });

  same('a training loop with detached in-place writes and no reads until the end', () => {
    const x = torch.arange(8).float().reshape(2, 4).requiresGrad_();
    const sums: Tensor[] = [];
    let h = torch.ones([2, 4]);
    for (let i = 0; i < 10; i++) {
      h = h.mul(x).add(1).clamp({ max: 50 });
      const g = h.detach();
      g.view(8).narrow(0, 0, 2).fill_(i);
      sums.push(g.sum());
    }
    h.sum().backward();
    return [...sums, x.grad!];
  });
});
