/** Autograd semantics as PyTorch has them: API, accumulation, grad modes, in-place rules, errors. */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { describeDevices } from './devices.js';
import { createGradMode } from '../src/grad-mode.js';

describeDevices('autograd on %s', (device) => {
  const opts = { device };
  const leaf = (data: number[]) => torch.tensor(data, { ...opts, requiresGrad: true });

  it('leaves, gradFn names, isLeaf, detach', async () => {
    const x = leaf([1, 2, 3]);
    expect(x.isLeaf).toBe(true);
    expect(x.requiresGrad).toBe(true);
    expect(x.gradFn).toBeNull();
    const w = torch.randn(3, 2, { ...opts, requiresGrad: true });
    expect(x.unsqueeze(0).mm(w).gradFn!.name).toBe('MmBackward0');
    expect(x.sum().gradFn!.name).toBe('SumBackward0');
    expect(x.sum(0).gradFn!.name).toBe('SumBackward1');
    expect(x.clamp({ min: 0 }).gradFn!.name).toBe('ClampBackward1'); // PyTorch 1.13 names one-sided clamps ClampBackward1 too
    expect(x.clamp(0, 1).gradFn!.name).toBe('ClampBackward1');
    expect(x.pow(2).gradFn!.name).toBe('PowBackward0');
    expect(x.mul(2).isLeaf).toBe(false);
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(await x.mul(2).sum().format()).toBe(device === 'cpu' ? 'tensor(12., grad_fn=<SumBackward0>)' : "tensor(12., device='webgpu:0', grad_fn=<SumBackward0>)");
    const plain = torch.tensor([1], opts);
    expect(plain.mul(2).gradFn).toBeNull();
    expect(plain.requiresGrad_().requiresGrad).toBe(true);
  });

  it('norm(0) (the count of non-zeros) is recorded as NormBackward1 and gives no gradient', async () => {
    // PyTorch 1.13: x = [1, -2, 0] requiring grad; x.norm(0) = 2, grad_fn NormBackward1; after
    // backward x.grad is None, directly and through x.mul(2)
    const x = leaf([1, -2, 0]);
    const n = x.norm(0);
    expect([n.requiresGrad, n.gradFn?.name, await n.item()]).toEqual([true, 'NormBackward1', 2]);
    n.backward();
    x.mul(2).norm(0).backward();
    expect(x.grad).toBeNull();
  });

  it('d/dx sum(x^2) = 2x → [2, 4, 6]; gradients accumulate until zero_()', async () => {
    const x = leaf([1, 2, 3]);
    x.pow(2).sum().backward();
    expect(await x.grad!.tolist()).toEqual([2, 4, 6]);
    x.pow(2).sum().backward();
    expect(await x.grad!.tolist()).toEqual([4, 8, 12]);
    const g = x.grad!;
    g.zero_();
    x.mul(3).sum().backward();
    // accumulation is in place: the zeroed tensor now holds d(3x)/dx = 3
    expect(x.grad).toBe(g);
    expect(await g.tolist()).toEqual([3, 3, 3]);
    x.grad = null;
    x.sum().backward();
    expect(await x.grad!.tolist()).toEqual([1, 1, 1]);
  });

  it('backward(gradient) on a non-scalar, and the error without it', async () => {
    const x = leaf([1, 2]);
    const y = x.mul(x);
    expect(() => y.backward()).toThrow('grad can be implicitly created only for scalar outputs');
    expect(x.grad).toBeNull();
    // d/dx (x*x) · v = 2 x v = [2*1*1, 2*2*0.5]
    y.backward(torch.tensor([1, 0.5], opts));
    expect(await x.grad!.tolist()).toEqual([2, 2]);
  });

  it('retainGrad keeps the grad of a non-leaf', async () => {
    const x = leaf([1, 2]);
    const h = x.mul(3);
    h.retainGrad();
    h.pow(2).sum().backward();
    // d/dh h^2 = 2h = [6, 12]; dx = 3 · 2h = [18, 36]
    expect(await h.grad!.tolist()).toEqual([6, 12]);
    expect(await x.grad!.tolist()).toEqual([18, 36]);
  });

  it('a second backward through a freed graph throws; retainGraph allows it; the graph stays usable', async () => {
    const x = leaf([1, 2]);
    const y = x.exp().sum();
    y.backward();
    const first = await x.grad!.tolist();
    expect(() => y.backward()).toThrow(torch.RuntimeError);
    expect(() => y.backward()).toThrow('Trying to backward through the graph a second time');
    expect(await x.grad!.tolist()).toEqual(first);
    const z = x.exp().sum();
    z.backward(null, { retainGraph: true });
    z.backward();
    const now = (await x.grad!.tolist()) as number[];
    (first as number[]).forEach((v, i) => expect(now[i]).toBeCloseTo(3 * v, 5));
  });

  it('noGrad and enableGrad, sync and async; isGradEnabled', async () => {
    const x = leaf([1, 2]);
    expect(torch.isGradEnabled()).toBe(true);
    const y = torch.noGrad(() => {
      expect(torch.isGradEnabled()).toBe(false);
      const inner = torch.enableGrad(() => x.mul(2));
      expect(inner.requiresGrad).toBe(true);
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(torch.isGradEnabled()).toBe(true);
    const z = await torch.noGrad(async () => {
      await Promise.resolve();
      return x.add(1);
    });
    expect(z.requiresGrad).toBe(false);
    expect(torch.isGradEnabled()).toBe(true);
    expect(() => torch.noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(torch.isGradEnabled()).toBe(true);
  });

  it('an async noGrad body does not turn grad mode off for code running meanwhile', async () => {
    const x = leaf([1, 2]);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const inside = torch.noGrad(async () => {
      await gate;
      // still off inside the body after its await
      return { enabled: torch.isGradEnabled(), y: x.mul(2) };
    });
    // Elsewhere, while the body is pending, graphs are recorded as usual.
    expect(torch.isGradEnabled()).toBe(true);
    const meanwhile = x.mul(3);
    expect(meanwhile.requiresGrad).toBe(true);
    await Promise.resolve();
    expect(x.mul(3).gradFn!.name).toBe('MulBackward0');
    open();
    const r = await inside;
    expect(r.enabled).toBe(false);
    expect(r.y.requiresGrad).toBe(false);
    // enableGrad inside an async noGrad body, across an await
    const back = await torch.noGrad(() => torch.enableGrad(async () => {
      await Promise.resolve();
      return x.mul(2);
    }));
    expect(back.requiresGrad).toBe(true);
  });

  it('without an async context (browsers), an async body is refused instead of leaking the mode', async () => {
    const mode = createGradMode(null);
    expect(mode.noGrad(() => mode.isGradEnabled())).toBe(false);
    expect(mode.isGradEnabled()).toBe(true);
    const body = async () => 1;
    expect(() => mode.noGrad(body)).toThrow(torch.RuntimeError);
    expect(() => mode.enableGrad(body)).toThrow('torch.enableGrad(fn): fn returned a Promise');
    // the mode is restored after the refusal
    expect(mode.isGradEnabled()).toBe(true);
  });

  it('to(): dtype, device, both, another tensor, options; ToCopyBackward0', async () => {
    // torch.tensor([1, 2]).to(torch.float64) → tensor([1., 2.], dtype=torch.float64) (float32 where float64 is CPU-only)
    const i = torch.tensor([1, 2], { ...opts, dtype: 'int32' });
    const wide = device === 'cpu' ? 'float64' : 'float32';
    const a = i.to(wide);
    expect(a.dtype).toBe(wide);
    expect(a.device).toBe(device);
    expect(await a.tolist()).toEqual([1, 2]);
    // to(device, dtype), to(other), to({dtype}), to({dtype, device})
    expect((await i.to(device, 'float32')).dtype).toBe('float32');
    const other = torch.zeros([1], { ...opts, dtype: wide });
    expect((await i.to(other)).dtype).toBe(wide);
    expect((await i.to({ dtype: 'bool' })).dtype).toBe('bool');
    const moved = await i.to({ device: 'cpu', dtype: 'float32' });
    expect([moved.device, moved.dtype]).toEqual(['cpu', 'float32']);
    expect(await moved.tolist()).toEqual([1, 2]);
    // the same dtype returns the tensor itself (x.to(torch.float32) is x)
    const f = torch.tensor([1], opts);
    expect(f.to('float32')).toBe(f);
    // x.to(torch.float64) under grad: ToCopyBackward0, x.grad [1, 1]
    const x = leaf([1, 2]);
    const y = x.to(wide === 'float64' ? 'float64' : 'int32');
    if (wide === 'float64') {
      expect(y.gradFn!.name).toBe('ToCopyBackward0');
      y.sum().backward();
      expect(x.grad!.dtype).toBe('float32');
      expect(await x.grad!.tolist()).toEqual([1, 1]);
    } else expect(y.requiresGrad).toBe(false);
    expect(() => i.to('foo')).toThrow('Expected one of cpu, webgpu device type at start of device string: foo');
  });

  it('copies keep the layout as PyTorch\'s preserve_format: clone, type, to', async () => {
    // x = ones(2, 3): x.t().clone().stride() → (1, 3); x.t().int() → (1, 3); x.t().to('cpu') → (1, 3);
    // x.t().contiguous() → (2, 1); x.expand(2, 2, 3).clone() → (6, 3, 1)
    const x = torch.tensor([[1, 2, 3], [4, 5, 6]], opts);
    const c = x.t().clone();
    expect(c.stride()).toEqual([1, 3]);
    expect(await c.tolist()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(x.t().int().stride()).toEqual([1, 3]);
    const moved = await x.t().to('cpu');
    expect(moved.stride()).toEqual([1, 3]);
    expect(await moved.tolist()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(x.t().contiguous().stride()).toEqual([2, 1]);
    expect(x.expand(2, 2, 3).clone().stride()).toEqual([6, 3, 1]);
  });

  it('torch.autograd.grad returns gradients without touching .grad', async () => {
    const x = leaf([1, 2, 3]);
    const y = leaf([4, 5, 6]);
    const h = x.mul(y);
    const out = h.sum();
    const [gx, gh] = torch.autograd.grad(out, [x, h], { retainGraph: true });
    expect(await gx!.tolist()).toEqual([4, 5, 6]);
    expect(await gh!.tolist()).toEqual([1, 1, 1]);
    expect(x.grad).toBeNull();
    const unused = leaf([0]);
    expect(() => torch.autograd.grad(out, [unused], { retainGraph: true })).toThrow('appears to not have been used in the graph');
    expect(torch.autograd.grad(out, [unused], { allowUnused: true, retainGraph: true })).toEqual([null]);
    const v = x.mul(x);
    const [gv] = torch.autograd.grad(v, x, { gradOutputs: torch.tensor([1, 1, 2], opts) });
    // 2x · [1,1,2]
    expect(await gv!.tolist()).toEqual([2, 4, 12]);
  });

  it('in-place on a leaf requiring grad throws outside noGrad, works inside; tensors stay intact', async () => {
    const w = leaf([1, 2]);
    expect(() => w.sub_(1)).toThrow('a leaf Variable that requires grad is being used in an in-place operation.');
    expect(() => w.select(0, 0).fill_(0)).toThrow('a view of a leaf Variable that requires grad is being used in an in-place operation.');
    expect(await w.tolist()).toEqual([1, 2]);
    torch.noGrad(() => w.sub_(1));
    expect(await w.tolist()).toEqual([0, 1]);
    w.mul(2).sum().backward();
    expect(await w.grad!.tolist()).toEqual([2, 2]);
  });

  it('an in-place change to a saved tensor is caught by the version counter', async () => {
    const x = leaf([1, 2]);
    const y = x.exp();
    const loss = y.mul(y).sum();
    y.add_(1);
    expect(() => loss.backward()).toThrow('one of the variables needed for gradient computation has been modified by an inplace operation');
    expect(x.grad).toBeNull();
    // the graph is still usable once rebuilt
    x.exp().sum().backward();
    expect(x.grad).not.toBeNull();
  });

  it('in-place ops on non-leaves are differentiated (history is rebased)', async () => {
    const x = leaf([1, -2, 3]);
    const y = x.mul(1);
    y.mul_(2).clamp_({ min: 0 });
    expect(y.gradFn!.name).toBe('ClampBackward1');
    y.sum().backward();
    // d/dx clamp(2x, 0) = 2 where 2x >= 0
    expect(await x.grad!.tolist()).toEqual([2, 0, 2]);
  });

  it('max/amax tie rules follow PyTorch: amax splits, max(dim) picks the index', async () => {
    const x = leaf([1, 3, 3]);
    x.amax().backward();
    expect(await x.grad!.tolist()).toEqual([0, 0.5, 0.5]);
    const z = leaf([1, 3, 3]);
    z.max(0).values.backward();
    expect(await z.grad!.tolist()).toEqual([0, 1, 0]);
    // clamp passes the gradient at the boundary, relu does not
    const c = leaf([0, 1]);
    c.clamp({ min: 0 }).sum().backward();
    expect(await c.grad!.tolist()).toEqual([1, 1]);
    const r = leaf([0, 1]);
    r.relu().sum().backward();
    expect(await r.grad!.tolist()).toEqual([0, 1]);
  });

  it('requiresGrad on ints is refused', () => {
    expect(() => torch.tensor([1, 2], { ...opts, dtype: 'int32', requiresGrad: true })).toThrow('Only Tensors of floating point and complex dtype can require gradients');
  });
});
