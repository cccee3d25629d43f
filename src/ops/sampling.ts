/**
 * Random sampling beyond rand/randn: randint, randperm, bernoulli and the in-place normal_ /
 * uniform_. All draw from the counter-based stream (src/random.ts), so manualSeed reproduces them
 * and cpu and webgpu give the same values.
 */
import { getDefaultDevice, rand, randn, tensor, type TensorOptions } from '../creation.js';
import { RuntimeError, TypeError } from '../errors.js';
import { takeCounter, uniformAt } from '../random.js';
import { checkSizes } from '../shape.js';
import { Tensor } from '../tensor.js';

type T = Tensor;

/**
 * Integers uniform in [low, high): randint(high, size) or randint(low, high, size), int64 (our
 * int32) unless opts.dtype says otherwise.
 */
export function randint(a: number, b: number | readonly number[], c?: readonly number[] | TensorOptions, d?: TensorOptions): T {
  const [low, high, size, opts] = Array.isArray(b) ? [0, a, b as readonly number[], c as TensorOptions | undefined] : [a, b as number, c as readonly number[], d];
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new TypeError('randint(): low and high must be integers');
  if (high <= low) throw new RuntimeError(`random_ expects 'from' to be less than 'to', but got from=${low} >= to=${high}`);
  const shape = checkSizes(size ?? []);
  const u = rand(shape, { device: opts?.device });
  // floor(u (high - low)) + low, computed in float32 on the device (exact for ranges below 2^24).
  return u.mul(high - low).floor().add(low).type(opts?.dtype ?? 'int32');
}

/**
 * A random permutation of 0..n-1, int64 (our int32). The keys are drawn from the shared stream on
 * the host and sorted there, then uploaded: a creation, like arange (nothing is read back).
 */
export function randperm(n: number, opts?: TensorOptions): T {
  if (!Number.isInteger(n) || n < 0) throw new RuntimeError(`n must be non-negative, got${n}`);
  const { seed, counter } = takeCounter(n);
  const keys = Float64Array.from({ length: n }, (_, i) => uniformAt(seed, counter + i));
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((x, y) => keys[x]! - keys[y]! || x - y);
  return tensor(order, { dtype: opts?.dtype ?? 'int32', device: opts?.device ?? getDefaultDevice(), requiresGrad: opts?.requiresGrad });
}

/** Sampling ops as Tensor methods (`this`) and torch.* functions (tensor first). */
export const samplingOps = {
  /** 1 with probability self (elementwise), else 0, in self's dtype. */
  bernoulli(this: T): T {
    if (this.dtype !== 'float32' && this.dtype !== 'float64') throw new RuntimeError(`"bernoulli_tensor_cpu_self_" not implemented for '${this.typeLabel()}'`);
    return rand(this.shape.slice(), { dtype: this.dtype, device: this.device }).lt(this).type(this.dtype);
  },
};

/** In-place samplers (Tensor methods only, as in PyTorch). */
export const samplingMethods = {
  /** Fills self with normal samples of the given mean and std. */
  normal_(this: T, mean = 0, std = 1): T {
    if (std < 0) throw new RuntimeError(`normal expects std >= 0.0, but found std ${std}`);
    return this.copy_(randn(this.shape.slice(), { dtype: floatOf(this), device: this.device }).mul(std).add(mean));
  },
  /** Fills self with samples uniform in [from, to). */
  uniform_(this: T, from = 0, to = 1): T {
    if (from > to) throw new RuntimeError(`uniform_ expects to return a [from, to) range, but found from=${from} > to=${to}`);
    return this.copy_(rand(this.shape.slice(), { dtype: floatOf(this), device: this.device }).mul(to - from).add(from));
  },
};

function floatOf(t: T): 'float32' | 'float64' {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new RuntimeError(`"normal_kernel_cpu" not implemented for '${t.typeLabel()}'`);
  return t.dtype;
}
