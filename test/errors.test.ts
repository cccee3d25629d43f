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
