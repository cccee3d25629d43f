/** View ops: new shape/strides/offset over the same storage, each with its gradient rule. */
import { pyType } from '../args.js';
import { record, type GradRule } from '../autograd.js';
import { IndexError, RuntimeError, TypeError } from '../errors.js';
import { launch } from '../executor.js';
import { contiguousStrides, denseStridesLike, fmtShape, inferShape, normDim, viewStrides } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Normalizes a dim of t with PyTorch's IndexError. */
export function dimOf(t: Tensor, dim: number): number {
  return normDim(dim, t.ndim);
}

/** A dim for size(d) / stride(d): a 0-dim tensor has none, as PyTorch says. */
export function sizeDim(t: Tensor, dim: number): number {
  if (t.ndim === 0) throw new IndexError(`Dimension specified as ${dim} but tensor has no dimensions`);
  return normDim(dim, t.ndim);
}

/** A view of t with the given geometry, sharing t's storage. */
function viewOf(t: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(t.storage, shape, strides, offset, t.base ?? t);
}

/** A contiguous copy of t (t itself when already contiguous). */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  return copyAs(t, contiguousStrides(t.shape));
}

/** A copy in new memory that keeps t's layout (PyTorch's preserve_format: t.t().clone() stays transposed). */
export function clone(t: Tensor): Tensor {
  return copyAs(t, denseStridesLike(t.shape, t.strides));
}

function copyAs(t: Tensor, strides: readonly number[]): Tensor {
  const out = Tensor.emptyStrided(t.shape, strides, t.dtype, t.device);
  launch(t.device, { kind: 'copy', x: t.kernelView(), out: out.kernelView() });
  return record(out, 'CloneBackward0', [t], [], identity);
}

/** reshape (copies when the layout does not allow a view) and view (never copies). */
export function reshape(t: Tensor, shape: readonly number[], strict: boolean): Tensor {
  const target = inferShape(shape, t.numel());
  const st = viewStrides(t.shape, t.strides, target);
  let out: Tensor;
  if (st) out = viewOf(t, target, st, t.offset);
  else if (strict) {
    throw new RuntimeError(
      "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.",
    );
  } else {
    const c = copyAs(t, contiguousStrides(t.shape));
    out = new Tensor(c.storage, target, contiguousStrides(target), 0);
    c.dispose(); // out took over the copy's memory
  }
  const from = t.shape.slice();
  return record(out, st ? 'ViewBackward0' : 'UnsafeViewBackward0', [t], [], reshapeTo(from));
}

export function flatten(t: Tensor, startDim: number, endDim: number): Tensor {
  const s = dimOf(t, startDim), e = dimOf(t, endDim);
  if (t.ndim === 0) return reshape(t, [1], false);
  if (s === e) return t; // PyTorch returns the tensor itself
  if (s > e) throw new RuntimeError('flatten() has invalid args: start_dim cannot come after end_dim');
  const mid = t.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(t, [...t.shape.slice(0, s), mid, ...t.shape.slice(e + 1)], false);
}

export function permute(t: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== t.ndim) {
    // PyTorch 1.13's text, "(sparse_coo)" included.
    throw new RuntimeError(`permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${t.ndim} is not equal to len(dims) = ${dims.length}`);
  }
  const d = dims.map((x) => dimOf(t, x));
  if (new Set(d).size !== d.length) throw new RuntimeError('permute(): duplicate dims are not allowed.');
  const out = viewOf(t, d.map((i) => t.shape[i]!), d.map((i) => t.strides[i]!), t.offset);
  const inv = new Array<number>(d.length);
  d.forEach((p, i) => (inv[p] = i));
  return record(out, 'PermuteBackward0', [t], [], permuteBack(inv));
}

