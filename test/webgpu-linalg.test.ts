/**
 * WebGPU matmul and reductions against the CPU backend: odd sizes, transposed operands read in
 * place, batch broadcasting, every dim subset of a 3-D tensor, NaN and ties, one 16M+ element sum.
 * Skips without an adapter unless WGTORCH_REQUIRE_WEBGPU=1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { DIRECT_MATMUL, kernelOverrides, type KernelChoice } from '../src/backends/webgpu/kernels.js';
import { rng, webgpuSuite } from './webgpu-suite.js';

const available = await webgpuSuite('test/webgpu-linalg.test.ts');

/**
 * Checks queued by a test: each reads its GPU result when queued (the values are a snapshot of that
 * moment), and they are awaited together when the test ends, so reads overlap instead of queueing.
 */
const q: Promise<void>[] = [];
afterEach(async () => {
  await Promise.all(q.splice(0));
});

const rand = rng(99);

function data(shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32', lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => lo + (hi - lo) * rand());
  if (dtype === 'bool') return torch.tensor(v.map((x) => x > 0), { dtype: 'bool' }).reshape(shape);
  return torch.tensor(dtype === 'int32' ? v.map(Math.floor) : v, { dtype }).reshape(shape);
}
const gpu = (t: Tensor): Tensor => t.to('webgpu') as Tensor;

/** Values match within atol + rtol |want| (NaN matches NaN). */
async function same(g: Tensor, c: Tensor, rtol: number, atol: number, what: string): Promise<void> {
  expect(g.shape, what).toEqual(c.shape);
  expect(g.dtype, what).toBe(c.dtype);
  const want = c.dataSync();
  const got = await g.data();
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!, x = got[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(x) : !Number.isFinite(w) ? x === w : Math.abs(x - w) <= atol + rtol * Math.abs(w);
    if (!ok) expect.fail(`${what}: element ${i} is ${x}, want ${w} (shape [${c.shape.join(', ')}])`);
  }
}

