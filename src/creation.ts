/** Creation functions: torch.tensor, zeros, ones, full, arange, linspace, eye, rand, randn, *Like. */
import { checkTensor, pyType } from './args.js';
import type { Device } from './backend.js';
import { castScalar, fillValue, hostArray, isFloating, parseDType, type DType, type HostArray } from './dtype.js';
import { RuntimeError, TypeError, ValueError } from './errors.js';
import { launch } from './executor.js';
import { generator, takeCounter } from './random.js';
import { checkSizes, numel } from './shape.js';
import { Tensor, parseDevice } from './tensor.js';

/** Options every creation function takes (PyTorch's keyword arguments). */
export interface TensorOptions {
  dtype?: DType | string;
  device?: Device | string;
  requiresGrad?: boolean;
}

let defaultDevice: Device = 'cpu';

/** Device used when a creation function gets no `device` (PyTorch's torch.set_default_device). */
export function setDefaultDevice(device: Device | string): void {
  defaultDevice = parseDevice(device);
}
export function getDefaultDevice(): Device {
  return defaultDevice;
}

/** Resets the random stream: the same seed gives the same rand/randn values on every device. */
export function manualSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw new TypeError(`manual_seed expected a long, but got ${String(seed)}`);
  generator.seed = Number(BigInt.asUintN(32, BigInt(Math.trunc(seed))));
  generator.counter = 0;
}

function finish(t: Tensor, opts?: TensorOptions): Tensor {
  if (opts?.requiresGrad) {
    // A factory's requires_grad=True words it differently from t.requires_grad_() (PyTorch 1.13).
    if (!isFloating(t.dtype)) throw new RuntimeError('Only Tensors of floating point and complex dtype can require gradients');
    t.requiresGrad = true;
  }
  return t;
}

function resolve(opts: TensorOptions | undefined, fallback: DType): { dtype: DType; device: Device } {
  return {
    dtype: opts?.dtype === undefined ? fallback : parseDType(opts.dtype),
    device: opts?.device === undefined ? defaultDevice : parseDevice(opts.device),
  };
}

/** Splits trailing options off varargs sizes: f(2, 3, {dtype}) or f([2, 3], {dtype}). */
type SizeArgs = (number | readonly number[] | TensorOptions)[];
function splitSizes(args: SizeArgs): [number[], TensorOptions | undefined] {
  let opts: TensorOptions | undefined;
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && !Array.isArray(last)) {
    opts = last as TensorOptions;
    args = args.slice(0, -1);
  }
  const sizes = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  return [checkSizes(sizes), opts];
}

function fromHost(data: HostArray, shape: readonly number[], dtype: DType, device: Device): Tensor {
  const t = Tensor.empty(shape, dtype, device);
  t.storage.backend.write(t.storage.buf, dtype, data);
  if (device !== 'cpu') t.storage.hostCache = data;
  return t;
}

function filled(shape: readonly number[], value: number, dtype: DType, device: Device): Tensor {
  const v = fillValue(value, dtype);
  const t = Tensor.empty(shape, dtype, device);
  launch(device, { kind: 'fill', out: t.kernelView(), value: v });
  return t;
}

type Nested = number | boolean | readonly Nested[] | ArrayLike<number>;

/** Infers the shape of nested arrays, with PyTorch's error for ragged data. */
function inferNested(data: Nested): { shape: number[]; flat: (number | boolean)[] } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe) || ArrayBuffer.isView(probe)) {
    const a = probe as ArrayLike<unknown>;
    shape.push(a.length);
    if (a.length === 0) break;
    probe = a[0];
  }
  const flat: (number | boolean)[] = [];
  const walk = (v: unknown, d: number) => {
    if (d === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') {
        throw new TypeError(`new(): invalid data type '${Array.isArray(v) ? 'list' : typeof v}'`);
      }
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) {
      throw new ValueError(`expected sequence of length ${shape[d]} at dim ${d} (got ${typeof v})`);
    }
    const a = v as ArrayLike<unknown>;
    if (a.length !== shape[d]) throw new ValueError(`expected sequence of length ${shape[d]} at dim ${d} (got ${a.length})`);
    for (let i = 0; i < a.length; i++) walk(a[i], d + 1);
  };
  walk(data, 0);
  return { shape, flat };
}

/**
 * torch.tensor: from a number, a boolean, nested arrays or a typed array. Plain numbers make
 * float32 (JS has one number type); Int32Array makes int32, Float64Array float64, booleans bool.
 */
export function tensor(data: Nested, opts?: TensorOptions): Tensor {
  if (data instanceof Tensor) throw new TypeError('tensor(): use t.clone().detach() to copy a Tensor');
  const { shape, flat } = inferNested(data);
  let inferred: DType = 'float32';
  if (data instanceof Int32Array) inferred = 'int32';
  else if (data instanceof Float64Array) inferred = 'float64';
  else if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) inferred = 'bool';
  const { dtype, device } = resolve(opts, inferred);
  const host = hostArray(dtype, flat.length);
  flat.forEach((v, i) => (host[i] = castScalar(+v, dtype)));
  return finish(fromHost(host, shape, dtype, device), opts);
}

