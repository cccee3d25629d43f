/**
 * torch.nn.init: in-place initializers (under noGrad), with PyTorch's fan and gain rules. Values
 * come from torch.rand / torch.randn, so manualSeed makes them reproducible on every device (the
 * streams differ from PyTorch's, the distributions do not).
 */
import { noGrad } from '../autograd.js';
import { rand, randn } from '../creation.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Nonlinearities calculateGain knows. */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** The recommended gain for a nonlinearity (PyTorch's calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
  }
  throw new ValueError(`Unsupported nonlinearity ${String(nonlinearity)}`);
}

/** fan_in and fan_out of a weight: dims 1 and 0 times the receptive field (dims 2..). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new ValueError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  const field = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * field, t.shape[0]! * field];
}

function fill(t: Tensor, values: Tensor): Tensor {
  noGrad(() => t.copy_(values));
  return t;
}

const like = (t: Tensor) => ({ device: t.device, dtype: t.dtype });

/** Fills t with U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return fill(t, rand(t.shape.slice(), like(t)).mul(b - a).add(a));
}
/** Fills t with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return fill(t, randn(t.shape.slice(), like(t)).mul(std).add(mean));
}
/** Fills t with a constant. */
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Options of the Kaiming initializers. */
export interface KaimingOptions {
  /** The negative slope of leaky_relu (PyTorch's a). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const mode = opts.mode ?? 'fan_in';
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new ValueError(`Mode ${String(mode)} not supported, please use one of fan_in, fan_out`);
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return gain / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut);
}

/** U(-bound, bound) with bound = gain · √(3 / fan): He et al. (nn.Linear uses a = √5). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound);
}
/** N(0, std²) with std = gain / √fan. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts));
}
/** U(-a, a) with a = gain · √(6 / (fan_in + fan_out)): Glorot & Bengio. */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a);
}
/** N(0, std²) with std = gain · √(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}
