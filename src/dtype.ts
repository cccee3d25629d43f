import { RuntimeError, TypeError } from './errors.js';

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

/** User-facing dtype names, with PyTorch's aliases (`float`, `long`, ...). */
const NAMES: Readonly<Record<string, DType>> = {
  float32: 'float32', float: 'float32',
  float64: 'float64', double: 'float64',
  int32: 'int32', int: 'int32', int64: 'int32', long: 'int32',
  bool: 'bool',
};

/** Whether v names a dtype (so `t.to(v)` converts rather than moves). */
export function isDTypeName(v: unknown): v is string {
  return typeof v === 'string' && Object.hasOwn(NAMES, v);
}

/** Checks a user-given dtype name, with PyTorch's aliases (`float`, `long`, ...). */
export function parseDType(d: unknown): DType {
  if (isDTypeName(d)) return NAMES[d]!;
  throw new TypeError(`dtype must be torch.dtype, not ${typeof d === 'string' ? JSON.stringify(d) : String(d)} (one of ${DTYPES.join(', ')})`);
}

/** A fresh zeroed host array of `n` elements. */
export function hostArray(dtype: DType, n: number): HostArray {
  try {
    return new CTORS[dtype](n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new RuntimeError(cpuAllocError(n * CTORS[dtype].BYTES_PER_ELEMENT));
  }
}

/** Bytes per element of each dtype in CPU memory. */
export const ITEM_BYTES: Readonly<Record<DType, number>> = {
  float32: CTORS.float32.BYTES_PER_ELEMENT,
  float64: CTORS.float64.BYTES_PER_ELEMENT,
  int32: CTORS.int32.BYTES_PER_ELEMENT,
  bool: CTORS.bool.BYTES_PER_ELEMENT,
};

/** A typed array of `n` elements of `dtype` over `buffer` from byte `offset` (no copy). */
export function hostView(dtype: DType, buffer: ArrayBuffer, offset: number, n: number): HostArray {
  return new CTORS[dtype](buffer, offset, n);
}

/** PyTorch's CPU out-of-memory text. */
export function cpuAllocError(bytes: number): string {
  return `[enforce fail at alloc_cpu.cpp:75] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate ${bytes} bytes. Error code 12 (Cannot allocate memory)`;
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch's promote_types over our dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype a JS number or boolean has as an operand (PyTorch's wrapped scalar): bool, int or float. */
export function scalarType(s: number | boolean): DType {
  if (typeof s === 'boolean') return 'bool';
  return Number.isInteger(s) ? 'int32' : 'float32';
}

/** An operand of PyTorch's result_type: a tensor (its dtype and rank) or a JS number / boolean. */
export type TypeOperand = { readonly dtype: DType; readonly ndim: number } | number | boolean;

// PyTorch's combine_categories: the higher-priority group decides unless the lower one is of a
// higher category (bool < integer < floating), in which case the two types are promoted.
function combine(higher: DType | null, lower: DType | null): DType | null {
  if (higher === null) return lower;
  if (lower === null || isFloating(higher)) return higher;
  if (higher === 'bool' || isFloating(lower)) return promoteTypes(higher, lower);
  return higher;
}

/**
 * PyTorch's result_type: tensors with dims decide, then 0-dim tensors, then scalars, each later
 * group counting only when it is of a higher category. `torch.tensor(2, {dtype: 'float64'})` times
 * a float32 tensor is float32; an int tensor times 2.5 is float32.
 */
export function resultType(operands: readonly TypeOperand[]): DType {
  let dim: DType | null = null, zero: DType | null = null, scalar: DType | null = null;
  const add = (acc: DType | null, d: DType) => (acc === null ? d : promoteTypes(acc, d));
  for (const o of operands) {
    if (typeof o === 'number' || typeof o === 'boolean') scalar = add(scalar, scalarType(o));
    else if (o.ndim === 0) zero = add(zero, o.dtype);
    else dim = add(dim, o.dtype);
  }
  return combine(dim, combine(zero, scalar)) ?? 'float32';
}

/** PyTorch's canCast: no float into an integer or bool, no non-bool into bool. */
export function canCast(from: DType, to: DType): boolean {
  if (isFloating(from) && !isFloating(to)) return false;
  return from === 'bool' || to !== 'bool';
}

/** The dtype of a default float result for an input (ints and bools become float32). */
export function toFloating(d: DType): DType {
  return isFloating(d) ? d : 'float32';
}

/** PyTorch's printed name, e.g. torch.float32 (int32 prints as torch.int64, its role). */
export function torchName(d: DType): string {
  return d === 'int32' ? 'torch.int64' : `torch.${d}`;
}

/**
 * A fill value in `dtype`, with PyTorch's error when an integer tensor cannot hold it (NaN, ±inf,
 * or beyond the integer range: int32 plays int64 here, so its range is int32's).
 */
export function fillValue(x: number, dtype: DType): number {
  if (dtype === 'int32' && !(Number.isFinite(x) && Math.trunc(x) >= -(2 ** 31) && Math.trunc(x) < 2 ** 31)) {
    throw new RuntimeError('value cannot be converted to type int64_t without overflow');
  }
  return castScalar(x, dtype);
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
