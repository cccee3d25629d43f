/**
 * Stand-ins for ops the ops issue adds to the op table (softmax, logSoftmax, oneHot), composed
 * from table ops so nn works before they land. Replaced by the table's versions on merge.
 */
import { arange } from '../creation.js';
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

/**
 * erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32's resolution near 1):
 * 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1/(1 + p|x|), odd in x.
 */
function erf(x: Tensor): Tensor {
  const ax = x.abs();
  const t = ax.mul(0.3275911).add(1).pow(-1);
  const poly = t.mul(1.061405429).add(-1.453152027).mul(t).add(1.421413741).mul(t).add(-0.284496736).mul(t).add(0.254829592).mul(t);
  return poly.mul(ax.pow(2).neg().exp()).rsub(1).mul(x.sign());
}

/** GELU with the exact erf form: x/2 · (1 + erf(x/√2)); 'tanh' uses PyTorch's tanh approximation. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate === 'tanh') {
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
  }
  return x.mul(0.5).mul(erf(x.mul(Math.SQRT1_2)).add(1));
}
