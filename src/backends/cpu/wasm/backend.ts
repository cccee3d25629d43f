import type { Backend, Launch, Operand, ReduceOp, View } from '../../../backend.js';
import { cpuAllocError, DTYPES, ITEM_BYTES as ITEM, type DType, type HostArray } from '../../../dtype.js';
import { RuntimeError } from '../../../errors.js';
import { BufferNote } from '../../../buffer-note.js';
import { isContiguous } from '../../../shape.js';
import { colSumKernel, compareKernel, compareOps, extremeKernel, logicalAndKernel, mapKernel, rowSumKernel, wasmOps, whereKernel, type CompareOp, type Kind, type WasmOpName } from './elementwise.js';
import { WasmHeap } from './heap.js';
import { KernelCache, Scratch, WasmMatmul } from './kernels.js';
import { nextTask, YIELD_AFTER } from '../tasks.js';
import { runFused as runFusedJs } from '../fused.js';
import { layoutOf, WasmFused, type FusedStats } from './fused.js';
import type { FusedKernel } from '../../../kernel.js';

/**
 * A CPU buffer: its byte address in the wasm memory (0 until the first kernel or write needs it)
 * and its size. Memory is bound on first use, so a tensor whose kernel never runs (the executor
 * keeps a recipe for intermediates nobody reads) never takes a block: a loop of `a.mul(b).sum()`
 * allocates nothing for the product.
 */
/** A tensor's block of the wasm memory: its address once bound (0 before), elements and bytes. */
class WasmBuf extends BufferNote {
  ptr = 0;
  constructor(
    readonly numel: number,
    readonly bytes: number,
  ) {
    super();
  }
}

/** Reused blocks below this many bytes are cleared, as the JS backend's fresh small arrays were. */
const CLEAR_BELOW = 64 * 1024;

const buf = (v: View) => v.buf as WasmBuf;
const size = (shape: readonly number[]) => shape.reduce((n, s) => n * s, 1);

/** An elementwise operand as the SIMD kernels take it, or null when its layout needs the general walk. */
type Arg = { kind: Kind; ptr: number; value: number; L: number };

function classify(v: Operand, shape: readonly number[]): Arg | null {
  if (typeof v === 'number') return { kind: 's', ptr: 0, value: v, L: 0 };
  if (v.dtype !== 'float32') return null;
  const lay = layoutOf(v, shape);
  // a broadcast single value is walked as a row of one element here (the map kernels' 's' is a parameter)
  if (!lay || lay.kind === 's') return lay && shape.length > 0 ? { kind: 'r', ptr: buf(v).ptr + 4 * v.offset, value: 0, L: 1 } : null;
  return { kind: lay.kind, ptr: buf(v).ptr + 4 * v.offset, value: 0, L: lay.L };
}

/** A contiguous operand of `dtype` ('v') or a scalar ('s'), or null for any other layout. */
function flat(v: Operand, dtype: DType): { kind: 'v' | 's'; ptr: number; value: number } | null {
  if (typeof v === 'number') return { kind: 's', ptr: 0, value: v };
  if (v.dtype !== dtype || !isContiguous(v.shape, v.strides)) return null;
  return { kind: 'v', ptr: buf(v).ptr + ITEM[dtype] * v.offset, value: 0 };
}

const contiguousOf = (v: View, dtype: DType) => v.dtype === dtype && isContiguous(v.shape, v.strides);

/**
 * The CPU backend on WebAssembly: every buffer lives in one wasm memory (WasmHeap), so SIMD kernels
 * read and write tensors in place. The executor's fused elementwise groups are rendered to wasm
 * kernels (./fused.ts); those it does not cover run through the JS renderer, on the same memory. Layouts and dtypes the kernels do not cover run through the JS
 * reference kernels (`runJs`) on typed-array views of the same memory, made per launch (a view
 * made before the memory grows would be detached), and reads copy out.
 */