export function zeros(...args: SizeArgs): Tensor {
  const [shape, opts] = splitSizes(args);
  const { dtype, device } = resolve(opts, 'float32');
  return finish(filled(shape, 0, dtype, device), opts);
}
export function ones(...args: SizeArgs): Tensor {
  const [shape, opts] = splitSizes(args);
  const { dtype, device } = resolve(opts, 'float32');
  return finish(filled(shape, 1, dtype, device), opts);
}
/** Uninitialized memory (zeros on the CPU; whatever the pool held on WebGPU). */
export function empty(...args: SizeArgs): Tensor {
  const [shape, opts] = splitSizes(args);
  const { dtype, device } = resolve(opts, 'float32');
  return finish(Tensor.empty(shape, dtype, device), opts);
}
/** full(size, value): float32 unless dtype says otherwise (booleans make bool). */
export function full(size: readonly number[], value: number | boolean, opts?: TensorOptions): Tensor {
  if (!Array.isArray(size)) throw new TypeError(`full(): argument 'size' (position 1) must be tuple of ints, not ${typeof size}`);
  checkNumber('full', 'fill_value', 2, value);
  const shape = checkSizes(size);
  const { dtype, device } = resolve(opts, typeof value === 'boolean' ? 'bool' : 'float32');
  return finish(filled(shape, +value, dtype, device), opts);
}

function randomOf(dist: 'uniform' | 'normal', shape: readonly number[], opts?: TensorOptions): Tensor {
  const { dtype, device } = resolve(opts, 'float32');
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new RuntimeError(`"${dist === 'normal' ? 'normal_kernel_cpu' : 'check_uniform_bounds'}" not implemented for '${{ int32: 'Long', bool: 'Bool' }[dtype]}'`);
  }
  const t = Tensor.empty(shape, dtype, device);
  const { seed, counter } = takeCounter(numel(shape));
  launch(device, { kind: 'random', dist, out: t.kernelView(), seed, counter });
  return finish(t, opts);
}
/** Uniform samples in [0, 1), reproducible under manualSeed. */
export function rand(...args: SizeArgs): Tensor {
  const [shape, opts] = splitSizes(args);
  return randomOf('uniform', shape, opts);
}
/** Standard normal samples, reproducible under manualSeed (the same values on cpu and webgpu). */
export function randn(...args: SizeArgs): Tensor {
  const [shape, opts] = splitSizes(args);
  return randomOf('normal', shape, opts);
}

/** arange(end), arange(start, end, step?): int32 when all bounds are integers, as in PyTorch. */
export function arange(start: number, end?: number | TensorOptions, step?: number | TensorOptions, opts?: TensorOptions): Tensor {
  if (typeof end === 'object') [opts, end] = [end, undefined];
  if (typeof step === 'object') [opts, step] = [step, undefined];
  const [s, e] = end === undefined ? [0, start] : [start, end];
  const st = step ?? 1;
  if (st === 0) throw new RuntimeError('step must be nonzero');
  if (![s, e].every(Number.isFinite)) throw new RuntimeError(`unsupported range: ${pyNum(s)} -> ${pyNum(e)}`);
  if ((e - s) / st < 0) throw new RuntimeError('upper bound and larger bound inconsistent with step sign');
  const n = Math.max(0, Math.ceil((e - s) / st));
  const { dtype, device } = resolve(opts, [s, e, st].every(Number.isInteger) ? 'int32' : 'float32');
  const host = hostArray(dtype, n);
  for (let i = 0; i < n; i++) host[i] = castScalar(s + i * st, dtype);
  return finish(fromHost(host, [n], dtype, device), opts);
}

const pyNum = (v: number) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v));

export function linspace(start: number, end: number, steps: number, opts?: TensorOptions): Tensor {
  checkNumber('linspace', 'start', 1, start);
  checkNumber('linspace', 'end', 2, end);
  if (typeof steps !== 'number' || !Number.isInteger(steps)) {
    throw new TypeError(`linspace(): argument 'steps' (position 3) must be int, not ${typeof steps === 'number' ? 'float' : typeof steps}`);
  }
  if (steps < 0) throw new RuntimeError('number of steps must be non-negative');
  const { dtype, device } = resolve(opts, 'float32');
  const host = hostArray(dtype, steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // PyTorch fills the second half from the end, so the last value is exactly `end`.
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) host[i] = castScalar(i < half ? start + step * i : end - step * (steps - 1 - i), dtype);
  return finish(fromHost(host, [steps], dtype, device), opts);
}

export function eye(n: number, m?: number | TensorOptions, opts?: TensorOptions): Tensor {
  if (typeof m === 'object') [opts, m] = [m, undefined];
  const cols = m ?? n;
  const shape = checkSizes([n, cols]);
  const { dtype, device } = resolve(opts, 'float32');
  const host = hostArray(dtype, n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) host[i * cols + i] = 1;
  return finish(fromHost(host, shape, dtype, device), opts);
}

const likeOpts = (t: Tensor, opts?: TensorOptions): TensorOptions => ({ dtype: t.dtype, device: t.device, ...opts });
/** The shape of the tensor a *Like function copies, with PyTorch's TypeError for a non-tensor. */
function likeShape(fn: string, t: Tensor): number[] {
  checkTensor(fn, 'input', 1, t);
  return t.shape.slice();
}

/** PyTorch's TypeError for a number argument given something else. */
function checkNumber(fn: string, name: string, pos: number, v: unknown): void {
  if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`${fn}(): argument '${name}' (position ${pos}) must be Number, not ${pyType(v)}`);
}
export function zerosLike(t: Tensor, opts?: TensorOptions): Tensor {
  return zeros(likeShape('zeros_like', t), likeOpts(t, opts));
}
export function onesLike(t: Tensor, opts?: TensorOptions): Tensor {
  return ones(likeShape('ones_like', t), likeOpts(t, opts));
}
export function fullLike(t: Tensor, value: number | boolean, opts?: TensorOptions): Tensor {
  return full(likeShape('full_like', t), value, likeOpts(t, opts));
}
export function randnLike(t: Tensor, opts?: TensorOptions): Tensor {
  return randn(likeShape('randn_like', t), likeOpts(t, opts));
}
export function randLike(t: Tensor, opts?: TensorOptions): Tensor {
  return rand(likeShape('rand_like', t), likeOpts(t, opts));
}
