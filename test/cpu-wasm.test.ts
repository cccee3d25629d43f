/**
 * The CPU backend's WebAssembly side: the bytecode emitter, the heap (pooling, growth), the SIMD
 * kernels against float64 / float32-rounded references, and the backend choice (WGTORCH_CPU).
 * The value checks run under both CPU backends (`WGTORCH_CPU=js` runs them on the JS kernels).
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { binaryOps, unaryOps } from '../src/ops/elementwise.js';
import { cpuBackend, cpuKernels } from '../src/backends/cpu/index.js';
import { assemble, f32, Func, i32, v128 } from '../src/backends/cpu/wasm/emitter.js';
import { sizeClass, WasmHeap } from '../src/backends/cpu/wasm/heap.js';
import { KernelCache } from '../src/backends/cpu/wasm/kernels.js';
import { mapKernel, type WasmOp } from '../src/backends/cpu/wasm/elementwise.js';
import type { FusedStats } from '../src/backends/cpu/wasm/fused.js';
import { runFused as runFusedJs } from '../src/backends/cpu/fused.js';
import type { FusedKernel, KNode } from '../src/kernel.js';
import type { View } from '../src/backend.js';
import type { BinaryOp, UnaryOp } from '../src/ops/elementwise.js';
import { contiguousStrides } from '../src/shape.js';
import { seedNet } from './seed-net.js';

const wasm = cpuBackend as typeof cpuBackend & { heap?: WasmHeap; kernels?: KernelCache; fused?: FusedStats };

/** Deterministic values in [-1, 1) with a few exact zeros (a tiny LCG, so failures reproduce). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return i % 17 === 5 ? 0 : Math.fround(s / 2 ** 31 - 1);
  });
}

describe('backend choice', () => {
  it('runs the wasm kernels unless WGTORCH_CPU=js', () => {
    expect(cpuKernels).toBe(process.env.WGTORCH_CPU === 'js' ? 'js' : 'wasm');
  });
});

describe('wasm emitter and heap', () => {
  it('assembles a function that runs', () => {
    // add3(a, b) = a + b + 3, then 4 + 5 + 3 = 12
    const f = new Func([i32, i32], [i32]);
    f.get(0).get(1).add().i32(3).add();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(assemble({ add3: f })), { env: { memory } });
    expect((inst.exports.add3 as (a: number, b: number) => number)(4, 5)).toBe(12);
    // a negative constant's signed LEB128: 7 + (-200) = -193
    const g = new Func([i32], [i32]);
    g.get(0).i32(-200).add();
    const inst2 = new WebAssembly.Instance(new WebAssembly.Module(assemble({ g })), { env: { memory } });
    expect((inst2.exports.g as (a: number) => number)(7)).toBe(-193);
  });

  it('rounds requests to size classes', () => {
    // 16-byte steps up to 1 KiB; then quarters of the power of two below: 1025 → 1024 + 256
    expect([1, 16, 17, 1024, 1025, 4096, 4097, 6000].map(sizeClass)).toEqual([16, 16, 32, 1024, 1280, 4096, 5120, 6144]);
  });

  it('reuses released blocks and keeps values when the memory grows', () => {
    const heap = new WasmHeap();
    const a = heap.alloc(4000);
    heap.release(a);
    expect(heap.alloc(3900)).toBe(a); // same class (4096): the block comes back
    heap.release(a);
    expect(heap.alloc(3000)).toBe(a); // class 3072, none free: the 4096 block (at most 2×) serves
    heap.release(a);
    expect(heap.alloc(1500)).not.toBe(a); // class 1536: 4096 is more than twice as large
    heap.array('float32', a, 3).set([1.5, -2, 3]);
    const before = heap.capacity;
    const big = heap.alloc(8 * 2 ** 20); // past the initial 1 MiB: the memory grows
    expect(heap.capacity).toBeGreaterThan(before);
    expect(big % 16).toBe(0);
    expect(Array.from(heap.array('float32', a, 3))).toEqual([1.5, -2, 3]);
  });

  it('serves a request from a larger free block when the memory cannot grow, else raises PyTorch\'s error', () => {
    const heap = new WasmHeap();
    const big = heap.alloc(3 * 2 ** 30); // 3 GiB of the 4 GiB wasm32 can address
    heap.release(big);
    // 2 GiB more cannot fit beside it: the free 3 GiB block serves it whole
    expect(heap.alloc(2 * 2 ** 30)).toBe(big);
    expect(() => heap.alloc(2 * 2 ** 30)).toThrow("DefaultCPUAllocator: can't allocate memory: you tried to allocate 2147483648 bytes.");
  });
});

describe('fused elementwise groups', () => {
  it('renders (a - b)² as one kernel over two operands, vector body and scalar tail', () => {
    const heap = new WasmHeap();
    const cache = new KernelCache(heap);
    // the loss's prologue in the seed: one pass instead of sub, then pow
    const sqdiff: WasmOp = {
      arity: 2,
      vec: (f, [a, b]) => { const t = f.local(v128); f.get(a!).get(b!).simd('f32x4_sub').tee(t).get(t).simd('f32x4_mul'); },
      sca: (f, [a, b]) => { const t = f.local(f32); f.get(a!).get(b!).op(0x93).tee(t).get(t).op(0x94); },
    };
    const n = 37, x = values(n, 7), y = values(n, 8);
    const pa = heap.alloc(4 * n), pb = heap.alloc(4 * n), po = heap.alloc(4 * n);
    heap.array('float32', pa, n).set(x);
    heap.array('float32', pb, n).set(y);
    const k = cache.get('fused:sqdiff:vv', () => ({ f: mapKernel(sqdiff, ['v', 'v']) }));
    (k.f as (...a: number[]) => void)(pa, pb, po, 1, n, 0, 0, 0, 0);
    const out = heap.array('float32', po, n);
    for (let i = 0; i < n; i++) {
      const d = Math.fround(x[i]! - y[i]!);
      expect(out[i], `element ${i}`).toBe(Math.fround(d * d));
    }
  });
});

describe.runIf(cpuKernels === 'wasm')('wasm backend memory', () => {
  it('hands out reads that survive memory growth, and tensors keep their values', () => {
    const t = torch.tensor([1, 2, 3, 4]);
    const d = t.dataSync();
    const cap = wasm.heap!.capacity;
    const big = torch.zeros(wasm.heap!.capacity / 4 + 1024); // larger than the whole memory
    // memory is bound when the tensor is first computed (here: read), and then it grows
    expect(Array.from(big.narrow(0, big.numel() - 1, 1).dataSync())).toEqual([0]);
    expect(wasm.heap!.capacity).toBeGreaterThan(cap);
    expect(Array.from(d)).toEqual([1, 2, 3, 4]);
    expect(Array.from(t.mul(2).dataSync())).toEqual([2, 4, 6, 8]);
    big.dispose();
  });

  it('returns disposed storage to the pool: a repeated step allocates nothing new', () => {
    const heap = wasm.heap!;
    const a = torch.rand(64, 64), b = torch.rand(64, 64);
    const step = () => torch.scope(() => void a.mul(b).sum().itemSync());
    step();
    const top = heap.top, live = heap.liveBytes;
    for (let i = 0; i < 100; i++) step();
    expect(heap.top).toBe(top);
    expect(heap.liveBytes).toBe(live);
  });

  it('compiles each kernel once, the fused groups included, and replays them as wasm', () => {
    const a = torch.rand(33), b = torch.rand(33);
    const step = () => {
      a.add(b).relu().sum().itemSync();
      torch.rand(5, 7).mm(torch.rand(7, 9)).mul(0.5).dataSync();
    };
    const fused = wasm.fused!;
    step();
    const n = wasm.kernels!.compiled, made = fused.compiled, ran = fused.wasm, js = fused.js;
    step();
    const perStep = fused.wasm - ran;
    step();
    expect(wasm.kernels!.compiled).toBe(n);
    expect(fused.compiled).toBe(made);
    // add + relu (the sum's prologue) and the product's mul(0.5) epilogue: fused kernels, both as wasm
    expect(made).toBeGreaterThanOrEqual(2);
    expect(perStep).toBeGreaterThanOrEqual(2);
    expect(fused.wasm - ran).toBe(2 * perStep);
    expect(fused.js).toBe(js);
    expect(n).toBeGreaterThanOrEqual(made + 2); // the fused kernels, the sum and the matmul modules
  });

  it("runs every fused kernel of the seed's SGD step as wasm", () => {
    const { step } = seedNet('cpu');
    step().itemSync();
    const fused = wasm.fused!;
    const ran = fused.wasm, js = fused.js, made = fused.compiled;
    step().itemSync();
    // forward clamp, the loss's (y' - y)², its gradient, clamp's backward, the two SGD updates, zero_
    expect(fused.wasm - ran).toBeGreaterThanOrEqual(4);
    expect(fused.js).toBe(js);
    expect(fused.compiled).toBe(made);
  });
});

describe.runIf(cpuKernels === 'wasm')('fused kernels as wasm, bit for bit against the JS renderer', () => {
  const bk = cpuBackend as typeof cpuBackend & { fused: FusedStats };
  const special = [NaN, -0, 0, Infinity, -Infinity, 1e-45, -3.4e38];
  /** Values of a dtype: float32 from the LCG with NaN, ±0, ±Infinity mixed in; bool 0/1. */
  function data(dtype: 'float32' | 'bool' | 'int32', n: number, seed: number): number[] {
    const v = values(n, seed);
    if (dtype === 'bool') return v.map((x) => +(x > 0));
    // small classes, -100 (an ignored target), and values float32 cannot hold (2^24 + 1, 2^31 - 1)
    if (dtype === 'int32') return v.map((x, i) => [-100, 16777217, 2147483647, -2147483648][i % 11] ?? Math.floor(x * 3));
    return v.map((x, i) => (i % 9 === 4 ? special[(i + seed) % special.length]! : x * 4));
  }
  interface In { dtype: 'float32' | 'bool' | 'int32'; numel: number; strides: number[]; offset?: number }
  /**
   * Runs one kernel of `shape` on the wasm backend and on typed arrays through the JS renderer and
   * compares every output element (Object.is: the same float32, NaN where NaN, -0 where -0).
   * `wasmRuns` false expects the kernel to be left to the JS renderer.
   */
  function same(shape: number[], ins: In[], nodes: KNode[], outs: { node: number; dtype: 'float32' | 'bool' | 'int32'; inplace?: number; strides?: number[] }[], wasmRuns = true, cache?: object): void {
    const n = shape.reduce((x, y) => x * y, 1);
    const strides = contiguousStrides(shape);
    const vals = ins.map((i, q) => data(i.dtype, i.numel, 11 * q + shape.length));
    const typed = (d: 'float32' | 'bool' | 'int32', v: number[]) => (d === 'bool' ? Uint8Array.from(v) : d === 'int32' ? Int32Array.from(v) : Float32Array.from(v));
    const build = (alloc: (numel: number, d: 'float32' | 'bool' | 'int32', v: number[] | null) => unknown): FusedKernel => {
      const inputs: View[] = ins.map((i, q) => ({ buf: alloc(i.numel, i.dtype, vals[q]!), dtype: i.dtype, shape, strides: i.strides, offset: i.offset ?? 0 }));
      return {
        shape, inputs, nodes, names: ['test'],
        outputs: outs.map((o) => ({ node: o.node, view: o.inplace !== undefined ? inputs[o.inplace]! : { buf: alloc(n, o.dtype, null), dtype: o.dtype, shape, strides: o.strides ?? strides, offset: 0 } })),
      };
    };
    const kw = build((numel, d, v) => {
      const b = bk.alloc(numel, d);
      bk.write(b, d, typed(d, v ?? new Array<number>(numel).fill(7)));
      return b;
    });
    const kj = build((numel, d, v) => typed(d, v ?? new Array<number>(numel).fill(7)));
    const before = bk.fused.wasm;
    bk.runFused(kw, 'test', cache);
    expect(bk.fused.wasm - before, 'ran as wasm').toBe(wasmRuns ? 1 : 0);
    runFusedJs(kj);
    // whole storages compared: a strided output's elements sit where its strides put them
    kw.outputs.forEach((o, q) => {
      const want = kj.outputs[q]!.view.buf as Float32Array, got = bk.readSync!(o.view.buf, o.view.dtype, 0, want.length);
      for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`output ${q} [${i}]: wasm ${got[i]}, JS ${want[i]}`);
    });
    for (const o of kw.outputs) if (!kw.inputs.includes(o.view)) bk.release(o.view.buf, o.view.dtype, n);
    for (const v of kw.inputs) bk.release(v.buf, v.dtype, 0);
  }
  const F = 'float32' as const, B = 'bool' as const, I = 'int32' as const;
  type D = typeof F | typeof B | typeof I;
  const load = (input: number, dtype: D = F): KNode => ({ op: 'load', input, dtype });
  const c = (value: number, dtype: D = F): KNode => ({ op: 'const', value, dtype });
  const bin = (f: BinaryOp, a: number, b: number, dtype: D = F, compute: D = F): KNode => ({ op: 'binary', f, a, b, compute, dtype });
  const un = (f: UnaryOp, x: number, params: number[] = []): KNode => ({ op: 'unary', f, x, params, compute: F, dtype: F });
  /** 37 elements: nine f32x4 steps and a tail of one. */
  const v37: In = { dtype: F, numel: 37, strides: [1] };

  it('(a - b)² · 0.1 + c: a constant float32 cannot hold is applied in float64, as the JS renderer does', () => {
    // sub, pow 2, mul by 0.1 (not a float32: computed in f64x2 halves, rounded), add
    same([37], [v37, v37, v37], [load(0), load(1), bin('sub', 0, 1), c(2), bin('pow', 2, 3), c(0.1), bin('mul', 4, 5), load(2), bin('add', 6, 7)], [{ node: 8, dtype: F }]);
    // the constant on the left of sub and div, and an exact one (0.5) in f32x4
    same([37], [v37], [load(0), c(1 / 3), bin('sub', 1, 0), bin('div', 1, 2), c(0.5), bin('mul', 3, 4)], [{ node: 5, dtype: F }, { node: 2, dtype: F }]);
  });

  it('kernels differing only in a value the code depends on (a pow exponent, a constant\'s float32-ness) stay apart', () => {
    // x^2 then x^1: one structure, two kernels
    same([37], [v37], [load(0), c(2), bin('pow', 0, 1)], [{ node: 2, dtype: F }]);
    same([37], [v37], [load(0), c(1), bin('pow', 0, 1)], [{ node: 2, dtype: F }]);
    // a plan's cache slot replayed with a constant that becomes inexact (a fill's value may change
    // between replays): the plan is derived again, the f64 code is used, nothing else is compiled twice
    const slot = {}, nodes = (v: number) => [load(0), c(v), bin('mul', 0, 1)];
    same([37], [v37], nodes(0.5), [{ node: 2, dtype: F }], true, slot);
    const compiled = bk.fused.compiled;
    same([37], [v37], nodes(0.25), [{ node: 2, dtype: F }], true, slot);
    expect(bk.fused.compiled).toBe(compiled);
    same([37], [v37], nodes(0.3), [{ node: 2, dtype: F }], true, slot);
    same([37], [v37], nodes(0.7), [{ node: 2, dtype: F }], true, slot);
    expect(bk.fused.compiled).toBeLessThanOrEqual(compiled + 1);
    // the same slot with the exponent of pow changing from 2 (x·x) to 3 (the reference pow per lane)
    const slot2 = {}, powNodes = (e: number) => [load(0), c(e), bin('pow', 0, 1)];
    same([37], [v37], powNodes(2), [{ node: 2, dtype: F }], true, slot2);
    same([37], [v37], powNodes(3), [{ node: 2, dtype: F }], true, slot2);
  });

  it('unary chains with NaN, ±0 and ±Infinity', () => {
    same([37], [v37], [load(0), un('abs', 0), un('neg', 1), un('clamp', 2, [-0.3, 0.7]), un('relu', 0), un('sqrt', 1), un('sign', 0), un('leakyRelu', 0, [0.01])],
      [3, 4, 5, 6, 7].map((node) => ({ node, dtype: F })));
    same([37], [v37], [load(0), un('floor', 0), un('ceil', 0), un('trunc', 0), un('frac', 0), un('reciprocal', 0), un('hardtanh', 0, [-1, 1]), bin('maximum', 0, 5), bin('minimum', 0, 5)],
      [1, 2, 3, 4, 5, 6, 7, 8].map((node) => ({ node, dtype: F })));
  });

  it('comparisons into bool outputs, logicalAnd, where and conversions both ways', () => {
    // relu's backward: where(y > 0, g, 0); masks as outputs; a mask used as 0/1 in arithmetic
    same([37], [v37, v37], [
      load(0), load(1), c(0), bin('gt', 0, 2, B), { op: 'where', c: 3, a: 1, b: 2, dtype: F },
      c(0.5), bin('le', 1, 5, B), bin('logicalAnd', 3, 6, B), { op: 'copy', x: 7, dtype: F }, bin('mul', 8, 1),
      { op: 'copy', x: 0, dtype: B }, { op: 'where', c: 0, a: 6, b: 3, dtype: B }, bin('ne', 0, 0, B), bin('eq', 0, 1, B),
    ], [{ node: 4, dtype: F }, { node: 7, dtype: B }, { node: 9, dtype: F }, { node: 10, dtype: B }, { node: 11, dtype: B }, { node: 12, dtype: B }, { node: 13, dtype: B }]);
    // a bool input: where(mask, a, -a) and a mask loaded and stored
    same([37], [{ dtype: B, numel: 37, strides: [1] }, v37], [load(0, B), load(1), un('neg', 1), { op: 'where', c: 0, a: 1, b: 2, dtype: F }, bin('lt', 1, 3, B)],
      [{ node: 3, dtype: F }, { node: 0, dtype: B }, { node: 4, dtype: B }]);
  });

  it('int32 values: compared, selected, converted, stored, and passed to reference functions exactly', () => {
    const i37: In = { dtype: I, numel: 37, strides: [1] };
    // cross-entropy's targets: mask = t != -100, where(mask, t, 0), as float32; int32 and bool outputs
    same([37], [i37, v37], [
      load(0, I), c(-100, I), bin('ne', 0, 1, B, I), c(0, I), { op: 'where', c: 2, a: 0, b: 3, dtype: I }, { op: 'copy', x: 4, dtype: F },
      load(1), bin('mul', 6, 0), bin('lt', 0, 3, B, I), { op: 'copy', x: 8, dtype: I }, { op: 'copy', x: 0, dtype: B }, { op: 'where', c: 0, a: 6, b: 0, dtype: F },
    ], [{ node: 4, dtype: I }, { node: 5, dtype: F }, { node: 2, dtype: B }, { node: 7, dtype: F }, { node: 9, dtype: I }, { node: 10, dtype: B }, { node: 11, dtype: F }]);
    // int32 rows, columns, single values and transposes: accuracy's pred == target
    same([5, 7], [{ dtype: I, numel: 35, strides: [1, 5] }, { dtype: I, numel: 7, strides: [0, 1] }, { dtype: I, numel: 5, strides: [1, 0] }, { dtype: I, numel: 1, strides: [0, 0] }],
      [load(0, I), load(1, I), load(2, I), load(3, I), bin('eq', 0, 1, B, I), bin('ge', 2, 3, B, I), bin('logicalAnd', 4, 5, B, I), { op: 'where', c: 6, a: 0, b: 2, dtype: I }],
      [{ node: 6, dtype: B }, { node: 7, dtype: I }, { node: 7, dtype: I, strides: [1, 5] }]);
  });

  it('broadcast rows, columns and single values against [5, 7], and a row of 3 (only a tail)', () => {
    const full: In = { dtype: F, numel: 35, strides: [7, 1] }, row: In = { dtype: F, numel: 7, strides: [0, 1] };
    const col: In = { dtype: F, numel: 5, strides: [1, 0] }, one: In = { dtype: F, numel: 1, strides: [0, 0] };
    // softmax's x - max, times a bias row, plus a single value; a bool column picks
    same([5, 7], [full, row, col, one, { dtype: B, numel: 5, strides: [1, 0] }],
      [load(0), load(1), load(2), load(3), bin('sub', 0, 2), bin('mul', 4, 1), bin('add', 5, 3), load(4, B), { op: 'where', c: 7, a: 6, b: 0, dtype: F }],
      [{ node: 8, dtype: F }, { node: 6, dtype: F }]);
    // an offset into a larger buffer, and rows of 3 elements
    same([4, 3], [{ dtype: F, numel: 15, strides: [3, 1], offset: 3 }, { dtype: F, numel: 3, strides: [0, 1] }], [load(0), load(1), bin('div', 0, 1), c(1e-3), bin('add', 2, 3)], [{ node: 4, dtype: F }]);
  });

  it('ops without exact SIMD code call their reference function per lane (transcendentals, inexact comparisons)', () => {
    same([37], [v37, v37], [
      load(0), load(1), un('exp', 0), un('tanh', 0), un('sigmoid', 1), un('abs', 0), un('log', 5), un('gelu', 1), un('softplus', 0, [2, 20]), un('elu', 1, [0.7]),
      bin('atan2', 0, 1), c(3), bin('pow', 0, 11), c(0.1), bin('lt', 0, 13, B), bin('ge', 13, 1, B), c(1 / 3), bin('fmod', 0, 16), bin('remainder', 1, 16),
      un('exp', 13), bin('mul', 2, 6),
    ], [...[2, 3, 4, 6, 7, 8, 9, 10, 12, 17, 18, 19, 20].map((node) => ({ node, dtype: F })), ...[14, 15].map((node) => ({ node, dtype: B }))]);
    // a [5, 7] softmax-like chain: exp(x - max) with a column
    same([5, 7], [{ dtype: F, numel: 35, strides: [7, 1] }, { dtype: F, numel: 5, strides: [1, 0] }], [load(0), load(1), bin('sub', 0, 1), un('exp', 2), un('log', 3)],
      [{ node: 3, dtype: F }, { node: 4, dtype: F }]);
  });

  it('writes in place over its input, and leaves int32 values and other strided views to the JS renderer', () => {
    // x ← x · 0.9 + 1 (an SGD-like update into the input's own storage)
    same([37], [v37], [load(0), c(0.9), bin('mul', 0, 1), c(1), bin('add', 2, 3)], [{ node: 4, dtype: F, inplace: 0 }]);
    const js = bk.fused.js;
    // a float32 → int32 conversion (a wrapping truncation the renderer does not reproduce)
    same([37], [v37], [load(0), c(1000), bin('mul', 0, 1), { op: 'copy', x: 2, dtype: 'int32' }], [{ node: 3, dtype: 'int32' }], false);
    // int32 arithmetic
    same([37], [{ dtype: I, numel: 37, strides: [1] }], [load(0, I), c(3, I), bin('add', 0, 1, I, I)], [{ node: 2, dtype: I }], false);
    // a permuted [4, 3, 2] → [2, 3, 4] view: no split into rows with one row stride and one element stride
    same([2, 3, 4], [{ dtype: F, numel: 24, strides: [1, 2, 6] }], [load(0), un('neg', 0)], [{ node: 1, dtype: F }], false);
    expect(bk.fused.js).toBe(js + 3);
  });

  it('reads and writes transposed views lane by lane (a weight gradient\'s layout), float32 and bool', () => {
    // [5, 7] from a [7, 5] tensor: rows of 7 with element stride 5; with a contiguous input and a row
    same([5, 7], [{ dtype: F, numel: 35, strides: [1, 5] }, { dtype: F, numel: 35, strides: [7, 1] }, { dtype: F, numel: 7, strides: [0, 1] }],
      [load(0), load(1), bin('mul', 0, 1), load(2), bin('sub', 2, 3), c(0.01), bin('mul', 4, 5)], [{ node: 6, dtype: F }]);
    // a bool mask transposed; a [3, 2, 4] view whose last two dims walk with one stride (12 = 3·4): rows of 8, element stride 3
    same([4, 6], [{ dtype: B, numel: 24, strides: [1, 4] }, { dtype: F, numel: 24, strides: [1, 4] }], [load(0, B), load(1), c(0), { op: 'where', c: 0, a: 1, b: 2, dtype: F }],
      [{ node: 3, dtype: F }, { node: 0, dtype: B }]);
    same([3, 2, 4], [{ dtype: F, numel: 24, strides: [1, 12, 3] }], [load(0), un('exp', 0)], [{ node: 1, dtype: F }]);
    // outputs stored transposed (a gradient accumulated into a transposed weight's storage), float32
    // and bool, with an SGD-like update in place over a transposed input
    same([5, 7], [{ dtype: F, numel: 35, strides: [1, 5] }, { dtype: F, numel: 35, strides: [7, 1] }], [load(0), un('neg', 0), c(0), bin('gt', 0, 2, B), load(1), c(0.1), bin('mul', 4, 5), bin('sub', 0, 6)],
      [{ node: 1, dtype: F, strides: [1, 5] }, { node: 3, dtype: B, strides: [1, 5] }, { node: 7, dtype: F, inplace: 0 }]);
    // a batched transpose ([2, 4, 3] of a [2, 3, 4] tensor) has no such split: the JS renderer
    same([2, 4, 3], [{ dtype: F, numel: 24, strides: [12, 1, 4] }], [load(0), un('exp', 0)], [{ node: 1, dtype: F }], false);
  });
});

