/** Reductions: one reduce launch each, with their gradient rules. */
import { checkIntList, intList } from '../args.js';
import { record } from '../autograd.js';
import type { ReduceOp } from '../backend.js';
import { isFloating, type DType } from '../dtype.js';
import { IndexError, RuntimeError, TypeError } from '../errors.js';
import { launch } from '../executor.js';
import { normDims, numel } from '../shape.js';
import { Tensor, type Dims, type ReduceOptions } from '../tensor.js';

/** Resolves dims (null = all) into sorted, normalized dims and the keepdim / final shapes. */
function plan(x: Tensor, dims: number[] | null, keepdim: boolean) {
  if (dims !== null) checkIntList(dims, 'dim');
  const all = dims === null || (dims.length === 0 && x.ndim > 0);
  const d = all ? x.shape.map((_, i) => i) : normDims(dims!, x.ndim).filter((i) => i < x.ndim);
  const keepShape = x.shape.map((s, i) => (d.includes(i) ? 1 : s));
  const finalShape = keepdim ? keepShape : x.shape.filter((_, i) => !d.includes(i));
  return { dims: d, keepShape, finalShape, count: d.reduce((n, i) => n * x.shape[i]!, 1) };
}

function reduceLaunch(op: ReduceOp, x: Tensor, dims: readonly number[], keepShape: readonly number[], dtype: DType): Tensor {
  const out = Tensor.empty(keepShape, dtype, x.device);
  launch(x.device, { kind: 'reduce', op, x: x.kernelView(), dims, out: out.kernelView() });
  return out;
}

/**
 * Shapes a keepdim result to the final shape without recording a view node. The result takes over
 * t's memory: t (never seen by the user) is disposed, so disposing the result returns the memory.
 */
function finalView(t: Tensor, shape: readonly number[]): Tensor {
  const out = new Tensor(t.storage, shape, shape.map(() => 1).map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1)), 0);
  t.dispose();
  return out;
}

export function sum(x: Tensor, dims: number[] | null, keepdim: boolean): Tensor {
  const p = plan(x, dims, keepdim);
  const dtype: DType = isFloating(x.dtype) ? x.dtype : 'int32';
  const out = finalView(reduceLaunch('sum', x, p.dims, p.keepShape, dtype), p.finalShape);
  const from = x.shape.slice();
  // d/dx sum(x) = 1 everywhere: the gradient is g broadcast back over the reduced dims.
  return record(out, dims === null ? 'SumBackward0' : 'SumBackward1', [x], [], (g) => [g.reshape(p.keepShape).expand(from)]);
}

export function mean(x: Tensor, dims: number[] | null, keepdim: boolean): Tensor {
  if (!isFloating(x.dtype)) {
    throw new RuntimeError(
      `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${x.typeLabel()}`,
    );
  }
  const p = plan(x, dims, keepdim);
  const s = reduceLaunch('sum', x, p.dims, p.keepShape, x.dtype);
  const out = Tensor.empty(p.finalShape, x.dtype, x.device);
  launch(x.device, { kind: 'binary', op: 'div', a: s.kernelView(), b: p.count, out: { ...out.kernelView(), shape: p.keepShape, strides: s.strides }, compute: x.dtype });
  s.dispose();
  const from = x.shape.slice();
  return record(out, dims === null ? 'MeanBackward0' : 'MeanBackward1', [x], [], (g) => [g.reshape(p.keepShape).expand(from).div(p.count)]);
}

/**
 * A max/min needs something to choose from: without dims the input must not be empty; with dims,
 * each reduced dim must be non-empty (zeros(5, 0).amin(0) is an empty result, as in PyTorch).
 */
function checkNonEmpty(x: Tensor, name: string, dims: number[] | null): void {
  if (dims === null) {
    if (numel(x.shape) === 0) {
      throw new RuntimeError(`${name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`);
    }
    return;
  }
  // PyTorch names the dim as it was given (amin(-1), not amin(1)); plan() has range-checked them.
  for (const d of dims) if (x.shape[d < 0 ? d + x.ndim : d] === 0) throw new IndexError(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
}

/** amax/amin/max()/min(): the gradient is shared evenly among the tied extremes, as in PyTorch. */
export function extreme(op: 'max' | 'min', x: Tensor, dims: number[] | null, keepdim: boolean, node: string): Tensor {
  const p = plan(x, dims, keepdim);
  checkNonEmpty(x, node.startsWith('A') ? `a${op}` : op, dims);
  const kept = reduceLaunch(op, x, p.dims, p.keepShape, x.dtype);
  const out = finalView(kept, p.finalShape);
  if (!isFloating(x.dtype)) return out;
  return record(out, node, [x], [x, kept], (g, [xs, ks]) => {
    const mask = xs!.eq(ks!);
    const count = mask.sum(p.dims, true);
    return [g.reshape(p.keepShape).div(count).where(mask, 0)];
  });
}

/** max(dim)/min(dim): values and the index of the first extreme; the gradient goes to that index. */
export function extremeWithIndices(op: 'max' | 'min', x: Tensor, dim: number, keepdim: boolean): { values: Tensor; indices: Tensor } {
  const p = plan(x, [dim], keepdim);
  if (p.count === 0) throw new IndexError(`${op}(): Expected reduction dim ${p.dims[0] ?? 0} to have non-zero size.`);
  const values = finalView(reduceLaunch(op, x, p.dims, p.keepShape, x.dtype), p.finalShape);
  const keptIdx = reduceLaunch(op === 'max' ? 'argmax' : 'argmin', x, p.dims, p.keepShape, 'int32');
  const indices = finalView(keptIdx, p.finalShape);
  if (!isFloating(x.dtype)) return { values, indices };
  const d = p.dims[0] ?? 0;
  const from = x.shape.slice();
  record(values, op === 'max' ? 'MaxBackward0' : 'MinBackward0', [x], [keptIdx], (g, [idx]) => {
    // one-hot of the index along d: arange over d compared with the kept index
    const n = from[d] ?? 1;
    const pos = arangeOn(n, g.device);
    const posShape = from.map((s, i) => (i === d ? s : 1));
    const hit = idx!.eq(pos.reshape(posShape.length ? posShape : [1]));
    return [g.reshape(p.keepShape).where(hit, 0)];
  });
  return { values, indices };
}

/** 0..n-1 as an int32 tensor on a device (a host upload: n is one dim's size). */
function arangeOn(n: number, device: Tensor['device']): Tensor {
  const t = Tensor.empty([n], 'int32', device);
  t.storage.backend.write(t.storage.buf, 'int32', Int32Array.from({ length: n }, (_, i) => i));
  return t;
}

/** The dims and keepdim of PyTorch's reduction forms: f(), f(dim), f([d0, d1], keepdim), f({dim, keepdim}). */
export function reduceArgs(a?: Dims | ReduceOptions | null, keepdim?: boolean): [number[] | null, boolean] {
  if (a !== null && typeof a === 'object' && !Array.isArray(a)) {
    const o = a as ReduceOptions;
    return [o.dim === undefined || o.dim === null ? null : intList(o.dim, 'dim'), o.keepdim ?? false];
  }
  if (a === undefined || a === null) return [null, keepdim ?? false];
  return [intList(a, 'dim'), keepdim ?? false];
}
