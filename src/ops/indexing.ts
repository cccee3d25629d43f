/**
 * Indexing ops on the gather / scatter / sort / scan launches: gather, scatter(Add), indexSelect,
 * integer and boolean indexing, sort / argsort / topk, cumsum and prod. Each records its gradient
 * as other indexing ops (gather's is a scatterAdd, sort's a scatter of g to the source positions).
 */
import { pyType } from '../args.js';
import { noGrad, record, type GradRule } from '../autograd.js';
import type { View } from '../backend.js';
import { castScalar, isFloating, type DType } from '../dtype.js';
import { IndexError, RuntimeError, TypeError } from '../errors.js';
import { launch } from '../executor.js';
import { broadcastShapes, contiguousStrides, fmtShape, normDim, sameSizes } from '../shape.js';
import { Tensor, sameDevice } from '../tensor.js';

type T = Tensor;

/** PyTorch's TypeError for a required argument left out (JS has no arity check). */
export function required(name: string, arg: string, value: unknown): void {
  if (value === undefined || value === null) throw new TypeError(`${name}() missing 1 required positional arguments: "${arg}"`);
}

function checkIndex(index: unknown, name: string): asserts index is Tensor {
  if (!(index instanceof Tensor)) throw new TypeError(`${name}(): argument 'index' (position 2) must be Tensor, not ${pyType(index)}`);
  if (index.dtype !== 'int32') throw new RuntimeError(`${name}(): Expected dtype int64 for index`);
}

/** A new tensor of `shape` filled with `value` (no autograd record). */
function filled(shape: readonly number[], value: number, dtype: DType, device: Tensor['device']): T {
  const t = Tensor.empty(shape, dtype, device);
  launch(device, { kind: 'fill', out: t.kernelView(), value: castScalar(value, dtype) });
  return t;
}

/**
 * A launch's fresh contiguous output as `shape`, without a view node: a view would make the result
 * "a view of a leaf" to the in-place checks (and, made under noGrad, a no-grad view). It takes over
 * t's memory: t is disposed, so disposing the result returns the memory.
 */
const shaped = (t: T, shape: readonly number[]): T => {
  const out = new Tensor(t.storage, shape.slice(), contiguousStrides(shape), t.offset);
  t.dispose();
  return out;
};

/** A tensor of at least one dim (the kernels walk at least one). */
const atLeast1d = (t: T): T => (t.ndim === 0 ? t.reshape(1) : t);

/** PyTorch's shape rules of gather/scatter: same rank, index no larger than self (off dim) and src. */
function checkShapes(name: string, self: T, index: T, dim: number, src: T | null): void {
  if (index.ndim !== self.ndim) throw new RuntimeError('Index tensor must have the same number of dimensions as input tensor');
  for (let d = 0; d < self.ndim; d++) {
    if (d !== dim && index.shape[d]! > self.shape[d]!) {
      throw new RuntimeError(`Size does not match at dimension ${d} expected index ${fmtShape(index.shape)} to be smaller than self ${fmtShape(self.shape)} apart from dimension ${dim}`);
    }
    if (src && index.shape[d]! > src.shape[d]!) {
      throw new RuntimeError(`Size does not match at dimension ${d} expected index ${fmtShape(index.shape)} to be smaller than src ${fmtShape(src.shape)} apart from dimension ${dim}`);
    }
  }
  if (name && self.ndim === 0 && index.numel() > 1) throw new RuntimeError(`${name}(): index of a 0-dim tensor must have one element`);
}

/**
 * PyTorch's CPU kernels check every index when the op is called; so does the CPU here, reading the
 * index synchronously (so the error stays at the call site with lazy execution). WebGPU cannot.
 * Gradient rules pass indices the forward already checked.
 */
function checkRange(index: T, dim: number, size: number, checked: boolean): void {
  if (checked || index.device !== 'cpu' || index.numel() === 0) return;
  for (const k of index.dataSync()) if (k < 0 || k >= size) throw new RuntimeError(`index ${k} is out of bounds for dimension ${dim} with size ${size}`);
}

