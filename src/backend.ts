import type { DType, HostArray } from './dtype.js';
import type { Epilogue, FusedKernel } from './kernel.js';
import type { UnaryOp, BinaryOp } from './ops/elementwise.js';

/** The devices wgtorch runs on. */
export type Device = 'cpu' | 'webgpu';

/**
 * A backend's buffer: an object (a typed array for the JS kernels, a block of the wasm memory, a
 * GPUBuffer wrapper on WebGPU), opaque above the backend. The executor keeps what it knows of the
 * buffer on the handle: handle classes extend BufferNote (buffer-note.ts); another object gets one
 * in its property `ex`, a name backends do not use.
 */
export type BufferHandle = unknown;

/** A strided window onto a buffer: what every kernel reads and writes. Offsets and strides count elements. */
export interface View {
  readonly buf: BufferHandle;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** An elementwise operand: a tensor view, or a scalar folded into the kernel's parameters. */
export type Operand = View | number;

export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

/**
 * One kernel launch. Every op's forward and every gradient rule is a sequence of these; nothing else
 * touches a device. Inputs of elementwise kinds are already broadcast: their shapes equal `out.shape`
 * (broadcast dims have stride 0). `compute` is the dtype inputs are converted to before the op.
 */
export type Launch =
  | { kind: 'unary'; op: UnaryOp; x: View; out: View; compute: DType; params: readonly number[] }
  | { kind: 'binary'; op: BinaryOp; a: Operand; b: Operand; out: View; compute: DType }
  | { kind: 'where'; cond: View; a: Operand; b: Operand; out: View }
  /** Reduces x over `dims`; out is contiguous with x's shape where reduced dims are 1. */
  | { kind: 'reduce'; op: ReduceOp; x: View; dims: readonly number[]; out: View }
  /** out[b] = a[b] @ b[b]: a is [B, M, K], b is [B, K, N] (any strides), out is contiguous [B, M, N]. */
  | { kind: 'matmul'; a: View; b: View; out: View }
  /** Strided copy with dtype conversion: out[i] = x[i] elementwise over out.shape. */
  | { kind: 'copy'; x: View; out: View }
  | { kind: 'fill'; out: View; value: number }
  /** Counter-based random numbers: element i of out gets sample (seed, counter + i). */
  | { kind: 'random'; dist: 'uniform' | 'normal'; out: View; seed: number; counter: number }
  // Indexing kinds (src/ops/indexing.ts; kernels in backends/*/indexing.ts). Index views are int32.
  /** out[i] = x[i with its `dim` coordinate replaced by index[i]]; index has out's shape. */
  | { kind: 'gather'; x: View; index: View; dim: number; out: View }
  /**
   * out = self, then for every j of index's shape: out[j with its `dim` coordinate replaced by
   * index[j]] is set to src[j] ('assign': the last j in row-major order wins) or adds it ('add').
   */
  | { kind: 'scatter'; mode: 'assign' | 'add'; self: View; index: View; src: View; dim: number; out: View }
  /** Stable sort of x along dim (NaN sorts as the largest value): values in out, int32 source positions in indices. */
  | { kind: 'sort'; x: View; dim: number; descending: boolean; out: View; indices: View }
  /** Cumulative sum or product along dim; `exclusive` leaves each element out, `reverse` runs from the end. */
  | { kind: 'scan'; op: 'sum' | 'prod'; x: View; dim: number; exclusive: boolean; reverse: boolean; out: View };

export type LaunchKind = Launch['kind'];

/** Static facts about a device that ops must respect. */
export interface DeviceLimits {
  /** Largest buffer, in bytes. */
  readonly maxBufferSize: number;
  readonly dtypes: readonly DType[];
  /** Most distinct buffers one kernel may bind (the scheduler splits fused kernels to fit). */
  readonly maxKernelBuffers: number;
}

/**
 * What a device implements: buffers plus one entry point for launches. Both the CPU and the WebGPU
 * backend implement this; ops never see which one they run on.
 */
export interface Backend {
  readonly device: Device;
  readonly limits: DeviceLimits;
  /** A buffer of `numel` elements of `dtype`; its contents are unspecified (it may come from a pool). */
  alloc(numel: number, dtype: DType): BufferHandle;
  /** Uploads host data into a whole buffer. */
  write(buf: BufferHandle, dtype: DType, data: HostArray): void;
  /** Reads `numel` elements starting at element `offset` (contiguous range) back to the host. */
  read(buf: BufferHandle, dtype: DType, offset: number, numel: number): Promise<HostArray>;
  /** Synchronous read; only the CPU backend has it. */
  readSync?(buf: BufferHandle, dtype: DType, offset: number, numel: number): HostArray;
  /** Returns a buffer to the backend (a pool, or the garbage collector). */
  release(buf: BufferHandle, dtype: DType, numel: number): void;
  /**
   * Runs, or enqueues, one kernel launch. Called by the executor (src/executor.ts) when the graph is
   * realized; `label` names the op (and where it was called, when known) for error messages.
   * `cache` is the plan step's slot, as for runFused().
   */
  launch(l: Launch, label?: string, epilogue?: Epilogue, prologue?: FusedKernel, cache?: object): void;
  /**
   * Whether launch() takes a matmul's epilogue into its kernel; otherwise the executor runs the
   * epilogue as a fused kernel right after the matmul.
   */
  readonly epilogues?: boolean;
  /**
   * Whether launch() computes a reduction's prologue (its only output's view is the reduce's x,
   * its inputs share x's strides and offset) as it reads; otherwise the executor runs it into a
   * scratch buffer first.
   */
  readonly prologues?: boolean;
  /**
   * Runs, or enqueues, a fused elementwise kernel (src/kernel.ts) built by the scheduler. `cache`
   * is the same object each time a cached plan replays this step: the backend may keep what it
   * derived from the kernel's structure there (its pipeline, parameters), never buffers (the
   * WebGPU backend keeps which of the kernel's buffers each binding is, not the buffers).
   */
  runFused(k: FusedKernel, label: string, cache?: object): void;
  /**
   * Checks a launch when it is recorded (the device is alive, the buffers are its own), so errors
   * are thrown at the op's call site, not later when the graph runs; optional.
   */
  validate?(l: Launch): void;
  /**
   * The steps of a plan (src/plans.ts) are about to be run; `slot` is the same object each time the
   * plan replays, for what the backend keeps per plan (the WebGPU backend: which memory its outputs
   * were bound to). planEnd() follows when they have run, or failed; both optional.
   */
  planBegin?(slot: object, kernels: number): void;
  planEnd?(): void;
  /** Waits until every enqueued launch has finished. */
  synchronize(): Promise<void>;
}
