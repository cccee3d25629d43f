/**
 * Composite ops: written once from the primitives (elementwise, reduce, views, indexing), so they
 * run wherever those run. Softmax, logSoftmax and the 2-norm record a hand-written gradient where
 * that saves kernels (and, for the norm, gives PyTorch's 0 at the origin instead of NaN).
 */
import { checkIntList, checkTensor, intList, pyType } from '../args.js';
import { isGradEnabled, noGrad, record, type GradRule } from '../autograd.js';
import { isFloating, type DType } from '../dtype.js';
import { IndexError, RuntimeError, TypeError } from '../errors.js';
import { launch } from '../executor.js';
import { broadcastShapes, fmtShape, normDim, normDims } from '../shape.js';
import { arange } from '../creation.js';
import { Tensor, sameDevice, type Dims } from '../tensor.js';
import * as apply from './apply.js';
import * as ix from './indexing.js';
import { required } from './indexing.js';
import { reduceArgs } from './reduce.js';

type T = Tensor;

/** var/std options: PyTorch's keyword arguments (`correction` wins over `unbiased`). */
export interface VarOptions {
  dim?: Dims | null;
  correction?: number;
  unbiased?: boolean;
  keepdim?: boolean;
}

/** dims, correction and keepdim from var(dim?, opts?) / var(dim, unbiased, keepdim) / var(opts). */
function varArgs(dim?: Dims | VarOptions | null, opts?: VarOptions | boolean, keepdim?: boolean): [number[] | null, number, boolean] {
  let o: VarOptions = {};
  if (dim !== null && typeof dim === 'object' && !Array.isArray(dim)) o = dim as VarOptions;
  else o = { dim: dim as Dims | null | undefined, ...(typeof opts === 'boolean' ? { unbiased: opts, keepdim } : opts) };
  const [dims, kd] = reduceArgs({ dim: o.dim ?? undefined, keepdim: o.keepdim });
  const correction = o.correction ?? (o.unbiased === false ? 0 : 1);
  return [dims, correction, kd];
}

function variance(x: T, dims: number[] | null, correction: number, keepdim: boolean): T {
  if (!isFloating(x.dtype)) {
    throw new RuntimeError(`std and var only support floating point and complex dtypes`);
  }
  const all = dims === null || dims.length === 0;
  const d = all ? x.shape.map((_, i) => i) : normDims(dims, x.ndim);
  const n = d.reduce((a, i) => a * x.shape[i]!, 1);
  const diff = x.sub(x.mean(d, true));
  return diff.mul(diff).sum(d, keepdim).div(Math.max(0, n - correction));
}

/** The largest value along dim, kept, without autograd: softmax's shift (as PyTorch's, an inf row gives NaN). */
const rowMax = (x: T, dim: number): T => noGrad(() => x.amax(dim, true));

/**
 * The kernel PyTorch's CPU error names for softmax / logSoftmax on ints and bools: a last-dim kernel
 * per op, and one shared (softmax_kernel_impl) for the other dims.
 */
const softmaxKernel = (x: T, d: number, op: 'softmax' | 'log_softmax'): string =>
  d >= x.ndim - 1 ? `${op}_lastdim_kernel_impl` : 'softmax_kernel_impl';

function checkFloat(x: T, name: string): void {
  if (!isFloating(x.dtype)) throw new RuntimeError(`"${name}" not implemented for '${x.typeLabel()}'`);
}

/**
 * PyTorch records a composite op as one node; here its result's last inner node takes that node's
 * name (values and gradients are the inner ops'). A result that is an input's own node is left alone.
 */
function named<R extends T | T[]>(out: R, name: string, ...inputs: unknown[]): R {
  for (const o of Array.isArray(out) ? out : [out]) {
    const fn = o.gradFn;
    if (fn && !inputs.some((i) => i instanceof Tensor && i.gradFn === fn)) fn.name = name;
  }
  return out;
}

/** Marks the views an op returned together (see Tensor.multiOutput) when its input's history is recorded. */
function multiOutput(parts: T[], input: T): T[] {
  if (input.requiresGrad && isGradEnabled()) parts.forEach((p, index) => (p.multiOutput = { index, name: p.gradFn?.name ?? '' }));
  return parts;
}

