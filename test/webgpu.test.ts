/**
 * WebGPU elementwise kernels (unary, binary, where, copy, fill, random) against the CPU backend:
 * random shapes with broadcasting, views read in place (transpose, stepped slices, expand),
 * int32 and bool, NaN and infinities. Skips without an adapter unless WGTORCH_REQUIRE_WEBGPU=1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { rng, webgpuSuite } from './webgpu-suite.js';

const available = await webgpuSuite('test/webgpu.test.ts');

/**
 * Checks queued by a test: each reads its GPU result when queued (the values are a snapshot of that
 * moment), and they are awaited together when the test ends, so reads overlap instead of queueing.
 */
const q: Promise<void>[] = [];
afterEach(async () => {
  await Promise.all(q.splice(0));
});

const rand = rng(1234);

/** A CPU tensor of `shape` with values in [lo, hi) (ints for int32), optionally some specials. */
function data(shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32', lo = -3, hi = 3, specials: number[] = []): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => lo + (hi - lo) * rand());
  specials.forEach((s, i) => i < n && (v[Math.floor(rand() * n)] = s));
  if (dtype === 'bool') return torch.tensor(v.map((x) => x > 0), { dtype: 'bool' }).reshape(shape);
  return torch.tensor(dtype === 'int32' ? v.map(Math.floor) : v, { dtype }).reshape(shape);
}

/** The same tensor on WebGPU, with the same strides/offset (a view of a copied base). */
const gpu = (t: Tensor): Tensor => (t.device === 'webgpu' ? t : (t.to('webgpu') as Tensor));

/** GPU result equals the CPU result: shape, dtype, values within tolerance (NaN matches NaN). */
async function same(g: Tensor, c: Tensor, rtol = 2e-6, atol = 1e-6, what = ''): Promise<void> {
  expect(g.device).toBe('webgpu');
  expect(g.shape, what).toEqual(c.shape);
  expect(g.dtype, what).toBe(c.dtype);
  const want = c.dataSync();
  const got = await g.data();
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!, x = got[i]!;
    if (Number.isNaN(w)) {
      if (!Number.isNaN(x)) expect.fail(`${what} element ${i}: got ${x}, want NaN`);
    } else if (!Number.isFinite(w)) {
      if (x !== w) expect.fail(`${what} element ${i}: got ${x}, want ${w}`);
    } else if (!(Math.abs(x - w) <= atol + rtol * Math.abs(w))) {
      expect.fail(`${what} element ${i}: got ${x}, want ${w} (shape [${c.shape.join(', ')}])`);
    }
  }
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0];

