/** torch.* functions: the same ops as the Tensor methods, with PyTorch's argument order. */
import { runBackward } from './autograd.js';
import { RuntimeError, TypeError } from './errors.js';
import * as apply from './ops/apply.js';
import { Tensor, type Dims, type ReduceOptions } from './tensor.js';

type T = Tensor;
type TN = Tensor | number;

/** torch.add(a, b, {alpha}): a + alpha * b; either side may be a number. */
export const add = (a: TN, b: TN, opts?: { alpha?: number }): T => apply.addAlpha('add', a, b, opts?.alpha);
export const sub = (a: TN, b: TN, opts?: { alpha?: number }): T => apply.addAlpha('sub', a, b, opts?.alpha);
export const mul = (a: TN, b: TN): T => apply.binary('mul', a, b);
export const div = (a: TN, b: TN): T => apply.binary('div', a, b);
export const pow = (a: TN, b: TN): T => apply.binary('pow', a, b);
export const rsub = (a: T, b: TN): T => a.rsub(b);
export const maximum = (a: T, b: T): T => a.maximum(b);
export const minimum = (a: T, b: T): T => a.minimum(b);
export const eq = (a: TN, b: TN): T => apply.binary('eq', a, b);
export const ne = (a: TN, b: TN): T => apply.binary('ne', a, b);
export const lt = (a: TN, b: TN): T => apply.binary('lt', a, b);
export const le = (a: TN, b: TN): T => apply.binary('le', a, b);
export const gt = (a: TN, b: TN): T => apply.binary('gt', a, b);
export const ge = (a: TN, b: TN): T => apply.binary('ge', a, b);
export const neg = (x: T): T => x.neg();
export const abs = (x: T): T => x.abs();
export const exp = (x: T): T => x.exp();
export const log = (x: T): T => x.log();
export const sqrt = (x: T): T => x.sqrt();
export const relu = (x: T): T => x.relu();
export const sigmoid = (x: T): T => x.sigmoid();
export const tanh = (x: T): T => x.tanh();
export const clamp = (x: T, min?: Parameters<T['clamp']>[0], max?: number | null): T => x.clamp(min, max);
/** torch.where(condition, a, b). */
export const where = (cond: T, a: TN, b: TN): T => apply.where(cond, a, b);
export const dot = (a: T, b: T): T => a.dot(b);
export const mm = (a: T, b: T): T => a.mm(b);
export const bmm = (a: T, b: T): T => a.bmm(b);
export const matmul = (a: T, b: T): T => a.matmul(b);
export const sum = (x: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T => x.sum(dim, keepdim);
export const mean = (x: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T => x.mean(dim, keepdim);
export const amax = (x: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T => x.amax(dim, keepdim);
export const amin = (x: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T => x.amin(dim, keepdim);
export function max(x: T): T;
export function max(x: T, dim: number, keepdim?: boolean): { values: T; indices: T };
export function max(x: T, other: T): T;
export function max(x: T, dim?: number | T, keepdim?: boolean): T | { values: T; indices: T } {
  return dim === undefined ? x.max() : dim instanceof Tensor ? x.max(dim) : x.max(dim, keepdim);
}
export function min(x: T): T;
export function min(x: T, dim: number, keepdim?: boolean): { values: T; indices: T };
export function min(x: T, other: T): T;
export function min(x: T, dim?: number | T, keepdim?: boolean): T | { values: T; indices: T } {
  return dim === undefined ? x.min() : dim instanceof Tensor ? x.min(dim) : x.min(dim, keepdim);
}
export const reshape = (x: T, shape: readonly number[]): T => x.reshape(shape);
export const flatten = (x: T, startDim = 0, endDim = -1): T => x.flatten(startDim, endDim);
export const transpose = (x: T, d0: number, d1: number): T => x.transpose(d0, d1);
export const t = (x: T): T => x.t();
export const permute = (x: T, dims: readonly number[]): T => x.permute(dims);
export const unsqueeze = (x: T, dim: number): T => x.unsqueeze(dim);
export const squeeze = (x: T, dim?: number): T => x.squeeze(dim);
export const narrow = (x: T, dim: number, start: number, length: number): T => x.narrow(dim, start, length);
export const select = (x: T, dim: number, index: number): T => x.select(dim, index);
export const clone = (x: T): T => x.clone();

/** A tensor or an array of tensors, with PyTorch's TypeError for anything else. */
function tensorList(name: string, v: T | readonly T[]): T[] {
  const list = v instanceof Tensor ? [v] : Array.isArray(v) ? v.slice() : null;
  if (!list || list.some((t) => !(t instanceof Tensor))) throw new TypeError(`grad(): argument '${name}' must be a Tensor or a sequence of Tensors`);
  return list;
}

/** torch.autograd: grad() returns gradients instead of accumulating them into .grad. */
export const autograd = {
  grad(
    outputs: T | readonly T[],
    inputs: T | readonly T[],
    opts: { gradOutputs?: T | readonly (T | null)[] | null; retainGraph?: boolean; allowUnused?: boolean } = {},
  ): (T | null)[] {
    const outs = tensorList('outputs', outputs);
    const ins = tensorList('inputs', inputs);
    const go = opts.gradOutputs instanceof Tensor ? [opts.gradOutputs] : (opts.gradOutputs ?? []);
    const grads = outs.map((o, i) => {
      if (!o.requiresGrad) throw new RuntimeError(`element ${i} of tensors does not require grad and does not have a grad_fn`);
      const g = go[i];
      if (g) return g;
      if (o.numel() !== 1) throw new RuntimeError('grad can be implicitly created only for scalar outputs');
      return o.onesLike();
    });
    ins.forEach((t) => {
      if (!t.requiresGrad) throw new RuntimeError('One of the differentiated Tensors does not require grad');
    });
    const got = runBackward(outs, grads, opts.retainGraph ?? false, ins);
    return ins.map((t) => {
      const g = got.get(t) ?? null;
      if (!g && !opts.allowUnused) {
        throw new RuntimeError(
          'One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True (allowUnused: true) if this is the desired behavior.',
        );
      }
      return g;
    });
  },
  /** t.backward for several outputs at once (torch.autograd.backward). */
  backward(tensors: T | readonly T[], gradTensors?: T | readonly T[] | null, opts: { retainGraph?: boolean } = {}): void {
    const outs = tensors instanceof Tensor ? [tensors] : tensors.slice();
    const gs = gradTensors instanceof Tensor ? [gradTensors] : (gradTensors ?? []);
    outs.forEach((o, i) => o.backward(gs[i] ?? null, { retainGraph: i < outs.length - 1 ? true : opts.retainGraph }));
  },
};