/** out[i] = x[i with its dim coordinate replaced by index[i]] over `shape`, on x's device. */
function gatherLaunch(x: T, dim: number, index: View, shape: readonly number[]): T {
  const out = Tensor.empty(shape, x.dtype, x.device);
  launch(x.device, { kind: 'gather', x: x.kernelView(), index, dim, out: out.kernelView() });
  return out;
}

/** self with src's values written (or added) at index along dim. */
function scatterLaunch(mode: 'assign' | 'add', self: T, dim: number, index: T, src: T): T {
  const out = Tensor.empty(self.shape, self.dtype, self.device);
  launch(self.device, { kind: 'scatter', mode, self: self.kernelView(), index: index.kernelView(), src: src.kernelView(), dim, out: out.kernelView() });
  return out;
}

/** t padded with zeros to `shape` (t's shape is no larger in any dim): src gradients of scatter. */
function padTo(t: T, shape: readonly number[]): T {
  if (t.shape.every((s, d) => s === shape[d])) return t;
  const z = filled(shape, 0, t.dtype, t.device);
  let v = z;
  t.shape.forEach((s, d) => (v = v.narrow(d, 0, s)));
  v.copy_(t);
  return z;
}

/** torch.gather(x, dim, index): out[i][j] = x[i][index[i][j]] (dim = 1). */
export function gather(x: T, dim: number, index: T, checked = false): T {
  checkIndex(index, 'gather');
  sameDevice([x, index]);
  const d = normDim(dim, x.ndim);
  checkShapes('', x, index, d, null);
  checkRange(index, d, x.shape[d] ?? 1, checked);
  const xs = atLeast1d(x), is = atLeast1d(index);
  const out = shaped(gatherLaunch(xs, d, is.kernelView(), is.shape), index.shape);
  if (!isFloating(x.dtype)) return out;
  const from = x.shape.slice();
  return record(out, 'GatherBackward0', [x], [index], (g, [idx]) => [scatter(filled(from, 0, g.dtype, g.device), d, idx!, g, 'add', true)]);
}

/**
 * torch.scatter / scatterAdd: a copy of self with src written (or, with 'add', added) at index along
 * dim. With 'assign' and repeated indices the last write in row-major order wins.
 */
export function scatter(self: T, dim: number, index: T, src: T | number | boolean, mode: 'assign' | 'add', checked = false): T {
  const name = mode === 'add' ? 'scatter_add' : 'scatter';
  checkIndex(index, name);
  const scalar = typeof src === 'number' || typeof src === 'boolean';
  const s = scalar ? filled(index.shape, +src, self.dtype, self.device) : src;
  sameDevice([self, index, s]);
  const d = normDim(dim, self.ndim);
  checkShapes('', self, index, d, s);
  if (s.dtype !== self.dtype) {
    throw new RuntimeError(`${name}(): Expected self.dtype to be equal to src.dtype`);
  }
  checkRange(index, d, self.shape[d] ?? 1, checked);
  const out = shaped(scatterLaunch(mode, atLeast1d(self), d, atLeast1d(index), atLeast1d(s)), self.shape);
  if (!isFloating(self.dtype)) return out;
  const srcShape = s.shape.slice();
  return record(out, mode === 'add' ? 'ScatterAddBackward0' : scalar ? 'ScatterBackward1' : 'ScatterBackward0', [self, scalar ? null : s], [index], (g, [idx], needs) => [
    needs[0] ? (mode === 'add' ? g : scatter(g, d, idx!, 0, 'assign', true)) : null,
    needs[1] ? padTo(gather(g, d, idx!, true), srcShape) : null,
  ]);
}