export function transpose(t: Tensor, dim0: number, dim1: number): Tensor {
  const a = dimOf(t, dim0), b = dimOf(t, dim1);
  // A 0-dim tensor accepts dims 0 and -1 and transposes to itself, still in the graph.
  const order = t.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  const out = viewOf(t, permuted(t.shape, order), permuted(t.strides, order), t.offset);
  return record(out, 'TransposeBackward0', [t], [], t.ndim === 0 ? identity : transposeBack(a, b));
}

export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new RuntimeError(`t() expects a tensor with <= 2 dimensions, but self is ${x.ndim}D`);
  if (x.ndim < 2) return record(viewOf(x, x.shape, x.strides, x.offset), 'TBackward0', [x], [], identity);
  const out = viewOf(x, [x.shape[1]!, x.shape[0]!], [x.strides[1]!, x.strides[0]!], x.offset);
  return record(out, 'TBackward0', [x], [], transposeBack(0, 1));
}

export function unsqueeze(t: Tensor, dim: number): Tensor {
  const d = normDim(dim, t.ndim + 1);
  const shape = t.shape.slice(), strides = t.strides.slice();
  const st = d < t.ndim ? t.shape[d]! * t.strides[d]! : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, st);
  return record(viewOf(t, shape, strides, t.offset), 'UnsqueezeBackward0', [t], [], reshapeTo(t.shape.slice()));
}

export function squeeze(t: Tensor, dim?: number): Tensor {
  const d = dim === undefined ? -1 : dimOf(t, checkInt('squeeze', 'dim', 1, dim));
  const keep = t.shape.map((s, i) => (dim === undefined ? s !== 1 : i !== d || s !== 1));
  const out = viewOf(t, t.shape.filter((_, i) => keep[i]), t.strides.filter((_, i) => keep[i]), t.offset);
  return record(out, dim === undefined ? 'SqueezeBackward0' : 'SqueezeBackward1', [t], [], reshapeTo(t.shape.slice()));
}

export function expand(t: Tensor, sizes: readonly number[]): Tensor {
  if (sizes.length < t.ndim) {
    throw new RuntimeError(
      `expand(${t.typeName()}{[${t.shape.join(', ')}]}, size=[${sizes.join(', ')}]): the number of sizes provided (${sizes.length}) must be greater or equal to the number of dimensions in the tensor (${t.ndim})`,
    );
  }
  for (const s of sizes) {
    if (typeof s !== 'number' || !Number.isInteger(s)) {
      throw new TypeError(`expand(): argument 'size' (position 1) must be tuple of SymInts, not ${pyType(s)}`);
    }
    // PyTorch multiplies the sizes before it looks at them; a negative one other than -1 overflows.
    if (s < -1) throw new RuntimeError('numel: integer multiplication overflow');
  }
  const lead = sizes.length - t.ndim;
  const shape: number[] = [], strides: number[] = [];
  // PyTorch checks from the last dim back, so its error names the last mismatching dim.
  for (let i = sizes.length - 1; i >= 0; i--) {
    const s = sizes[i]!;
    const j = i - lead;
    const cur = j >= 0 ? t.shape[j]! : 1;
    const target = s === -1 && j >= 0 ? cur : s;
    if (s === -1 && j < 0) {
      throw new RuntimeError(`The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ${i}`);
    }
    if (cur !== target && cur !== 1) {
      throw new RuntimeError(
        `The expanded size of the tensor (${target}) must match the existing size (${cur}) at non-singleton dimension ${i}.  Target sizes: ${fmtShape(sizes)}.  Tensor sizes: ${fmtShape(t.shape)}`,
      );
    }
    shape.unshift(target);
    strides.unshift(j < 0 || (cur === 1 && target !== 1) ? 0 : t.strides[j]!);
  }
  // The central sumToShape in the backward loop reduces the expanded gradient back to t's shape
  // (and leaves it alone when no dim grew).
  return record(viewOf(t, shape, strides, t.offset), 'ExpandBackward0', [t], [], identity);
}

/**
 * Python slicing along one dim: t[start:end:step]. With `strictNarrow`, bounds are checked
 * as torch.narrow does instead of being clipped.
 */
