/**
 * The graph executor (src/executor.ts, src/schedule.ts): lazy recording, realization on reads and
 * at the bound, fusion, in-place writes without copies, write-after-read ordering, eager mode, and
 * the seed step's kernel count — on every device. Counts come from torch.launchStats (kernels after
 * fusion) and, on WebGPU, torch.webgpu.stats() (dispatches).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import { devices } from './devices.js';
import { errorOfDestroyedBuffer } from './helpers.js';
import { seedNet } from './seed-net.js';
import { cpuBackend } from '../src/backends/cpu/index.js';

/** The wasm heap of the CPU backend (undefined for the JS kernels). */
const cpuHeap = () => (cpuBackend as { heap?: { liveBytes: number } }).heap;

/** Kernels (after fusion) that `fn` costs once realized. */
async function kernelsOf(device: Device, fn: () => Tensor | void): Promise<number> {
  torch.realize();
  const before = torch.launchStats.kernels;
  const out = fn();
  if (out) await out.data();
  torch.realize();
  if (device === 'webgpu') await torch.webgpu.synchronize();
  return torch.launchStats.kernels - before;
}

// These tests are about the lazy executor: they run lazily even under WGTORCH_EAGER=1.
const eagerDefault = torch.isEager();
beforeEach(() => torch.setEager(false));
afterEach(() => {
  torch.setEager(eagerDefault);
  torch.setGraphBound(256);
});

