/**
 * torch.* functions. Most are generated from the op tables (src/ops/methods.ts) and exported by
 * name here; the compile-time check at the end fails when a generated function is not exported.
 * The rest take a number where the Tensor method cannot (torch.add(2, x)) or another order
 * (torch.where(cond, a, b)).
 */
import { checkTensor, inputTensor as input } from './args.js';
import { runBackward } from './autograd.js';
import { RuntimeError, TypeError } from './errors.js';
import * as apply from './ops/apply.js';
import { functions as F, type GeneratedFunctions } from './ops/methods.js';
import { Tensor } from './tensor.js';

type T = Tensor;
type TN = Tensor | number;

export const {
  neg, abs, sign, exp, log, sqrt, relu, sigmoid, tanh, sin, cos, tan, floor, ceil, round, trunc, frac,
  reciprocal, rsqrt, log1p, expm1, log2, log10, exp2, erf, sinh, cosh, asin, acos, atan,
  mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, logicalAnd, atan2, fmod, remainder,
  rsub, logicalNot, clamp, dot, mm, bmm, matmul, sum, mean, amax, amin, argmax, argmin,
  square, lerp, std, logsumexp, softmax, logSoftmax, norm, maskedFill, tril, triu, repeat, flip, roll, split, chunk, unbind,
  gather, scatter, scatterAdd, indexSelect, sort, argsort, topk, cumsum, prod, maskedSelect, nonzero, bernoulli,
} = F;
/** torch.var(x, dim?, {correction, keepdim}) (`var` is a reserved word, so it is exported by name). */
const var_ = F.var;
export { var_ as var };
export { cat, stack } from './ops/composite.js';
export { randint, randperm } from './ops/sampling.js';

/** torch.add(a, b, {alpha}): a + alpha * b; either side may be a number (not both). */
export const add = (a: TN, b: TN, opts?: { alpha?: number }): T => apply.addAlpha('add', b instanceof Tensor ? a : input('add', a), b, opts?.alpha);
/** torch.sub(a, b, {alpha}): a - alpha * b; either side may be a number (not both). */
export const sub = (a: TN, b: TN, opts?: { alpha?: number }): T => apply.addAlpha('sub', b instanceof Tensor ? a : input('sub', a), b, opts?.alpha);
/** torch.where(condition, a, b). */
export const where = (cond: T, a: TN, b: TN): T => {
  checkTensor('where', 'condition', 1, cond);
  return apply.where(cond, a, b);
};
export function max(x: T): T;
export function max(x: T, dim: number, keepdim?: boolean): { values: T; indices: T };
export function max(x: T, other: T): T;
/** torch.max(x), torch.max(x, dim, keepdim?) → {values, indices}, torch.max(a, b). */
export function max(x: T, dim?: number | T, keepdim?: boolean): T | { values: T; indices: T } {
  input('max', x);
  return dim === undefined ? x.max() : dim instanceof Tensor ? x.max(dim) : x.max(dim, keepdim);
}
export function min(x: T): T;
export function min(x: T, dim: number, keepdim?: boolean): { values: T; indices: T };
export function min(x: T, other: T): T;
/** torch.min(x), torch.min(x, dim, keepdim?) → {values, indices}, torch.min(a, b). */
export function min(x: T, dim?: number | T, keepdim?: boolean): T | { values: T; indices: T } {
  input('min', x);
  return dim === undefined ? x.min() : dim instanceof Tensor ? x.min(dim) : x.min(dim, keepdim);
}
export const reshape = (x: T, shape: readonly number[]): T => input('reshape', x).reshape(shape);
export const flatten = (x: T, startDim = 0, endDim = -1): T => input('flatten', x).flatten(startDim, endDim);
export const transpose = (x: T, d0: number, d1: number): T => input('transpose', x).transpose(d0, d1);
export const t = (x: T): T => input('t', x).t();
export const permute = (x: T, dims: readonly number[]): T => input('permute', x).permute(dims);
export const unsqueeze = (x: T, dim: number): T => input('unsqueeze', x).unsqueeze(dim);
export const squeeze = (x: T, dim?: number): T => input('squeeze', x).squeeze(dim);
export const narrow = (x: T, dim: number, start: number, length: number): T => input('narrow', x).narrow(dim, start, length);
export const select = (x: T, dim: number, index: number): T => input('select', x).select(dim, index);
export const clone = (x: T): T => input('clone', x).clone();

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

// Every generated torch.* function must be exported above: a missing name fails the type check here.
type Unexported = Exclude<keyof GeneratedFunctions, keyof typeof import('./functional.js')>;
const allGeneratedExported: [Unexported] extends [never] ? true : Unexported = true;
void allGeneratedExported;
