/**
 * What a replayed step costs the WebGPU backend in JS, as counts (times are for the bench): no
 * buffer created, no bind group created, no kernel generated once a step repeats; memory bound only
 * when a kernel, a write or a read first uses it; and the reuse this relies on never lets a later
 * write or step change values an earlier result still holds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as torch from '../src/index.js';
import type { GpuBuf } from '../src/backends/webgpu/pool.js';
import { dispatchedVariants, kernelChoice, setKernelChoice } from '../src/backends/webgpu/kernels.js';
import { webgpuSuite } from './webgpu-suite.js';
import { isDawnTick } from '../src/backends/webgpu/dawn-pacing.js';
import { seedNet } from './seed-net.js';

const available = await webgpuSuite('test/webgpu-overhead.test.ts');

// Replay and lazily bound memory are the lazy executor's: these run lazily even under WGTORCH_EAGER=1.
const eagerDefault = torch.isEager();
beforeEach(() => torch.setEager(false));
afterEach(() => torch.setEager(eagerDefault));

/** The change of torch.webgpu.stats() over `fn`. */
function statsOf(fn: () => void): ReturnType<typeof torch.webgpu.stats> {
  const s0 = torch.webgpu.stats();
  fn();
  const s1 = torch.webgpu.stats();
  return Object.fromEntries(Object.entries(s1).map(([k, v]) => [k, v - s0[k as keyof typeof s0]])) as typeof s0;
}