/** torch.indexSelect(x, dim, index): the slices of x at the positions of a 1-D index along dim. */
export function indexSelect(x: T, dim: number, index: T): T {
  if (!(index instanceof Tensor)) throw new TypeError(`index_select(): argument 'index' (position 2) must be Tensor, not ${pyType(index)}`);
  if (index.ndim > 1) throw new IndexError('index_select(): Index is supposed to be a vector');
  if (index.dtype !== 'int32') throw new RuntimeError('index_select(): Expected dtype int32 or int64 for index');
  sameDevice([x, index]);
  const d = normDim(dim, x.ndim);
  checkRange(index, d, x.shape[d] ?? 1, false);
  const xs = atLeast1d(x), i1 = atLeast1d(index);
  const shape = xs.shape.map((s, k) => (k === d ? i1.shape[0]! : s));
  // The 1-D index read as if expanded over out's shape: stride 0 off dim, no copy.
  const iv = { ...i1.kernelView(), shape, strides: shape.map((_, k) => (k === d ? i1.strides[0]! : 0)) };
  const out = shaped(gatherLaunch(xs, d, iv, shape), x.ndim === 0 ? [] : shape);
  if (!isFloating(x.dtype)) return out;
  const from = x.shape.slice();
  return record(out, 'IndexSelectBackward0', [x], [index], (g, [idx]) => {
    const gs = atLeast1d(g);
    const ie = atLeast1d(idx!).reshape(gs.shape.map((s, k) => (k === d ? s : 1))).expand(gs.shape.slice());
    return [scatter(filled(from.length ? from : [1], 0, g.dtype, g.device), d, ie, gs, 'add', true).reshape(from)];
  });
}

/**
 * Python's x[idx] for an integer index tensor: rows of x along dim 0, shaped idx.shape + the rest of
 * x's shape. Negative indices count from the end.
 */
export function index(x: T, idx: T): T {
  if (!(idx instanceof Tensor)) throw new TypeError(`index(): expected a Tensor index, got ${typeof idx}`);
  if (idx.dtype === 'bool') throw new TypeError('index(): a boolean mask selects a data-dependent number of rows: use `await x.indexMask(mask)`');
  if (idx.dtype !== 'int32') throw new IndexError('tensors used as indices must be long, int, byte or bool tensors');
  if (x.ndim === 0) throw new IndexError('too many indices for tensor of dimension 0');
  const n = x.shape[0]!;
  const flat = idx.reshape(-1);
  const wrapped = flat.add(n).where(flat.lt(0), flat);
  return indexSelect(x, 0, wrapped).reshape([...idx.shape, ...x.shape.slice(1)]);
}

/**
 * Python's x[mask] for a bool mask over x's leading dims: the selected rows, as [count, ...rest].
 * Async on every device: the result's size depends on the mask's values, which are read back
 * (as PyTorch's CUDA masked_select synchronizes).
 */
export async function indexMask(x: T, mask: T): Promise<T> {
  if (!(mask instanceof Tensor) || mask.dtype !== 'bool') throw new IndexError('indexMask(): expected a bool mask tensor');
  sameDevice([x, mask]);
  mask.shape.forEach((s, k) => {
    if (k >= x.ndim || x.shape[k] !== s) {
      throw new IndexError(`The shape of the mask ${fmtShape(mask.shape)} at index ${k} does not match the shape of the indexed tensor ${fmtShape(x.shape)} at index ${k}`);
    }
  });
  const rest = x.shape.slice(mask.ndim);
  // One read of the mask (the count alone would cost the same synchronization): its true
  // positions go back up as an index, and the selection itself is a gather on x's device.
  const m = await mask.data();
  const at: number[] = [];
  m.forEach((v, i) => v && at.push(i));
  const positions = Tensor.empty([at.length], 'int32', x.device);
  positions.storage.backend.write(positions.storage.buf, 'int32', Int32Array.from(at));
  return indexSelect(x.reshape([m.length, ...rest]), 0, positions);
}

/**
 * torch.nonzero(x): the coordinates of the non-zero elements, [count, ndim] int64 (our int32), in
 * row-major order. Async, as indexMask: the values are read back, the coordinates uploaded.
 */
export async function nonzero(x: T): Promise<T> {
  const v = await x.data();
  const nd = x.ndim;
  const coords: number[] = [];
  const at = new Array<number>(nd);
  v.forEach((e, i) => {
    if (e === 0) return;
    let q = i;
    for (let d = nd - 1; d >= 0; d--) {
      at[d] = q % x.shape[d]!;
      q = Math.floor(q / x.shape[d]!);
    }
    coords.push(...at);
  });
  const out = Tensor.empty([coords.length / Math.max(nd, 1), nd], 'int32', x.device);
  if (coords.length) out.storage.backend.write(out.storage.buf, 'int32', Int32Array.from(coords));
  return out;
}

