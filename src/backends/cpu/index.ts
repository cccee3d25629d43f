import type { Backend, Launch, Operand, View } from '../../backend.js';
import { castScalar, DTYPES, type DType, type HostArray } from '../../dtype.js';
import { binaryOps, unaryOps } from '../../ops/elementwise.js';
import { normalAt, uniformAt } from '../../random.js';
import { isContiguous } from '../../shape.js';
import { runFused } from './fused.js';
import { matmulInto } from './matmul.js';
import { runIndexing } from './indexing.js';
import { HostPool } from './pool.js';
import { allOffsets } from './strided.js';
import { createWasmBackend } from './wasm/backend.js';
import { hasSimd } from './wasm/kernels.js';
import { nextTask, YIELD_AFTER } from './tasks.js';
import { RuntimeError } from '../../errors.js';

/**
 * The CPU backend's JS kernels: loops on typed arrays, run at launch time. They are the readable
 * reference the WebGPU and wasm kernels are checked against (values are computed in float64 and
 * rounded on store), the fallback where WebAssembly SIMD is missing (or WGTORCH_CPU=js), and what
 * the wasm backend runs, on views of its memory, for launches its SIMD kernels do not cover.
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

/**
 * Fast paths for the common layouts: an operand that is a scalar or a contiguous run of its
 * buffer (any offset), written to a contiguous float output. The loops below index typed arrays
 * directly instead of calling a reader per element, which is what makes them several times faster
 * than the general path (bench/NOTES.md, "CPU elementwise and reductions").
 */
type Direct = { a: HostArray; off: number } | number;

/** The operand as a Direct source over out's n elements, or null when it needs the general walk. */
function direct(v: Operand, n: number): Direct | null {
  if (typeof v === 'number') return v;
  if (shapeSize(v.shape) !== n || !isContiguous(v.shape, v.strides)) return null;
  return { a: arr(v), off: v.offset };
}

/** A contiguous output whose values need no rounding beyond the typed array's own store. */
function directOut(out: View): { o: HostArray; off: number; n: number } | null {
  if ((out.dtype !== 'float32' && out.dtype !== 'float64') || !isContiguous(out.shape, out.strides)) return null;
  return { o: arr(out), off: out.offset, n: shapeSize(out.shape) };
}

/** o[oo + i] = a op b for i < n, with add/sub/mul/div written out and other ops through f. */
function binaryDirect(op: string, f: (a: number, b: number) => number, a: Direct, b: Direct, o: HostArray, oo: number, n: number): void {
  if (typeof a === 'number') {
    if (typeof b === 'number') o.fill(f(a, b), oo, oo + n);
    else for (let i = 0; i < n; i++) o[oo + i] = f(a, b.a[b.off + i]!);
    return;
  }
  const x = a.a, xo = a.off;
  if (typeof b === 'number') {
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! + b; return;
      case 'sub': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! - b; return;
      case 'mul': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! * b; return;
      case 'div': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! / b; return;
      default: for (let i = 0; i < n; i++) o[oo + i] = f(x[xo + i]!, b); return;
    }
  }
  const y = b.a, yo = b.off;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! + y[yo + i]!; return;
    case 'sub': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! - y[yo + i]!; return;
    case 'mul': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! * y[yo + i]!; return;
    case 'div': for (let i = 0; i < n; i++) o[oo + i] = x[xo + i]! / y[yo + i]!; return;
    default: for (let i = 0; i < n; i++) o[oo + i] = f(x[xo + i]!, y[yo + i]!); return;
  }
}

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

/**
 * Sums of a contiguous x over a suffix of its dims (rows of n adjacent values) or a prefix (columns:
 * out[c] = Σ_r x[r, c]), into a float output; false when the layout is another one. Sums are kept
 * in float64, as the general path keeps them.
 */
function sumDirect(x: View, dims: readonly number[], out: View): boolean {
  const nd = x.shape.length, k = dims.length;
  const d = directOut(out);
  if (!d || k === 0 || !isContiguous(x.shape, x.strides)) return false;
  const set = new Set(dims);
  const suffix = dims.every((v) => v >= nd - k), prefix = dims.every((v) => v < k);
  if (set.size !== k || (!suffix && !prefix)) return false;
  const a = arr(x), xo = x.offset, o = d.o, oo = d.off;
  const total = shapeSize(x.shape), kept = d.n, n = kept === 0 ? 0 : total / kept;
  if (suffix) {
    for (let r = 0; r < kept; r++) {
      let acc = 0;
      for (let j = 0, p = xo + r * n; j < n; j++, p++) acc += a[p]!;
      o[oo + r] = acc;
    }
    return true;
  }
  const acc = new Float64Array(kept);
  for (let r = 0; r < n; r++) {
    const p = xo + r * kept;
    for (let c = 0; c < kept; c++) acc[c] += a[p + c]!;
  }
  for (let c = 0; c < kept; c++) o[oo + c] = acc[c]!;
  return true;
}