describe.skipIf(!available)('webgpu overhead of a replayed step', () => {
  it('the seed step, once it repeats, creates no buffer, bind group or pipeline and replays every kernel', async () => {
    const net = seedNet('webgpu', 2);
    // A scope returns the step's temporaries at once (no garbage collector involved), so the pool
    // hands the same memory to the next step and its bind groups are found in the cache. A bind
    // group also holds its dispatch's parameter offset, which depends on the step's place in its
    // batch (32 kernels: four steps): from the second batch on, every place has been seen.
    const step = () => torch.scope(() => net.step()).dispose();
    for (let i = 0; i < 8; i++) step();
    const s = statsOf(() => {
      for (let i = 0; i < 8; i++) step();
    });
    expect(s.kernels).toBeGreaterThanOrEqual(8 * 6);
    expect(s.buffersCreated).toBe(0);
    expect(s.bindGroups).toBe(0);
    expect(s.pipelines).toBe(0);
    expect(s.replayed).toBe(s.kernels);
    expect(s.bindGroupHits).toBe(s.dispatches);
    expect(Number.isFinite(await net.step().item())).toBe(true);
  });

  it('a replayed step finds its bind groups whatever the batch limit: a plan starts its batch where it did before', async () => {
    // A bind group holds its dispatch's parameter offset, its place in the batch. A plan that would
    // not fit in the open batch starts a new one, so with 30 kernels a batch (the seed step's 8 fit
    // three times) every step's dispatches sit where they did three steps before; were steps to
    // run on across submits, their places would repeat only every 15 steps. With 12, one a batch.
    const net = seedNet('webgpu', 3);
    const step = () => torch.scope(() => net.step()).dispose();
    for (const limit of [30, 12]) {
      torch.webgpu.setBatchLimit(limit);
      try {
        for (let i = 0; i < 8; i++) step();
        const s = statsOf(() => {
          for (let i = 0; i < 16; i++) step();
        });
        expect(s.kernels).toBeGreaterThanOrEqual(16 * 6);
        expect(s.bindGroups).toBe(0);
        expect(s.bindGroupHits).toBe(s.dispatches);
        // every batch holds whole steps: three, or one
        expect(s.submits).toBeLessThanOrEqual(limit === 30 ? Math.ceil(16 / 3) + 1 : 16 + 1);
      } finally {
        torch.webgpu.setBatchLimit(32);
      }
    }
    expect(Number.isFinite(await net.step().item())).toBe(true);
  });

  it('step outputs returned in irregular batches, as the collector returns them, find their bind groups again', async () => {
    // A plain loop's step outputs stay bound until the collector finds them dead, and it returns
    // them every few steps, a different number each time: here they are disposed that way. Each
    // replayed plan binds its outputs to the memory of an earlier replay that is all free now
    // (its bind groups were made then): 0.12 bind groups a step after warm-up (the few made for
    // plans that differ by where a return fell); 3.23 when outputs took the oldest free memory.
    torch.manualSeed(4);
    const d = { device: 'webgpu' as const };
    const x = torch.randn([64, 1000], d), y = torch.randn([64, 10], d);
    const w1 = torch.randn([1000, 100], { ...d, requiresGrad: true }), w2 = torch.randn([100, 10], { ...d, requiresGrad: true });
    const held: torch.Tensor[] = [];
    const step = () => {
      const a = x.mm(w1), h = a.clamp({ min: 0 }), yPred = h.mm(w2), diff = yPred.sub(y), sq = diff.pow(2), loss = sq.sum();
      loss.backward();
      torch.noGrad(() => {
        const u1 = w1.grad!.mul(1e-6), u2 = w2.grad!.mul(1e-6);
        w1.sub_(u1);
        w2.sub_(u2);
        w1.grad!.zero_();
        w2.grad!.zero_();
        held.push(a, h, yPred, diff, sq, loss, u1, u2);
      });
    };
    const gaps = [7, 19, 4, 12, 23, 9, 15, 6, 21, 11];
    let next = gaps[0]!, k = 0;
    const run = (steps: number) => {
      for (let i = 0; i < steps; i++) {
        step();
        if (--next === 0) {
          for (const t of held.splice(0)) t.dispose();
          next = gaps[++k % gaps.length]!;
        }
      }
    };
    run(200);
    const s = statsOf(() => run(200));
    console.log(`bind groups made per step, outputs returned 4 to 23 steps apart: ${(s.bindGroups / 200).toFixed(2)}`);
    expect(s.buffersCreated).toBe(0);
    expect(s.bindGroups / 200).toBeLessThan(0.25);
    // the losses still held (12 steps' worth) each hold their own step's value: the loss falls every step
    const losses = await Promise.all(held.filter((_, i) => i % 8 === 5).map((t) => t.item()));
    expect(losses.length).toBe(12);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    for (const t of [...held.splice(0), x, y, w1, w2]) t.dispose();
  });

  it('replayed steps compute what the first ones did: a kept loss holds its step, the weights match the CPU', async () => {
    const g = seedNet('webgpu', 4), c = seedNet('cpu', 4);
    const kept: torch.Tensor[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 10; i++) {
      kept.push(g.step());
      cpu.push(c.step().itemSync());
    }
    // Every loss is read after all ten steps ran: each still holds its own step's value.
    const gpu = await Promise.all(kept.map((t) => t.item()));
    gpu.forEach((v, i) => expect(Math.abs(v - cpu[i]!) / cpu[i]!).toBeLessThan(1e-4));
    expect(new Set(gpu).size).toBe(10);
    const w = await g.w1.data(), wc = c.w1.dataSync();
    for (let i = 0; i < wc.length; i += 97) expect(Math.abs(w[i]! - wc[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(wc[i]!)));
  });

  it('replayed kernels keep their own scalars: a loop alternating scalars and fill values computes each', async () => {
    const x = torch.tensor([1, 2, 3, 4], { device: 'webgpu' });
    const got: number[][] = [];
    for (let i = 0; i < 6; i++) {
      const s = i % 2 ? 2 : 3;
      // A fused kernel (mul, add), a reduction with a prologue, a fill: each step's own values.
      const y = x.mul(s).add(s);
      const t = torch.full([2], s + 1, { device: 'webgpu' });
      got.push([...(await y.data()), await y.pow(2).sum().item(), ...(await t.data())]);
    }
    // s = 3: [6, 9, 12, 15], 36+81+144+225 = 486, [4, 4]; s = 2: [4, 6, 8, 10], 16+36+64+100 = 216, [3, 3].
    const three = [6, 9, 12, 15, 486, 4, 4], two = [4, 6, 8, 10, 216, 3, 3];
    expect(got).toEqual([three, two, three, two, three, two]);
  });

  it('a replayed step regenerates its kernels when the kernel choice changed, and counts the variants it ran', async () => {
    const a = torch.randn([33, 17]), b = torch.randn([17, 9]);
    const ref = (await a.mm(b).clamp({ min: 0 }).data()) as Float32Array;
    const ga = a.to('webgpu'), gb = b.to('webgpu');
    const start = kernelChoice();
    const ran: string[][] = [];
    const replayed: number[] = [];
    try {
      for (const choice of ['cpu', 'gpu', 'cpu', 'gpu', 'gpu'] as const) {
        setKernelChoice(choice);
        const before = new Map(dispatchedVariants());
        const r0 = torch.webgpu.stats().replayed;
        const y = await ga.mm(gb).clamp({ min: 0 }).data();
        y.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(ref[i]!))));
        ran.push([...dispatchedVariants()].filter(([v, n]) => v.startsWith('matmul:') && n > (before.get(v) ?? 0)).map(([v]) => v.split(':')[1]!));
        replayed.push(torch.webgpu.stats().replayed - r0);
      }
    } finally {
      setKernelChoice(start);
    }
    // 'cpu' picks the CPU family's kernel (subgroup where the adapter has subgroups, as lavapipe
    // does, else direct), 'gpu' the tiled one. Every run has the same plan: a run under another
    // choice than the last generates again; the last run replays, and counts its variants.
    const cpuKernel = ran[0]![0]!;
    expect(['subgroup', 'direct']).toContain(cpuKernel);
    expect(ran.map((r) => [...new Set(r)])).toEqual([[cpuKernel], ['tiled'], [cpuKernel], ['tiled'], ['tiled']]);
    expect(replayed[1]).toBe(0);
    expect(replayed[4]).toBeGreaterThan(0);
  });

  it('the launch chain (every intermediate kept) creates no buffer once it repeats and replays its kernels', async () => {
    const x0 = torch.zeros([16], { device: 'webgpu' });
    const run = async () => {
      const chain: torch.Tensor[] = [];
      let x = x0;
      for (let i = 0; i < 300; i++) chain.push((x = x.add(1)));
      const last = await x.data();
      const mid = await chain[149]!.data();
      chain.forEach((t) => t.dispose());
      return [last[0], mid[0]];
    };
    expect(await run()).toEqual([300, 150]);
    // From the second run on, the pool hands the chain its memory in the same order (oldest first).
    for (let i = 0; i < 3; i++) await run();
    const s0 = torch.webgpu.stats();
    expect(await run()).toEqual([300, 150]);
    const s = torch.webgpu.stats();
    expect(s.buffersCreated - s0.buffersCreated).toBe(0);
    const dispatches = s.dispatches - s0.dispatches;
    expect(dispatches).toBeGreaterThan(0);
    // The intermediates nobody reads keep their recipes; the two reads run parts of recipes, split
    // the same way every run, so those replay what their part's slot recorded (executor.ts
    // partSlot), as every other kernel, carried ones included, replays its plan step's record.
    expect(s.kernels - s0.kernels - (s.replayed - s0.replayed)).toBe(0);
    // measured: no bind group made (21 dispatches); memory a collection returns meanwhile (other
    // tests' garbage) may shift the order, hence the slack
    expect(s.bindGroups - s0.bindGroups).toBeLessThanOrEqual(Math.ceil(dispatches / 8));
  });
});

