/**
 * torch.nn.functional: activations and oneHot (more, such as the losses, join this namespace from
 * their own files). Activations are rows of the elementwise table (src/ops/elementwise.ts) with
 * their parameters; PyTorch's keyword arguments are a trailing options object.
 *
 * @example
 * const F = torch.nn.functional;
 * F.gelu(x);  F.leakyRelu(x, 0.2);  F.softplus(x, { beta: 2 });  F.oneHot(labels, 10);
 */
import { checkTensor } from '../args.js';
import { arange } from '../creation.js';
import { RuntimeError } from '../errors.js';
import * as apply from '../ops/apply.js';
import { Tensor } from '../tensor.js';

type T = Tensor;

/** max(x, 0). */
export const relu = (x: T): T => (checkTensor('relu', 'input', 1, x), x.relu());
/** 1 / (1 + e^-x). */
export const sigmoid = (x: T): T => (checkTensor('sigmoid', 'input', 1, x), x.sigmoid());
/** tanh(x). */
export const tanh = (x: T): T => (checkTensor('tanh', 'input', 1, x), x.tanh());
/** x σ(x) (also called swish). */
export const silu = (x: T): T => (checkTensor('silu', 'input', 1, x), apply.unary('silu', x));

/** x Φ(x); `{approximate: 'tanh'}` uses the tanh approximation. */
export function gelu(x: T, opts: { approximate?: 'none' | 'tanh' } = {}): T {
  checkTensor('gelu', 'input', 1, x);
  const a = opts.approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') throw new RuntimeError(`approximate argument must be either none or tanh.`);
  return apply.unary(a === 'tanh' ? 'geluTanh' : 'gelu', x);
}

/** x for x > 0, negativeSlope · x otherwise: leakyRelu(x, 0.2) or leakyRelu(x, {negativeSlope}). */
export function leakyRelu(x: T, negativeSlope: number | { negativeSlope?: number } = 0.01): T {
  checkTensor('leaky_relu', 'input', 1, x);
  const s = typeof negativeSlope === 'number' ? negativeSlope : (negativeSlope.negativeSlope ?? 0.01);
  return apply.unary('leakyRelu', x, [s]);
}

/** x for x > 0, α (e^x - 1) otherwise: elu(x, 0.5) or elu(x, {alpha}). */
export function elu(x: T, alpha: number | { alpha?: number } = 1): T {
  checkTensor('elu', 'input', 1, x);
  return apply.unary('elu', x, [typeof alpha === 'number' ? alpha : (alpha.alpha ?? 1)]);
}

/** clamp(x, minVal, maxVal) with no gradient at the bounds: hardtanh(x, -1, 1) or hardtanh(x, {minVal, maxVal}). */
export function hardtanh(x: T, minVal: number | { minVal?: number; maxVal?: number } = -1, maxVal = 1): T {
  checkTensor('hardtanh', 'input', 1, x);
  const [lo, hi] = typeof minVal === 'number' ? [minVal, maxVal] : [minVal.minVal ?? -1, minVal.maxVal ?? 1];
  return apply.unary('hardtanh', x, [lo, hi]);
}

/** log(1 + e^(βx)) / β, linear where βx > threshold: softplus(x, 2) or softplus(x, {beta, threshold}). */
export function softplus(x: T, beta: number | { beta?: number; threshold?: number } = 1, threshold = 20): T {
  checkTensor('softplus', 'input', 1, x);
  const [b, t] = typeof beta === 'number' ? [beta, threshold] : [beta.beta ?? 1, beta.threshold ?? 20];
  return apply.unary('softplus', x, [b, t]);
}

/** softmax along dim (the same as torch.softmax). */
export const softmax = (x: T, dim: number): T => (checkTensor('softmax', 'input', 1, x), x.softmax(dim));
/** logSoftmax along dim (the same as torch.logSoftmax). */
export const logSoftmax = (x: T, dim: number): T => (checkTensor('log_softmax', 'input', 1, x), x.logSoftmax(dim));

/**
 * One-hot rows of an int tensor: shape [...idx.shape, numClasses], int. With numClasses omitted (or
 * -1) the count is max + 1, which reads the values: CPU tensors only (pass numClasses on WebGPU).
 * Class values are checked against numClasses on the CPU; on WebGPU an out-of-range row stays zero.
 */
export function oneHot(idx: T, numClasses = -1): T {
  if (!(idx instanceof Tensor) || idx.dtype !== 'int32') throw new RuntimeError('one_hot is only applicable to index tensor.');
  let n = numClasses;
  if (idx.device === 'cpu' && idx.numel() > 0) {
    const v = idx.dataSync();
    let lo = Infinity, hi = -Infinity;
    for (const x of v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    if (lo < 0) throw new RuntimeError('Class values must be non-negative.');
    if (n === -1) n = hi + 1;
    else if (hi >= n) throw new RuntimeError('Class values must be smaller than num_classes.');
  } else if (n === -1) {
    throw new RuntimeError(`oneHot: pass numClasses for a tensor on '${idx.device}' (inferring it would read the values back)`);
  }
  return idx.unsqueeze(-1).eq(arange(n, { device: idx.device })).type('int32');
}
