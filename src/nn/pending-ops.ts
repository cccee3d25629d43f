/**
 * Stand-ins for ops the ops issue adds to the op table (softmax, logSoftmax, oneHot), composed
 * from table ops so nn works before they land. Replaced by the table's versions on merge.
 */
import { arange } from '../creation.js';
import * as apply from '../ops/apply.js';
import type { Tensor } from '../tensor.js';

/** log(softmax(x, dim)), stable: x - max - log(sum(exp(x - max))). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const m = x.amax(dim, true).detach();
  const shifted = x.sub(m);
  return shifted.sub(shifted.exp().sum(dim, true).log());
}

/** exp(logSoftmax(x, dim)). */
export function softmax(x: Tensor, dim: number): Tensor {
  return logSoftmax(x, dim).exp();
}

/** One-hot of int class indices along a new last dim, as int32 (PyTorch's F.one_hot gives int64). */
export function oneHot(target: Tensor, numClasses: number): Tensor {
  return target.unsqueeze(-1).eq(arange(numClasses, { device: target.device })).type('int32');
}

/** GELU (exact erf form, or PyTorch's tanh approximation): the op table's rows. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return apply.unary(approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
}