describe.skipIf(!available)('webgpu lazily bound memory', () => {
  // 12345 floats: a bucket (57344 bytes) no other test here uses, so the pool has none free.
  const n = 12345;

  it('empty() and a kernel that never runs create no buffer; live memory counts them as PyTorch does', async () => {
    const x = torch.randn([n], { device: 'webgpu' });
    await x.data();
    const m0 = torch.webgpu.memoryStats();
    let t: torch.Tensor | null = null;
    const s = statsOf(() => {
      const e = torch.empty([n], { device: 'webgpu' });
      expect(torch.webgpu.memoryStats().liveBytes - m0.liveBytes).toBe(57344);
      e.dispose();
      t = x.add(1);
    });
    expect(s.buffersCreated).toBe(0);
    // t's kernel is held back at synchronize() (nothing reads it) and dropped when t is disposed.
    await torch.webgpu.synchronize();
    const s2 = statsOf(() => t!.dispose());
    await torch.webgpu.synchronize();
    expect(s2.buffersCreated).toBe(0);
    expect(s2.dispatches).toBe(0);
    // Reading an empty tensor binds it then (fresh WebGPU memory reads as zeros).
    const e2 = torch.empty([n], { device: 'webgpu' });
    const before = torch.webgpu.stats().buffersCreated;
    expect((await e2.data()).length).toBe(n);
    expect(torch.webgpu.stats().buffersCreated - before).toBeLessThanOrEqual(1);
  });

  it('memory released while the open batch still reads it is reused, and a write into it waits for that batch', async () => {
    const a = torch.tensor([1, 2, 3, 4], { device: 'webgpu' });
    const b = a.mul(2);
    // Encode b's kernel into the open batch (not submitted), then give a's memory back.
    torch.realize();
    const mem = (a.storage.buf as GpuBuf).mem;
    expect(mem).not.toBeNull();
    a.dispose();
    // c's upload lands in a's old memory; it must not run before the batch that reads a.
    const c = torch.tensor([9, 8, 7, 6], { device: 'webgpu' });
    expect((c.storage.buf as GpuBuf).mem).toBe(mem);
    expect(Array.from(await b.data())).toEqual([2, 4, 6, 8]);
    expect(Array.from(await c.data())).toEqual([9, 8, 7, 6]);
  });

  it('a kernel that overwrites memory an earlier kernel of the same batch read runs after it', async () => {
    const a = torch.tensor([1, 2, 3, 4], { device: 'webgpu' });
    const b = a.add(10);
    torch.realize();
    a.dispose();
    // d's kernel writes into a's old memory inside the same (unsubmitted) batch.
    const d = torch.full([4], 5, { device: 'webgpu' }).mul(3);
    torch.realize();
    expect(Array.from(await b.data())).toEqual([11, 12, 13, 14]);
    expect(Array.from(await d.data())).toEqual([15, 15, 15, 15]);
  });

  it('every dispatch of a batch reads its own parameters, wherever the batch places it', async () => {
    // A bind group holds its dispatch's parameter offset (no dynamic offsets): memory bound again at
    // another place of a later batch must get a group of its own, not the one cached for the first.
    // A chain of matmuls of changing shapes is one batch of dispatches with different parameters;
    // `shift` identity matmuls first move every later dispatch to another place.
    const dims = [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2];
    for (const shift of [0, 1, 2, 0, 3, 1, 0, 2]) {
      const made: torch.Tensor[] = [];
      const keep = (t: torch.Tensor) => (made.push(t), t);
      let v = keep(torch.ones([1, 2], { device: 'webgpu' }));
      for (let j = 0; j < shift; j++) v = keep(v.mm(keep(torch.eye(2, { device: 'webgpu' }))));
      for (let i = 0; i + 1 < dims.length; i++) v = keep(v.mm(keep(torch.ones([dims[i]!, dims[i + 1]!], { device: 'webgpu' }))));
      const s0 = torch.webgpu.stats();
      const got = Array.from(await v.data());
      const s1 = torch.webgpu.stats();
      expect(s1.submits - s0.submits).toBe(1);
      expect(s1.dispatches - s0.dispatches).toBeGreaterThanOrEqual(shift + dims.length - 1);
      // each entry of v is the product of the inner dimensions
      expect(got).toEqual([dims.slice(0, -1).reduce((a, b) => a * b, 1), dims.slice(0, -1).reduce((a, b) => a * b, 1)]);
      for (const t of made) t.dispose();
    }
  });

  it('a disposed tensor cannot be bound again', () => {
    const a = torch.empty([8], { device: 'webgpu' });
    const g = a.storage.buf as GpuBuf;
    a.dispose();
    expect(() => g.buffer).toThrow(/disposed/);
  });
});

