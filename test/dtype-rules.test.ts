/**
 * PyTorch 1.13's type rules: result_type's categories (0-dim tensors promote like scalars), clamp's
 * bounds, bool arithmetic, alpha, integer powers, where with scalars, and in-place casts. Expected
 * values and messages are what /usr/bin/python3 with torch 1.13 printed (int64 is int32 here).
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { devices } from './devices.js';

describe.each(devices)('type rules on %s', (device) => {
  const opts = { device };
  const f32 = () => torch.tensor([1, 2], opts);
  const i64 = () => torch.tensor([1, 2], { ...opts, dtype: 'int32' });
  const b = () => torch.tensor([true, false], opts);
  const scalar = (v: number, dtype: string) => torch.tensor(v, { ...opts, dtype });
  // float64 exists on the CPU only; the 0-dim float64 cases run there.
  const f64ok = device === 'cpu';

  it('0-dim tensors promote like scalars (by category)', async () => {
    // torch.tensor(2) * b → tensor([2, 0]) int64; torch.tensor(True) * i64 → int64
    const ib = scalar(2, 'int32').mul(b());
    expect(ib.dtype).toBe('int32');
    expect(await ib.tolist()).toEqual([2, 0]);
    expect(scalar(1, 'bool').mul(i64()).dtype).toBe('int32');
    // torch.tensor(2.5) * i64 → tensor([2.5, 5.0]) float32; torch.tensor(3) * f32 → float32
    const fi = scalar(2.5, 'float32').mul(i64());
    expect(fi.dtype).toBe('float32');
    expect(await fi.tolist()).toEqual([2.5, 5]);
    expect(scalar(3, 'int32').mul(f32()).dtype).toBe('float32');
    if (f64ok) {
      // torch.tensor(2., dtype=float64) * f32 → float32; tensor(2.5, float64) * i64 → float64
      expect(scalar(2, 'float64').mul(f32()).dtype).toBe('float32');
      expect(scalar(2.5, 'float64').mul(i64()).dtype).toBe('float64');
      // 0-dim with 0-dim: tensor(3) + tensor(2.5, float64) → float64; a 1-element 1-dim tensor is not 0-dim
      expect(scalar(3, 'int32').add(scalar(2.5, 'float64')).dtype).toBe('float64');
      expect(torch.tensor([2], { ...opts, dtype: 'float64' }).mul(f32()).dtype).toBe('float64');
      // w (float32, [2]) * s (float64, 0-dim), backward → w.grad float32, s.grad float64 = 3
      const w = torch.tensor([1, 2], { ...opts, requiresGrad: true });
      const s = torch.tensor(2, { ...opts, dtype: 'float64', requiresGrad: true });
      w.mul(s).sum().backward();
      expect(w.grad!.dtype).toBe('float32');
      expect(s.grad!.dtype).toBe('float64');
      expect(await s.grad!.item()).toBe(3);
    }
  });

  it('clamp bounds take part in promotion', async () => {
    // i64.clamp(max=1.5) → tensor([1.0, 1.5]) float32; i64.clamp(min=0) → int64
    const c = i64().clamp({ max: 1.5 });
    expect(c.dtype).toBe('float32');
    expect(await c.tolist()).toEqual([1, 1.5]);
    expect(i64().clamp({ min: 0 }).dtype).toBe('int32');
    // b.clamp(min=0) → tensor([1, 0]) int64; b.clamp(min=0.5) → tensor([1.0, 0.5]) float32
    const bc = b().clamp({ min: 0 });
    expect(bc.dtype).toBe('int32');
    expect(await bc.tolist()).toEqual([1, 0]);
    expect(await b().clamp({ min: 0.5 }).tolist()).toEqual([1, 0.5]);
    // b.clone().clamp_(min=1) → "result type Long can't be cast to the desired output type bool"
    expect(() => b().clamp_({ min: 1 })).toThrow("result type Long can't be cast to the desired output type bool");
    // i64.clone().clamp_(max=1.5) → "... desired output type long int"
    expect(() => i64().clamp_({ max: 1.5 })).toThrow("result type Float can't be cast to the desired output type long int");
  });

  it('bool arithmetic: subtraction refused, alpha cast to bool, in-place casts refused', async () => {
    expect(() => b().sub(b())).toThrow(
      'Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.',
    );
    expect(() => torch.sub(b(), b(), { alpha: 1 })).toThrow('with two bool tensors is not supported');
    expect(() => b().sub_(b())).toThrow('with two bool tensors is not supported');
    const one =
      'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.';
    expect(() => b().sub(1)).toThrow(one);
    expect(() => b().rsub(1)).toThrow(one);
    // b + b → tensor([True, False]); torch.add(b, b, alpha=-1) → tensor([True, False]) bool
    expect(await b().add(b()).tolist()).toEqual([true, false]);
    const ba = torch.add(b(), b(), { alpha: -1 });
    expect(ba.dtype).toBe('bool');
    expect(await ba.tolist()).toEqual([true, false]);
    // torch.add(i64, i64, alpha=1.5) → "For integral input tensors, argument alpha must not be a floating point number."
    expect(() => torch.add(i64(), i64(), { alpha: 1.5 })).toThrow('For integral input tensors, argument alpha must not be a floating point number.');
    // torch.add(i64, i64, alpha=2) → [3, 6]
    expect(await torch.add(i64(), i64(), { alpha: 2 }).tolist()).toEqual([3, 6]);
    // b.clone().add_(2) / mul_(2) → "result type Long can't be cast to the desired output type Bool"
    expect(() => b().add_(2)).toThrow("result type Long can't be cast to the desired output type Bool");
    expect(() => b().mul_(2)).toThrow("result type Long can't be cast to the desired output type Bool");
    // i64.clone().mul_(2.5) / div_(2) / add_(tensor(1.5)) → "result type Float can't be cast to the desired output type Long"
    expect(() => i64().mul_(2.5)).toThrow("result type Float can't be cast to the desired output type Long");
    expect(() => i64().div_(2)).toThrow("result type Float can't be cast to the desired output type Long");
    expect(() => i64().add_(scalar(1.5, 'float32'))).toThrow("result type Float can't be cast to the desired output type Long");
    const t = i64();
    expect(() => t.add_(torch.tensor([1.5, 1], opts))).toThrow("result type Float can't be cast");
    expect(await t.tolist()).toEqual([1, 2]);
  });

  it('integer powers and where with scalars', async () => {
    // i64.pow(-1) → "Integers to negative integer powers are not allowed."
    expect(() => i64().pow(-1)).toThrow('Integers to negative integer powers are not allowed.');
    // i64.pow(-1.5) is float (the JS number -1.0 is an integer, so a fractional exponent stands for it)
    expect(i64().pow(-1.5).dtype).toBe('float32');
    // i64.pow(tensor([-1, 2])) → tensor([1, 4]); i64.pow(tensor(-1)) → tensor([1, 0])
    expect(await i64().pow(torch.tensor([-1, 2], { ...opts, dtype: 'int32' })).tolist()).toEqual([1, 4]);
    expect(await i64().pow(scalar(-1, 'int32')).tolist()).toEqual([1, 0]);
    // PyTorch 1.13, int32 tensors: tensor([0, 1, -1, 2, -2, 3, 0, -1]) ** tensor([-1, -1, -1, -1, -1, -2, -3, -2])
    // → tensor([0, 1, -1, 0, 0, 0, 0, 1]): 0 to a negative power is 0 (WGSL's i32(inf) saturated)
    const base = torch.tensor([0, 1, -1, 2, -2, 3, 0, -1], { ...opts, dtype: 'int32' });
    const exps = torch.tensor([-1, -1, -1, -1, -1, -2, -3, -2], { ...opts, dtype: 'int32' });
    expect(await base.pow(exps).tolist()).toEqual([0, 1, -1, 0, 0, 0, 0, 1]);
    // beyond int32 the result wraps, as PyTorch's: 2 ** 31 → -2147483648, (-2) ** 31 → -2147483648,
    // 2 ** 32 → 0 (WGSL's i32() saturated these to 2147483520); 7 ** 8 = 5764801 is exact
    const big = torch.tensor([2, -2, 2, 7], { ...opts, dtype: 'int32' }).pow(torch.tensor([31, 31, 32, 8], { ...opts, dtype: 'int32' }));
    expect(await big.tolist()).toEqual([-2147483648, -2147483648, 0, 5764801]);
    // torch.where(b, 0, 1) → tensor([0, 1]) int64; torch.where(b, i64, 1.5) → tensor([1.0, 1.5]) float32
    const w = torch.where(b(), 0, 1);
    expect(w.dtype).toBe('int32');
    expect(await w.tolist()).toEqual([0, 1]);
    const w2 = torch.where(b(), i64(), 1.5);
    expect(w2.dtype).toBe('float32');
    expect(await w2.tolist()).toEqual([1, 1.5]);
    // torch.where(b, 2.5, i64) → tensor([2.5, 2.0])
    expect(await torch.where(b(), 2.5, i64()).tolist()).toEqual([2.5, 2]);
  });
  it('ops without a bool kernel raise as PyTorch 1.13 does, and name their nodes as it does', async () => {
    const bb = torch.tensor([true, false], opts);
    expect(() => bb.relu()).toThrow('Boolean inputs not supported for relu');
    expect(() => bb.abs()).toThrow(`"abs_${device}" not implemented for 'Bool'`);
    expect(() => bb.argmax()).toThrow(`"argmax_${device}" not implemented for 'Bool'`);
    expect(() => bb.argmin()).toThrow(`"argmin_${device}" not implemented for 'Bool'`);
    // ...but a reduced dim of size 1 runs no kernel: tensor([[True, False]]).argmax(0) → tensor([0, 0])
    expect(await torch.tensor([[true, false]], opts).argmax(0).tolist()).toEqual([0, 0]);
    expect(() => torch.zeros(0, opts).argmax()).toThrow(torch.IndexError);
    expect(() => torch.zeros(0, opts).argmax()).toThrow('argmax(): Expected reduction dim to be specified for input.numel() == 0.');
    const x = torch.tensor([1, 2], { ...opts, requiresGrad: true });
    // torch.rsub(x, 2).grad_fn → RsubBackward1; torch.rsub(x, x) → RsubBackward0
    expect(x.rsub(2).gradFn!.name).toBe('RsubBackward1');
    expect(x.rsub(x).gradFn!.name).toBe('RsubBackward0');
  });
});

describe.each(devices)('integer fills and integer division by zero on %s', (device) => {
  it('raise as PyTorch 1.13 does', async () => {
    const opts = { device, dtype: 'int32' as const };
    // torch.full([2], nan, dtype=torch.int64) → RuntimeError: value cannot be converted to type int64_t without overflow
    expect(() => torch.full([2], NaN, opts)).toThrow('value cannot be converted to type int64_t without overflow');
    expect(() => torch.zeros([2], opts).fill_(Infinity)).toThrow('value cannot be converted to type int64_t without overflow');
    // torch.zeros(2, dtype=torch.int64).fill_(2.5) → tensor([2, 2])
    expect(await torch.zeros([2], opts).fill_(2.5).tolist()).toEqual([2, 2]);
    const a = torch.tensor([5, 3], opts);
    // tensor([5, 3]).remainder(0) / fmod(0) → RuntimeError: ZeroDivisionError
    expect(() => a.remainder(0)).toThrow('ZeroDivisionError');
    expect(() => a.fmod(0)).toThrow('ZeroDivisionError');
    // a tensor divisor is read on the CPU (WebGPU kernels cannot raise)
    if (device === 'cpu') expect(() => a.remainder(torch.tensor([0, 2], opts))).toThrow('ZeroDivisionError');
    // floats are IEEE: tensor([5., 3.]).fmod(0) → tensor([nan, nan])
    expect(await a.float().fmod(0).tolist()).toEqual([NaN, NaN]);
  });
});