describe.each(devices)('executor on %s', (device) => {
  const opts = { device };
  const vals = (t: Tensor) => t.data().then((d) => Array.from(d));

  it('records ops and runs them when a value is read', async () => {
    const a = torch.tensor([1, 2, 3], opts);
    torch.realize();
    const k0 = torch.launchStats.kernels, r0 = torch.launchStats.total;
    const b = a.mul(2).add(1);
    expect(torch.launchStats.total - r0).toBe(2); // recorded
    expect(torch.launchStats.kernels - k0).toBe(0); // nothing ran yet
    expect(await vals(b)).toEqual([3, 5, 7]); // (1..3)·2 + 1
    expect(torch.launchStats.kernels - k0).toBe(1); // one fused kernel
  });

  it('eager mode runs each op when called', async () => {
    torch.setEager(true);
    expect(torch.isEager()).toBe(true);
    const a = torch.tensor([1, 2, 3], opts);
    const k0 = torch.launchStats.kernels;
    const b = a.mul(2);
    expect(torch.launchStats.kernels - k0).toBe(1);
    const c = b.add(1);
    expect(torch.launchStats.kernels - k0).toBe(2);
    expect(await vals(c)).toEqual([3, 5, 7]);
  });

  it('an elementwise chain is one kernel; a tensor the user keeps keeps its recipe until it is read', async () => {
    const p = torch.tensor([[1, 2], [3, 4]], opts), y = torch.tensor([[0, 1], [1, 5]], opts);
    torch.realize();
    const k0 = torch.launchStats.kernels;
    // (p - y)^2 * 3 + 1 = [[4, 4], [13, 4]], clamped at 10
    const d = p.sub(y);
    const out = d.pow(2).mul(3).add(1).clamp({ max: 10 });
    expect(await vals(out)).toEqual([4, 4, 10, 4]);
    expect(torch.launchStats.kernels - k0).toBe(1); // the chain, storing only what was read
    expect(await vals(d)).toEqual([1, 1, 2, -1]); // d's recipe runs now
    expect(torch.launchStats.kernels - k0).toBe(2);
    y.add_(100); // d was computed before: it keeps its values
    expect(await vals(d)).toEqual([1, 1, 2, -1]);
  });

  it('parts of a recipe read the same way each run are found again, and every part computes its own values', async () => {
    const x0 = torch.tensor([0, 10], opts);
    await vals(x0);
    const run = async (at: number) => {
      const chain: Tensor[] = [];
      let x = x0;
      for (let i = 0; i < 40; i++) chain.push((x = x.add(1)));
      const got = [await vals(chain[at]!), await vals(x)];
      chain.forEach((t) => t.dispose());
      return got;
    };
    // the same split twice, another one, then the first again: each value is its own step's
    for (const at of [9, 9, 29, 9, 0]) expect(await run(at)).toEqual([[at + 1, at + 11], [40, 50]]);
  });

  it('a recipe nobody reads never runs; releasing its outputs drops it and returns the memory it held', async () => {
    const live = () => (device === 'webgpu' ? torch.webgpu.memoryStats().liveBytes : (cpuHeap()?.liveBytes ?? 0));
    const other = torch.tensor([0], opts);
    await vals(other);
    const m0 = live();
    const a = torch.tensor([1, 2, 3], opts);
    await vals(a);
    const k0 = torch.launchStats.kernels;
    const b = a.mul(2), c = b.add(1); // alive, and nothing reads them: kept as a recipe
    await vals(other); // realizes the graph: nothing runs for b and c
    expect(torch.launchStats.kernels - k0).toBe(0);
    a.dispose(); // the recipe still reads a: its memory is held, not returned
    b.dispose();
    c.dispose(); // the last output: the recipe is dropped, and a's memory returned
    torch.realize(); // runs every recipe still carried: there is none
    expect(torch.launchStats.kernels - k0).toBe(0);
    expect(live()).toBe(m0);
  });

  it('disposing a result made over another tensor\'s memory (sum(), dot(), a copying reshape, cumsum of a 0-dim) returns it', async (ctx) => {
    // These results are new tensors over the memory of a launch's own output, which the user
    // never sees: dispose() must return the memory at once, not when the collector finds that one.
    // (The JS CPU kernels, WGTORCH_CPU=js, keep memory in JS arrays: nothing to count.)
    if (device === 'cpu' && !cpuHeap()) ctx.skip();
    const live = () => (device === 'webgpu' ? torch.webgpu.memoryStats().liveBytes : (cpuHeap()?.liveBytes ?? 0));
    const x = torch.tensor([[1, 2], [3, 4]], opts), v = torch.tensor([1, 2], opts), s = torch.tensor(5, opts);
    const make = () => [x.sum(), x.sum(1), v.dot(v), x.t().reshape([4]), s.cumsum(0)];
    // once first: the CPU's matmul keeps a scratch block from its first call
    for (const t of make()) await vals(t);
    torch.realize();
    const m0 = live();
    const outs = make();
    expect(await Promise.all(outs.map(vals))).toEqual([[10], [3, 7], [5], [1, 3, 2, 4], [5]]);
    expect(live()).toBeGreaterThan(m0);
    for (const t of outs) t.dispose();
    torch.realize();
    expect(live()).toBe(m0);
  });

  it('a recipe reads its inputs as they were, even after they were released and their memory reused', async () => {
    const x = torch.tensor([1, 2, 3], opts);
    await vals(x);
    const y = x.mul(2); // a recipe reading x
    await vals(torch.tensor([0], opts)); // the graph is realized; y is not computed
    x.dispose();
    // new tensors of x's size, written: had x's memory been returned, one of them would hold it
    const zs = Array.from({ length: 4 }, () => torch.full([3], 9, opts).add(1));
    for (const z of zs) expect(await vals(z)).toEqual([10, 10, 10]);
    expect(await vals(y)).toEqual([2, 4, 6]);
  });

  it('an in-place update is one kernel writing its target, and zero_() then add_() costs one kernel', async () => {
    const w = torch.tensor([1, 2, 3], opts), g = torch.tensor([10, 20, 30], opts);
    // w - 0.5 g = [-4, -8, -12]
    expect(await kernelsOf(device, () => void w.sub_(g.mul(0.5)))).toBe(1);
    expect(await vals(w)).toEqual([-4, -8, -12]);
    // zero_() then add_(g): g is written, the zeros never are.
    expect(await kernelsOf(device, () => void w.zero_().add_(g))).toBe(1);
    expect(await vals(w)).toEqual([10, 20, 30]);
  });

  it('a reduction absorbs its elementwise prologue', async () => {
    const a = torch.tensor([[1, 2], [3, 4]], opts), b = torch.tensor([[0, 0], [1, 1]], opts);
    let loss: Tensor | null = null;
    // Inside a scope the temporaries are released before the graph runs: nothing stores them.
    const k = await kernelsOf(device, () => {
      loss = torch.scope(() => a.sub(b).pow(2).sum());
    });
    expect(k).toBe(1);
    expect(await loss!.item()).toBe(18); // Σ (a - b)^2 = 1 + 4 + 4 + 9
    // Kept temporaries are stored as well, and the reduction over a dim still reads the recipe.
    const d = a.sub(b);
    const rows = d.mul(d).sum(1); // [1 + 4, 4 + 9]
    expect(await vals(rows)).toEqual([5, 13]);
    expect(await vals(d)).toEqual([1, 2, 2, 3]);
  });

  it('a temporary keeps its recipe: not computed unless read, never stale after an in-place write', async () => {
    const yPred = torch.tensor([[1, 2], [3, 4]], opts), y = torch.tensor([[0, 0], [1, 1]], opts);
    torch.realize();
    const k0 = torch.launchStats.kernels;
    const d = yPred.sub(y);
    const loss = d.pow(2).sum();
    expect(await loss.item()).toBe(18); // Σ (yPred - y)^2 = 1 + 4 + 4 + 9
    expect(torch.launchStats.kernels - k0).toBe(1); // the sum with its prologue; d is not stored yet
    yPred.add_(10); // d was recorded before: it must not see this
    expect(await vals(d)).toEqual([1, 2, 2, 3]);
    expect(await vals(yPred)).toEqual([11, 12, 13, 14]);
  });

  it('a matmul absorbs its epilogue (bias add, clamp) and reads a transposed operand in place', async () => {
    const x = torch.tensor([[1, 2], [3, 4]], opts), w = torch.tensor([[1, -1], [0, 1]], opts), b = torch.tensor([-5, 1], opts);
    torch.realize();
    const c0 = torch.launchStats.byKind.copy ?? 0;
    let h: Tensor | null = null;
    // x·wᵀ = [[1·1 + 2·(-1), 1·0 + 2·1], [3 - 4, 4]] = [[-1, 2], [-1, 4]]; + b = [[-6, 3], [-6, 5]]; clamp(min 0)
    const k = await kernelsOf(device, () => {
      h = torch.scope(() => x.mm(w.t()).add(b).clamp({ min: 0 }));
      return h;
    });
    expect(k).toBe(1);
    expect(torch.launchStats.byKind.copy ?? 0).toBe(c0); // wᵀ is read through its strides
    expect(await vals(h!)).toEqual([0, 3, 0, 5]);
  });

  it('write-after-read: a recorded reader sees the value before a later in-place write', async () => {
    const x = torch.tensor([1, 2, 3], opts);
    const y = x.mul(2); // recorded, not run
    x.add_(10);
    const z = x.mul(2);
    expect(await vals(y)).toEqual([2, 4, 6]);
    expect(await vals(z)).toEqual([22, 24, 26]);
    // A kept intermediate is never stale after an in-place write to its input.
    const a = torch.tensor([1, 1], opts);
    const b = a.add(1);
    a.mul_(5);
    const c = b.add(a);
    expect(await vals(b)).toEqual([2, 2]);
    expect(await vals(c)).toEqual([7, 7]);
  });

  it('a graph that is never read is realized at the bound', async () => {
    torch.setGraphBound(8);
    const r0 = torch.launchStats.realizations;
    let t = torch.ones([4], opts);
    for (let i = 0; i < 30; i++) t = t.add(1);
    expect(torch.launchStats.realizations - r0).toBeGreaterThanOrEqual(3);
    expect(await vals(t)).toEqual([31, 31, 31, 31]);
  });

  it('values through views, broadcasts, dtype changes and a copy from a transposed clone', async () => {
    const a = torch.arange(6, opts).float().reshape(2, 3);
    const b = a.t().mul(torch.tensor([1, 10], opts)).add(a.t()); // [[0, 3·11], ...]: a.t() · (1 + [1, 10])
    expect(await vals(b)).toEqual([0, 33, 2, 44, 4, 55]);
    const m = torch.tensor([[1, 2], [3, 4]], opts);
    // PyTorch rejects a copy from an overlapping view; cloned first, the transpose lands in place.
    expect(() => m.copy_(m.t())).toThrow('some elements of the input tensor and the written-to tensor refer to a single memory location');
    m.copy_(m.t().clone());
    expect(await vals(m)).toEqual([1, 3, 2, 4]);
    const i = torch.tensor([1.7, -2.5, 3.2], opts).int().add(1).gt(0); // [2, -1, 4] > 0
    expect(await vals(i)).toEqual([1, 0, 1]);
  });

  it('splits a kernel that would bind more buffers than a shader stage allows', async () => {
    const xs = Array.from({ length: 20 }, (_, k) => torch.full([5], k, opts));
    torch.realize();
    const before = torch.launchStats.kernels;
    let s = xs[0]!;
    for (const x of xs.slice(1)) s = s.add(x); // 0 + 1 + ... + 19 = 190
    expect(await vals(s)).toEqual([190, 190, 190, 190, 190]);
    const k = torch.launchStats.kernels - before;
    // WebGPU kernels bind at most 16 buffers (the device's limit when lower): 20 inputs and an
    // output need at least two kernels.
    if (device === 'webgpu') expect(k).toBeGreaterThanOrEqual(2);
    else expect(k).toBe(1);
  });

  it('the seed step costs 6 kernels after fusion (31 launches recorded)', async () => {
    const { step } = seedNet(device, 0);
    for (let i = 0; i < 2; i++) step();
    torch.realize();
    if (device === 'webgpu') await torch.webgpu.synchronize();
    const steps = 6;
    const r0 = torch.launchStats.total, k0 = torch.launchStats.kernels;
    const d0 = device === 'webgpu' ? torch.webgpu.stats().dispatches : 0;
    torch.setGraphBound(10_000);
    for (let i = 0; i < steps; i++) step();
    torch.realize();
    if (device === 'webgpu') await torch.webgpu.synchronize();
    const recorded = (torch.launchStats.total - r0) / steps;
    const kernels = torch.launchStats.kernels - k0;
    expect(recorded).toBe(31);
    // Per step: x·w1 with clamp fused in, ·w2 with (sub, pow) and the loss gradient fused in, the
    // sum, and the three gradient matmuls with the clamp mask and both updates fused in (zero_()
    // then add_() writes the gradient once, then w -= lr·grad): 6 kernels. The zero_() of the last
    // step of the graph is the only extra (2 fills).
    const perStep = 6;
    const dispatches = device === 'webgpu' ? torch.webgpu.stats().dispatches - d0 : kernels;
    console.log(`seed step on ${device}: ${recorded} launches recorded, ${kernels / steps} kernels, ${dispatches / steps} dispatches per step (${steps} steps, one graph)`);
    expect(kernels).toBeLessThanOrEqual(perStep * steps + 2);
    if (device === 'webgpu') expect(torch.webgpu.stats().dispatches - d0).toBeLessThanOrEqual(perStep * steps + 2);
  });
});

