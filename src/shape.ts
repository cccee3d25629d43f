import { IndexError, RuntimeError, TypeError } from './errors.js';

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a 0-dim tensor). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Whether two shapes (or stride lists) are equal, element by element. */
export function sameSizes(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row-major strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= Math.max(shape[i]!, 1);
  }
  return st;
}

/** True when `strides` are exactly what contiguousStrides(shape) gives (size-1 dims included). */
export function hasContiguousStrides(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (strides[i] !== s) return false;
    s *= Math.max(shape[i]!, 1);
  }
  return true;
}

/** True when `strides` are the row-major strides of `shape` (size-1 dims may have any stride). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    if (strides[i] !== expect) return false;
    expect *= shape[i]!;
  }
  return true;
}

/**
 * The strides a copy of (shape, strides) gets under PyTorch's preserve_format: the same strides
 * when they are dense and do not overlap (a transposed tensor stays transposed), otherwise dense
 * strides in the order of the input's (PyTorch's infer_dense_strides).
 */
export function denseStridesLike(shape: Shape, strides: readonly number[]): number[] {
  const n = shape.length;
  const dense = () => {
    if (n === 1) return shape[0]! < 2 || strides[0] === 1;
    const dims = shape.map((_, i) => i).filter((i) => shape[i]! >= 2).sort((a, b) => strides[a]! - strides[b]!);
    let want = 1;
    for (const i of dims) {
      if (strides[i] !== want) return false;
      want *= shape[i]!;
    }
    return true;
  };
  if (dense()) return strides.slice();
  // Insertion sort of dims from fastest to slowest; stride-0 dims are ambiguous and keep their place.
  const perm = shape.map((_, i) => n - 1 - i);
  const swap = (d0: number, d1: number) => {
    const s0 = strides[d0]!, s1 = strides[d1]!;
    if (s0 === 0 || s1 === 0) return 0;
    if (s0 !== s1) return s0 < s1 ? -1 : 1;
    return shape[d0]! > shape[d1]! ? 1 : 0;
  };
  for (let i = 1; i < n; i++) {
    let d1 = i;
    for (let d0 = i - 1; d0 >= 0; d0--) {
      const c = swap(perm[d0]!, perm[d1]!);
      if (c > 0) {
        [perm[d0], perm[d1]] = [perm[d1]!, perm[d0]!];
        d1 = d0;
      } else if (c < 0) break;
    }
  }
  const out = new Array<number>(n);
  let cur = 1;
  for (const d of perm) {
    out[d] = cur;
    cur *= Math.max(shape[d]!, 1);
  }
  return out;
}

/** Formats a shape as PyTorch prints torch.Size contents: [2, 3]. */
export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Checks user-given sizes: integers, not negative, not NaN. */
export function checkSizes(shape: readonly unknown[]): number[] {
  for (const s of shape) {
    if (typeof s !== 'number' || !Number.isInteger(s)) {
      throw new TypeError(`size must be a sequence of ints, but got ${String(s)} in (${shape.map(String).join(', ')})`);
    }
  }
  const sizes = shape as number[];
  for (const s of sizes) {
    if (s < 0) throw new RuntimeError(`Trying to create tensor with negative dimension ${s}: ${fmtShape(sizes)}`);
  }
  return sizes.slice();
}

/** Sizes given as varargs `f(2, 3)` or one array `f([2, 3])`. */
export function sizesFromArgs(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return checkSizes(args[0] as number[]);
  return checkSizes(args as number[]);
}

/** Broadcasts two shapes, with PyTorch's error text when they do not match. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  // From the last dim, as PyTorch's infer_size: the error names the last mismatching dimension.
  for (let i = n - 1; i >= 0; i--) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RuntimeError(
        `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if expanded to `target` (stride 0 on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const off = target.length - shape.length;
  return target.map((t, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return shape[j] === 1 && t !== 1 ? 0 : strides[j]!;
  });
}

/** Wraps a possibly negative dim into [0, ndim), with PyTorch's IndexError. A 0-dim tensor accepts -1 and 0. */
export function normDim(dim: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new IndexError(`Dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + n : dim;
}

/** Normalizes a list of dims, rejecting repeats as PyTorch does. */
export function normDims(dims: readonly number[], ndim: number): number[] {
  const out = dims.map((d) => normDim(d, ndim));
  const seen = new Set<number>();
  for (const d of out) {
    if (seen.has(d)) throw new RuntimeError(`dim ${d} appears multiple times in the list of dims`);
    seen.add(d);
  }
  return out;
}

/** Resolves one -1 in a reshape target against the element count. */
export function inferShape(shape: readonly number[], n: number): number[] {
  let infer = -1;
  let known = 1;
  shape.forEach((s, i) => {
    if (s === -1) {
      if (infer >= 0) throw new RuntimeError('only one dimension can be inferred');
      infer = i;
    } else if (!Number.isInteger(s) || s < 0) {
      throw new RuntimeError(`invalid shape dimension ${s}`);
    } else known *= s;
  });
  const out = shape.slice();
  if (infer >= 0) {
    if (known === 0 && n === 0) {
      throw new RuntimeError(
        `cannot reshape tensor of 0 elements into shape ${fmtShape(shape)} because the unspecified dimension size -1 can be any value and is ambiguous`,
      );
    }
    if (known === 0 || n % known !== 0) throw new RuntimeError(`shape '${fmtShape(shape)}' is invalid for input of size ${n}`);
    out[infer] = n / known;
  } else if (known !== n) {
    throw new RuntimeError(`shape '${fmtShape(shape)}' is invalid for input of size ${n}`);
  }
  return out;
}

/**
 * Strides for viewing (shape, strides) as `target` without a copy, or null when the memory layout
 * does not allow it (PyTorch's computeStride).
 */
export function viewStrides(shape: Shape, strides: readonly number[], target: Shape): number[] | null {
  if (numel(shape) === 0 || isContiguous(shape, strides)) return contiguousStrides(target);
  const out = new Array<number>(target.length);
  let viewD = target.length - 1;
  let chunkBase = strides[strides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d]!;
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || target[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= target[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return out;
}