/** Ops written from primitives, as Tensor methods (`this`) and torch.* functions (tensor first). */
export const compositeOps = {
  /** x * x (PyTorch records it as pow(x, 2)). */
  square(this: T): T {
    return this.pow(2);
  },
  /** self + weight * (end - self). */
  lerp(this: T, end: T, weight: T | number): T {
    checkTensor('lerp', 'end', 1, end);
    // PyTorch broadcasts self, end and weight in that order (its error names them so).
    const s = broadcastShapes(this.shape, end.shape);
    if (weight instanceof Tensor) broadcastShapes(s, weight.shape);
    return named(this.add(end.sub(this).mul(weight)), weight instanceof Tensor ? 'LerpBackward1' : 'LerpBackward0', this, end, weight);
  },
  /** Variance over dims: var(), var(dim), var(dim, {correction, keepdim}), var({dim, unbiased}). */
  var(this: T, dim?: Dims | VarOptions | null, opts?: VarOptions | boolean, keepdim?: boolean): T {
    return named(variance(this, ...varArgs(dim, opts, keepdim)), 'VarBackward0', this);
  },
  /** Standard deviation: the square root of var with the same arguments. */
  std(this: T, dim?: Dims | VarOptions | null, opts?: VarOptions | boolean, keepdim?: boolean): T {
    return named(variance(this, ...varArgs(dim, opts, keepdim)).sqrt(), 'StdBackward0', this);
  },
  /** log Σ exp(x) along dims, computed stably (the max is shifted out first; ±inf rows give ±inf). */
  logsumexp(this: T, dim: Dims, keepdim = false): T {
    required('logsumexp', 'dim', dim);
    // PyTorch computes ints and bools in the default float dtype.
    if (!isFloating(this.dtype)) return this.type('float32').logsumexp(dim, keepdim);
    const dims = intList(dim, 'dim');
    let m = this;
    const d = normDims(dims, this.ndim);
    // Nothing to shift over an empty reduction (amax would raise): the sum of no terms, log 0 = -inf.
    if (d.some((k) => this.shape[k] === 0)) return named(this.exp().sum(d, keepdim).log(), 'LogsumexpBackward0', this);
    const shift = noGrad(() => {
      for (const k of d) m = m.amax(k, true);
      return m.where(m.abs().ne(Infinity), 0);
    });
    const r = this.sub(shift).exp().sum(d, true).log().add(shift);
    return named(keepdim ? r : r.reshape(this.shape.filter((_, i) => !d.includes(i))), 'LogsumexpBackward0', this);
  },
  /** exp(x) / Σ exp(x) along dim. Gradient: y (g - Σ g y). */
  softmax(this: T, dim: number): T {
    required('softmax', 'dim', dim);
    const d = normDim(dim, this.ndim);
    checkFloat(this, softmaxKernel(this, d, 'softmax'));
    const y = noGrad(() => {
      const e = this.sub(rowMax(this, d)).exp();
      return e.div(e.sum(d, true));
    });
    return record(y, 'SoftmaxBackward0', [this], [y], softmaxRule(d));
  },
  /** x - log Σ exp(x) along dim. Gradient: g - exp(y) Σ g. */
  logSoftmax(this: T, dim: number): T {
    required('log_softmax', 'dim', dim);
    const d = normDim(dim, this.ndim);
    checkFloat(this, softmaxKernel(this, d, 'log_softmax'));
    const y = noGrad(() => {
      const z = this.sub(rowMax(this, d));
      return z.sub(z.exp().sum(d, true).log());
    });
    return record(y, 'LogSoftmaxBackward0', [this], [y], logSoftmaxRule(d));
  },
  /**
   * The vector p-norm over dims (all when omitted): p = 2 or 'fro' (default), 1, Infinity,
   * -Infinity, 0 (the count of non-zeros) or any other number; also norm({p, dim, keepdim}).
   */
  norm(this: T, p?: number | 'fro' | { p?: number | 'fro'; dim?: Dims | null; keepdim?: boolean } | null, dim?: Dims | null, keepdim = false): T {
    if (p !== null && typeof p === 'object') return this.norm(p.p, p.dim, p.keepdim);
    if (!isFloating(this.dtype)) throw new RuntimeError(`norm(): input dtype should be either floating point or complex. Got ${this.typeLabel()} instead.`);
    const [dims] = reduceArgs(dim ?? null);
    const d = dims === null ? this.shape.map((_, i) => i) : normDims(dims, this.ndim);
    const q = p === undefined || p === null || p === 'fro' ? 2 : p;
    const a = this.abs();
    if (q === Infinity) return named(a.amax(d, keepdim), 'NormBackward1', this);
    if (q === -Infinity) return named(a.amin(d, keepdim), 'NormBackward1', this);
    // the count of non-zeros: piecewise constant, so PyTorch records it with no gradient (None)
    if (q === 0) return record(noGrad(() => this.ne(0).type(this.dtype).sum(d, keepdim)), 'NormBackward1', [this], [], noGradRule);
    if (q === 1) return named(a.sum(d, keepdim), 'NormBackward1', this);
    if (q !== 2) return named(a.pow(q).sum(d, keepdim).pow(1 / q), 'NormBackward1', this);
    const n = noGrad(() => this.mul(this).sum(d, true).sqrt());
    const out = noGrad(() => (keepdim ? n : n.reshape(this.shape.filter((_, i) => !d.includes(i)))));
    // d‖x‖/dx = x / ‖x‖, taken as 0 where ‖x‖ = 0 (PyTorch's subgradient).
    return record(out, 'NormBackward1', [this], [this, n], normRule);
  },
  /** self with value where mask (broadcast to self's shape) is true. */
  maskedFill(this: T, mask: T, value: number | T): T {
    if (!(mask instanceof Tensor)) throw new TypeError(`masked_fill(): argument 'mask' (position 1) must be Tensor, not ${pyType(mask)}`);
    if (mask.dtype !== 'bool') throw new RuntimeError(`masked_fill_ only supports boolean masks, but got mask with dtype ${mask.typeLabel() === 'Long' ? 'long int' : mask.dtype}`);
    // The value takes self's dtype (masked_fill never promotes); out of place, self and mask broadcast.
    const v = value instanceof Tensor ? value.type(this.dtype) : +value;
    const out = apply.where(mask, v, this);
    return named(out.dtype === this.dtype ? out : out.type(this.dtype), 'MaskedFillBackward0', this, mask, value);
  },
  /** The lower triangle (at and below the diagonal `diagonal`) of the last two dims; zeros above. */
  tril(this: T, diagonal = 0): T {
    return named(triangle(this, diagonal, 'tril'), 'TrilBackward0', this);
  },
  /** The upper triangle (at and above the diagonal `diagonal`) of the last two dims; zeros below. */
  triu(this: T, diagonal = 0): T {
    return named(triangle(this, diagonal, 'triu'), 'TriuBackward0', this);
  },
  /** Tiles self: repeat(2, 3) of [a, b] is [2a, 3b] (sizes may add leading dims). */
  repeat(this: T, ...sizes: (number | readonly number[])[]): T {
    const r = (sizes.length === 1 && Array.isArray(sizes[0]) ? sizes[0] : sizes) as number[];
    if (r.length < this.ndim) {
      throw new RuntimeError('Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor');
    }
    const padded = this.reshape([...r.slice(0, r.length - this.ndim).map(() => 1), ...this.shape]);
    const inter = padded.shape.flatMap((s) => [1, s]);
    const big = padded.shape.flatMap((s, i) => [r[i]!, s]);
    return named(own(padded.reshape(inter).expand(big).reshape(padded.shape.map((s, i) => s * r[i]!))), 'RepeatBackward0', this);
  },
  /** Reverses the order along each of dims. */
  flip(this: T, ...dims: (number | readonly number[])[]): T {
    const ds = normDims(intList(dims.length === 1 ? dims[0] : dims, 'dims', 'flip', 1), this.ndim);
    if (this.ndim === 0) return named(this.clone(), 'FlipBackward0', this); // nothing to reverse (dim 0 / -1 of a 0-dim tensor)
    let out: T = this;
    for (const d of ds) {
      const n = this.shape[d]!;
      out = ix.indexSelect(out, d, positions(n, this.device, true));
    }
    return named(ds.length ? out : this.clone(), 'FlipBackward0', this);
  },
  /** Rotates by shifts along dims (the flattened tensor when dims is omitted). */
  roll(this: T, shifts: number | readonly number[], dims?: number | readonly number[] | null): T {
    required('roll', 'shifts', shifts);
    const sh = intList(shifts, 'shifts', 'roll', 1);
    if (dims === undefined || dims === null) return named(own(this.reshape(-1).roll(sh[0]!, 0).reshape(this.shape.slice())), 'RollBackward0', this);
    const ds = intList(dims, 'dims', 'roll', 2);
    if (ds.length !== sh.length) throw new RuntimeError(`shifts and dimensions must align. shifts: ${sh.length}, dims:${ds.length}`);
    let out: T = this;
    ds.forEach((dim, k) => {
      const d = normDim(dim, this.ndim);
      const n = this.shape[d]!;
      const s = n === 0 ? 0 : ((sh[k]! % n) + n) % n;
      if (s !== 0) out = cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d);
    });
    return named(out === this ? this.clone() : out, 'RollBackward0', this);
  },
  /** Views of consecutive pieces along dim: of `size` each (the last may be smaller), or of the given sizes. */
  split(this: T, size: number | readonly number[], dim = 0): T[] {
    required('split', 'split_size', size);
    if (this.ndim === 0) throw new RuntimeError('split expects at least a 1-dimensional tensor');
    const d = normDim(dim, this.ndim);
    const n = this.shape[d]!;
    let sizes: number[];
    if (typeof size === 'number') {
      if (size <= 0 && n > 0) throw new RuntimeError(`split_size can only be 0 if dimension size is 0, but got dimension size of ${n}`);
      sizes = [];
      for (let at = 0; at < n || (n === 0 && sizes.length === 0); at += size) sizes.push(Math.min(size, n - at));
    } else {
      checkIntList(size, 'split_sizes', 'split_with_sizes', 2);
      sizes = size.slice();
      if (sizes.reduce((a, b) => a + b, 0) !== n) {
        throw new RuntimeError(`split_with_sizes expects split_sizes to sum exactly to ${n} (input tensor's size at dimension ${d}), but got split_sizes=${fmtShape(sizes)}`);
      }
    }
    let at = 0;
    const parts = sizes.map((s) => {
      const v = this.narrow(d, at, s);
      at += s;
      return v;
    });
    return multiOutput(named(parts, typeof size === 'number' ? 'SplitBackward0' : 'SplitWithSizesBackward0', this), this);
  },
  /** `chunks` views of (nearly) equal size along dim. */
  chunk(this: T, chunks: number, dim = 0): T[] {
    if (this.ndim === 0) throw new RuntimeError('chunk expects at least a 1-dimensional tensor');
    if (!Number.isInteger(chunks) || chunks <= 0) throw new RuntimeError('chunk expects `chunks` to be greater than 0, got: ' + chunks);
    const n = this.shape[normDim(dim, this.ndim)]!;
    // PyTorch splits an empty dim into `chunks` empty pieces (split_with_sizes), else by ceil(n / chunks).
    if (n === 0) return this.split(new Array<number>(chunks).fill(0), dim);
    return this.split(Math.ceil(n / chunks), dim);
  },
  /** The slices along dim, as an array. */
  unbind(this: T, dim = 0): T[] {
    const d = normDim(dim, this.ndim);
    if (this.ndim === 0) throw new IndexError(`Dimension specified as ${d} but tensor has no dimensions`);
    return multiOutput(named(Array.from({ length: this.shape[d]! }, (_, i) => this.select(d, i)), 'UnbindBackward0', this), this);
  },
};

