/** Offset enumeration for strided views: the CPU backend's one way of walking any layout. */

/**
 * Offsets of every element of (shape, strides, offset) in row-major order, all dims but the last;
 * kernels walk the last dim themselves with its stride. Returns [rowOffsets, lastSize, lastStride].
 */
export function rowOffsets(shape: readonly number[], strides: readonly number[], offset: number): [Int32Array, number, number] {
  const nd = shape.length;
  if (nd === 0) return [Int32Array.of(offset), 1, 0];
  const last = shape[nd - 1]!;
  let rows = 1;
  for (let i = 0; i < nd - 1; i++) rows *= shape[i]!;
  const out = new Int32Array(rows);
  const idx = new Array<number>(nd - 1).fill(0);
  let off = offset;
  for (let r = 0; r < rows; r++) {
    out[r] = off;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return [out, last, strides[nd - 1]!];
}

/** Offsets of every element in row-major order. */
export function allOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const [rows, n, st] = rowOffsets(shape, strides, offset);
  const out = new Int32Array(rows.length * n);
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r]!;
    for (let j = 0; j < n; j++) out[k++] = base + j * st;
  }
  return out;
}
