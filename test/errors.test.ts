/** Bad input throws a typed error in PyTorch's words, and leaves every tensor intact. */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { devices } from './devices.js';

describe.each(devices)('errors on %s', (device) => {
  const opts = { device };

  /** Runs f, expects the error, then checks the operands still hold their values. */
  async function expectIntact(f: () => unknown, type: new (...a: any[]) => Error, msg: string | RegExp, keep: torch.Tensor[]) {
    const before = await Promise.all(keep.map((t) => t.tolist()));
    expect(f).toThrow(type);
    expect(f).toThrow(msg);
    for (const [i, t] of keep.entries()) expect(await t.tolist()).toEqual(before[i]);
    // still usable
    for (const t of keep) await t.add(0).sum().item();
  }

  it('shapes that do not broadcast', async () => {
    const a = torch.tensor([1, 2, 3], opts), b = torch.tensor([1, 2, 3, 4], opts);
    await expectIntact(() => a.add(b), torch.RuntimeError, 'The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0', [a, b]);
    await expectIntact(() => a.add_(b), torch.RuntimeError, 'must match the size', [a, b]);
    await expectIntact(() => a.add_(torch.ones(2, 3, opts)), torch.RuntimeError, "output with shape [3] doesn't match the broadcast shape [2, 3]", [a]);
  });
  it('matmul size mismatches', async () => {
    const a = torch.ones(2, 3, opts), b = torch.ones(4, 5, opts);
    await expectIntact(() => a.mm(b), torch.RuntimeError, 'mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)', [a, b]);
    await expectIntact(() => torch.matmul(a, b), torch.RuntimeError, 'mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)', [a, b]);
    const v = torch.ones(3, opts), w = torch.ones(4, opts);
    await expectIntact(() => v.dot(w), torch.RuntimeError, 'inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but got 3 and 4 elements respectively', [v, w]);
    await expectIntact(() => a.dot(a), torch.RuntimeError, '1D tensors expected, but got 2D and 2D tensors', [a]);
    await expectIntact(() => v.mm(a), torch.RuntimeError, 'self must be a matrix', [v, a]);
    const x = torch.ones(2, 2, 3, opts), y = torch.ones(3, 3, 2, opts);
    await expectIntact(() => x.bmm(y), torch.RuntimeError, 'Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3].', [x, y]);
    await expectIntact(() => a.mm(torch.ones(3, 2, { ...opts, dtype: 'int32' })), torch.RuntimeError, 'expected m1 and m2 to have the same dtype, but got: float != long', [a]);
  });
  it('ragged nested data', () => {
    expect(() => torch.tensor([[1, 2], [3]], opts)).toThrow(torch.ValueError);
    expect(() => torch.tensor([[1, 2], [3]], opts)).toThrow('expected sequence of length 2 at dim 1 (got 1)');
    expect(() => torch.tensor([1, 'a' as unknown as number], opts)).toThrow(torch.TypeError);
  });
  it('NaN or negative sizes', () => {
    expect(() => torch.zeros(2, -1, opts)).toThrow(torch.RuntimeError);
    expect(() => torch.zeros(2, -1, opts)).toThrow('Trying to create tensor with negative dimension -1: [2, -1]');
    expect(() => torch.ones(NaN, opts)).toThrow(torch.TypeError);
    expect(() => torch.randn([2.5], opts)).toThrow('size must be a sequence of ints');
    const x = torch.ones(6, opts);
    expect(() => x.reshape(4, -1)).toThrow("shape '[4, -1]' is invalid for input of size 6");
    expect(() => x.reshape(-1, -1)).toThrow('only one dimension can be inferred');
  });
  it('unknown dtypes and devices', () => {
    expect(() => torch.zeros(2, { ...opts, dtype: 'float16' })).toThrow(torch.TypeError);
    expect(() => torch.zeros(2, { device: 'cuda' })).toThrow('Expected one of cpu, webgpu device type at start of device string: cuda');
  });
  it('out-of-range dims', async () => {
    const x = torch.ones(2, 3, opts);
    await expectIntact(() => x.sum(2), torch.IndexError, 'Dimension out of range (expected to be in range of [-2, 1], but got 2)', [x]);
    await expectIntact(() => x.transpose(0, -3), torch.IndexError, 'Dimension out of range (expected to be in range of [-2, 1], but got -3)', [x]);
    await expectIntact(() => x.select(1, 3), torch.IndexError, 'index 3 out of range', [x]);
    await expectIntact(() => x.sum([0, 0]), torch.RuntimeError, 'dim 0 appears multiple times in the list of dims', [x]);
    await expectIntact(() => x.expand(3, 3), torch.RuntimeError, 'The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 0.  Target sizes: [3, 3].  Tensor sizes: [2, 3]', [x]);
    await expectIntact(() => x.t().view(6), torch.RuntimeError, "view size is not compatible with input tensor's size and stride", [x]);
  });
  it('reading a non-scalar as a scalar', async () => {
    const x = torch.ones(2, opts);
    await expect(x.item()).rejects.toThrow('a Tensor with 2 elements cannot be converted to Scalar');
  });
  it('other bad inputs keep their PyTorch wording', async () => {
    const x = torch.ones(2, opts);
    await expectIntact(() => x.where(x, 0), torch.RuntimeError, 'where expected condition to be a boolean tensor, but got a tensor with dtype Float', [x]);
    await expectIntact(() => torch.tensor([1, 2], { ...opts, dtype: 'int32' }).mean(), torch.RuntimeError, 'mean(): could not infer output dtype', [x]);
    await expectIntact(() => x.clamp(), torch.RuntimeError, "torch.clamp: At least one of 'min' or 'max' must not be None", [x]);
    const i = torch.tensor([1, 2], { ...opts, dtype: 'int32' });
    await expectIntact(() => i.add_(0.5), torch.RuntimeError, "result type Float can't be cast to the desired output type Long", [i]);
    expect(() => torch.zeros(0, opts).max()).toThrow('max(): Expected reduction dim to be specified for input.numel() == 0');
  });
});