/**
 * t itself, or a copy when t is a view: repeat and roll return new tensors in PyTorch (an in-place
 * write to their result must not reach the input), but reshape may give a view of it.
 */
const own = (t: T): T => (t.base ? t.clone() : t);

/** 0..n-1 (or n-1..0) as int32 on a device (arange: a host upload, not a read). */
const positions = (n: number, device: Tensor['device'], reversed: boolean): T =>
  reversed ? arange(n - 1, -1, -1, { device }) : arange(n, { device });

function triangle(x: T, diagonal: number, which: 'tril' | 'triu'): T {
  // PyTorch 1.13 wraps dim -2 first, so fewer than 2 dims raise its IndexError.
  if (x.ndim === 0) throw new IndexError('Dimension specified as -2 but tensor has no dimensions');
  normDim(-2, x.ndim);
  const rows = positions(x.shape[x.ndim - 2]!, x.device, false).reshape(-1, 1);
  const cols = positions(x.shape[x.ndim - 1]!, x.device, false);
  // col - row <= diagonal keeps the lower triangle; >= keeps the upper one.
  const off = cols.sub(rows);
  const out = x.where(which === 'tril' ? off.le(diagonal) : off.ge(diagonal), 0);
  return out.dtype === x.dtype ? out : out.type(x.dtype); // a bool x stays bool (0 promotes it)
}