/** torch.maskedSelect(x, mask): the elements where mask (broadcast with x) is true, as 1-D. Async. */
export async function maskedSelect(x: T, mask: T): Promise<T> {
  if (!(mask instanceof Tensor) || mask.dtype !== 'bool') {
    throw new RuntimeError(`masked_select: expected BoolTensor for mask`);
  }
  sameDevice([x, mask]);
  const shape = broadcastShapes(x.shape, mask.shape);
  // (expand only where the shape changes: expand's gradient treats an empty dim list as "all dims")
  const to = (t: T) => (sameSizes(t.shape, shape) ? t : t.expand(shape));
  return indexMask(to(x).reshape(-1), to(mask).reshape(-1));
}

/** Values and source positions of a stable sort along dim (NaN last ascending, first descending). */
export function sort(x: T, dim = -1, descending = false): { values: T; indices: T } {
  const d = normDim(dim, x.ndim);
  const xs = atLeast1d(x);
  const values = Tensor.empty(xs.shape, x.dtype, x.device);
  const indices = Tensor.empty(xs.shape, 'int32', x.device);
  launch(x.device, { kind: 'sort', x: xs.kernelView(), dim: d, descending, out: values.kernelView(), indices: indices.kernelView() });
  const v = x.ndim === 0 ? shaped(values, []) : values, i = x.ndim === 0 ? shaped(indices, []) : indices;
  if (!isFloating(x.dtype)) return { values: v, indices: i };
  record(v, 'SortBackward0', [x], [i], placeRule(x.shape.slice(), d));
  return { values: v, indices: i };
}