describe('max, min, argmax, argmin over rows', () => {
  it('NaN wins, ties keep the first index, ±0 as the reference orders them', async () => {
    // row 0: a plain row (max 0.75 at 2, min -1 at 3); row 1: the first NaN (index 1) wins both,
    // the second one does not replace it; row 2: ties (max 2 first at 1; min -0 first at 0, then
    // +0 does not replace it)
    const rows = [[0.5, 0.25, 0.75, -1, 0.1], [1, NaN, 3, NaN, 5], [-0, 2, 0, 2, 1]];
    const t = torch.tensor(rows);
    const mx = t.max(1), mn = t.min(1);
    expect(Array.from(await mx.values.data())).toEqual([0.75, NaN, 2]);
    expect(Array.from(await mx.indices.data())).toEqual([2, 1, 1]);
    expect(Array.from(await mn.values.data())).toEqual([-1, NaN, -0]);
    expect(Object.is((await mn.values.data())[2], -0)).toBe(true);
    expect(Array.from(await mn.indices.data())).toEqual([3, 1, 0]);
    expect(Array.from(await t.argmax(1).data())).toEqual([2, 1, 1]);
    expect(await t.amax().item()).toBeNaN();
    // a longer row against the scalar rule, through amax/amin over the last dim
    const v = values(3 * 257, 9);
    const u = torch.tensor(v).reshape(3, 257);
    const [hi, lo] = [await u.amax(1).data(), await u.amin(1).data()];
    for (let r = 0; r < 3; r++) {
      const row = v.slice(r * 257, (r + 1) * 257);
      expect(hi[r]).toBe(Math.max(...row));
      expect(lo[r]).toBe(Math.min(...row));
    }
  });
});

