/**
 * torch.nn.functional losses, composed from table ops (so they run and differentiate on every
 * device). Each follows PyTorch 1.13's ATen formula, including its reductions and clamps.
 */
import { IndexError, RuntimeError, ValueError } from '../errors.js';
import { isFloating } from '../dtype.js';
import { checkAttr, checkTensor } from '../args.js';
import type { Tensor } from '../tensor.js';

/** How a loss reduces its per-element values. */
export type Reduction = 'none' | 'mean' | 'sum';

function reduce(loss: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return loss.sum();
  if (reduction === 'mean') return loss.mean();
  throw new ValueError(`${String(reduction)} is not a valid value for reduction`);
}

function sizeName(s: readonly number[]): string {
  return `torch.Size([${s.join(', ')}])`;
}

/** Mean squared error: mean((input - target)^2). */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  // PyTorch 1.13 compares target.size() with input.size() first, in that order
  checkAttr(target, 'size');
  checkAttr(input, 'size');
  return reduce(input.sub(target).pow(2), opts.reduction);
}

/** Mean absolute error: mean(|input - target|). */
export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  // PyTorch 1.13 compares target.size() with input.size() first, in that order
  checkAttr(target, 'size');
  checkAttr(input, 'size');
  return reduce(input.sub(target).abs(), opts.reduction);
}