describe.skipIf(!available)('webgpu elementwise vs cpu', () => {
  const unary = ['neg', 'abs', 'sign', 'exp', 'log', 'sqrt', 'relu', 'sigmoid', 'tanh'] as const;

  it('unary ops on float32, contiguous and through strided views, with NaN and infinities', async () => {
    const x = data([5, 7, 3], 'float32', -4, 4, SPECIALS);
    const views: [string, (t: Tensor) => Tensor][] = [
      ['contiguous', (t) => t],
      ['transposed', (t) => t.transpose(0, 2)],
      ['stepped slice', (t) => t.slice(1, 1, null, 2)],
    ];
    // NaN compares as NaN (same() above): sign(NaN) is 0 on both devices, as in PyTorch.
    for (const op of unary) {
      for (const [name, v] of views) {
        q.push(same((v(gpu(x)) as any)[op](), (v(x) as any)[op](), 3e-6, 1e-6, `${op} ${name}`));
      }
    }
    for (const [lo, hi] of [[-1, 1], [null, 0.5], [-0.25, null], [2, -2]] as const) {
      q.push(same(gpu(x).clamp(lo, hi), x.clamp(lo, hi), 0, 0, `clamp(${lo}, ${hi})`));
    }
  });

  it('sign and abs at NaN, ±0 and ±inf agree with PyTorch on both devices, gradients included', async () => {
    // PyTorch 1.13: torch.tensor([nan, -0., 0., inf, -inf, -2.5]).sign() -> [0., 0., 0., 1., -1., -1.]
    // (sign(-0.) is +0.), and abs's gradient g * sign(x) is [0., 0., 0., 1., -1., -1.] for g = 1.
    const v = [NaN, -0, 0, Infinity, -Infinity, -2.5];
    for (const device of ['cpu', 'webgpu'] as const) {
      const x = torch.tensor(v, { device, requiresGrad: true });
      const s = Array.from(await x.sign().data());
      expect(s, device).toEqual([0, 0, 0, 1, -1, -1]);
      expect(s.map((e) => Object.is(e, -0)), `${device}: sign(-0) is +0`).toEqual(v.map(() => false));
      x.abs().sum().backward();
      expect(Array.from(await x.grad!.data()), device).toEqual([0, 0, 0, 1, -1, -1]);
    }
  });

  it('unary ops on int32 and bool keep their dtype rules', async () => {
    const x = data([4, 9], 'int32', -20, 20);
    for (const op of ['neg', 'abs', 'sign', 'relu'] as const) q.push(same(gpu(x)[op](), x[op](), 0, 0, op));
    q.push(same(gpu(x).clamp(-3, 5), x.clamp(-3, 5), 0, 0, 'int clamp'));
    q.push(same(gpu(x).exp(), x.exp(), 3e-6, 0, 'int exp -> float'));
    q.push(same(gpu(x).t().sqrt(), x.t().sqrt(), 3e-6, 0, 'int sqrt of a view'));
    const b = data([3, 4], 'bool');
    // PyTorch has no bool relu: "Boolean inputs not supported for relu" on both devices
    expect(() => gpu(b).relu()).toThrow('Boolean inputs not supported for relu');
    expect(() => b.relu()).toThrow('Boolean inputs not supported for relu');
    q.push(same(gpu(b).sigmoid(), b.sigmoid(), 3e-6, 0, 'bool sigmoid'));
  });

  const binary = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd'] as const;

  it('binary ops with broadcasting on random shapes', async () => {
    const shapes: [number[], number[]][] = [
      [[6, 5], [6, 5]],
      [[4, 1, 3], [5, 1]],
      [[1], [3, 4]],
      [[2, 3, 1, 4], [3, 5, 1]],
      [[], [7]],
    ];
    for (const op of binary) {
      for (const [sa, sb] of shapes) {
        const a = data(sa, 'float32', -3, 3, op === 'pow' ? [] : SPECIALS.slice(0, 2));
        const b = data(sb, 'float32', -3, 3);
        q.push(same((gpu(a) as any)[op](gpu(b)), (a as any)[op](b), 2e-5, 1e-6, `${op} [${sa}] [${sb}]`));
      }
    }
  });

  it('binary ops read transposed, stepped and expanded views in place', async () => {
    const a = data([6, 8]);
    const b = data([8, 6]);
    const c = data([1, 8]);
    const ga = gpu(a), gb = gpu(b), gc = gpu(c);
    const before = torch.webgpu.stats().launches;
    const g = ga.add(gb.t()).mul(gc.expand(6, 8));
    expect(torch.webgpu.stats().launches - before).toBe(2); // the views are not copied first
    q.push(same(g, a.add(b.t()).mul(c.expand(6, 8)), 2e-6, 1e-6, 'views'));
    const s = data([10, 12]);
    const gs = gpu(s);
    q.push(same(gs.slice(0, 1, null, 3).slice(1, 0, null, 3).add(gs.slice(1, 0, null, 4).t().slice(1, 0, 4)), s.slice(0, 1, null, 3).slice(1, 0, null, 3).add(s.slice(1, 0, null, 4).t().slice(1, 0, 4)), 0, 0, 'stepped slices'));
  });

  it('int32, bool and mixed dtypes, with scalars on either side', async () => {
    const i = data([5, 4], 'int32', -9, 9);
    const j = data([4], 'int32', 1, 5);
    const f = data([5, 4]);
    const b = data([5, 4], 'bool');
    for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'lt', 'ge', 'logicalAnd'] as const) {
      q.push(same((gpu(i) as any)[op](gpu(j)), (i as any)[op](j), 1e-6, 0, `int ${op}`));
      q.push(same((gpu(i) as any)[op](gpu(f)), (i as any)[op](f), 1e-6, 0, `int/float ${op}`));
      // PyTorch refuses a bool operand of `-` (bool - int raises; test/programs.test.ts checks the text).
      if (op === 'sub') expect(() => gpu(b).sub(gpu(i))).toThrow(torch.RuntimeError);
      else q.push(same((gpu(b) as any)[op](gpu(i)), (b as any)[op](i), 1e-6, 0, `bool/int ${op}`));
    }
    q.push(same(gpu(i).pow(gpu(j)), i.pow(j), 0, 0, 'int pow'));
    q.push(same(gpu(b).add(gpu(b)), b.add(b), 0, 0, 'bool + bool'));
    for (const s of [2, -1.5, 0, 3]) {
      q.push(same(gpu(i).add(s), i.add(s), 1e-6, 0, `int + ${s}`));
      q.push(same(gpu(f).mul(s), f.mul(s), 1e-6, 0, `float * ${s}`));
      q.push(same(torch.sub(s, gpu(f)), torch.sub(s, f), 1e-6, 1e-6, `${s} - float`));
      q.push(same(torch.div(s, gpu(i)), torch.div(s, i), 1e-6, 0, `${s} / int`));
      q.push(same(gpu(f).lt(s), f.lt(s), 0, 0, `float < ${s}`));
    }
  });

  it('pow: negative bases with integral exponents, zeros, infinities, NaN', async () => {
    const base = torch.tensor([-2, -2, -2, -0.5, -3, 0, 0, -0, 2, 1.5, NaN, NaN, Infinity, -Infinity, -Infinity, 4, -8, 10]);
    const expo = torch.tensor([2, 3, -1, 5, 0.5, -1, 0, -1, 10, 2.5, 0, 1, -2, 3, 2, 0.5, 1 / 3, 30]);
    q.push(same(gpu(base).pow(gpu(expo)), base.pow(expo), 1e-6, 0, 'pow specials'));
    for (const e of [2, 3, -2, 0.5, 0]) q.push(same(gpu(base).pow(e), base.pow(e), 1e-6, 0, `pow ${e}`));
    q.push(same(torch.pow(2, gpu(expo)), torch.pow(2, expo), 1e-6, 0, '2 ** x'));
  });

  it('where with broadcasting and scalars', async () => {
    const c = data([4, 1, 5], 'bool');
    const a = data([3, 5]);
    const b = data([4, 3, 1]);
    q.push(same(gpu(a).where(gpu(c), gpu(b)), a.where(c, b), 0, 0, 'where'));
    q.push(same(gpu(a).where(gpu(c), 0), a.where(c, 0), 0, 0, 'where scalar'));
    q.push(same(torch.where(gpu(c), 1, gpu(b)), torch.where(c, 1, b), 0, 0, 'where scalar a'));
    const ci = data([4, 3, 5], 'int32');
    q.push(same(gpu(ci).where(gpu(c).transpose(0, 1).expand(3, 4, 5).transpose(0, 1), 7), ci.where(c.transpose(0, 1).expand(3, 4, 5).transpose(0, 1), 7), 0, 0, 'int where'));
  });

  it('copy between dtypes and into strided destinations', async () => {
    const f = torch.tensor([1.7, -1.7, 2.5, -0.5, 0, NaN, Infinity, -Infinity, 1e9, -3e9, 0.25, -0]);
    for (const d of ['int32', 'bool', 'float32'] as const) q.push(same(gpu(f).type(d), f.type(d), 0, 0, `float -> ${d}`));
    const i = data([3, 4], 'int32', -50, 50);
    q.push(same(gpu(i).float(), i.float(), 0, 0, 'int -> float'));
    q.push(same(gpu(i).bool(), i.bool(), 0, 0, 'int -> bool'));
    const b = data([3, 4], 'bool');
    q.push(same(gpu(b).float(), b.float(), 0, 0, 'bool -> float'));
    q.push(same(gpu(b).int(), b.int(), 0, 0, 'bool -> int'));
    // In-place ops copy into the (strided) destination view.
    const x = data([6, 8]);
    const gx = gpu(x).clone();
    const cx = x.clone();
    gx.slice(1, 1, null, 3).mul_(2);
    cx.slice(1, 1, null, 3).mul_(2);
    gx.t().slice(0, 0, 2).add_(gpu(data([2, 1], 'float32', 5, 6)).neg().neg().mul(0).add(1));
    cx.t().slice(0, 0, 2).add_(torch.ones(2, 1));
    q.push(same(gx, cx, 0, 0, 'strided in-place'));
    const gi = gpu(i).clone();
    gi.copy_(gpu(f).slice(0, 0, 4).expand(3, 4));
    const ci = i.clone();
    ci.copy_(f.slice(0, 0, 4).expand(3, 4));
    q.push(same(gi, ci, 0, 0, 'copy_ float -> int with broadcast'));
    q.push(same(gpu(x).contiguous(), x, 0, 0, 'contiguous'));
    q.push(same(gpu(x).t().contiguous(), x.t().contiguous(), 0, 0, 'transpose contiguous'));
  });

  it('fill, zeros, ones, full on every dtype; zero-size tensors', async () => {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      q.push(same(torch.zeros([3, 2], { dtype, device: 'webgpu' }), torch.zeros([3, 2], { dtype }), 0, 0, `zeros ${dtype}`));
      q.push(same(torch.ones([5], { dtype, device: 'webgpu' }), torch.ones([5], { dtype }), 0, 0, `ones ${dtype}`));
    }
    q.push(same(torch.full([2, 2], -2.5, { device: 'webgpu' }), torch.full([2, 2], -2.5), 0, 0, 'full'));
    const y = data([4, 4], 'float32', 0, 1);
    const x = gpu(y);
    x.t().slice(0, 1, 3).fill_(9);
    y.t().slice(0, 1, 3).fill_(9);
    q.push(same(x, y, 0, 0, 'fill_ of a strided view'));
    const e = torch.zeros([0, 3], { device: 'webgpu' });
    expect(Array.from(await e.add(1).data())).toEqual([]);
    expect(Array.from(await e.sum(0).data())).toEqual([0, 0, 0]);
  });

  it('random: the same values on cpu and webgpu after manualSeed', async () => {
    for (const [dist, fn] of [['uniform', torch.rand], ['normal', torch.randn]] as const) {
      torch.manualSeed(42);
      const c1 = fn(1000, 7);
      const c2 = fn(33);
      torch.manualSeed(42);
      const g1 = fn([1000, 7], { device: 'webgpu' });
      const g2 = fn([33], { device: 'webgpu' });
      q.push(same(g1, c1, 1e-5, 1e-5, `${dist} 1`));
      q.push(same(g2, c2, 1e-5, 1e-5, `${dist} 2`));
    }
    // The stream keeps going across devices: cpu then webgpu draws continue one sequence.
    torch.manualSeed(7);
    const all = torch.randn(20);
    torch.manualSeed(7);
    torch.randn(5);
    q.push(same(torch.randn([15], { device: 'webgpu' }), all.slice(0, 5, null), 1e-5, 1e-5, 'continued stream'));
  });
});