/** PyTorch's parse of a tuple-of-Tensors argument (cat, stack): the list, then each element. */
function checkTensorList(fn: string, tensors: unknown): asserts tensors is readonly T[] {
  if (!Array.isArray(tensors)) throw new TypeError(`${fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not ${pyType(tensors)}`);
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`expected Tensor as element ${i} in argument 0, but got ${pyType(t)}`);
  });
}

/** torch.cat(tensors, dim): joins along an existing dim (dtypes promote; sizes must match off dim). */
export function cat(tensors: readonly T[], dim = 0): T {
  checkTensorList('cat', tensors);
  if (tensors.length === 0) throw new RuntimeError('torch.cat(): expected a non-empty list of Tensors');
  sameDevice(tensors);
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (t.ndim === 0) throw new RuntimeError(`zero-dimensional tensor (at position ${i}) cannot be concatenated`);
  });
  const d = normDim(dim, first.ndim);
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim) throw new RuntimeError(`Tensors must have same number of dimensions: got ${first.ndim} and ${t.ndim}`);
    t.shape.forEach((s, k) => {
      if (k !== d && s !== first.shape[k]) {
        throw new RuntimeError(`Sizes of tensors must match except in dimension ${d}. Expected size ${first.shape[k]} but got size ${s} for tensor number ${i} in the list.`);
      }
    });
  });
  const dtype = tensors.map((t) => t.dtype).reduce((a, b) => (promoteRank[a] >= promoteRank[b] ? a : b));
  const shape = first.shape.slice();
  shape[d] = tensors.reduce((n, t) => n + t.shape[d]!, 0);
  const out = Tensor.empty(shape, dtype, first.device);
  const ov = out.kernelView();
  const sizes = tensors.map((t) => t.shape[d]!);
  let at = 0;
  for (const t of tensors) {
    const part = { ...ov, shape: t.shape, offset: at * out.strides[d]! };
    if (t.numel() > 0) launch(first.device, { kind: 'copy', x: t.kernelView(), out: part });
    at += t.shape[d]!;
  }
  if (!isFloating(dtype)) return out;
  return record(out, 'CatBackward0', tensors, [], catRule(d, sizes, tensors.map((t) => t.dtype)));
}