/** The k largest (or, with largest: false, smallest) values along dim and their positions. */
export function topk(x: T, k: number, dim = -1, largest = true): { values: T; indices: T } {
  const d = normDim(dim, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[d]!;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RuntimeError('selected index k out of range');
  const s = noGrad(() => sort(x, d, largest));
  // A 0-dim x (k is 0 or 1) gives its value and index 0, as PyTorch does.
  const values = (x.ndim === 0 ? s.values : s.values.narrow(d, 0, k)).clone();
  const indices = (x.ndim === 0 ? s.indices : s.indices.narrow(d, 0, k)).clone();
  if (!isFloating(x.dtype)) return { values, indices };
  record(values, 'TopkBackward0', [x], [indices], placeRule(x.shape.slice(), d));
  return { values, indices };
}

/** A scan launch along dim into a new tensor of `dtype`. */
function scanLaunch(x: T, dim: number, op: 'sum' | 'prod', exclusive: boolean, reverse: boolean, dtype: DType): T {
  const xs = atLeast1d(x.dtype === dtype ? x : x.type(dtype));
  const out = Tensor.empty(xs.shape, dtype, x.device);
  launch(x.device, { kind: 'scan', op, x: xs.kernelView(), dim, exclusive, reverse, out: out.kernelView() });
  return x.ndim === 0 ? shaped(out, []) : out;
}

/** torch.cumsum(x, dim): running sums along dim (ints and bools sum as int64, as in PyTorch). */
export function cumsum(x: T, dim: number): T {
  const d = normDim(dim, x.ndim);
  const dtype: DType = isFloating(x.dtype) ? x.dtype : 'int32';
  const out = scanLaunch(x, d, 'sum', false, false, dtype);
  if (!isFloating(dtype)) return out;
  // d/dx_j Σ_{i<=k} x_i = [j <= k]: the gradient is the reversed running sum of g.
  return record(out, 'CumsumBackward0', [x], [], (g) => [scanLaunch(g, d, 'sum', false, true, g.dtype)]);
}

/**
 * torch.prod: the product over all elements, or over one dim. The gradient of x_j is g times the
 * product of the others, formed as (product before j) · (product after j): exact with zeros.
 */
export function prod(x: T, dim?: number | null, keepdim = false): T {
  const all = dim === undefined || dim === null;
  const src = all ? noGrad(() => x.reshape(-1)) : x;
  const d = all ? 0 : normDim(dim, x.ndim);
  const dtype: DType = isFloating(x.dtype) ? x.dtype : 'int32';
  const n = src.ndim === 0 ? 1 : src.shape[d]!;
  let out = noGrad(() => {
    const c = scanLaunch(src, d, 'prod', false, false, dtype);
    if (n === 0) return filled(src.shape.map((s, k) => (k === d ? 1 : s)), 1, dtype, x.device);
    return src.ndim === 0 ? c : c.narrow(d, n - 1, 1).clone();
  });
  const keptShape = out.shape.slice();
  out = shaped(out, all ? (keepdim ? x.shape.map(() => 1) : []) : keepdim ? keptShape : keptShape.filter((_, k) => k !== d));
  if (!isFloating(dtype)) return out;
  return record(out, all ? 'ProdBackward0' : 'ProdBackward1', [x], [x], prodRule(all, d, keptShape));
}

// Gradient rules come from top-level factories: a closure made inside an op shares the op's scope
// and would keep its input tensors alive for as long as the graph lives.

/** sort / topk: g goes back to the source positions (saved[0]) along d, zeros elsewhere. */
const placeRule = (from: readonly number[], d: number): GradRule => (g, [idx]) => [scatter(filled(from, 0, g.dtype, g.device), d, idx!, g, 'assign')];

/** prod: g times the product of the others, (product before j) · (product after j). */
const prodRule = (all: boolean, d: number, keptShape: readonly number[]): GradRule => (g, [x]) => {
  const s = all ? x!.reshape(-1) : x!;
  const others = scanLaunch(s, d, 'prod', true, false, s.dtype).mul(scanLaunch(s, d, 'prod', true, true, s.dtype));
  return [others.mul(g.reshape(keptShape.slice())).reshape(x!.shape.slice())];
};

/** The indexing ops as Tensor methods (`this`) and torch.* functions (tensor first). */
export const indexingOps = {
  /** out[i][j] = self[i][index[i][j]] for dim = 1 (index has self's rank). */
  gather(this: T, dim: number, index: T): T {
    required('gather', 'dim', dim);
    return gather(this, dim, index);
  },
  /** A copy of self with src (a tensor or a number) written at index along dim. */
  scatter(this: T, dim: number, index: T, src: T | number | boolean): T {
    return scatter(this, dim, index, src, 'assign');
  },
  /** A copy of self with src added at index along dim (repeated indices accumulate). */
  scatterAdd(this: T, dim: number, index: T, src: T): T {
    return scatter(this, dim, index, src, 'add');
  },
  /** The slices of self at the positions of a 1-D int index along dim. */
  indexSelect(this: T, dim: number, index: T): T {
    return indexSelect(this, dim, index);
  },
  /** Stable sort along dim (default the last): {values, indices}; sort(dim, descending) or sort({dim, descending}). */
  sort(this: T, dim?: number | { dim?: number; descending?: boolean }, descending?: boolean): { values: T; indices: T } {
    if (dim === null) throw new TypeError("sort(): argument 'dim' must be int, not NoneType");
    if (typeof dim === 'object') return sort(this, dim.dim ?? -1, dim.descending ?? false);
    return sort(this, dim ?? -1, descending ?? false);
  },
  /** The positions that sort self along dim. */
  argsort(this: T, dim = -1, descending = false): T {
    return sort(this, dim, descending).indices;
  },
  /** The k largest values along dim (default the last), sorted: {values, indices}; {largest: false} for the smallest. */
  topk(this: T, k: number, dim = -1, opts: { largest?: boolean; sorted?: boolean } = {}): { values: T; indices: T } {
    required('topk', 'k', k);
    return topk(this, k, dim, opts.largest ?? true);
  },
  /** Running sums along dim. */
  cumsum(this: T, dim: number): T {
    required('cumsum', 'dim', dim);
    return cumsum(this, dim);
  },
  /** The product of all elements, or along one dim. */
  prod(this: T, dim?: number | null, keepdim = false): T {
    return prod(this, dim, keepdim);
  },
  /** `await x.maskedSelect(mask)`: the elements where mask is true, 1-D (async: the size depends on values). */
  maskedSelect(this: T, mask: T): Promise<T> {
    return maskedSelect(this, mask);
  },
  /** `await x.nonzero()`: coordinates of the non-zero elements, [count, ndim] (async: the size depends on values). */
  nonzero(this: T): Promise<T> {
    return nonzero(this);
  },
};