describe.skipIf(!available || typeof setImmediate !== 'function')('webgpu: Dawn polling in Node', () => {
  it("Dawn's ticks are recognized and paced, and the paced setImmediate still runs other callbacks", async () => {
    const paced = globalThis.setImmediate;
    expect((paced as unknown as Record<symbol, unknown>)[Symbol.for('wgtorch.dawnPacing')]).toBe(true);
    // Dawn looks setImmediate up on the global for every tick: a spy in front of it sees them
    let dawnTicks = 0;
    let others = 0;
    globalThis.setImmediate = ((cb: () => void, ...args: unknown[]) => {
      if (isDawnTick(cb)) dawnTicks++;
      else others++;
      return (paced as (cb: () => void, ...a: unknown[]) => unknown)(cb, ...args);
    }) as typeof setImmediate;
    try {
      const x = torch.arange(1000, { device: 'webgpu' }).mul(2);
      expect(await x.sum().item()).toBe(999000);
      expect(dawnTicks).toBeGreaterThan(0);
      others = 0;
      expect(await new Promise((resolve) => setImmediate(resolve as (v: unknown) => void, 'ran'))).toBe('ran');
      expect(others).toBe(1); // a JS callback is not taken for one of Dawn's ticks
    } finally {
      globalThis.setImmediate = paced;
    }
  });

  it('a long read completes while setTimeout is faked, and reads still complete after', async () => {
    const a = torch.randn([768, 768], { device: 'webgpu' });
    // a read that never completes fails here instead of hanging the file (a real timer, kept before faking)
    const realTimer = globalThis.setTimeout;
    const within = <T>(p: Promise<T>, what: string) =>
      Promise.race([p, new Promise<never>((_, reject) => realTimer(() => reject(new Error(`${what} never completed`)), 4000))]);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // tens of ms on lavapipe: past the spin time, so Dawn's ticks go through a timer
      expect(Number.isFinite(await within(a.mm(a).mm(a).sum().item(), 'the read under fake timers'))).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(await within(a.add(1).sub(a).sum().item(), 'the read after')).toBeCloseTo(768 * 768, 0);
  });
});