// Gradient rules come from top-level factories: a closure made inside an op shares the op's scope
// and would keep its input tensors alive for as long as the graph lives.

/** softmax: y (g - Σ g y). */
const softmaxRule = (d: number): GradRule => (g, [y]) => [y!.mul(g.sub(g.mul(y!).sum(d, true)))];
/** logSoftmax: g - exp(y) Σ g. */
const logSoftmaxRule = (d: number): GradRule => (g, [y]) => [g.sub(y!.exp().mul(g.sum(d, true)))];
/** The 2-norm: g x / ‖x‖, 0 where ‖x‖ = 0. */
/** A rule that gives no gradient (the input's .grad stays None, as PyTorch's norm(0) leaves it). */
const noGradRule: GradRule = () => [null];
const normRule: GradRule = (g, [x, n]) => [x!.mul(g.reshape(n!.shape.slice())).div(n!).where(n!.ne(0), 0)];
/** cat: each input's slice of g, in its own dtype. */
const catRule = (d: number, sizes: readonly number[], dtypes: readonly DType[]): GradRule => (g) => {
  let from = 0;
  return sizes.map((s, i) => {
    const piece = g.narrow(d, from, s);
    from += s;
    return isFloating(dtypes[i]!) ? piece.type(dtypes[i]!) : null;
  });
};

const promoteRank = { bool: 0, int32: 1, float32: 2, float64: 3 } as const;

/** torch.stack(tensors, dim): joins equal-shaped tensors along a new dim. */
export function stack(tensors: readonly T[], dim = 0): T {
  checkTensorList('stack', tensors);
  if (tensors.length === 0) throw new RuntimeError('stack expects a non-empty TensorList');
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, k) => s !== first.shape[k])) {
      throw new RuntimeError(`stack expects each tensor to be equal size, but got ${fmtShape(first.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`);
    }
  });
  const d = normDim(dim, first.ndim + 1);
  return named(cat(tensors.map((t) => t.unsqueeze(d)), d), 'StackBackward0', ...tensors);
}
