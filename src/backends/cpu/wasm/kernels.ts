import { assemble, Func, type Import } from './emitter.js';
import type { WasmHeap } from './heap.js';
import { gemm, packA, packB } from './matmul.js';

/** Whether this engine runs WebAssembly SIMD (a module holding one v128 instruction validates). */
export function hasSimd(): boolean {
  return validates(new Func([], [0x7b]).v128Zero());
}

/** Whether it also has relaxed SIMD's fused multiply-add (then the matmul micro-kernel uses it). */
export function hasRelaxedMadd(): boolean {
  return validates(new Func([], [0x7b]).v128Zero().v128Zero().v128Zero().simd('f32x4_relaxed_madd'));
}

function validates(f: Func): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(assemble({ f }));
  } catch {
    return false;
  }
}

/** A module's functions and the JS functions it imports (each with its signature). */
export interface Module {
  readonly funcs: Record<string, Func>;
  readonly imports: readonly (Import & { readonly fn: (...a: number[]) => number })[];
}

/**
 * Compiled kernel modules, keyed by a structural string (the op and operand layouts), all bound to
 * the heap's one memory. A key is compiled once per process; `WebAssembly.Module` compiles
 * synchronously, which is allowed for modules this small on the main thread of every browser.
 */
export class KernelCache {
  private readonly cache = new Map<string, WebAssembly.Exports>();
  /** How many modules were compiled (tests check that a repeated launch compiles nothing). */
  compiled = 0;

  constructor(private readonly heap: WasmHeap) {}

  /** The exports of the module `build()` describes (its functions, or a Module), compiled on first use of `key`. */
  get(key: string, build: () => Record<string, Func> | Module): WebAssembly.Exports {
    let e = this.cache.get(key);
    if (!e) {
      const b = build();
      const m: Module = Array.isArray((b as Module).imports) ? (b as Module) : { funcs: b as Record<string, Func>, imports: [] };
      const env: WebAssembly.ModuleImports = { memory: this.heap.memory };
      for (const i of m.imports) env[i.name] = i.fn;
      e = new WebAssembly.Instance(new WebAssembly.Module(assemble(m.funcs, m.imports)), { env }).exports;
      this.cache.set(key, e);
      this.compiled++;
    }
    return e;
  }
}

/** Micro-kernel rows: 4×8 leaves x86-64's 16 vector registers room for B's two vectors and A's splat. */
const MR_DEFAULT = 4;
/** K chunk (a packed B panel is KC·8·4 = 8 KiB, in L1) and M block (the packed A block, 96 KiB, in L2). */
const KC = 256, MC = 96;
/** N block: B's packed chunk is KC·NC·4 bytes (2 MiB), read once per M block. */
const NC = 2048;

type MatmulExports = {
  packA: (src: number, rs: number, cs: number, dst: number, mc: number, kc: number) => void;
  packB: (src: number, rs: number, cs: number, dst: number, kc: number, nc: number) => void;
  gemm: (mc: number, nc: number, kc: number, ap: number, bp: number, c: number, ldc: number, first: number, tile: number) => void;
};

/**
 * Scratch memory for kernels (packed panels, float64 accumulators): one block, grown and never
 * shrunk, valid until the next `take` — launches run one at a time.
 */
export class Scratch {
  private ptr = 0;
  private bytes = 0;

  constructor(private readonly heap: WasmHeap) {}

  /** The address of at least `bytes` bytes, 16-byte aligned. */
  take(bytes: number): number {
    if (this.bytes < bytes) {
      if (this.bytes) this.heap.release(this.ptr);
      this.ptr = this.heap.alloc(bytes);
      this.bytes = bytes;
    }
    return this.ptr;
  }
}

/** Strided operand of a float32 matmul: byte address of element [0, 0] and element strides. */
export interface MatOperand { ptr: number; rs: number; cs: number }

/**
 * float32 C[M, N] (contiguous, at byte address c) = A[M, K] · B[K, N], blocked for the caches.
 * Scratch panels come from the heap and are kept for the next call.
 */
export class WasmMatmul {
  constructor(
    private readonly heap: WasmHeap,
    private readonly kernels: KernelCache,
    private readonly scratch: Scratch,
    private readonly fma = hasRelaxedMadd(),
    /** Micro-kernel rows (bench/NOTES.md compares 4, 6 and 8); MC must stay a multiple of it. */
    private readonly MR = MR_DEFAULT,
  ) {}

  /** C = A · B; a K of 0 gives zeros (an empty sum). */
  run(A: MatOperand, B: MatOperand, c: number, M: number, K: number, N: number): void {
    const MR = this.MR;
    const e = this.kernels.get(`matmul:${MR}:${this.fma}`, () => ({ packA: packA(MR), packB: packB(), gemm: gemm(MR, this.fma) })) as unknown as MatmulExports;
    if (K === 0) {
      this.heap.array('float32', c, M * N).fill(0);
      return;
    }
    const kcMax = Math.min(KC, K), ncMax = Math.min(NC, (N + 7) & ~7), mcMax = Math.min(MC, Math.ceil(M / MR) * MR);
    const apBytes = 4 * mcMax * kcMax, bpBytes = 4 * kcMax * ncMax, tileBytes = 4 * MR * 8;
    const s = this.scratch.take(apBytes + bpBytes + tileBytes);
    const ap = s, bp = s + apBytes, tile = bp + bpBytes;
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        e.packB(B.ptr + 4 * (pc * B.rs + jc * B.cs), B.rs, B.cs, bp, kc, nc);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic);
          e.packA(A.ptr + 4 * (ic * A.rs + pc * A.cs), A.rs, A.cs, ap, mc, kc);
          e.gemm(mc, nc, kc, ap, bp, c + 4 * (ic * N + jc), N, pc === 0 ? 1 : 0, tile);
        }
      }
    }
  }
}
