/**
 * In-place ops and autograd as PyTorch 1.13 has them: edges that keep the history an op saw,
 * CopySlices for in-place on views, the overlap checks, hooks. Each expected value or error text
 * is what /usr/bin/python3 with torch 1.13 printed for the same program (quoted in the comments).
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { devices } from './devices.js';
import { expectClose } from './helpers.js';

const PARTIAL =
  'unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation.';
const INTERNAL =
  'unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.';

describe.each(devices)('in-place ops and autograd on %s', (device) => {
  const opts = { device };
  const leaf = (data: number[] | number[][]) => torch.tensor(data, { ...opts, requiresGrad: true });
  const list = (t: torch.Tensor) => t.tolist();

  it('an op keeps the history it saw when its input is later changed in place (edges are nodes)', async () => {
    // a = ones(3); b = a*2; s = b.sum(); b.mul_(3); s.backward() → a.grad = [2, 2, 2]:
    // s was made from b's MulBackward0, not from the later mul_.
    const a = leaf([1, 1, 1]);
    const b = a.mul(2);
    const s = b.sum();
    b.mul_(3);
    s.backward();
    expect(await list(a.grad!)).toEqual([2, 2, 2]);
    // y = x*2; s = y.sum(); y.add_(1); s.backward() → x.grad = [2, 2]
    const x = leaf([1, 2]);
    const y = x.mul(2);
    const s2 = y.sum();
    y.add_(1);
    s2.backward();
    expect(await list(x.grad!)).toEqual([2, 2]);
  });

  it('in-place on an output of split, chunk or unbind is refused under grad, as in PyTorch', async () => {
    // PyTorch 1.13, s = tensor([1., 2, 3, 4], requires_grad=True).mul(1):
    const multi = (i: number, name: string) =>
      `Output ${i} of ${name} is a view and is being modified inplace. This view is the output of a function that returns multiple views. ` +
      'Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one.';
    const s = leaf([1, 2, 3, 4]).mul(1);
    expect(() => s.split(2)[0]!.mul_(2)).toThrow(multi(0, 'SplitBackward0'));
    expect(() => s.chunk(2)[1]!.add_(1)).toThrow(multi(1, 'SplitBackward0'));
    expect(() => s.split([1, 3])[1]!.add_(1)).toThrow(multi(1, 'SplitWithSizesBackward0'));
    expect(() => s.reshape(2, 2).unbind()[1]!.add_(1)).toThrow(multi(1, 'UnbindBackward0'));
    // a leaf's pieces too (this error comes before the leaf-view one)
    expect(() => leaf([1, 2]).split(1)[0]!.add_(1)).toThrow(multi(0, 'SplitBackward0'));
    expect(await list(s)).toEqual([1, 2, 3, 4]); // nothing was written
    // allowed: pieces of a tensor without grad, in-place under noGrad, and a detached piece
    const plain = torch.tensor([1, 2, 3, 4], opts).split(2)[0]!;
    plain.add_(1);
    expect(await list(plain)).toEqual([2, 3]);
    const piece = s.split(2)[1]!;
    torch.noGrad(() => piece.add_(1));
    s.split(2)[0]!.detach().add_(1);
    expect(await list(s)).toEqual([2, 3, 4, 5]);
  });

  it('in-place on a view of a non-leaf rewrites the base history (CopySlices)', async () => {
    // x = ones(2,2); b = x*2; b.select(0,0).mul_(3); b.sum().backward() → [[6, 6], [2, 2]], b.grad_fn CopySlices
    const x = leaf([[1, 1], [1, 1]]);
    const b = x.mul(2);
    const v = b.select(0, 0);
    v.mul_(3);
    expect(b.gradFn!.name).toBe('CopySlices');
    // the view's own history regenerates from the base: AsStridedBackward0
    expect(v.gradFn!.name).toBe('AsStridedBackward0');
    expect(await b.format()).toContain('grad_fn=<CopySlices>');
    b.sum().backward();
    expect(await list(x.grad!)).toEqual([[6, 6], [2, 2]]);
  });

  it('copy_ into a view of a tensor without grad makes the base require grad', async () => {
    // b = zeros(3); b.narrow(0,0,2).copy_(w) → b.requires_grad True, grad_fn CopySlices, the view
    // AsStridedBackward0; a later view b[0:1] is SliceBackward0.
    const w = leaf([1, 2]);
    const b = torch.zeros([3], opts);
    const later = b.slice(0, 1);
    const v = b.narrow(0, 0, 2);
    v.copy_(w);
    expect(b.requiresGrad).toBe(true);
    expect(b.gradFn!.name).toBe('CopySlices');
    expect(v.gradFn!.name).toBe('AsStridedBackward0');
    expect(b.slice(0, 0, 1).gradFn!.name).toBe('SliceBackward0');
    // a view made before the copy sees it too: b[1:] is AsStridedBackward0 and requires grad
    expect(later.gradFn!.name).toBe('AsStridedBackward0');
    expect(later.requiresGrad).toBe(true);
    expect(await b.format()).toBe(device === 'cpu' ? 'tensor([1., 2., 0.], grad_fn=<CopySlices>)' : "tensor([1., 2., 0.], device='webgpu:0', grad_fn=<CopySlices>)");
    // (b * [1, 2, 3]).sum().backward() → w.grad = [1, 2]
    b.mul(torch.tensor([1, 2, 3], opts)).sum().backward();
    expect(await list(w.grad!)).toEqual([1, 2]);
    // b = zeros(3); v2 = b[1:]; b[:2].copy_(w2); v2.sum().backward() → w2.grad = [0, 1]
    const w2 = leaf([1, 2]);
    const b2 = torch.zeros([3], opts);
    const v2 = b2.slice(0, 1);
    b2.slice(0, 0, 2).copy_(w2);
    v2.sum().backward();
    expect(await list(w2.grad!)).toEqual([0, 1]);
  });

  it('views made before an in-place op on their base follow the new history', async () => {
    // x = ones(3); b = x*2; v = b[:2]; b.mul_(3); v.sum().backward() → [6, 6, 0]
    const x = leaf([1, 1, 1]);
    const b = x.mul(2);
    const v = b.slice(0, 0, 2);
    b.mul_(3);
    expect(v.gradFn!.name).toBe('AsStridedBackward0');
    v.sum().backward();
    expect(await list(x.grad!)).toEqual([6, 6, 0]);
    // x = [1,2,3,4]; b = (x*1).view(2,2); b.t()[0].mul_(10); b.sum().backward() → [10, 1, 10, 1]
    const x2 = leaf([1, 2, 3, 4]);
    const b2 = x2.mul(1).view(2, 2);
    b2.t().select(0, 0).mul_(10);
    b2.sum().backward();
    expect(await list(x2.grad!)).toEqual([10, 1, 10, 1]);
    // x = [1,2,3]; b = x*2; v = b[:2]; b[:2].mul_(3); v.sum().backward() → [6, 6, 0]
    const x3 = leaf([1, 2, 3]);
    const b3 = x3.mul(2);
    const v3 = b3.slice(0, 0, 2);
    b3.slice(0, 0, 2).mul_(3);
    v3.sum().backward();
    expect(await list(x3.grad!)).toEqual([6, 6, 0]);
  });

  it('an in-place op under noGrad on a view leaves the base history and regenerates the view', async () => {
    // x = ones(3); y = x*2; v = y[:2]; with no_grad: v.mul_(2) → v AsStridedBackward0, y MulBackward0, x.grad [2, 2, 2]
    const x = leaf([1, 1, 1]);
    const y = x.mul(2);
    const v = y.slice(0, 0, 2);
    torch.noGrad(() => v.mul_(2));
    expect(v.gradFn!.name).toBe('AsStridedBackward0');
    expect(y.gradFn!.name).toBe('MulBackward0');
    y.sum().backward();
    expect(await list(x.grad!)).toEqual([2, 2, 2]);
  });

  it('in-place errors of view graphs, with PyTorch\'s text', async () => {
    // x = [1,2,3]; b = x*2; v = b[:2]; y = v*v; b.mul_(3); y.sum().backward() →
    const x = leaf([1, 2, 3]);
    const b = x.mul(2);
    const v = b.slice(0, 0, 2);
    const y = v.mul(v);
    b.mul_(3);
    expect(() => y.sum().backward()).toThrow(
      `one of the variables needed for gradient computation has been modified by an inplace operation: [${device === 'cpu' ? 'torch.FloatTensor' : 'torch.webgpu.FloatTensor'} [2]], which is output 0 of AsStridedBackward0, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).`,
    );
    expect(x.grad).toBeNull();
    // x = [1,2]; v = x[:1]; v.mul_(2) → a view of a leaf Variable ...
    const l = leaf([1, 2]);
    expect(() => l.slice(0, 0, 1).mul_(2)).toThrow('a view of a leaf Variable that requires grad is being used in an in-place operation.');
    // with no_grad: v = x[:1]; then v.mul_(2) with grad on →
    const nv = torch.noGrad(() => l.slice(0, 0, 1));
    expect(() => nv.mul_(2)).toThrow(
      'A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don\'t want the inplace to be tracked) or both outside (if you want the inplace to be tracked).',
    );
    // ... and after its base changed in place: w = leaf; with no_grad: v = w[:1]; w.detach().add_(1); v.grad_fn →
    const nv2 = torch.noGrad(() => l.slice(0, 0, 1));
    l.detach().add_(1);
    expect(() => nv2.gradFn).toThrow('A view was created in no_grad mode and its base or another view of its base has been modified inplace with grad mode enabled.');
    expect(await list(l)).toEqual([2, 3]);
    // y = x*1; y.mul_(y); y.sum().backward() → y (saved as the other operand) was overwritten
    const x2 = leaf([1, 2]);
    const y2 = x2.mul(1);
    y2.mul_(y2);
    expect(() => y2.sum().backward()).toThrow(/which is output 0 of MulBackward0, is at version 1; expected version 0 instead/);
  });

  it('an in-place op whose source needs no grad drops the old history', async () => {
    // y = x*2; y.copy_(zeros(3)); y.sum().backward() → x.grad [0, 0, 0]; y.grad_fn CopyBackwards
    const x = leaf([1, 1, 1]);
    const y = x.mul(2);
    y.copy_(torch.zeros([3], opts));
    expect(y.gradFn!.name).toBe('CopyBackwards');
    y.sum().backward();
    expect(await list(x.grad!)).toEqual([0, 0, 0]);
    // fill_ and zero_ on a tensor with history: FillBackward2, ZeroBackward0, gradient 0
    const x2 = leaf([1, 2]);
    const y2 = x2.mul(2);
    y2.fill_(3);
    expect(y2.gradFn!.name).toBe('FillBackward2');
    y2.zero_();
    expect(y2.gradFn!.name).toBe('ZeroBackward0');
    y2.add(x2).sum().backward();
    expect(await list(x2.grad!)).toEqual([1, 1]);
  });

  it('an in-place op whose operand is its own target', async () => {
    // y = x*1; y.add_(y); y.sum().backward() → [2, 2]
    const x = leaf([1, 1]);
    const y = x.mul(1);
    y.add_(y);
    y.sum().backward();
    expect(await list(x.grad!)).toEqual([2, 2]);
    // x.mul(1).mul_(w): mul_ keeps the value before the write for w's gradient → x.grad = w, w.grad = x
    const x2 = leaf([1, 2]), w = leaf([3, 4]);
    const a = x2.mul(1);
    a.mul_(w);
    a.sum().backward();
    expect(await list(x2.grad!)).toEqual([3, 4]);
    expect(await list(w.grad!)).toEqual([1, 2]);
  });

  it('expand backward when no dim grows, and copy_ backward', async () => {
    // x = ones(2,3); x.expand(2,3).sum().backward() → ones
    const x = leaf([[1, 2, 3], [4, 5, 6]]);
    x.expand(2, 3).sum().backward();
    expect(await list(x.grad!)).toEqual([[1, 1, 1], [1, 1, 1]]);
    // z = zeros(2,3); z.copy_(w) with w of shape [3]: w.grad = [2, 2, 2] (broadcast rows summed)
    const w = leaf([1, 2, 3]);
    const z = torch.zeros([2, 3], opts);
    z.copy_(w);
    z.sum().backward();
    expect(await list(w.grad!)).toEqual([2, 2, 2]);
  });

  it('detach() shares data and version but is not a view: w.detach().zero_() is allowed', async () => {
    // w = ones(3); w.detach().zero_() → w = [0, 0, 0] (requires_grad=True), w._version 1
    const w = leaf([1, 1, 1]);
    const e = w.exp();
    w.detach().zero_();
    expect(await list(w)).toEqual([0, 0, 0]);
    expect(w.requiresGrad).toBe(true);
    // exp saved its output, not w: backward still runs → e^1
    e.sum().backward();
    await expectClose(w.grad!, [3], [Math.E, Math.E, Math.E]);
    // log saved its input w: w = [1,2]; y = w.log(); w.detach().mul_(2); backward →
    // "[torch.FloatTensor [2]] is at version 1; expected version 0 instead" (a leaf: no "output 0 of")
    const w2 = leaf([1, 2]);
    const y = w2.log();
    w2.detach().mul_(2);
    expect(() => y.sum().backward()).toThrow(`[${device === 'cpu' ? 'torch.FloatTensor' : 'torch.webgpu.FloatTensor'} [2]] is at version 1; expected version 0 instead.`);
  });

  it('transpose of a 0-dim tensor stays in the graph', async () => {
    // x = tensor(2., requires_grad=True); x.transpose(0, 0) → requires_grad True, TransposeBackward0
    const x = torch.tensor(2, { ...opts, requiresGrad: true });
    const t = x.transpose(0, 0);
    expect(t.requiresGrad).toBe(true);
    expect(t.gradFn!.name).toBe('TransposeBackward0');
    expect(x.transpose(-1, 0).gradFn!.name).toBe('TransposeBackward0');
    expect(x.t().gradFn!.name).toBe('TBackward0');
    t.mul(3).backward();
    expect(await x.grad!.item()).toBe(3);
  });

  it('overlapping in-place writes raise as in PyTorch, before any kernel runs', async () => {
    const m = torch.tensor([[1, 2], [3, 4]], opts);
    // x.copy_(x.t()) → partial overlap
    expect(() => m.copy_(m.t())).toThrow(PARTIAL);
    expect(await list(m)).toEqual([[1, 2], [3, 4]]);
    // t.unsqueeze(0).mul_(t) for t of shapes [3], [1, 3], [3, 3], [1], [2, 1] → partial overlap
    for (const shape of [[3], [1, 3], [3, 3], [1], [2, 1]]) {
      const t = torch.ones(shape, opts);
      expect(() => t.unsqueeze(0).mul_(t), `shape [${shape}]`).toThrow(PARTIAL);
    }
    const v = torch.ones([3], opts);
    expect(() => v.unsqueeze(1).mul_(v)).toThrow(PARTIAL);
    // zeros(3).expand(2, 3).add_(1), .copy_(ones(2, 3)), .clamp_(0, 1) → internal overlap
    expect(() => torch.zeros([3], opts).expand(2, 3).add_(1)).toThrow(INTERNAL);
    expect(() => torch.zeros([3], opts).expand(2, 3).copy_(torch.ones([2, 3], opts))).toThrow(INTERNAL);
    expect(() => torch.zeros([3], opts).expand(2, 3).clamp_(0, 1)).toThrow(INTERNAL);
    // no elements: nothing overlaps (PyTorch counts an empty tensor as contiguous, so it allows this)
    const none = torch.zeros([0, 1], opts).expand(0, 3).add_(1);
    expect(none.shape).toEqual([0, 3]);
    expect(await none.tolist()).toEqual([]);
    // x.expand(2, 3).copy_(x) → internal overlap is checked first
    const x3 = torch.ones([3], opts);
    expect(() => x3.expand(2, 3).copy_(x3)).toThrow(INTERNAL);
    // fill_ / zero_ on an expanded tensor are allowed: zeros(3).expand(2,3).fill_(1) → ones(2, 3)
    const base = torch.zeros([3], opts);
    expect(await list(base.expand(2, 3).fill_(1))).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(await list(base)).toEqual([1, 1, 1]);
    // x[1:].add_(x[:2]), x[1:].copy_(x[:2]), x.t().add_(x), x.add_(x.t()), x.mul_(x[0]), x[0].mul_(x) → partial
    const r = torch.arange(0, 3, { ...opts, dtype: 'float32' });
    expect(() => r.slice(0, 1).add_(r.slice(0, 0, 2))).toThrow(PARTIAL);
    expect(() => r.slice(0, 1).copy_(r.slice(0, 0, 2))).toThrow(PARTIAL);
    expect(await list(r)).toEqual([0, 1, 2]);
    const q = torch.ones([2, 2], opts);
    expect(() => q.t().add_(q)).toThrow(PARTIAL);
    expect(() => q.add_(q.t())).toThrow(PARTIAL);
    expect(() => q.mul_(q.select(0, 0))).toThrow(PARTIAL);
    const q1 = torch.ones([1, 2], opts);
    expect(() => q1.select(0, 0).mul_(q1)).toThrow(PARTIAL);
    // full overlap (the same elements in the same layout) is fine: x.add_(x) → [2, 2, 2]; x.copy_(x) → x
    const f = torch.ones([3], opts);
    expect(await list(f.add_(f))).toEqual([2, 2, 2]);
    expect(await list(f.add_(f.view(3)))).toEqual([4, 4, 4]);
    expect(await list(f.copy_(f))).toEqual([4, 4, 4]);
    // disjoint parts of one storage: x[:2].add_(x[2:]) with x = ones(4) → [2, 2]
    const d = torch.ones([4], opts);
    expect(await list(d.slice(0, 0, 2).add_(d.slice(0, 2)))).toEqual([2, 2]);
    // zeros(1).expand(1).add_(1) → [1.]; x.add_(x.expand(3)) with x of shape [1] → the shape error
    expect(await list(torch.zeros([1], opts).expand(1).add_(1))).toEqual([1]);
    const one = torch.ones([1], opts);
    expect(() => one.add_(one.expand(3))).toThrow("output with shape [1] doesn't match the broadcast shape [3]");
  });

  it('registerHook: on non-leaves and leaves, replacing the gradient, removable', async () => {
    // y = x*2; y.register_hook(print); y.retain_grad(); y.register_hook(g*10); (y*3).sum().backward()
    // → hook sees [3, 3]; x.grad [60, 60]; y.grad [30, 30] (retained after the hooks)
    const x = leaf([1, 2]);
    const y = x.mul(2);
    const seen: torch.Tensor[] = [];
    y.registerHook((g) => {
      seen.push(g);
    });
    y.retainGrad();
    y.registerHook((g) => g.mul(10));
    y.mul(3).sum().backward();
    expect(seen.length).toBe(1);
    expect(await list(seen[0]!)).toEqual([3, 3]);
    expect(await list(x.grad!)).toEqual([60, 60]);
    expect(await list(y.grad!)).toEqual([30, 30]);
    // leaf: h = x.register_hook(g*10); (x*3).sum().backward() → [30, 30]; h.remove(); again → [33, 33]
    const l = leaf([1, 2]);
    const h = l.registerHook((g) => g.mul(10));
    l.mul(3).sum().backward();
    expect(await list(l.grad!)).toEqual([30, 30]);
    h.remove();
    l.mul(3).sum().backward();
    expect(await list(l.grad!)).toEqual([33, 33]);
    // a hook on y stays with y's history at registration: y.register_hook(g*10); y.add_(1); y.sum().backward() → [20, 20]
    const x3 = leaf([1, 2]);
    const y3 = x3.mul(2);
    y3.registerHook((g) => g.mul(10));
    y3.add_(1);
    y3.sum().backward();
    expect(await list(x3.grad!)).toEqual([20, 20]);
    // torch.autograd.grad sees hooked gradients: → [60, 60]
    const x4 = leaf([1, 2]);
    const y4 = x4.mul(2);
    y4.registerHook((g) => g.mul(10));
    expect(await list(torch.autograd.grad(y4.mul(3).sum(), [x4])[0]!)).toEqual([60, 60]);
    // errors: no grad → "cannot register a hook on a tensor that doesn't require gradient";
    // a hook returning a number → TypeError "expected Variable, but hook returned 'int'"
    expect(() => torch.ones([2], opts).registerHook((g) => g)).toThrow("cannot register a hook on a tensor that doesn't require gradient");
    const x5 = leaf([1, 2]);
    const y5 = x5.mul(2);
    y5.registerHook((() => 5) as unknown as (g: torch.Tensor) => torch.Tensor);
    expect(() => y5.sum().backward()).toThrow(torch.TypeError);
    expect(() => y5.sum().backward()).toThrow("expected Variable, but hook returned 'int'");
    // Python type names for other values too (PyTorch: a hook returning 'a' → "... returned 'str'")
    const y6 = leaf([1, 2]).mul(2);
    y6.registerHook((() => 'a') as unknown as (g: torch.Tensor) => torch.Tensor);
    expect(() => y6.sum().backward()).toThrow("expected Variable, but hook returned 'str'");
  });

  it('gradients through CopySlices match finite differences', async () => {
    // f(x, w) = sum(exp(b) * c) with b = x * 2 (shape [2, 3]); b[:, 1:].mul_(w); b.select(0, 1).add_(x.select(0, 0));
    // checked against central differences (float64 on the CPU, float32 with a looser bound on WebGPU).
    const dtype = device === 'cpu' ? 'float64' : 'float32';
    const tol = device === 'cpu' ? 1e-6 : 2e-2;
    const c = torch.tensor([[0.5, -1, 2], [1.5, 0.25, -0.75]], { ...opts, dtype });
    const f = (x: torch.Tensor, w: torch.Tensor) => {
      const b = x.mul(2);
      b.slice(1, 1).mul_(w);
      b.select(0, 1).add_(x.select(0, 0));
      return b.exp().mul(c).sum();
    };
    const x0 = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1]], w0 = [[0.7, -0.3], [0.2, 0.9]];
    const x = torch.tensor(x0, { ...opts, dtype, requiresGrad: true });
    const w = torch.tensor(w0, { ...opts, dtype, requiresGrad: true });
    f(x, w).backward();
    const numeric = async (which: 'x' | 'w') => {
      const base = which === 'x' ? x0 : w0;
      const out: number[] = [];
      const h = device === 'cpu' ? 1e-6 : 1e-2;
      for (let i = 0; i < base.length; i++) {
        for (let j = 0; j < base[0]!.length; j++) {
          const at = (d: number) => {
            const v = base.map((r) => r.slice());
            v[i]![j]! += d;
            const t = torch.tensor(v, { ...opts, dtype });
            return which === 'x' ? f(t, torch.tensor(w0, { ...opts, dtype })) : f(torch.tensor(x0, { ...opts, dtype }), t);
          };
          out.push(((await at(h).item()) - (await at(-h).item())) / (2 * h));
        }
      }
      return out;
    };
    for (const [t, which] of [[x, 'x'], [w, 'w']] as const) {
      const got = Array.from(await t.grad!.data());
      const want = await numeric(which);
      got.forEach((g, i) => expect(Math.abs(g - want[i]!), `${which}[${i}]: ${g} vs ${want[i]}`).toBeLessThan(tol * (1 + Math.abs(want[i]!))));
    }
  });

  it('retainGrad follows the tensor through an in-place op', async () => {
    // y = x*2; y.retain_grad(); y.add_(1); y.sum().backward(); y.grad → [1, 1]
    const x = leaf([1, 2]);
    const y = x.mul(2);
    y.retainGrad();
    y.add_(1);
    y.sum().backward();
    expect(await list(y.grad!)).toEqual([1, 1]);
  });
});
