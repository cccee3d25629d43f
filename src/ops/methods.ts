/**
 * The Tensor methods and torch.* functions, generated from the op tables, so an op is written once:
 * - a row of the elementwise tables (src/ops/elementwise.ts) marked `api: 'method'` becomes
 *   `x.op()` / `torch.op(x)` (unary) or `a.op(b)` / `torch.op(a, b)` (binary);
 * - every other op is one entry of `tensorOps` (written with `this: Tensor`), which gives the method
 *   and `torch.op(x, ...args)`; `methodOnly` holds methods PyTorch has no torch.* function for.
 * The Tensor class is merged with the generated types below, so a table entry without its method
 * (or a method without its entry) is a compile error; src/functional.ts checks the torch.* exports.
 */
import { IndexError, RuntimeError, TypeError } from '../errors.js';
import { normDim } from '../shape.js';
import { inputTensor, pyName } from '../args.js';
import { Tensor, type Dims, type ReduceOptions } from '../tensor.js';
import * as apply from './apply.js';
import { binaryOps, unaryOps, type BinaryOp, type UnaryOp } from './elementwise.js';
import { compositeOps } from './composite.js';
import * as ix from './indexing.js';
import * as linalg from './linalg.js';
import { samplingMethods, samplingOps } from './sampling.js';
import * as red from './reduce.js';

type T = Tensor;
type TN = Tensor | number;
/** Clamp bounds: clamp(min?, max?) or clamp({min, max}); null/undefined leaves that side open. */
export type ClampBounds = number | null | { min?: number | null; max?: number | null };

/** The keys of a table whose rows are marked `api: 'method'`. */
type MethodKeys<Table> = { [K in keyof Table]: Table[K] extends { api: 'method' } ? K : never }[keyof Table];
/** Unary rows that are Tensor methods and torch.* functions. */
export type UnaryMethod = MethodKeys<typeof unaryOps>;
/** Binary rows that are Tensor methods and torch.* functions. */
export type BinaryMethod = MethodKeys<typeof binaryOps>;
/** `x.sin()` for each unary row marked as a method. */
type UnaryMethods = { [K in UnaryMethod]: (this: T) => T };
/** `a.mul(b)` for each binary row marked as a method; b may be a number. */
type BinaryMethods = { [K in BinaryMethod]: (this: T, other: TN) => T };

function max(this: T): T;
function max(this: T, dim: number | { dim: number; keepdim?: boolean }, keepdim?: boolean): { values: T; indices: T };
function max(this: T, other: T): T;
/** max() → the largest value; max(dim, keepdim?) → {values, indices}; max(other) → maximum. */
function max(this: T, dim?: number | T | { dim: number; keepdim?: boolean }, keepdim?: boolean): T | { values: T; indices: T } {
  if (dim instanceof Tensor) return apply.binary('maximum', this, dim);
  if (dim === undefined) return red.extreme('max', this, null, false, 'MaxBackward1');
  if (dim === null) throw new TypeError("max(): argument 'dim' must be int, not NoneType");
  const [d, k] = typeof dim === 'number' ? [dim, keepdim ?? false] : [dim.dim, dim.keepdim ?? false];
  return red.extremeWithIndices('max', this, d, k);
}
function min(this: T): T;
function min(this: T, dim: number | { dim: number; keepdim?: boolean }, keepdim?: boolean): { values: T; indices: T };
function min(this: T, other: T): T;
/** min() → the smallest value; min(dim, keepdim?) → {values, indices}; min(other) → minimum. */
function min(this: T, dim?: number | T | { dim: number; keepdim?: boolean }, keepdim?: boolean): T | { values: T; indices: T } {
  if (dim instanceof Tensor) return apply.binary('minimum', this, dim);
  if (dim === undefined) return red.extreme('min', this, null, false, 'MinBackward1');
  if (dim === null) throw new TypeError("min(): argument 'dim' must be int, not NoneType");
  const [d, k] = typeof dim === 'number' ? [dim, keepdim ?? false] : [dim.dim, dim.keepdim ?? false];
  return red.extremeWithIndices('min', this, d, k);
}

