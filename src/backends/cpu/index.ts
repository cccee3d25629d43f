import type { Backend, Launch, Operand, View } from '../../backend.js';
import { castScalar, DTYPES, hostArray, type DType, type HostArray } from '../../dtype.js';
import { binaryOps, unaryOps } from '../../ops/elementwise.js';
import { normalAt, uniformAt } from '../../random.js';
import { isContiguous } from '../../shape.js';
import { matmulInto } from './matmul.js';
import { allOffsets } from './strided.js';

/**
 * The CPU backend: kernels on typed arrays, run at launch time. It is the readable reference the
 * WebGPU kernels are checked against; values are computed in float64 and rounded on store.
 */

const arr = (v: View) => v.buf as HostArray;

/** Values of an operand in out's row-major order (scalars stay scalars). */
function gather(v: Operand): number | HostArray | ((i: number) => number) {
  if (typeof v === 'number') return v;
  const a = arr(v);
  if (isContiguous(v.shape, v.strides)) {
    const off = v.offset;
    return off === 0 && a.length === shapeSize(v.shape) ? a : (i: number) => a[off + i]!;
  }
  const offs = allOffsets(v.shape, v.strides, v.offset);
  return (i: number) => a[offs[i]!]!;
}

function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

type Reader = ReturnType<typeof gather>;
const reader = (g: Reader): ((i: number) => number) =>
  typeof g === 'number' ? () => g : typeof g === 'function' ? g : (i: number) => g[i]!;

/** Writes f(i) for every element of out (in row-major order), through out's strides. */
function store(out: View, f: (i: number) => number): void {
  const o = arr(out);
  const n = shapeSize(out.shape);
  const round = out.dtype === 'bool' ? (x: number) => (x !== 0 && x === x ? 1 : 0) : null;
  if (isContiguous(out.shape, out.strides)) {
    const off = out.offset;
    if (round) for (let i = 0; i < n; i++) o[off + i] = round(f(i));
    else for (let i = 0; i < n; i++) o[off + i] = f(i);
    return;
  }
  const offs = allOffsets(out.shape, out.strides, out.offset);
  for (let i = 0; i < n; i++) o[offs[i]!] = round ? round(f(i)) : f(i);
}

/** Rounds a computed value into the compute dtype (int math truncates, as in PyTorch). */
function computeCast(dtype: DType): ((x: number) => number) | null {
  return dtype === 'int32' ? (x) => castScalar(x, 'int32') : null;
}

function reduce(op: 'sum' | 'max' | 'min' | 'argmax' | 'argmin', x: View, dims: readonly number[], out: View): void {
  const keptShape = x.shape.map((s, d) => (dims.includes(d) ? 1 : s));
  const keptStrides = x.strides.map((s, d) => (dims.includes(d) ? 0 : s));
  const redShape = x.shape.map((s, d) => (dims.includes(d) ? s : 1));
  const kept = allOffsets(keptShape, keptStrides, x.offset);
  const red = allOffsets(redShape, x.strides, 0);
  const a = arr(x);
  const o = arr(out);
  const n = red.length;
  for (let i = 0; i < kept.length; i++) {
    const base = kept[i]!;
    let acc: number;
    if (op === 'sum') {
      acc = 0;
      for (let j = 0; j < n; j++) acc += a[base + red[j]!]!;
    } else {
      // max/min propagate NaN and keep the first index on ties, as PyTorch's CPU kernels do.
      const better = op === 'max' || op === 'argmax' ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
      let best = a[base + red[0]!]!;
      let at = 0;
      for (let j = 1; j < n && best === best; j++) {
        const v = a[base + red[j]!]!;
        if (v !== v || better(v, best)) { best = v; at = j; }
      }
      acc = op === 'argmax' || op === 'argmin' ? at : best;
    }
    o[out.offset + i] = out.dtype === 'bool' ? +(acc !== 0) : acc;
  }
}

function run(l: Launch): void {
  switch (l.kind) {
    case 'unary': {
      const def = unaryOps[l.op];
      const x = reader(gather(l.x));
      const p0 = l.params[0] ?? 0, p1 = l.params[1] ?? 0;
      const c = computeCast(l.compute);
      store(l.out, c ? (i) => c(def.cpu(x(i), p0, p1)) : (i) => def.cpu(x(i), p0, p1));
      return;
    }
    case 'binary': {
      const f = binaryOps[l.op].cpu;
      const a = reader(gather(l.a));
      const b = reader(gather(l.b));
      const c = computeCast(l.compute);
      store(l.out, c ? (i) => c(f(a(i), b(i))) : (i) => f(a(i), b(i)));
      return;
    }
    case 'where': {
      const cond = reader(gather(l.cond));
      const a = reader(gather(l.a));
      const b = reader(gather(l.b));
      store(l.out, (i) => (cond(i) ? a(i) : b(i)));
      return;
    }
    case 'copy': {
      const x = reader(gather(l.x));
      const toInt = l.out.dtype === 'int32' && l.x.dtype !== 'int32';
      store(l.out, toInt ? (i) => castScalar(x(i), 'int32') : x);
      return;
    }
    case 'fill':
      store(l.out, () => l.value);
      return;
    case 'random': {
      const sample = l.dist === 'uniform' ? uniformAt : normalAt;
      store(l.out, (i) => sample(l.seed, l.counter + i));
      return;
    }
    case 'reduce':
      reduce(l.op, l.x, l.dims, l.out);
      return;
    case 'matmul': {
      const [B, M, K] = l.a.shape as [number, number, number];
      const N = l.b.shape[2]!;
      for (let bi = 0; bi < B; bi++) {
        matmulInto(
          arr(l.a), l.a.offset + bi * l.a.strides[0]!, l.a.strides[1]!, l.a.strides[2]!,
          arr(l.b), l.b.offset + bi * l.b.strides[0]!, l.b.strides[1]!, l.b.strides[2]!,
          arr(l.out), l.out.offset + bi * M * N, M, K, N,
        );
      }
      return;
    }
    default:
      l satisfies never;
  }
}

/** The JS backend. Buffers are typed arrays; every launch runs synchronously. */
export const cpuBackend: Backend = {
  device: 'cpu',
  limits: { maxBufferSize: 2 ** 31 - 1, dtypes: DTYPES },
  alloc: (numel, dtype) => hostArray(dtype, numel),
  write: (buf, _dtype, data) => (buf as HostArray).set(data),
  readSync: (buf, _dtype, offset, numel) => (buf as HostArray).slice(offset, offset + numel),
  read: async (buf, _dtype, offset, numel) => (buf as HostArray).slice(offset, offset + numel),
  release: () => {},
  launch: run,
  synchronize: async () => {},
};