/** Options of nllLoss and crossEntropy. */
export interface NLLOptions {
  /** Per-class weights, shape (C). */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing (and do not count in the mean). */
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Moves the class dim (1, or 0 for unbatched input) last. */
function classLast(x: Tensor): Tensor {
  if (x.ndim <= 2) return x;
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  return x.permute(dims);
}

function checkTarget(input: Tensor, target: Tensor): void {
  const batch = input.ndim === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (target.ndim !== batch.length || target.shape.some((s, i) => s !== batch[i])) {
    if (input.ndim >= 2 && target.ndim >= 1 && target.shape[0] !== input.shape[0]) {
      throw new ValueError(`Expected input batch_size (${input.shape[0]}) to match target batch_size (${target.shape[0]}).`);
    }
    throw new RuntimeError(`expected target size ${sizeName(batch)}, got ${sizeName(target.shape)}`);
  }
  if (isFloating(target.dtype)) throw new RuntimeError(`expected scalar type Long but found ${target.typeLabel()}`);
}

/**
 * PyTorch's bounds check of class indices. It reads the targets, so it runs where that is free
 * (the CPU); on WebGPU an out-of-range target fails in gather's own check or reads as class 0.
 */
function checkClasses(target: Tensor, C: number, ignore: number): void {
  if (target.device !== 'cpu') return;
  for (const v of target.dataSync()) if (v !== ignore && (v < 0 || v >= C)) throw new IndexError(`Target ${v} is out of bounds.`);
}

/**
 * Per-sample -input[n, target[n]] (gathered along the class dim) and the weight each sample
 * carries: 0 where target is ignoreIndex, else weight[target] (1 without class weights).
 */
function pickedAndWeights(input: Tensor, target: Tensor, opts: NLLOptions): [Tensor, Tensor] {
  const ignore = opts.ignoreIndex ?? -100;
  checkClasses(target, input.ndim === 1 ? input.shape[0]! : input.shape[1]!, ignore);
  const keep = target.ne(ignore);
  // Ignored targets (default -100, outside 0..C-1) read class 0, then weigh 0.
  const safe = target.where(keep, 0);
  const picked = classLast(input).gather(-1, safe.unsqueeze(-1)).squeeze(-1);
  let w = keep.type(input.dtype);
  if (opts.weight) w = w.mul(opts.weight.indexSelect(0, safe.flatten()).reshape(target.shape.slice()));
  return [picked, w];
}

/**
 * Negative log likelihood of class indices under log-probabilities `input` (N, C, ...):
 * -input[n, target[n]], weighted, averaged over the weights in play (PyTorch's 'mean').
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NLLOptions = {}): Tensor {
  // named as PyTorch's dispatcher names the op it calls
  checkTensor('nll_loss_nd', 'input', 1, input);
  checkTensor('nll_loss_nd', 'target', 2, target);
  checkTarget(input, target);
  const [picked, w] = pickedAndWeights(input, target, opts);
  const loss = picked.mul(w).neg();
  const r = opts.reduction ?? 'mean';
  if (r === 'mean') return loss.sum().div(w.sum());
  return reduce(loss, r);
}

/** Options of crossEntropy: nllLoss's plus label smoothing. */
export interface CrossEntropyOptions extends NLLOptions {
  /** Mixes the target with the uniform distribution: (1 - s) * target + s / C. */
  labelSmoothing?: number;
}

/**
 * Cross entropy of logits `input` (N, C, ...) against class indices (int) or class probabilities
 * (float, the input's shape), as torch.nn.functional.cross_entropy.
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkTensor('cross_entropy_loss', 'input', 1, input);
  checkTensor('cross_entropy_loss', 'target', 2, target);
  const ls = opts.labelSmoothing ?? 0;
  if (ls < 0 || ls > 1) throw new RuntimeError(`label_smoothing must be between 0.0 and 1.0. Got: ${ls}`);
  const classDim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[classDim]!;
  const logp = input.logSoftmax(classDim);
  const r = opts.reduction ?? 'mean';
  const wShape = input.shape.map((_, i) => (i === classDim ? C : 1));
  if (isFloating(target.dtype)) {
    if (target.shape.length !== input.shape.length || target.shape.some((s, i) => s !== input.shape[i])) {
      throw new RuntimeError(`Expected target size ${sizeName(input.shape)}, got ${sizeName(target.shape)}`);
    }
    const t = ls > 0 ? target.mul(1 - ls).add(ls / C) : target;
    let prod = logp.mul(t);
    if (opts.weight) prod = prod.mul(opts.weight.reshape(wShape));
    const loss = prod.sum(classDim).neg();
    if (r === 'mean') return loss.sum().div(input.numel() / C);
    return reduce(loss, r);
  }
  const nll = nllLoss(logp, target, { ...opts, reduction: r });
  if (ls === 0) return nll;
  // The smoothing term: -sum_c w_c logp_c per sample, ignored targets zeroed; the mean divides by
  // the same weights nllLoss does.
  const [, w] = pickedAndWeights(logp, target, opts);
  const keep = target.ne(opts.ignoreIndex ?? -100).type(input.dtype);
  const smooth = (opts.weight ? logp.mul(opts.weight.reshape(wShape)) : logp).sum(classDim).neg().mul(keep);
  const ret = r === 'none' ? smooth : r === 'sum' ? smooth.sum() : smooth.sum().div(w.sum());
  return nll.mul(1 - ls).add(ret.mul(ls / C));
}

function sameSize(input: Tensor, target: Tensor): void {
  if (target.shape.length !== input.shape.length || target.shape.some((s, i) => s !== input.shape[i])) {
    throw new ValueError(
      `Using a target size (${sizeName(target.shape)}) that is different to the input size (${sizeName(input.shape)}) is deprecated. Please ensure they have the same size.`,
    );
  }
}

/** Binary cross entropy of probabilities; logs are clamped at -100 as PyTorch does. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  // PyTorch 1.13 compares target.size() with input.size() first, in that order
  checkAttr(target, 'size');
  checkAttr(input, 'size');
  sameSize(input, target);
  const logx = input.log().clamp({ min: -100 });
  const log1mx = input.rsub(1).log().clamp({ min: -100 });
  let loss = target.mul(logx).add(target.rsub(1).mul(log1mx)).neg();
  if (opts.weight) loss = loss.mul(opts.weight);
  return reduce(loss, opts.reduction);
}

/**
 * Sigmoid + binary cross entropy in one stable formula:
 * (1 - t) x + lw (log(1 + exp(-|x|)) + max(-x, 0)), with lw = 1 + (posWeight - 1) t.
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  // PyTorch 1.13 compares target.size() with input.size() first, in that order
  checkAttr(target, 'size');
  checkAttr(input, 'size');
  sameSize(input, target);
  const maxVal = input.neg().clamp({ min: 0 });
  const softplus = maxVal.neg().exp().add(input.neg().sub(maxVal).exp()).log().add(maxVal);
  const lw = opts.posWeight ? opts.posWeight.sub(1).mul(target).add(1) : null;
  let loss = target.rsub(1).mul(input).add(lw ? lw.mul(softplus) : softplus);
  if (opts.weight) loss = loss.mul(opts.weight);
  return reduce(loss, opts.reduction);
}