// Every matmul kernel runs on every adapter here, whichever 'auto' picks: tiled ('gpu'), subgroup
// ('cpu' where the adapter has subgroup ops, else direct) and direct (the 'cpu' fallback, forced).
describe.skipIf(!available).each(['gpu', 'cpu', 'cpu-direct'] as const)('webgpu matmul with kernels=%s vs cpu', (setting) => {
  let before: KernelChoice = 'auto';
  beforeAll(async () => {
    before = torch.webgpu.kernels()!.choice;
    await torch.webgpu.init({ kernels: setting === 'gpu' ? 'gpu' : 'cpu' });
    if (setting === 'cpu-direct') kernelOverrides.matmul = DIRECT_MATMUL;
    const kind = torch.webgpu.kernels()!.matmul.kind;
    if (setting === 'cpu') expect(['subgroup', 'direct']).toContain(kind);
    else expect(kind).toBe(setting === 'gpu' ? 'tiled' : 'direct');
  });
  afterAll(async () => {
    kernelOverrides.matmul = null;
    await torch.webgpu.init({ kernels: before });
  });

  it('sizes around and off the tile: 1x1x1, 3x5x7, 65x33x17, 64x1000·1000x100', async () => {
    for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [65, 33, 17], [64, 1000, 100], [4, 8, 4], [128, 64, 129], [2, 0, 3]] as const) {
      const a = data([m, k]), b = data([k, n]);
      q.push(same(gpu(a).mm(gpu(b)), a.mm(b), 1e-5, 1e-5 * Math.sqrt(k + 1), `${m}x${k}x${n}`));
    }
  });

  it('transposed operands are read through their strides, not copied', async () => {
    const a = data([33, 65]), b = data([17, 33]);
    const ga = gpu(a), gb = gpu(b);
    const copies = torch.launchStats.byKind.copy ?? 0;
    const g = ga.t().mm(gb.t());
    expect(torch.launchStats.byKind.copy ?? 0).toBe(copies);
    q.push(same(g, a.t().mm(b.t()), 1e-5, 1e-5, 'aT·bT'));
    // Every layout mix (A: k- or m-contiguous, B: n- or k-contiguous), aligned (vec4) or not.
    for (const [m, k, n] of [[65, 33, 17], [64, 32, 48]] as const) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const A = ta ? data([k, m]).t() : data([m, k]);
          const B = tb ? data([n, k]).t() : data([k, n]);
          const gA = ta ? gpu(A.t()).t() : gpu(A);
          const gB = tb ? gpu(B.t()).t() : gpu(B);
          q.push(same(gA.mm(gB), A.mm(B), 1e-5, 1e-5, `${m}x${k}x${n} ta=${ta} tb=${tb}`));
        }
      }
    }
    // A stepped slice (neither dim contiguous) and an offset view.
    const big = data([40, 70]);
    const gbig = gpu(big);
    q.push(same(gbig.slice(0, 1, null, 3).slice(1, 2, 35).mm(gbig.slice(0, 3, 36).slice(1, 0, null, 5)), big.slice(0, 1, null, 3).slice(1, 2, 35).mm(big.slice(0, 3, 36).slice(1, 0, null, 5)), 1e-5, 1e-5, 'sliced'));
  });

  it('batched with broadcasting (batch stride 0), bmm, matmul of vectors, int32', async () => {
    const a = data([3, 1, 6, 5]), b = data([4, 5, 7]);
    q.push(same(gpu(a).matmul(gpu(b)), a.matmul(b), 1e-5, 1e-5, 'broadcast batch'));
    const w = data([5, 9]);
    q.push(same(gpu(a).matmul(gpu(w)), a.matmul(w), 1e-5, 1e-5, 'batch x matrix'));
    const x = data([6, 4, 3]), y = data([6, 3, 2]);
    q.push(same(gpu(x).bmm(gpu(y)), x.bmm(y), 1e-5, 1e-5, 'bmm'));
    q.push(same(gpu(x).transpose(1, 2).bmm(gpu(x)), x.transpose(1, 2).bmm(x), 1e-5, 1e-5, 'bmm transposed'));
    const v = data([5]);
    q.push(same(gpu(v).matmul(gpu(w)), v.matmul(w), 1e-5, 1e-5, 'vector x matrix'));
    q.push(same(gpu(w).t().matmul(gpu(v)), w.t().matmul(v), 1e-5, 1e-5, 'matrix x vector'));
    q.push(same(torch.dot(gpu(v), gpu(v)), torch.dot(v, v), 1e-5, 1e-5, 'dot'));
    const i = data([7, 9], 'int32', -10, 10), j = data([9, 5], 'int32', -10, 10);
    q.push(same(gpu(i).mm(gpu(j)), i.mm(j), 0, 0, 'int32'));
  });
});