export function createWasmBackend(runJs: (l: Launch) => void): Backend & { readonly heap: WasmHeap; readonly kernels: KernelCache; readonly fused: FusedStats } {
  const heap = new WasmHeap();
  const kernels = new KernelCache(heap);
  const scratch = new Scratch(heap);
  const mm = new WasmMatmul(heap, kernels, scratch);
  /** Gives `b` its block (cleared when reused and small: fresh memory is zero, as new arrays were). */
  const bind = (b: WasmBuf): WasmBuf => {
    if (b.ptr !== 0 || b.bytes === 0) return b;
    const reused = heap.pooledBytes;
    b.ptr = heap.alloc(b.bytes);
    if (heap.pooledBytes !== reused && b.bytes < CLEAR_BELOW) heap.array('bool', b.ptr, b.bytes).fill(0);
    return b;
  };
  /**
   * Binds every buffer a launch names before any typed array is made: binding may grow the
   * memory, which detaches the arrays made before.
   */
  const bindValue = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(bindValue);
    else if (v !== null && typeof v === 'object' && 'buf' in v) bind((v as View).buf as WasmBuf);
  };
  const view = (b: WasmBuf, dtype: DType) => heap.array(dtype, b.ptr, b.numel);
  const fused = new WasmFused(kernels, (v) => buf(v).ptr + ITEM[v.dtype] * v.offset);

  /** The launch with each buffer replaced by a typed array over the memory (for the JS kernels). */
  function onHost(l: Launch): Launch {
    const host = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(host)
      : v !== null && typeof v === 'object' && 'buf' in v ? { ...v, buf: view(v.buf as WasmBuf, (v as View).dtype) }
      : v;
    const m: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(l)) m[k] = host(v);
    return m as Launch;
  }

  /**
   * The executor's fused kernel on typed arrays over the memory: one typed array per buffer, so
   * the JS renderer still sees two views of one buffer as the same memory.
   */
  function fusedOnHost(k: FusedKernel): FusedKernel {
    const arrays = new Map<WasmBuf, HostArray>();
    const host = (v: View): View => {
      const b = buf(v);
      let a = arrays.get(b);
      if (!a) arrays.set(b, (a = view(b, v.dtype)));
      return { ...v, buf: a };
    };
    return { ...k, inputs: k.inputs.map(host), outputs: k.outputs.map((o) => ({ ...o, view: host(o.view) })) };
  }

  function elementwise(op: WasmOpName, xs: Operand[], out: View, params: readonly number[]): boolean {
    if (out.dtype !== 'float32' || !isContiguous(out.shape, out.strides)) return false;
    const n = size(out.shape);
    const args: Arg[] = [];
    let L = 0;
    for (const x of xs) {
      const a = classify(x, out.shape);
      if (!a) return false;
      if (a.kind === 'r' || a.kind === 'c') {
        if (L !== 0 && a.L !== L) return false;
        L = a.L;
      }
      args.push(a);
    }
    if (args.every((a) => a.kind === 's')) return false;
    if (n === 0) return true;
    if (L === 0) L = n;
    const kinds = args.map((a) => a.kind);
    const e = kernels.get(`map:${op}:${kinds.join('')}`, () => ({ map: mapKernel(op, kinds) }));
    (e.map as (...a: number[]) => void)(
      ...args.map((a) => a.ptr), buf(out).ptr + 4 * out.offset, n / L, L, ...args.map((a) => a.value), params[0] ?? 0, params[1] ?? 0,
    );
    return true;
  }

  /**
   * Reductions of a contiguous float32 x over a suffix of its dims (rows of L values: sums in
   * float64, max/min/argmax/argmin) or, for sums, over a prefix (columns).
   */
  function reduce(op: ReduceOp, x: View, dims: readonly number[], out: View): boolean {
    const nd = x.shape.length, k = dims.length;
    const outType = op === 'argmax' || op === 'argmin' ? 'int32' : 'float32';
    if (!contiguousOf(x, 'float32') || !contiguousOf(out, outType) || k === 0 || new Set(dims).size !== k) return false;
    const suffix = dims.every((d) => d >= nd - k), prefix = dims.every((d) => d < k);
    const kept = size(out.shape), total = size(x.shape);
    if (total === 0 || !(suffix || (prefix && op === 'sum'))) return false;
    const px = buf(x).ptr + 4 * x.offset, po = buf(out).ptr + 4 * out.offset;
    if (suffix && op === 'sum') {
      const e = kernels.get('rowsum', () => ({ f: rowSumKernel() }));
      (e.f as (...a: number[]) => void)(px, po, kept, total / kept);
    } else if (suffix) {
      const e = kernels.get(`extreme:${op}`, () => ({ f: extremeKernel(op as 'max' | 'min' | 'argmax' | 'argmin') }));
      (e.f as (...a: number[]) => void)(px, po, kept, total / kept);
    } else {
      const e = kernels.get('colsum', () => ({ f: colSumKernel() }));
      (e.f as (...a: number[]) => void)(px, po, total / kept, kept, scratch.take(8 * (kept + 1)));
    }
    return true;
  }

  /** Comparisons of float32 operands into bool. A scalar must be a float32 value, so the result is the JS reference's. */
  function compare(op: CompareOp, a: Operand, b: Operand, out: View): boolean {
    if (!contiguousOf(out, 'bool')) return false;
    const x = flat(a, 'float32'), y = flat(b, 'float32');
    if (!x || !y || (x.kind === 's' && y.kind === 's')) return false;
    if ([x, y].some((o) => o.kind === 's' && Math.fround(o.value) !== o.value && o.value === o.value)) return false;
    const e = kernels.get(`cmp:${op}:${x.kind}${y.kind}`, () => ({ f: compareKernel(op, [x.kind, y.kind]) }));
    (e.f as (...a: number[]) => void)(x.ptr, y.ptr, buf(out).ptr + out.offset, size(out.shape), x.value, y.value);
    return true;
  }

  function logicalAnd(a: Operand, b: Operand, out: View): boolean {
    if (typeof a === 'number' || typeof b === 'number' || !contiguousOf(a, 'bool') || !contiguousOf(b, 'bool') || !contiguousOf(out, 'bool')) return false;
    const e = kernels.get('and', () => ({ f: logicalAndKernel() }));
    (e.f as (...a: number[]) => void)(buf(a).ptr + a.offset, buf(b).ptr + b.offset, buf(out).ptr + out.offset, size(out.shape));
    return true;
  }

  function where(l: Extract<Launch, { kind: 'where' }>): boolean {
    const { cond, out } = l;
    if (!contiguousOf(cond, 'bool') || !contiguousOf(out, 'float32')) return false;
    const x = flat(l.a, 'float32'), y = flat(l.b, 'float32');
    if (!x || !y || (x.kind === 's' && y.kind === 's')) return false;
    const e = kernels.get(`where:${x.kind}${y.kind}`, () => ({ f: whereKernel([x.kind, y.kind]) }));
    (e.f as (...a: number[]) => void)(buf(cond).ptr + cond.offset, x.ptr, y.ptr, buf(out).ptr + 4 * out.offset, size(out.shape), x.value, y.value);
    return true;
  }

  function matmul(l: Extract<Launch, { kind: 'matmul' }>): boolean {
    const { a, b, out } = l;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || out.dtype !== 'float32') return false;
    const [B, M, K] = a.shape as [number, number, number];
    const N = b.shape[2]!;
    if (M === 0 || N === 0) return true;
    for (let i = 0; i < B; i++) {
      mm.run(
        { ptr: buf(a).ptr + 4 * (a.offset + i * a.strides[0]!), rs: a.strides[1]!, cs: a.strides[2]! },
        { ptr: buf(b).ptr + 4 * (b.offset + i * b.strides[0]!), rs: b.strides[1]!, cs: b.strides[2]! },
        buf(out).ptr + 4 * (out.offset + i * M * N), M, K, N,
      );
    }
    return true;
  }

  /** Runs l with a SIMD kernel when one covers it; false sends it to the JS kernels. */
  function fast(l: Launch): boolean {
    switch (l.kind) {
      case 'matmul':
        return matmul(l);
      case 'binary':
        if (l.op === 'logicalAnd') return logicalAnd(l.a, l.b, l.out);
        if (l.compute !== 'float32') return false;
        if (l.op in compareOps) return compare(l.op as CompareOp, l.a, l.b, l.out);
        // x² and x¹ (the gradient of x²) are exact as float32 arithmetic; other powers stay in JS
        if (l.op === 'pow') return (l.b === 2 || l.b === 1) && elementwise(l.b === 2 ? 'square' : 'identity', [l.a], l.out, []);
        return l.op in wasmOps && elementwise(l.op as WasmOpName, [l.a, l.b], l.out, []);
      case 'unary':
        return l.compute === 'float32' && l.op in wasmOps && elementwise(l.op as WasmOpName, [l.x], l.out, l.params);
      case 'where':
        return where(l);
      case 'reduce':
        return reduce(l.op, l.x, l.dims, l.out);
      default:
        return false;
    }
  }

  return {
    device: 'cpu',
    limits: { maxBufferSize: 2 ** 31 - 1, dtypes: DTYPES, maxKernelBuffers: 64 },
    heap,
    kernels,
    fused: fused.stats,
    alloc(numel, dtype) {
      const bytes = numel * ITEM[dtype];
      // what no memory can hold fails here, at the op; growth itself happens when the block is bound
      if (bytes > heap.maxBytes) throw new RuntimeError(cpuAllocError(bytes));
      // counted now, bound or not: the collector must return the tensors themselves
      heap.made(bytes);
      return new WasmBuf(numel, bytes);
    },
    write: (b, dtype, data) => view(bind(b as WasmBuf), dtype).set(data),
    readSync: (b, dtype, offset, numel) => heap.array(dtype, bind(b as WasmBuf).ptr + offset * ITEM[dtype], numel).slice(),
    read: async (b, dtype, offset, numel): Promise<HostArray> => {
      const out = heap.array(dtype, bind(b as WasmBuf).ptr + offset * ITEM[dtype], numel).slice();
      if (heap.fresh >= YIELD_AFTER) {
        heap.fresh = 0;
        await nextTask();
      }
      return out;
    },
    release: (b) => {
      const w = b as WasmBuf;
      if (w.ptr !== 0) heap.release(w.ptr);
      w.ptr = 0;
      heap.returned(w.bytes);
    },
    launch: (l) => {
      for (const f in l) bindValue((l as unknown as Record<string, unknown>)[f]);
      if (!fast(l)) runJs(onHost(l));
    },
    // Fused groups the wasm renderer does not cover (./fused.ts) run through the JS renderer.
    runFused: (k, _label, cache) => {
      for (const v of k.inputs) bind(v.buf as WasmBuf);
      for (const o of k.outputs) bind(o.view.buf as WasmBuf);
      if (!fused.run(k, cache)) runFusedJs(fusedOnHost(k));
    },
    synchronize: async () => {},
  };
}
