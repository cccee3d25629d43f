/**
 * PyTorch's argument errors for values of the wrong JS type: what Python's argument parser says
 * (`relu(): argument 'input' (position 1) must be Tensor, not NoneType`), never a raw JS error.
 */
import { AttributeError, TypeError } from './errors.js';
import { Tensor } from './tensor.js';

/** Python's type name of a JS value, as PyTorch's argument errors print it. */
export function pyType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Tensor) return 'Tensor';
  return Array.isArray(v) ? 'list' : typeof v;
}

/** Throws PyTorch's TypeError unless `v` is a Tensor: `checkTensor('relu', 'input', 1, x)`. */
export function checkTensor(fn: string, name: string, pos: number, v: unknown): asserts v is Tensor {
  if (!(v instanceof Tensor)) throw new TypeError(`${fn}(): argument '${name}' (position ${pos}) must be Tensor, not ${pyType(v)}`);
}

/**
 * Throws Python's AttributeError unless `v` is a Tensor, as a PyTorch function written in Python
 * does when its first use of `v` is the attribute `attr`: `checkAttr(target, 'size')` → "'int' object
 * has no attribute 'size'" (F.mse_loss's size check reads target.size() before input.size()).
 */
export function checkAttr(v: unknown, attr: string): asserts v is Tensor {
  if (!(v instanceof Tensor)) throw new AttributeError(`'${pyType(v)}' object has no attribute '${attr}'`);
}

/** A torch.* function's first argument, checked: "sqrt(): argument 'input' (position 1) must be Tensor, not int". */
export function inputTensor(fn: string, v: unknown): Tensor {
  checkTensor(fn, 'input', 1, v);
  return v;
}

/** PyTorch's name of a function or option written in camelCase here (logSoftmax → log_softmax). */
export const pyName = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Throws PyTorch's TypeError unless `v` is a list of ints: "roll(): argument 'dims' (position 2)
 * must be tuple of ints, not str", "... but found element of type str at pos 2". `fn` and `pos`
 * name the call where the caller knows them.
 */
export function checkIntList(v: unknown, arg: string, fn?: string, pos?: number): asserts v is number[] {
  const where = fn ? `${fn}(): argument '${arg}'` : `argument '${arg}'`;
  if (!Array.isArray(v)) throw new TypeError(`${where}${pos ? ` (position ${pos})` : ''} must be tuple of ints, not ${pyType(v)}`);
  const bad = v.findIndex((d) => typeof d !== 'number');
  if (bad >= 0) throw new TypeError(`${where} must be tuple of ints, but found element of type ${pyType(v[bad])} at pos ${bad + 1}`);
}

/** An int or a list of ints, as a new list (checkIntList's errors otherwise). */
export function intList(v: unknown, arg: string, fn?: string, pos?: number): number[] {
  if (typeof v === 'number') return [v];
  checkIntList(v, arg, fn, pos);
  return v.slice();
}