describe.skipIf(!available)('webgpu reductions vs cpu', () => {
  const subsets = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];

  it('sum, amax, amin over every dim subset of a 3-D tensor, contiguous and permuted', async () => {
    const x = data([5, 70, 9]);
    const views: [string, (t: Tensor) => Tensor][] = [
      ['contiguous', (t) => t],
      ['permuted', (t) => t.permute(2, 0, 1)],
      ['sliced', (t) => t.slice(1, 1, null, 3)],
    ];
    for (const [name, v] of views) {
      for (const dims of subsets) {
        const g = v(gpu(x)), c = v(x);
        q.push(same(g.sum(dims), c.sum(dims), 1e-5, 1e-5, `sum ${dims} ${name}`));
        q.push(same(g.amax(dims, true), c.amax(dims, true), 0, 0, `amax ${dims} ${name}`));
        q.push(same(g.amin(dims), c.amin(dims), 0, 0, `amin ${dims} ${name}`));
      }
      q.push(same(v(gpu(x)).sum(), v(x).sum(), 1e-5, 1e-5, `sum all ${name}`));
      q.push(same(v(gpu(x)).mean([0, 2]), v(x).mean([0, 2]), 1e-5, 1e-6, `mean ${name}`));
    }
  });

  it('max/min/argmax/argmin along each dim: first index on ties, NaN is the extreme', async () => {
    // Few distinct values, so ties are everywhere.
    const x = data([6, 40, 7], 'int32', 0, 4).float();
    for (let d = 0; d < 3; d++) {
      for (const op of ['max', 'min'] as const) {
        const g = gpu(x)[op](d), c = x[op](d);
        q.push(same(g.values, c.values, 0, 0, `${op}(${d}) values`));
        q.push(same(g.indices, c.indices, 0, 0, `${op}(${d}) indices`));
        q.push(same(gpu(x).transpose(0, 2)[op](d).indices, x.transpose(0, 2)[op](d).indices, 0, 0, `${op}(${d}) of a transpose`));
      }
    }
    q.push(same(gpu(x).argmax(), x.argmax(), 0, 0, 'argmax all'));
    const withNan = torch.tensor([[1, NaN, 3, NaN], [5, 2, 5, 1], [NaN, 0, 0, 9]]);
    for (const d of [0, 1]) {
      q.push(same(gpu(withNan).max(d).values, withNan.max(d).values, 0, 0, `NaN max ${d}`));
      q.push(same(gpu(withNan).max(d).indices, withNan.max(d).indices, 0, 0, `NaN argmax ${d}`));
      q.push(same(gpu(withNan).min(d).indices, withNan.min(d).indices, 0, 0, `NaN argmin ${d}`));
      q.push(same(gpu(withNan).amin(d), withNan.amin(d), 0, 0, `NaN amin ${d}`));
    }
    // Long rows take several passes: the first extreme must survive the partial results.
    const long = torch.zeros([3, 20000]);
    long.select(0, 0).fill_(1);
    long.narrow(1, 12345, 1).fill_(5);
    long.narrow(1, 17000, 1).fill_(5);
    long.select(0, 2).narrow(0, 9000, 1).fill_(NaN);
    long.select(0, 2).narrow(0, 19000, 1).fill_(NaN);
    q.push(same(gpu(long).max(1).indices, long.max(1).indices, 0, 0, 'long argmax'));
    q.push(same(gpu(long).max(1).values, long.max(1).values, 0, 0, 'long max'));
    q.push(same(gpu(long).argmin(1), long.argmin(1), 0, 0, 'long argmin'));
  });

  it('int32 and bool sums; reductions with and without subgroup ops agree', async () => {
    const i = data([9, 300], 'int32', -100, 100);
    q.push(same(gpu(i).sum(1), i.sum(1), 0, 0, 'int sum'));
    q.push(same(gpu(i).sum(0), i.sum(0), 0, 0, 'int sum 0'));
    q.push(same(gpu(i).amax(1), i.amax(1), 0, 0, 'int amax'));
    const b = data([7, 500], 'bool');
    q.push(same(gpu(b).sum(1), b.sum(1), 0, 0, 'bool sum'));
    q.push(same(gpu(b).amax(1), b.amax(1), 0, 0, 'bool amax'));
    const x = data([3, 100000]);
    for (const sub of [true, false]) {
      // Off by override; on where the adapter has them (forcing them on elsewhere would be invalid).
      kernelOverrides.reduce = sub ? null : { subgroups: false };
      try {
        // Read inside the override: a deferred launch must still be encoded under it.
        await Promise.all([
          same(gpu(x).sum(1), x.sum(1), 2e-5, 1e-4, `sum subgroups=${sub}`),
          same(gpu(x).amax(1), x.amax(1), 0, 0, `amax subgroups=${sub}`),
          same(gpu(x).sum(0), x.sum(0), 1e-5, 1e-5, `column sum subgroups=${sub}`),
        ]);
      } finally {
        kernelOverrides.reduce = null;
      }
    }
  });

  it('sums 16M+ elements (2-D dispatch grid, three passes)', async () => {
    const n = 2 ** 24 + 4099;
    torch.manualSeed(3);
    const x = torch.rand([n], { device: 'webgpu' });
    const host = await x.data();
    let want = 0;
    for (let i = 0; i < n; i++) want += host[i]!;
    const got = await x.sum().item();
    expect(Math.abs(got - want) / want).toBeLessThan(1e-5);
    const rows = await x.narrow(0, 0, 2 ** 24).reshape(4096, 4096).sum(1).data();
    let row0 = 0;
    for (let i = 0; i < 4096; i++) row0 += host[i]!;
    expect(Math.abs(rows[0]! - row0)).toBeLessThan(1e-2);
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (host[i]! > max) max = host[i]!;
    expect(await x.amax().item()).toBe(max);
  });
});
