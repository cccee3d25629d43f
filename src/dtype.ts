import { TypeError } from './errors.js';

/** Element types. int32 plays the part of PyTorch's int64; float64 exists on the CPU backend only. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** Typed array holding a dtype on the host. bool is one byte per element, as in PyTorch. */
export type HostArray = Float32Array | Float64Array | Int32Array | Uint8Array;

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const satisfies Record<DType, unknown>;

/** Checks a user-given dtype name, with PyTorch's aliases (`float`, `long`, ...). */
export function parseDType(d: unknown): DType {
  switch (d) {
    case 'float32': case 'float': return 'float32';
    case 'float64': case 'double': return 'float64';
    case 'int32': case 'int': case 'int64': case 'long': return 'int32';
    case 'bool': return 'bool';
    default:
      throw new TypeError(`dtype must be torch.dtype, not ${JSON.stringify(d)} (one of ${DTYPES.join(', ')})`);
  }
}

/** A fresh zeroed host array of `n` elements. */
export function hostArray(dtype: DType, n: number): HostArray {
  return new CTORS[dtype](n);
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch's promote_types over our dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Result dtype of tensor (op) scalar: a scalar only lifts the category (bool < int < float), as in PyTorch. */
export function promoteWithScalar(t: DType, s: number | boolean): DType {
  if (typeof s === 'boolean') return t;
  if (!Number.isInteger(s) || !Number.isFinite(s)) return isFloating(t) ? t : 'float32';
  return t === 'bool' ? 'int32' : t;
}

/** The dtype of a default float result for an input (ints and bools become float32). */
export function toFloating(d: DType): DType {
  return isFloating(d) ? d : 'float32';
}

/** PyTorch's printed name, e.g. torch.float32 (int32 prints as torch.int64, its role). */
export function torchName(d: DType): string {
  return d === 'int32' ? 'torch.int64' : `torch.${d}`;
}

/** Rounds a JS number the way storing it in `dtype` does. */
export function castScalar(x: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return Math.fround(x);
    case 'float64': return x;
    case 'int32': return Number.isFinite(x) ? Math.trunc(x) | 0 : 0;
    case 'bool': return x !== 0 ? 1 : 0;
  }
}