describe('float32 matmul against float64 sums', () => {
  /**
   * |c - exact| ≤ K · 2^-24 · Σ_k |a_ik b_kj| bounds float32 accumulation (the classic dot-product
   * bound, doubled for the final rounding), so a wrong element, a stray tile or a misread stride fails.
   */
  async function check(M: number, K: number, N: number, how: 'plain' | 'at' | 'bt' | 'both' | 'offset'): Promise<void> {
    const av = values(M * K, M * 7 + K), bv = values(K * N, N * 13 + K);
    let a: torch.Tensor, b: torch.Tensor;
    const A = (i: number, k: number) => av[i * K + k]!, B = (k: number, j: number) => bv[k * N + j]!;
    if (how === 'at' || how === 'both') {
      const at = Array.from({ length: K * M }, (_, p) => A(p % M, Math.floor(p / M)));
      a = torch.tensor(at).reshape(K, M).t();
    } else if (how === 'offset') {
      a = torch.tensor([9, 9, 9, ...av]).narrow(0, 3, M * K).reshape(M, K);
    } else a = torch.tensor(av).reshape(M, K);
    if (how === 'bt' || how === 'both') {
      const bt = Array.from({ length: N * K }, (_, p) => B(p % K, Math.floor(p / K)));
      b = torch.tensor(bt).reshape(N, K).t();
    } else b = torch.tensor(bv).reshape(K, N);
    const c = await a.matmul(b).data();
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, abs = 0;
        for (let k = 0; k < K; k++) { s += A(i, k) * B(k, j); abs += Math.abs(A(i, k) * B(k, j)); }
        const err = Math.abs(c[i * N + j]! - s);
        if (err > 2 * K * 2 ** -24 * abs + 1e-30) expect.fail(`${M}×${K}×${N} ${how}: C[${i}, ${j}] = ${c[i * N + j]}, exact ${s}`);
      }
    }
  }
  it.each([
    [1, 1, 1, 'plain'], [3, 5, 7, 'plain'], [4, 8, 8, 'plain'], [13, 300, 17, 'at'], [9, 270, 11, 'bt'],
    [64, 1000, 100, 'plain'], [100, 64, 130, 'both'], [97, 513, 33, 'offset'], [130, 40, 2100, 'plain'],
  ] as const)('%i×%i · %i (%s)', async (M, K, N, how) => check(M, K, N, how));

  it('batched, with a broadcast operand, and K = 0', async () => {
    // [2, 3, 4] @ [4, 5]: the right operand is shared by both batches (batch stride 0)
    const a = torch.tensor(values(24, 1)).reshape(2, 3, 4), b = torch.tensor(values(20, 2)).reshape(4, 5);
    const got = await a.matmul(b).data();
    const av = await a.data(), bv = await b.data();
    for (let n = 0; n < 2; n++) for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += av[n * 12 + i * 4 + k]! * bv[k * 5 + j]!;
      expect(got[n * 15 + i * 5 + j]).toBeCloseTo(s, 6);
    }
    // a K = 0 product is all zeros (an empty sum), even in a reused block
    expect(Array.from(await torch.ones(2, 0).matmul(torch.ones(0, 3)).data())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('float64 stays exact', async () => {
    // [[1, 2], [3, 4]] @ [[0.1], [0.2]] = [[0.1 + 0.4], [0.3 + 0.8]] in float64
    const c = await torch.tensor([[1, 2], [3, 4]], { dtype: 'float64' }).matmul(torch.tensor([[0.1], [0.2]], { dtype: 'float64' })).data();
    expect(Array.from(c)).toEqual([1 * 0.1 + 2 * 0.2, 3 * 0.1 + 4 * 0.2]);
  });
});