describe.each(devices)('plan cache on %s', (device) => {
  const opts = { device };
  const vals = (t: Tensor) => t.data().then((d) => Array.from(d));

  it('a repeated graph replays its plan; outputs of replays never share memory', async () => {
    const x = torch.tensor([1, 2, 3], opts);
    const step = torch.compile(() => {
      const y = x.mul(2).add(1);
      x.add_(1);
      return y;
    });
    const r0 = torch.planStats.replayed;
    const outs = [step(), step(), step()];
    expect(torch.planStats.replayed - r0).toBeGreaterThanOrEqual(2);
    // y = 2x + 1 with x = [1, 2, 3], then [2, 3, 4], then [3, 4, 5]; each kept y holds its own step.
    expect(await vals(outs[0]!)).toEqual([3, 5, 7]);
    expect(await vals(outs[1]!)).toEqual([5, 7, 9]);
    expect(await vals(outs[2]!)).toEqual([7, 9, 11]);
    expect(await vals(x)).toEqual([4, 5, 6]);
  });

  it('kernels of one pipeline with different parameters before one submit each see their own', async () => {
    const x = torch.tensor([1, 2, 3], opts);
    // Three graphs, one fused kernel text, three scalars: all encoded before the first read submits.
    const ys = [2, 3, 4].map((k) => torch.compile(() => x.mul(k).add(k))());
    expect(await vals(ys[0]!)).toEqual([4, 6, 8]); // 2x + 2
    expect(await vals(ys[1]!)).toEqual([6, 9, 12]); // 3x + 3
    expect(await vals(ys[2]!)).toEqual([8, 12, 16]); // 4x + 4
  });

  it('a replayed plan binds the buffers of its new launches, not buffers the pool gave away', async () => {
    const f = torch.compile((t: Tensor) => t.mul(10).add(t));
    const a = torch.tensor([1, 2], opts);
    const fa = f(a);
    expect(await vals(fa)).toEqual([11, 22]);
    a.dispose();
    fa.dispose();
    if (device === 'webgpu') torch.webgpu.emptyCache();
    const b = torch.tensor([3, 4], opts); // may reuse a's buffer, or a new one after emptyCache
    const c = torch.tensor([5, 6], opts);
    const r0 = torch.planStats.replayed;
    const fb = f(b), fc = f(c);
    expect(torch.planStats.replayed - r0).toBe(2);
    expect(await vals(fc)).toEqual([55, 66]);
    expect(await vals(fb)).toEqual([33, 44]);
  });

  it('the seed loop as written replays plans after its first graphs (no compile, no reads)', async () => {
    const { step } = seedNet(device, 1, { n: 8, dIn: 20, h: 6, dOut: 3, lr: 1e-3 });
    torch.setGraphBound(64); // a graph is realized at the first backward() after 32 launches: every 2 steps
    const b0 = torch.planStats.built, r0 = torch.planStats.replayed;
    let loss: Tensor | null = null;
    for (let t = 0; t < 12; t++) loss = step();
    const replayed = torch.planStats.replayed - r0, built = torch.planStats.built - b0;
    expect(replayed).toBeGreaterThanOrEqual(3);
    expect(built).toBeLessThanOrEqual(3);
    expect(Number.isFinite(await loss!.item())).toBe(true);
  });
});

describe.skipIf(!devices.includes('webgpu'))('executor errors on webgpu', () => {
  it('a device error raised while realizing names the op, and in eager mode where it was called', async () => {
    torch.setEager(true);
    const err = await errorOfDestroyedBuffer((a) => a.mul(3));
    expect(err).toBeInstanceOf(torch.DeviceError);
    expect((err as Error).message).toMatch(/binary:mul/);
    expect((err as Error).message).toMatch(/executor\.test\.ts/);
    await torch.webgpu.synchronize();
  });
});