export function slice(t: Tensor, dim: number, start: number | null, end: number | null, step: number, strictNarrow: boolean): Tensor {
  if (t.ndim === 0) {
    if (strictNarrow) throw new RuntimeError('narrow() cannot be applied to a 0-dim tensor.');
    throw new IndexError('slice() cannot be applied to a 0-dim tensor.');
  }
  if (start !== null) checkInt(strictNarrow ? 'narrow' : 'slice', 'start', 2, start);
  if (end !== null && !strictNarrow) checkInt('slice', 'end', 3, end);
  if (strictNarrow) {
    checkInt('narrow', 'length', 3, end === null || start === null ? 0 : end - start);
  }
  const d = dimOf(t, dim);
  const n = t.shape[d]!;
  if (!Number.isInteger(step) || step <= 0) throw new RuntimeError('slice step must be positive');
  let s: number, e: number;
  if (strictNarrow) {
    const st = start ?? 0;
    const len = (end ?? n) - st;
    s = st < 0 ? st + n : st;
    if (s < 0 || s > n) throw new IndexError(`start out of range (expected to be in range of [${-n}, ${n}], but got ${st})`);
    if (len < 0 || s + len > n) throw new RuntimeError(`start (${s}) + length (${len}) exceeds dimension size (${n}).`);
    e = s + len;
  } else {
    const clip = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    s = start === null ? 0 : clip(start);
    e = end === null ? n : clip(end);
    if (e < s) e = s;
  }
  const len = Math.ceil((e - s) / step);
  const shape = t.shape.slice(), strides = t.strides.slice();
  shape[d] = len;
  strides[d] = t.strides[d]! * step;
  const out = viewOf(t, shape, strides, t.offset + s * t.strides[d]!);
  return record(out, 'SliceBackward0', [t], [], intoZeros(t.shape.slice(), (z) => z.slice(d, s, e, step)));
}

export function select(t: Tensor, dim: number, index: number): Tensor {
  if (t.ndim === 0) throw new IndexError('select() cannot be applied to a 0-dim tensor.');
  checkInt('select', 'index', 2, index);
  const d = dimOf(t, dim);
  const n = t.shape[d]!;
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new IndexError(`select(): index ${index} out of range for tensor of size ${fmtShape(t.shape)} at dimension ${d}`);
  }
  const i = index < 0 ? index + n : index;
  const shape = t.shape.filter((_, k) => k !== d);
  const strides = t.strides.filter((_, k) => k !== d);
  const out = viewOf(t, shape, strides, t.offset + i * t.strides[d]!);
  return record(out, 'SelectBackward0', [t], [], intoZeros(t.shape.slice(), (z) => z.select(d, i)));
}


/** PyTorch's TypeError for an int argument given something else. */
function checkInt(fn: string, name: string, pos: number, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${fn}(): argument '${name}' (position ${pos}) must be int, not ${pyType(v)}`);
  return v;
}

// Gradient rules come from these top-level factories, so each closure captures only the numbers
// it names: a closure made inside a view op would share the op's scope and keep its input alive.
const identity: GradRule = (g) => [g];
const reshapeTo = (from: readonly number[]): GradRule => (g) => [g.reshape(from as number[])];
const transposeBack = (a: number, b: number): GradRule => (g) => [g.transpose(a, b)];
const permuteBack = (inv: readonly number[]): GradRule => (g) => [g.permute(inv as number[])];
/** The gradient of a slice or select: zeros of the input's shape with g written into the part. */
function intoZeros(from: readonly number[], part: (z: Tensor) => Tensor): GradRule {
  return (g) => {
    const z = Tensor.empty(from, g.dtype, g.device).zero_();
    part(z).copy_(g);
    return [z];
  };
}
const permuted = (xs: readonly number[], order: readonly number[]) => order.map((i) => xs[i]!);