describe.each(devices)('zero-size and 0-dim edge cases on %s', (device) => {
  const opts = { device };
  const isTorchError = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof torch.TorchError;
    }
    return true;
  };

  it('max/min over empty and non-empty dims (PyTorch 1.13)', async () => {
    // torch.zeros(5, 0).amin(0) → tensor([]); .amin(1) → IndexError "amin(): Expected reduction dim 1 to have non-zero size."
    const z = torch.zeros([5, 0], opts);
    const r = z.amin(0);
    expect(r.shape).toEqual([0]);
    expect(await r.tolist()).toEqual([]);
    expect(() => z.amin(1)).toThrow(torch.IndexError);
    expect(() => z.amin(1)).toThrow('amin(): Expected reduction dim 1 to have non-zero size.');
    // torch.zeros(0, 5).amax(1) → tensor([]); .amax(0) → IndexError (dim 0)
    expect(torch.zeros([0, 5], opts).amax(1).shape).toEqual([0]);
    expect(() => torch.zeros([0, 5], opts).amax(0)).toThrow('amax(): Expected reduction dim 0 to have non-zero size.');
    // zeros(5, 0).amin() → RuntimeError "amin(): Expected reduction dim to be specified for input.numel() == 0. ..."
    expect(() => z.amin()).toThrow(torch.RuntimeError);
    expect(() => z.amin()).toThrow("amin(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
    // zeros(5, 0).max(0) → values tensor([]); .max(1) → IndexError
    expect(z.max(0).values.shape).toEqual([0]);
    expect(() => z.max(1)).toThrow('max(): Expected reduction dim 1 to have non-zero size.');
  });

  it('0-dim tensors: dims out of range and slicing raise as in PyTorch', async () => {
    const s = torch.tensor(0, opts);
    // torch.tensor(0).squeeze(1) / .flatten(2) / .flatten(0, 1) → IndexError "Dimension out of range (expected to be in range of [-1, 0], but got 1)"
    expect(() => s.squeeze(1)).toThrow(torch.IndexError);
    expect(() => s.squeeze(1)).toThrow('Dimension out of range (expected to be in range of [-1, 0], but got 1)');
    expect(() => s.flatten(2)).toThrow('Dimension out of range (expected to be in range of [-1, 0], but got 2)');
    expect(() => s.flatten(0, 1)).toThrow('Dimension out of range (expected to be in range of [-1, 0], but got 1)');
    // squeeze(0), squeeze(-1) → tensor(0); flatten(0), flatten(-1) → tensor([0])
    expect(s.squeeze(0).shape).toEqual([]);
    expect(s.squeeze(-1).shape).toEqual([]);
    expect(s.flatten(0).shape).toEqual([1]);
    expect(s.flatten(-1).shape).toEqual([1]);
    // t[0:1] → IndexError "slice() cannot be applied to a 0-dim tensor."; narrow → RuntimeError
    expect(() => s.slice(0, 0, 1)).toThrow(torch.IndexError);
    expect(() => s.slice(0, 0, 1)).toThrow('slice() cannot be applied to a 0-dim tensor.');
    expect(() => s.narrow(0, 0, 1)).toThrow(torch.RuntimeError);
    expect(() => s.narrow(0, 0, 1)).toThrow('narrow() cannot be applied to a 0-dim tensor.');
    expect(() => s.select(0, 0)).toThrow('select() cannot be applied to a 0-dim tensor.');
    // permute([0]) on 0-dim → PyTorch's text, "(sparse_coo)" included
    expect(() => s.permute(0)).toThrow(
      'permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = 0 is not equal to len(dims) = 1',
    );
    expect(await s.tolist()).toEqual(0);
  });

  it('select, slice and their backward on zero-size tensors', async () => {
    // x = zeros(0, 3, requires_grad=True); x.select(1, 0).sum().backward() → x.grad = tensor([], size=(0, 3))
    const x = torch.zeros([0, 3], { ...opts, requiresGrad: true });
    const y = x.select(1, 0);
    expect(y.shape).toEqual([0]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([0, 3]);
    // x = zeros(2, 0); x[:, 0:0].sum().backward() → x.grad size (2, 0)
    const x2 = torch.zeros([2, 0], { ...opts, requiresGrad: true });
    x2.slice(1, 0, 0).sum().backward();
    expect(x2.grad!.shape).toEqual([2, 0]);
    // zeros(0, 3).select(0, 0) → IndexError "select(): index 0 out of range for tensor of size [0, 3] at dimension 0"
    expect(() => torch.zeros([0, 3], opts).select(0, 0)).toThrow('select(): index 0 out of range for tensor of size [0, 3] at dimension 0');
    // zeros(0, 3).reshape(-1, 0) → "cannot reshape tensor of 0 elements into shape [-1, 0] because ..."
    expect(() => torch.zeros([0, 3], opts).reshape(-1, 0)).toThrow(
      'cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified dimension size -1 can be any value and is ambiguous',
    );
  });

  it('allocations too large for the device raise a RuntimeError that says how many bytes', () => {
    // torch.zeros(1000000, 1000000) → "... DefaultCPUAllocator: can't allocate memory: you tried to allocate 4000000000000 bytes. ..."
    const f = () => torch.zeros(1e6, 1e6, opts);
    expect(f).toThrow(torch.RuntimeError);
    if (device === 'cpu') {
      expect(f).toThrow(
        "[enforce fail at alloc_cpu.cpp:75] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 4000000000000 bytes. Error code 12 (Cannot allocate memory)",
      );
      // the host arrays of arange / eye / linspace too
      expect(() => torch.arange(0, 1e12)).toThrow('you tried to allocate 4000000000000 bytes');
      expect(() => torch.eye(1e6)).toThrow('you tried to allocate 4000000000000 bytes');
    } else {
      expect(f).toThrow(/you tried to allocate 4000000000000 bytes .*per-buffer binding limit of \d+ bytes .*real GPUs allow more/);
    }
  });

  it('matmul: every shape case with PyTorch 1.13 grad_fn names and error texts', () => {
    // Printed by torch 1.13 for torch.ones(a, requires_grad=True).matmul(torch.ones(b, requires_grad=True)).
    const ok: [number[], number[], string, number[]][] = [
      [[3], [3, 4], 'SqueezeBackward3', [4]],
      [[2, 3], [3], 'MvBackward0', [2]],
      [[2, 3], [3, 4], 'MmBackward0', [2, 4]],
      [[2, 2, 3], [3, 4], 'UnsafeViewBackward0', [2, 2, 4]],
      [[2, 2, 3], [3], 'UnsafeViewBackward0', [2, 2]],
      [[3], [2, 3, 4], 'UnsafeViewBackward0', [2, 4]],
      [[2, 3], [5, 3, 4], 'CloneBackward0', [5, 2, 4]],
      [[5, 2, 3], [1, 3, 4], 'UnsafeViewBackward0', [5, 2, 4]],
      [[2, 1, 2, 3], [4, 3, 2], 'UnsafeViewBackward0', [2, 4, 2, 2]],
    ];
    for (const [a, b, name, shape] of ok) {
      const r = torch.ones(a, { ...opts, requiresGrad: true }).matmul(torch.ones(b, { ...opts, requiresGrad: true }));
      expect([r.gradFn!.name, r.shape], `${a} @ ${b}`).toEqual([name, shape]);
    }
    const bad: [number[], number[], string][] = [
      [[2, 2], [2, 3, 3], 'mat1 and mat2 shapes cannot be multiplied (6x3 and 2x2)'],
      [[2, 2, 3], [4, 5], 'mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)'],
      [[2, 2, 3], [2, 4, 5], 'Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].'],
      [[3], [2, 4, 5], 'size mismatch, got 10, 10x4,3'],
      [[2, 2, 3], [4], 'size mismatch, got 4, 4x3,4'],
      [[2, 3], [4], 'size mismatch, got 2, 2x3,4'],
      [[4], [2, 3], 'mat1 and mat2 shapes cannot be multiplied (1x4 and 2x3)'],
    ];
    for (const [a, b, msg] of bad) expect(() => torch.ones(a, opts).matmul(torch.ones(b, opts)), `${a} @ ${b}`).toThrow(msg);
  });

  it('bad arguments raise torch errors, never raw JS errors', async () => {
    const x = torch.ones([2, 2], opts);
    const cases: [string, () => unknown, string][] = [
      // PyTorch: "linspace(): argument 'steps' (position 3) must be int, not float"
      ['linspace', () => torch.linspace(0, 1, 2.5, opts), "linspace(): argument 'steps' (position 3) must be int, not float"],
      ['linspace neg', () => torch.linspace(0, 1, -1, opts), 'number of steps must be non-negative'],
      // arange(0, nan) → "unsupported range: 0 -> nan"; arange(0, inf) → "unsupported range: 0 -> inf"
      ['arange nan', () => torch.arange(0, NaN, opts), 'unsupported range: 0 -> nan'],
      ['arange inf', () => torch.arange(0, Infinity, opts), 'unsupported range: 0 -> inf'],
      // mm(None) → "mm(): argument 'mat2' (position 1) must be Tensor, not NoneType"; matmul: 'other'; dot: 'tensor'
      ['mm', () => x.mm(null as unknown as torch.Tensor), "mm(): argument 'mat2' (position 1) must be Tensor, not NoneType"],
      ['matmul', () => x.matmul(undefined as unknown as torch.Tensor), "matmul(): argument 'other' (position 1) must be Tensor, not NoneType"],
      ['dot', () => x.select(0, 0).dot(null as unknown as torch.Tensor), "dot(): argument 'tensor' (position 1) must be Tensor, not NoneType"],
      // expand(1.5) → "expand(): argument 'size' (position 1) must be tuple of SymInts, not float"; expand(-2) → overflow
      ['expand float', () => x.expand(1.5, 2), "expand(): argument 'size' (position 1) must be tuple of SymInts, not float"],
      ['expand -2', () => torch.zeros([1], opts).expand(-2), 'numel: integer multiplication overflow'],
      ['select float', () => x.select(0, 0.5), "select(): argument 'index' (position 2) must be int, not float"],
      ['narrow float', () => x.narrow(0, 0.5, 1), "narrow(): argument 'start' (position 2) must be int, not float"],
      ['sum dim', () => x.sum('a' as unknown as number), "argument 'dim' must be tuple of ints"],
      ['dtype', () => x.type(1n as unknown as string), 'dtype must be torch.dtype, not 1'],
      // arguments of the wrong kind anywhere in the API: torch errors, not "x is not a function"
      ['full size', () => torch.full(3 as unknown as number[], 1, opts), "full(): argument 'size' (position 1) must be tuple of ints"],
      ['full value', () => torch.full([2], 'a' as unknown as number, opts), "full(): argument 'fill_value' (position 2) must be Number, not str"],
      ['linspace start', () => torch.linspace('a' as unknown as number, 1, 2, opts), "linspace(): argument 'start' (position 1) must be Number"],
      ['scope', () => torch.scope(3 as unknown as () => void), 'torch.scope(fn): fn must be a function'],
      ['noGrad', () => torch.noGrad(3 as unknown as () => void), 'torch.noGrad(fn): fn must be a function'],
      ['expandAs', () => x.expandAs(null as unknown as torch.Tensor), "expand_as(): argument 'other' (position 1) must be Tensor, not NoneType"],
      ['zerosLike', () => torch.zerosLike(null as unknown as torch.Tensor), "zeros_like(): argument 'input' (position 1) must be Tensor, not NoneType"],
      ['fill_', () => x.clone().fill_('a' as unknown as number), "fill_(): argument 'value' (position 1) must be Number"],
      ['slice', () => x.slice(0, 'a' as unknown as number), "slice(): argument 'start' (position 2) must be int"],
      ['clamp', () => x.clamp('a' as unknown as number), "clamp(): argument 'min'/'max' must be Number"],
      ['autograd.grad', () => torch.autograd.grad(3 as unknown as torch.Tensor, [x]), "grad(): argument 'outputs' must be a Tensor or a sequence of Tensors"],
    ];
    for (const [name, f, msg] of cases) {
      expect(isTorchError(f), name).toBe(true);
      if (msg) expect(f, name).toThrow(msg);
    }
    const w = torch.ones([2], { ...opts, requiresGrad: true });
    expect(() => w.mul(2).sum().backward(3 as unknown as torch.Tensor)).toThrow(torch.TypeError);
    // backward(null, null): the options may be null as well → d/dw sum(2w) = [2, 2]
    w.mul(2).sum().backward(null, null as unknown as undefined);
    expect(await w.grad!.tolist()).toEqual([2, 2]);
  });

  it('a number where a torch.* function takes its input tensor: PyTorch 1.13 TypeErrors, never raw JS errors', () => {
    // Every torch.* function called with numbers for its arguments: whatever it says, a torch error
    // (torch.sqrt(1) used to throw "Cannot read properties of undefined (reading 'length')").
    // (not the ones that set process-wide state: setEager(1) would hold for the rest of the file)
    const fns = Object.entries(torch).filter(
      ([k, v]) => typeof v === 'function' && /^[a-z]/.test(k) && !/^set|^manualSeed$/.test(k) && !['compile', 'scope', 'noGrad', 'enableGrad'].includes(k),
    );
    expect(fns.length).toBeGreaterThan(100);
    for (const [name, f] of fns) {
      for (const args of [[1], [1, 0], [1, 1, 1]]) {
        let thrown: unknown = null;
        try {
          (f as (...a: unknown[]) => unknown)(...args);
        } catch (e) {
          thrown = e;
        }
        if (thrown !== null) expect(thrown instanceof torch.TorchError, `torch.${name}(${args.join(', ')}): ${String(thrown)}`).toBe(true);
      }
    }
    // PyTorch 1.13's words for functions of one signature (and for a first argument alone)
    const t = torch.ones([2], opts);
    const cases: [() => unknown, string][] = [
      [() => torch.sqrt(1 as unknown as torch.Tensor), "sqrt(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.logicalNot(1.5 as unknown as torch.Tensor), "logical_not(): argument 'input' (position 1) must be Tensor, not float"],
      [() => torch.maximum(1, 0), "maximum(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.logicalAnd(1, 0), "logical_and(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.sum(1 as unknown as torch.Tensor), "sum(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.argmax(1 as unknown as torch.Tensor, 0), "argmax(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.topk(1 as unknown as torch.Tensor, 1), "topk(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.tril(1 as unknown as torch.Tensor), "tril(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.mm(1 as unknown as torch.Tensor, t), "mm(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.max(1 as unknown as torch.Tensor), "max(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.t(1 as unknown as torch.Tensor), "t(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.reshape(1 as unknown as torch.Tensor, [1]), "reshape(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.unsqueeze(null as unknown as torch.Tensor, 0), "unsqueeze(): argument 'input' (position 1) must be Tensor, not NoneType"],
      [() => torch.clone(1 as unknown as torch.Tensor), "clone(): argument 'input' (position 1) must be Tensor, not int"],
      [() => torch.where(1 as unknown as torch.Tensor, t, t), "where(): argument 'condition' (position 1) must be Tensor, not int"],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
    // a number on one side of a binary function is still fine
    expect(torch.mul(2, t).shape).toEqual([2]);
    expect(torch.add(1, t).shape).toEqual([2]);
  });

  it('Tensor methods given arguments of the wrong kind raise torch errors, never raw JS errors', async () => {
    // every method of a tensor, each argument position given a string, null, an object, a mixed
    // list, NaN, -1, 2.5 or true (x.var('a') used to throw "dims.map is not a function")
    const x = torch.ones([2, 3], opts);
    const internal = new Set(['constructor', 'inplace', 'broadcastView', 'accumulateGrad', 'kernelView']);
    const names = new Set<string>();
    for (let p = Object.getPrototypeOf(x); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const k of Object.getOwnPropertyNames(p)) if (!internal.has(k) && typeof Object.getOwnPropertyDescriptor(p, k)!.value === 'function') names.add(k);
    }
    expect(names.size).toBeGreaterThan(150);
    const raw: string[] = [];
    for (const name of names) {
      for (const v of ['a', null, {}, [1, 'a'], NaN, -1, 2.5, true]) {
        for (const args of [[v], [0, v], [v, v, v]]) {
          const y = x.clone();
          try {
            const r = (y as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
            if (r instanceof Promise) await r.catch((e: unknown) => { if (!(e instanceof torch.TorchError)) raw.push(`${name}: ${String(e)}`); });
          } catch (e) {
            if (!(e instanceof torch.TorchError)) raw.push(`${name}(${JSON.stringify(args)}): ${String(e)}`);
          }
        }
      }
    }
    expect(raw).toEqual([]);
    expect(() => x.sum(true as unknown as number)).toThrow("argument 'dim' must be tuple of ints, not bool");
    expect(() => x.var('a' as unknown as number)).toThrow("argument 'dim' must be tuple of ints, not str");
    // PyTorch 1.13: x.sum([0, 'a']) → "sum(): argument 'dim' must be tuple of ints, but found element of type str at pos 2"
    expect(() => x.logsumexp([0, 'a'] as unknown as number[])).toThrow("argument 'dim' must be tuple of ints, but found element of type str at pos 2");
    expect(() => x.roll('a' as unknown as number)).toThrow("roll(): argument 'shifts' (position 1) must be tuple of ints, not str");
    expect(() => x.roll(1, 'a' as unknown as number)).toThrow("roll(): argument 'dims' (position 2) must be tuple of ints, not str");
    expect(() => x.flip('a' as unknown as number)).toThrow("flip(): argument 'dims' (position 1) must be tuple of ints, not str");
    expect(() => x.split('a' as unknown as number)).toThrow("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not str");
    expect(() => x.split([1, 'a'] as unknown as number[])).toThrow("split_with_sizes(): argument 'split_sizes' must be tuple of ints, but found element of type str at pos 2");
    expect(() => x.lerp('a' as unknown as torch.Tensor, 0.5)).toThrow(torch.TypeError);
    expect(() => x.max(null as unknown as number)).toThrow(torch.TypeError);
    expect(() => x.sort(null as unknown as number)).toThrow(torch.TypeError);
  });
});

describe.skipIf(!devices.includes('webgpu'))('mixing devices', () => {
  it('throws PyTorch\'s same-device error and leaves both tensors intact', async () => {
    const a = torch.tensor([1, 2]), b = torch.tensor([3, 4], { device: 'webgpu' });
    expect(() => a.add(b)).toThrow(torch.RuntimeError);
    expect(() => a.add(b)).toThrow('Expected all tensors to be on the same device, but found at least two devices, cpu and webgpu:0!');
    expect(() => a.dot(b)).toThrow('Expected all tensors to be on the same device');
    expect(await a.tolist()).toEqual([1, 2]);
    expect(await b.tolist()).toEqual([3, 4]);
  });
  it('float64 is CPU-only, with a clear error', () => {
    expect(() => torch.zeros(2, { device: 'webgpu', dtype: 'float64' })).toThrow("dtype torch.float64 is not supported on device 'webgpu'");
  });
});
