/** torch.scope(fn): what it disposes, what it keeps (results, grads, what backward needs), nesting, errors. */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { describeDevices } from './devices.js';
import { seedNet } from './seed-net.js';

const disposed = (t: Tensor) => String(t) === 'tensor(<disposed>)';

describeDevices('torch.scope on %s', (device) => {
  const opts = { device };

  it('disposes what fn made and keeps what it returns, in arrays and objects too', async () => {
    let made: Tensor[] = [];
    const out = torch.scope(() => {
      const a = torch.ones([4], opts);
      const b = a.mul(3);
      const c = b.add(1);
      const d = c.neg();
      made = [a, b, c, d];
      return { sum: c, list: [d] };
    });
    expect(made.slice(0, 2).map(disposed)).toEqual([true, true]);
    expect(Array.from(await out.sum.data())).toEqual([4, 4, 4, 4]);
    expect(Array.from(await out.list[0]!.data())).toEqual([-4, -4, -4, -4]);
    // A disposed tensor says so when used.
    expect(() => made[0]!.add(1)).toThrow(/disposed/);
  });

  it('a training step inside a scope: grads kept, same values as without, memory released promptly', async () => {
    const init = () => seedNet(device, 3, { n: 64, dIn: 200, h: 50, dOut: 3, lr: 1e-3 });
    const plain = init(), scoped = init();
    const lossesPlain: number[] = [], lossesScoped: number[] = [];
    // Live bytes added by one step, measured with no await in between (so no finalizer runs).
    const grew: [number, number][] = [];
    const live = () => torch.webgpu.memoryStats().liveBytes;
    for (let i = 0; i < 4; i++) {
      let before = live();
      const lp = plain.step();
      const plainGrew = live() - before;
      lossesPlain.push(await lp.item());
      before = live();
      const loss = torch.scope(() => scoped.step());
      grew.push([plainGrew, live() - before]);
      lossesScoped.push(await loss.item());
      loss.dispose();
    }
    expect(lossesScoped).toEqual(lossesPlain);
    expect(Array.from(await scoped.w1.data())).toEqual(Array.from(await plain.w1.data()));
    expect(disposed(scoped.w1.grad!)).toBe(false);
    expect(Array.from(await scoped.w1.grad!.data()).every((v) => v === 0)).toBe(true);
    // Without waiting for the garbage collector, a scoped step leaves only its loss (one small
    // buffer) behind; the same step outside a scope leaves its activations and gradients.
    if (device === 'webgpu') {
      for (const [plainGrew, scopedGrew] of grew.slice(1)) {
        expect(scopedGrew).toBeLessThanOrEqual(256);
        expect(plainGrew).toBeGreaterThan(10_000);
      }
    }
  });

  it('a loss returned from a scope can still run backward: its graph is kept', async () => {
    const w = torch.tensor([1, 2, 3], { ...opts, requiresGrad: true });
    const loss = torch.scope(() => w.mul(w).mul(2).sum());
    loss.backward();
    expect(Array.from(await w.grad!.data())).toEqual([4, 8, 12]);
  });

  it('in-place under grad on an outside tensor keeps its new history', async () => {
    const w = torch.tensor([1, 2], { ...opts, requiresGrad: true });
    const h = w.mul(1);
    torch.scope(() => {
      h.mul_(w);
    });
    h.sum().backward();
    // h = w * w after the in-place step: d/dw = 2w.
    expect(Array.from(await w.grad!.data())).toEqual([2, 4]);
  });

  it('nests: an inner result belongs to the outer scope', async () => {
    let inner: Tensor | null = null;
    const kept = torch.scope(() => {
      inner = torch.scope(() => torch.ones([2], opts).add(1));
      expect(disposed(inner)).toBe(false);
      return inner.mul(2);
    });
    expect(disposed(inner!)).toBe(true);
    expect(Array.from(await kept.data())).toEqual([4, 4]);
  });

  it('an error inside disposes what was made and propagates; a Promise is refused', () => {
    let a: Tensor | null = null;
    expect(() =>
      torch.scope(() => {
        a = torch.ones([2], opts);
        a.mm(a);
      }),
    ).toThrow(torch.RuntimeError);
    expect(disposed(a!)).toBe(true);
    expect(() => torch.scope(async () => torch.ones([1], opts))).toThrow(/synchronous/);
  });
});
