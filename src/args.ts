/**
 * PyTorch's argument errors for values of the wrong JS type: what Python's argument parser says
 * (`relu(): argument 'input' (position 1) must be Tensor, not NoneType`), never a raw JS error.
 */
import { TypeError } from './errors.js';
import { Tensor } from './tensor.js';

/** Python's type name of a JS value, as PyTorch's argument errors print it. */
export function pyType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'list' : typeof v;
}

/** Throws PyTorch's TypeError unless `v` is a Tensor: `checkTensor('relu', 'input', 1, x)`. */
export function checkTensor(fn: string, name: string, pos: number, v: unknown): asserts v is Tensor {
  if (!(v instanceof Tensor)) throw new TypeError(`${fn}(): argument '${name}' (position ${pos}) must be Tensor, not ${pyType(v)}`);
}
