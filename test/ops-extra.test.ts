/**
 * The ops of issue 13 against real PyTorch on every device: forward values, gradients of
 * (out * upstream).sum() and refusals (error class and text), from test/fixtures/ops-extra.json.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import { devices } from './devices.js';
import { extraOps } from './fixture-ops-extra.js';
import type { FixtureTensor, OpCase } from './fixture-ops.js';
import { expectClose, fixtureValues, fromFixture, loadFixture } from './helpers.js';

interface ExtraCase extends Omit<OpCase, 'out'> {
  out?: FixtureTensor;
  error?: { type: string; message: string };
}

const F = torch.nn.functional;
const cases = loadFixture<ExtraCase[]>('ops-extra.json');
const label = (c: ExtraCase, i: number) => `${i}: ${c.op}(${c.inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ')}) ${JSON.stringify(c.kwargs)}`;

/**
 * Known device gaps, each with its reason. Checking an index's range or inferring a class count
 * needs the index values on the host, which WebGPU would have to read back: the CPU refuses an
 * out-of-range class as PyTorch does; WebGPU leaves such rows zero.
 */
const gaps: Partial<Record<Device, (c: ExtraCase) => string | null>> = {
  webgpu: (c) =>
    c.op === 'one_hot' && (c.error?.message.startsWith('Class values') || c.kwargs.num_classes === -1) ? 'one_hot needs the class values on the host' : null,
};