describe('float32 elementwise against the reference scalar functions', () => {
  const f = Math.fround;
  /** n = 37 is not a multiple of 4: the vector loop and the scalar tail both run. */
  const n = 37;
  const x = values(n, 3), y = values(n, 4).map((v) => (v === 0 ? 0.5 : v));
  const xs = [...x, NaN, -0, Infinity, -Infinity];

  it.each(['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const)('%s: tensor–tensor, tensor–scalar, row broadcast', async (op) => {
    const ref = binaryOps[op].cpu;
    // tensor–tensor: the float64 result of float32 inputs, rounded once, is float32 arithmetic
    const tt = await (torch as unknown as Record<string, (a: torch.Tensor, b: torch.Tensor) => torch.Tensor>)[op]!(torch.tensor(x), torch.tensor(y)).data();
    x.forEach((v, i) => expect(Object.is(tt[i], f(ref(v, y[i]!))), `${op}[${i}]: ${tt[i]} vs ${f(ref(v, y[i]!))}`).toBe(true));
    if (op === 'maximum' || op === 'minimum') return;
    // tensor–scalar: the scalar is a float32 first, as PyTorch casts a Python scalar to the op's type
    const s = 0.3;
    const ts = await (torch.tensor(x) as unknown as Record<string, (b: number) => torch.Tensor>)[op]!(s).data();
    x.forEach((v, i) => expect(ts[i], `${op}(x, 0.3)[${i}]`).toBeCloseTo(f(ref(v, f(s))), 6));
    // a [5, 7] tensor with a [7] row: each row of the result is row r of x op the row
    const m = torch.tensor(x.slice(0, 35)).reshape(5, 7), row = torch.tensor(y.slice(0, 7));
    const tr = await (m as unknown as Record<string, (b: torch.Tensor) => torch.Tensor>)[op]!(row).data();
    for (let i = 0; i < 35; i++) expect(tr[i], `${op} row [${i}]`).toBe(f(ref(x[i]!, y[i % 7]!)));
    // a [5, 1] column against [5, 7]: row r of the result is row r of x op y[r]
    const col = torch.tensor(y.slice(0, 5)).reshape(5, 1);
    const tc = await (m as unknown as Record<string, (b: torch.Tensor) => torch.Tensor>)[op]!(col).data();
    for (let i = 0; i < 35; i++) expect(tc[i], `${op} column [${i}]`).toBe(f(ref(x[i]!, y[Math.floor(i / 7)]!)));
    // and the column on the left: y[r] op row r of x
    const tl = await (col as unknown as Record<string, (b: torch.Tensor) => torch.Tensor>)[op]!(m).data();
    for (let i = 0; i < 35; i++) expect(tl[i], `column ${op} [${i}]`).toBe(f(ref(y[Math.floor(i / 7)]!, x[i]!)));
  });

  it('neg, abs, sqrt, relu, clamp and pow(2), with NaN, ±0 and ±Infinity', async () => {
    const t = torch.tensor(xs);
    const cases: [string, torch.Tensor, (v: number) => number][] = [
      ['neg', t.neg(), (v) => unaryOps.neg.cpu(v)],
      ['abs', t.abs(), (v) => unaryOps.abs.cpu(v)],
      ['sqrt', t.abs().sqrt(), (v) => Math.sqrt(Math.abs(v))],
      ['relu', t.relu(), (v) => unaryOps.relu.cpu(v)],
      ['clamp', t.clamp({ min: -0.25, max: 0.5 }), (v) => unaryOps.clamp.cpu(v, -0.25, 0.5)],
      ['clamp(min=0)', t.clamp({ min: 0 }), (v) => unaryOps.clamp.cpu(v, 0, Infinity)],
      ['pow', t.pow(2), (v) => v * v],
      ['pow(x, 1)', t.pow(1), (v) => v],
    ];
    for (const [name, out, ref] of cases) {
      const got = await out.data();
      // relu(-0) is +0 in the reference (`x > 0 ? x : 0`), and so in the kernel
      xs.forEach((v, i) => expect(Object.is(got[i], f(ref(v))), `${name}(${v}) = ${got[i]}, want ${f(ref(v))}`).toBe(true));
    }
  });

  it.each(['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const)('%s into bool, tensor–tensor and tensor–scalar, NaN compares false', async (op) => {
    const ref = binaryOps[op].cpu;
    // ys shares some values with xs, so eq/le/ge see ties; NaN is unordered (only ne is true)
    const ys = xs.map((v, i) => (i % 3 === 0 ? v : xs[(i * 7) % xs.length]!));
    const got = await (torch.tensor(xs) as unknown as Record<string, (b: unknown) => torch.Tensor>)[op]!(torch.tensor(ys)).data();
    xs.forEach((v, i) => expect(got[i], `${op}(${v}, ${ys[i]})`).toBe(ref(v, ys[i]!)));
    const gs = await (torch.tensor(xs) as unknown as Record<string, (b: unknown) => torch.Tensor>)[op]!(0.5).data();
    xs.forEach((v, i) => expect(gs[i], `${op}(${v}, 0.5)`).toBe(ref(v, 0.5)));
  });

  it('where and logicalAnd', async () => {
    const c = torch.tensor(xs).gt(0), d = torch.tensor(xs).lt(0.5);
    const both = await c.logicalAnd(d).data();
    // 0 < x < 0.5, element by element (NaN is neither)
    xs.forEach((v, i) => expect(both[i], `0 < ${v} < 0.5`).toBe(+(v > 0 && v < 0.5)));
    const a = torch.tensor(xs), b = torch.tensor(xs.map((v) => -v));
    const w = await torch.where(c, a, b).data();
    xs.forEach((v, i) => expect(Object.is(w[i], v > 0 ? f(v) : f(-v)), `where[${i}]`).toBe(true));
    const w0 = await a.where(c, 0).data(); // relu's gradient shape: g.where(mask, 0)
    xs.forEach((v, i) => expect(Object.is(w0[i], v > 0 ? f(v) : 0), `where(c, x, 0)[${i}]`).toBe(true));
  });

  it('sums rows, whole tensors and leading dims like a float64 sum rounded once', async () => {
    const v = values(6 * 1001, 5);
    const t = torch.tensor(v).reshape(6, 1001);
    const rows = await t.sum(1).data();
    for (let r = 0; r < 6; r++) {
      let s = 0;
      for (let j = 0; j < 1001; j++) s += v[r * 1001 + j]!;
      expect(Math.abs(rows[r]! - s)).toBeLessThanOrEqual(Math.abs(s) * 2 ** -23 + 1e-12);
    }
    const all = await t.sum().item();
    expect(all).toBeCloseTo(v.reduce((a, b) => a + b, 0), 4);
    // over the leading dim: float64 sums in row order, rounded once, so equal to the reference exactly
    const cols = await t.sum(0).data();
    for (let c = 0; c < 1001; c++) expect(cols[c], `column ${c}`).toBe(f([0, 1, 2, 3, 4, 5].reduce((a, r) => a + v[r * 1001 + c]!, 0)));
  });
});