function reduce(op: 'sum' | 'max' | 'min' | 'argmax' | 'argmin', x: View, dims: readonly number[], out: View): void {
  if (op === 'sum' && sumDirect(x, dims, out)) return;
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
      const d = directOut(l.out), dx = d && direct(l.x, d.n);
      if (d && dx && typeof dx !== 'number' && l.compute !== 'int32') {
        const { o, off, n } = d, xa = dx.a, xo = dx.off, p0 = l.params[0] ?? 0, p1 = l.params[1] ?? 0;
        const f = def.cpu;
        if (l.op === 'clamp') {
          // clamp(min=0) of the seed's hidden layer: the table's rule, inlined.
          for (let i = 0; i < n; i++) {
            const v = xa[xo + i]!;
            o[off + i] = v !== v ? v : Math.min(Math.max(v, p0), p1);
          }
        } else for (let i = 0; i < n; i++) o[off + i] = f(xa[xo + i]!, p0, p1);
        return;
      }
      const x = reader(gather(l.x));
      const p0 = l.params[0] ?? 0, p1 = l.params[1] ?? 0;
      const c = computeCast(l.compute);
      store(l.out, c ? (i) => c(def.cpu(x(i), p0, p1)) : (i) => def.cpu(x(i), p0, p1));
      return;
    }
    case 'binary': {
      const f = binaryOps[l.op].cpu;
      const d = directOut(l.out);
      const da = d && direct(l.a, d.n), db = d && direct(l.b, d.n);
      if (d && da !== null && db !== null && l.compute !== 'int32') {
        binaryDirect(l.op, f, da, db, d.o, d.off, d.n);
        return;
      }
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
      const d = directOut(l.out), x0 = d && direct(l.x, d.n);
      if (d && x0 && typeof x0 !== 'number') {
        // Contiguous to contiguous float: one typed-array copy (float32 rounding is the store's).
        d.o.set(x0.a.subarray(x0.off, x0.off + d.n), d.off);
        return;
      }
      const x = reader(gather(l.x));
      const toInt = l.out.dtype === 'int32' && l.x.dtype !== 'int32';
      store(l.out, toInt ? (i) => castScalar(x(i), 'int32') : x);
      return;
    }
    case 'fill': {
      const d = directOut(l.out);
      if (d) d.o.fill(l.value, d.off, d.off + d.n);
      else store(l.out, () => l.value);
      return;
    }
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
    case 'gather': case 'scatter': case 'sort': case 'scan':
      runIndexing(l);
      return;
    default:
      l satisfies never;
  }
}

const pool = new HostPool();

/** The JS backend. Buffers are typed arrays, pooled by size; every launch runs synchronously. */
export const jsBackend: Backend = {
  device: 'cpu',
  limits: { maxBufferSize: 2 ** 31 - 1, dtypes: DTYPES, maxKernelBuffers: 64 },
  alloc: (numel, dtype) => pool.acquire(dtype, numel),
  write: (buf, _dtype, data) => (buf as HostArray).set(data),
  readSync: (buf, _dtype, offset, numel) => (buf as HostArray).slice(offset, offset + numel),
  read: async (buf, _dtype, offset, numel) => {
    const out = (buf as HostArray).slice(offset, offset + numel);
    if (pool.fresh >= YIELD_AFTER) {
      pool.fresh = 0;
      await nextTask();
    }
    return out;
  },
  release: (buf, dtype) => pool.release(buf as HostArray, dtype),
  launch: run,
  runFused,
  synchronize: async () => {},
};

/**
 * Which CPU kernels run: 'wasm' (WebAssembly SIMD, tensors in the wasm memory) where the engine
 * has SIMD, else 'js'. The environment variable WGTORCH_CPU=js|wasm chooses (Node; tests run the
 * suites under both).
 */
export const cpuKernels: 'wasm' | 'js' = pickKernels();

function pickKernels(): 'wasm' | 'js' {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.WGTORCH_CPU;
  if (env !== undefined && env !== '' && env !== 'js' && env !== 'wasm') {
    throw new RuntimeError(`WGTORCH_CPU must be 'js' or 'wasm', not '${env}'`);
  }
  if (env === 'js') return 'js';
  if (hasSimd()) return 'wasm';
  if (env === 'wasm') throw new RuntimeError('WGTORCH_CPU=wasm, but this JavaScript engine has no WebAssembly SIMD');
  return 'js';
}

/** The CPU backend the executor uses: the wasm one, with the JS kernels for what it does not cover. */
export const cpuBackend: Backend = cpuKernels === 'wasm' ? createWasmBackend(run) : jsBackend;