describe.each(devices)('ops-extra fixtures on %s', (device) => {
  const run = async (c: ExtraCase, grad: boolean): Promise<{ out: Tensor; inputs: Tensor[] }> => {
    const f = extraOps[c.op];
    expect(f, `no mapping for fixture op ${c.op}`).toBeDefined();
    const inputs = c.inputs.map((t) => fromFixture(t, device, grad && t.dtype === 'float32'));
    return { out: await f!(inputs, c.kwargs), inputs };
  };
  cases.forEach((c, i) => {
    const gap = gaps[device]?.(c);
    if (gap) return;
    if (c.error) {
      it(`refuses ${label(c, i)}`, async () => {
        const err = await run(c, false).then(
          () => null,
          (e: Error) => e,
        );
        expect(err, 'expected an error').not.toBeNull();
        expect(err!.name).toBe(c.error!.type);
        // A kernel's name in PyTorch's text ends with its device ("frac_cpu"; CUDA says "frac_cuda").
        expect(err!.message).toBe(c.error!.message.replace(/_cpu" not implemented/, `_${device}" not implemented`));
      });
      return;
    }
    it(`value ${label(c, i)}`, async () => {
      const { out } = await run(c, false);
      const want = c.out!.dtype === 'int64' ? 'int32' : c.out!.dtype;
      expect(out.dtype).toBe(want);
      await expectClose(out, c.out!.shape, fixtureValues(c.out!), 1e-4, 1e-5);
    });
    if (!c.grads || !c.upstream) return;
    it(`gradient ${label(c, i)}`, async () => {
      const { out, inputs } = await run(c, true);
      out.mul(fromFixture(c.upstream!, device)).sum().backward();
      const floats = inputs.filter((t) => t.dtype === 'float32');
      expect(floats.length).toBe(c.grads!.length);
      for (const [k, g] of c.grads!.entries()) {
        if (g === null) {
          // PyTorch's gradient does not reach this input: its .grad stays None
          expect(floats[k]!.grad, `grad of input ${k} (None in PyTorch)`).toBeNull();
          continue;
        }
        expect(floats[k]!.grad, `grad of input ${k}`).not.toBeNull();
        await expectClose(floats[k]!.grad!, g!.shape, fixtureValues(g!), 1e-4, 1e-5);
      }
    });
  });
});

describe.each(devices)('ops-extra literal cases on %s', (device) => {
  const opts = { device };
  it('softmax of [0, ln 3] is [1/4, 3/4]; logSoftmax is its log', async () => {
    const x = torch.tensor([0, Math.log(3)], opts);
    await expectClose(torch.softmax(x, 0), [2], [0.25, 0.75]);
    await expectClose(x.logSoftmax(0), [2], [Math.log(0.25), Math.log(0.75)]);
  });
  it('x.index(idx) counts negative indices from the end; await x.indexMask(mask) selects rows', async () => {
    const x = torch.tensor([[1, 2], [3, 4], [5, 6]], opts);
    expect(await x.index(torch.tensor([-1, 0], { ...opts, dtype: 'int32' })).tolist()).toEqual([[5, 6], [1, 2]]);
    expect(await (await x.indexMask(torch.tensor([true, false, true], opts))).tolist()).toEqual([[1, 2], [5, 6]]);
    // elements > 2 in row-major order: 3, 4, 5, 6
    expect(await (await torch.maskedSelect(x, x.gt(2))).tolist()).toEqual([3, 4, 5, 6]);
  });
  it('randint draws integers in [low, high), every value of a small range', async () => {
    torch.manualSeed(1);
    const r = torch.randint(3, 7, [2000], opts);
    expect(r.dtype).toBe('int32');
    const v = Array.from(await r.data());
    expect(Math.min(...v)).toBe(3);
    expect(Math.max(...v)).toBe(6);
    expect(torch.randint(5, [2, 3], opts).shape).toEqual([2, 3]);
    expect(() => torch.randint(4, 4, [2], opts)).toThrow("random_ expects 'from' to be less than 'to', but got from=4 >= to=4");
  });
  it('randperm is a permutation, the same on every device under one seed', async () => {
    torch.manualSeed(5);
    const p = Array.from(await torch.randperm(50, opts).data());
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    torch.manualSeed(5);
    expect(Array.from(await torch.randperm(50).data())).toEqual(p);
  });
  it('bernoulli: probability 0 gives 0, 1 gives 1, 0.3 gives a mean near 0.3', async () => {
    torch.manualSeed(2);
    const p = torch.tensor([0, 1, 0, 1], opts);
    expect(await torch.bernoulli(p).tolist()).toEqual([0, 1, 0, 1]);
    // 4000 draws: the mean's standard error is sqrt(0.21 / 4000) ≈ 0.007
    const m = await torch.full([4000], 0.3, opts).bernoulli().mean().item();
    expect(Math.abs(m - 0.3)).toBeLessThan(0.04);
  });
  it('normal_ and uniform_ fill in place with the asked moments; a leaf requiring grad refuses', async () => {
    torch.manualSeed(3);
    const t = torch.empty([4000], opts).normal_(2, 0.5);
    expect(Math.abs((await t.mean().item()) - 2)).toBeLessThan(0.05);
    expect(Math.abs((await t.std().item()) - 0.5)).toBeLessThan(0.05);
    const u = torch.empty([4000], opts).uniform_(-1, 3);
    const v = Array.from(await u.data());
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...v)).toBeLessThan(3);
    const w = torch.zeros([3], { ...opts, requiresGrad: true });
    expect(() => w.normal_()).toThrow('a leaf Variable that requires grad is being used in an in-place operation.');
    torch.noGrad(() => w.uniform_());
    expect(w.requiresGrad).toBe(true);
  });
  it('oneHot of [0, 2] with 3 classes; sort and topk return {values, indices}', async () => {
    expect(await F.oneHot(torch.tensor([0, 2], { ...opts, dtype: 'int32' }), 3).tolist()).toEqual([[1, 0, 0], [0, 0, 1]]);
    const { values, indices } = torch.tensor([[3, 1, 2]], opts).topk(2, 1);
    expect(await values.tolist()).toEqual([[3, 2]]);
    expect(await indices.tolist()).toEqual([[0, 2]]);
  });
});

describe('ops-extra argument errors', () => {
  const x = torch.randn([3, 4]);
  it.each([
    ['split()', () => (x.split as (s?: number) => unknown)(), 'TypeError', 'split() missing 1 required positional arguments: "split_size"'],
    ['roll()', () => (x.roll as (s?: number) => unknown)(), 'TypeError', 'roll() missing 1 required positional arguments: "shifts"'],
    ['topk()', () => (x.topk as (k?: number) => unknown)(), 'TypeError', 'topk() missing 1 required positional arguments: "k"'],
    ['softmax()', () => (x.softmax as (d?: number) => unknown)(), 'TypeError', 'softmax() missing 1 required positional arguments: "dim"'],
    // PyTorch 1.13's words: torch.cat(5) → "... not int", torch.stack(t) → "... not Tensor"
    ['cat(5)', () => torch.cat(5 as unknown as Tensor[]), 'TypeError', "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not int"],
    ['cat(null)', () => torch.cat(null as unknown as Tensor[]), 'TypeError', "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not NoneType"],
    ['stack(2.5)', () => torch.stack(2.5 as unknown as Tensor[]), 'TypeError', "stack(): argument 'tensors' (position 1) must be tuple of Tensors, not float"],
    ['stack(x)', () => torch.stack(x as unknown as Tensor[]), 'TypeError', "stack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"],
    ['cat([x, 1])', () => torch.cat([x, 1 as unknown as Tensor]), 'TypeError', 'expected Tensor as element 1 in argument 0, but got int'],
    ['stack([x, null])', () => torch.stack([x, null as unknown as Tensor]), 'TypeError', 'expected Tensor as element 1 in argument 0, but got NoneType'],
    ['cat([])', () => torch.cat([]), 'RuntimeError', 'torch.cat(): expected a non-empty list of Tensors'],
    ['gather with a float index', () => x.gather(1, x), 'RuntimeError', 'gather(): Expected dtype int64 for index'],
    // index 4 of a dim of size 4: the CPU kernel checks every index (PyTorch's text)
    ['gather out of range (cpu)', () => x.gather(1, torch.tensor([[4]], { dtype: 'int32' })), 'RuntimeError', 'index 4 is out of bounds for dimension 1 with size 4'],
  ])('%s', (_, f, type, message) => {
    let err: Error | null = null;
    try {
      f();
    } catch (e) {
      err = e as Error;
    }
    expect(err?.name).toBe(type);
    expect(err?.message).toBe(message);
  });
});

describe.each(devices)('composite ops record PyTorch 1.13 node names on %s', (device) => {
  it('names the result as PyTorch does, and chunks an empty dim into `chunks` pieces', () => {
    const x = torch.randn([3, 4], { device, requiresGrad: true });
    const e = torch.randn([3, 4], { device });
    // PyTorch 1.13: x.lerp(e, 0.5) LerpBackward0, with a tensor weight LerpBackward1, x.var() VarBackward0, ...
    const names: [torch.Tensor, string][] = [
      [x.lerp(e, 0.5), 'LerpBackward0'], [x.lerp(e, torch.fullLike(e, 0.5)), 'LerpBackward1'],
      [x.var(), 'VarBackward0'], [x.std(0, { keepdim: true }), 'StdBackward0'], [x.logsumexp(1), 'LogsumexpBackward0'],
      [x.norm(), 'NormBackward1'], [x.norm(1), 'NormBackward1'], [x.tril(), 'TrilBackward0'], [x.triu(1), 'TriuBackward0'],
      [x.roll(1), 'RollBackward0'], [x.repeat(2, 1), 'RepeatBackward0'], [x.flip(0), 'FlipBackward0'],
      [torch.stack([x, x]), 'StackBackward0'], [x.split(2)[0]!, 'SplitBackward0'], [x.split([1, 2])[0]!, 'SplitWithSizesBackward0'],
      [x.chunk(2)[1]!, 'SplitBackward0'], [x.unbind()[0]!, 'UnbindBackward0'],
    ];
    for (const [t, name] of names) expect(t.gradFn!.name).toBe(name);
    // torch.zeros(2, 0).chunk(3, 1) → 3 empty pieces (split_with_sizes); x.chunk of a non-empty dim splits by ceil(n / chunks)
    const z = torch.zeros([2, 0], { device, requiresGrad: true }).chunk(3, 1);
    expect(z.length).toBe(3);
    expect(z[0]!.gradFn!.name).toBe('SplitWithSizesBackward0');
    expect(x.chunk(3, 1).map((t) => t.shape[1])).toEqual([2, 2]);
  });
});