/** Ops with a Tensor method and a torch.* function taking the tensor first. */
export const tensorOps = {
  ...compositeOps,
  ...ix.indexingOps,
  ...samplingOps,
  /** self + alpha * other. */
  add(this: T, other: TN, opts?: { alpha?: number }): T {
    return apply.addAlpha('add', this, other, opts?.alpha);
  },
  /** self - alpha * other. */
  sub(this: T, other: TN, opts?: { alpha?: number }): T {
    return apply.addAlpha('sub', this, other, opts?.alpha);
  },
  /** other - self (torch.rsub). */
  rsub(this: T, other: TN): T {
    return apply.binary('sub', other, this, typeof other === 'number' ? 'RsubBackward1' : 'RsubBackward0');
  },
  /** The elementwise logical not (true where self is zero). */
  logicalNot(this: T): T {
    return apply.binary('eq', this, 0);
  },
  /** clamp(min?, max?) or clamp({min, max}); null/undefined leaves that side open. */
  clamp(this: T, min?: ClampBounds, max?: number | null): T {
    const [lo, hi] = typeof min === 'object' && min !== null ? [min.min, min.max] : [min, max];
    if ((lo === undefined || lo === null) && (hi === undefined || hi === null)) {
      throw new RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None");
    }
    // PyTorch 1.13 names every number-bounded clamp ClampBackward1, one-sided ones included.
    return apply.unary('clamp', this, [lo ?? -Infinity, hi ?? Infinity], 'ClampBackward1');
  },
  dot(this: T, other: T): T {
    return linalg.dot(this, other);
  },
  mm(this: T, other: T): T {
    return linalg.mm(this, other);
  },
  bmm(this: T, other: T): T {
    return linalg.bmm(this, other);
  },
  matmul(this: T, other: T): T {
    return linalg.matmul(this, other);
  },
  /** sum(), sum(dim), sum([d0, d1], keepdim), sum({dim, keepdim}). */
  sum(this: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T {
    return red.sum(this, ...red.reduceArgs(dim, keepdim));
  },
  mean(this: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T {
    return red.mean(this, ...red.reduceArgs(dim, keepdim));
  },
  amax(this: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T {
    return red.extreme('max', this, ...red.reduceArgs(dim, keepdim), 'AmaxBackward0');
  },
  amin(this: T, dim?: Dims | ReduceOptions | null, keepdim?: boolean): T {
    return red.extreme('min', this, ...red.reduceArgs(dim, keepdim), 'AminBackward0');
  },
  max,
  min,
  /** Index of the largest value (of the flattened tensor when dim is omitted). */
  argmax(this: T, dim?: number, keepdim = false): T {
    return argExtreme('max', this, dim, keepdim);
  },
  argmin(this: T, dim?: number, keepdim = false): T {
    return argExtreme('min', this, dim, keepdim);
  },
};

/**
 * argmax/argmin: PyTorch has no kernel for bool (but a reduced dim of size 1 needs none, so it
 * answers zeros there), and an empty tensor needs a dim.
 */
function argExtreme(op: 'max' | 'min', x: T, dim: number | undefined, keepdim: boolean): T {
  const trivial = dim !== undefined && x.ndim > 0 && x.size(dim) === 1;
  if (x.dtype === 'bool' && !trivial) throw new RuntimeError(`"arg${op}_${x.device}" not implemented for 'Bool'`);
  if (dim === undefined) {
    if (x.numel() === 0) throw new IndexError(`arg${op}(): Expected reduction dim to be specified for input.numel() == 0.`);
    return red.extremeWithIndices(op, x.reshape(-1), 0, false).indices;
  }
  if (x.ndim > 0 && x.size(dim) === 0) throw new IndexError(`arg${op}(): Expected reduction dim ${normDim(dim, x.ndim)} to have non-zero size.`);
  return red.extremeWithIndices(op, x, dim, keepdim).indices;
}

/** Methods without a torch.* function of the same form. */
export const methodOnly = {
  ...samplingMethods,
  /** self where cond is true, else other (PyTorch's Tensor.where(condition, other); torch.where takes cond first). */
  where(this: T, cond: T, other: TN): T {
    return apply.where(cond, this, other);
  },
  /** Python's `x[idx]` for an int index tensor: rows along dim 0, shaped idx.shape + the rest (negative counts from the end). */
  index(this: T, idx: T): T {
    return ix.index(this, idx);
  },
  /** Python's `x[mask]` for a bool mask over the leading dims: `await x.indexMask(mask)` (async: the size depends on values). */
  indexMask(this: T, mask: T): Promise<T> {
    return ix.indexMask(this, mask);
  },
};

type TensorOps = typeof tensorOps;
type MethodOnly = typeof methodOnly;

declare module '../tensor.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Tensor extends UnaryMethods, BinaryMethods, TensorOps, MethodOnly {}
}

/** A method `(this: Tensor, ...args) => R` as the function `(self: Tensor, ...args) => R`. */
type AsFunction<F> = F extends (this: T, ...args: infer A) => infer R ? (self: T, ...args: A) => R : never;
/** The torch.* functions the tables generate. */
export type GeneratedFunctions = { [K in UnaryMethod]: (x: T) => T } & { [K in BinaryMethod]: (a: TN, b: TN) => T } & {
  [K in keyof TensorOps]: AsFunction<TensorOps[K]>;
};

function install(name: string, f: (this: T, ...args: never[]) => unknown): void {
  // Two tables (or a table and the class) naming one method would silently shadow each other.
  if (Object.prototype.hasOwnProperty.call(Tensor.prototype, name)) throw new Error(`wgtorch: Tensor.${name} is defined twice`);
  Object.defineProperty(Tensor.prototype, name, { value: f, writable: true, configurable: true, enumerable: false });
}

const fns: Record<string, unknown> = {};
/**
 * torch.op(x, ...) with x not a Tensor: PyTorch's TypeError, "op(): argument 'input' (position 1)
 * must be Tensor, not int" (for ops with several signatures PyTorch may instead list them, "op()
 * received an invalid combination of arguments"; the first line names the same fault).
 */
const checkInput = (name: string, x: unknown): void => void inputTensor(pyName(name), x);
for (const [name, def] of Object.entries(unaryOps)) {
  if (!('api' in def)) continue;
  const op = name as UnaryOp;
  install(name, function (this: T) {
    return apply.unary(op, this);
  });
  fns[name] = (x: T) => {
    checkInput(name, x);
    return apply.unary(op, x);
  };
}
for (const [name, def] of Object.entries(binaryOps)) {
  if (!('api' in def)) continue;
  const op = name as BinaryOp;
  install(name, function (this: T, other: TN) {
    return apply.binary(op, this, other);
  });
  // a number may stand on either side (torch.mul(2, x)), not on both
  fns[name] = (a: TN, b: TN) => {
    if (!(b instanceof Tensor)) checkInput(name, a);
    return apply.binary(op, a, b);
  };
}
for (const [name, f] of Object.entries(tensorOps)) {
  install(name, f as (this: T, ...args: never[]) => unknown);
  fns[name] = (self: T, ...args: unknown[]) => {
    checkInput(name, self);
    return (f as (...a: unknown[]) => unknown).apply(self, args);
  };
}
for (const [name, f] of Object.entries(methodOnly)) install(name, f as (this: T, ...args: never[]) => unknown);

/** torch.op(x, ...) for every generated op (src/functional.ts exports them by name). */
export const functions = fns as GeneratedFunctions;
