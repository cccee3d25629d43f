/**
 * The WebGPU backend. Launches are encoded into one command encoder (their dispatches share a compute
 * pass) and submitted on a read, on synchronize(), or when the batch reaches `batchLimit` launches.
 * Errors are captured with error scopes around each batch and thrown, typed, from the next read or
 * synchronize(), naming the launch (bind groups carry the name of the launch that created them).
 *
 * What a dispatch costs in JS is kept small, because a replayed training step is little else:
 * - Uniform parameters of a batch live in one arena buffer written once per submit; each dispatch
 *   has its own slice. The slice's offset is part of the bind group (no dynamic offset: lavapipe
 *   maps and unmaps memory for every dispatch that has one), and a replayed step writes its
 *   dispatches' slices at the same offsets each time.
 * - Bind groups (Dawn's most expensive call per dispatch) are cached by pipeline layout, arena
 *   chunk and offset, and the pooled buffers they bind. The key is the memory, not the tensor, so a cached
 *   group always binds what the dispatch asks for, whoever owns that memory now. A binding that has
 *   no memory yet (an output) takes free memory a cached group of the same dispatch binds, when
 *   there is such (bindFree()), rather than the pool's oldest; while a cached plan runs, the
 *   memory an earlier run of the plan bound there (its frames, planBegin()). A plan of at most
 *   `batchLimit` kernels that does not fit in the open batch starts a new one, so its dispatches
 *   take the parameter offsets of an earlier run.
 * - A kernel the executor replays from a cached plan (plans.ts) is not generated again: the first
 *   encode of a plan step records its dispatches (pipeline, parameter words, which of the launch's
 *   buffers or scratch buffers each binding is) in the step's cache slot, and later encodes replay
 *   them with the new launch's buffers.
 */
import type { Backend, BufferHandle, DeviceLimits, Launch, View } from '../../backend.js';
import { hostArray, type DType, type HostArray } from '../../dtype.js';
import { DeviceError, DeviceLostError, RuntimeError, TorchError } from '../../errors.js';
import commonWgsl from '../../../shaders/common.wgsl?raw';
import randomWgsl from '../../../shaders/random.wgsl?raw';
import type { Ctx, Params } from './codegen.js';
import type { DeviceInfo } from './device.js';
import { encodeElementwise } from './elementwise.js';
import { isCpuAdapter } from './kernels.js';
import { encodeIndexing } from './indexing.js';
import { encodeFused, matmulEpilogue, reducePrologue } from './fused.js';
import type { Epilogue, FusedKernel } from '../../kernel.js';
import { encodeMatmul } from './matmul.js';
import { BufferPool, GpuBuf, memoryStats, type PoolMem, type PoolStats } from './pool.js';
import { countVariant, dispatchedVariants, kernelChoice, kernelOverrides } from './kernels.js';
import { encodeReduce } from './reduce.js';

/** Counters for tests and benchmarks (shared by every device this process initializes). */
export const gpuStats = {
  /** queue.submit calls. */
  submits: 0,
  /** Launches recorded by ops (before fusion). */
  launches: 0,
  /** Kernels encoded after fusion (fused elementwise kernels and launches run as recorded). */
  kernels: 0,
  /** Of those, fused elementwise kernels. */
  fused: 0,
  /** dispatchWorkgroups calls (a reduction may take several). */
  dispatches: 0,
  /** Pipelines compiled (cache misses). */
  pipelines: 0,
  /** Reads back to the host, and the mapAsync calls they made. */
  reads: 0,
  mapAsyncs: 0,
  bytesRead: 0,
  /** Host uploads (queue.writeBuffer of tensor data, not parameters). */
  writes: 0,
  bytesWritten: 0,
  /** createBuffer calls for tensors and scratch (the pool had no free buffer of the size). */
  buffersCreated: 0,
  /** Bind groups created, and dispatches that found theirs in the cache. */
  bindGroups: 0,
  bindGroupHits: 0,
  /** Kernels encoded by replaying what their plan step recorded (no kernel generation). */
  replayed: 0,
};
export type GpuStats = typeof gpuStats;

/** Parameter arena chunk: parameters of many dispatches, uploaded with one writeBuffer per submit. */
interface ArenaChunk {
  buffer: GPUBuffer;
  host: Uint32Array;
  used: number;
  /** Process-unique, for bind group keys. */
  id: number;
}
const ARENA_BYTES = 64 * 1024;

interface Batch {
  id: number;
  encoder: GPUCommandEncoder;
  /** The open compute pass: dispatches share one until a copy or the submit ends it. */
  pass: GPUComputePassEncoder | null;
  /** The pipeline last set in the open pass. */
  pipeline: GPUComputePipeline | null;
  commands: number;
  launches: number;
  arena: ArenaChunk[];
  /** Names of the batch's kernels (formatted only for an error message); the first is kernel `first`. */
  names: string[];
  first: number;
}

/** A compiled pipeline's explicit bind group layout (binding 0 is the parameter slice). */
interface PipeInfo {
  layout: GPUBindGroupLayout;
  /** Identity of the layout, for bind group keys. */
  id: number;
}

/** A cached bind group, in a hash chain; `key` is [layout id, params bytes, chunk id, offset, memory ids...]. */
interface GroupEntry {
  key: number[];
  group: GPUBindGroup;
  next: GroupEntry | null;
  /** The memory bound (key[4 + i] is mems[i].id). */
  mems: PoolMem[];
}
/** Cached groups bindFree() looks at for a dispatch's bindings without memory, newest first. */
const PICK_TRIES = 16;
/** Frames (see planBegin()) kept per plan; the least recently used is dropped first. */
const MAX_FRAMES = 32;

/** Memory a replay of a plan bound, in the order its bindings without memory were bound. */
interface Frame {
  mems: PoolMem[];
  /** planBegin() count when it was last used. */
  used: number;
}
/** A plan's cache slot (plans.ts), as this backend fills it. */
interface PlanSlot {
  frames?: Frame[];
}
/** The plan being run: its frames, the one it follows (null: it has none yet), what it has bound. */
interface Run {
  frames: Frame[];
  use: Frame | null;
  made: PoolMem[];
  /** Whether a binding did not get the frame's memory (`made` is then kept as a new frame). */
  broken: boolean;
}
/** Bind groups kept; the cache is emptied when it holds more (a new working set rebuilds it). */
const MAX_GROUPS = 8192;

/**
 * What the first encode of a plan step dispatched, replayed by later encodes of the step: scratch
 * buffers taken and freed, and dispatches whose bindings are launch buffers (role >= 0, an index
 * into {@link launchBufs}) or scratch buffers (role -1 - i: the i-th taken).
 */
type Op =
  | { t: 'temp'; bytes: number }
  | { t: 'free'; temp: number }
  | { t: 'dispatch'; pipeline: GPUComputePipeline; words: Uint32Array; bytes: number; roles: Int32Array; x: number; y: number; z: number };
interface Program {
  ops: Op[];
  /** Kernel variants the dispatches counted (kernels.ts), counted again by each replay. */
  variants: string[];
  /** The kernel choice and overrides the program was generated under; another choice regenerates. */
  choice: string;
  overrides: [unknown, unknown];
}
/** A step's cache slot (see plans.ts), as this backend fills it. */
interface Slot {
  program?: Program | null;
}
/**
 * Launch kinds whose parameters depend only on what a plan's key holds: views, ops, dims, and the
 * scalars of elementwise launches and fills (plans.ts keys them; were it to stop, a replay would
 * reuse another graph's scalars — test/webgpu-overhead.test.ts checks alternating scalars). Other
 * kinds (random seeds, indexing dims) are generated each time.
 */
const REPLAYABLE = new Set<Launch['kind']>(['matmul', 'reduce', 'unary', 'binary', 'where', 'copy', 'fill']);

/**
 * The buffers a recorded program's roles index, written to `out` from index 0 (their count is
 * returned): the launch's views (output first), then the prologue's inputs, the epilogue's inputs
 * and outputs. Their order is fixed by the plan's structure, so a role means the same view in
 * every replay of the step. (Reused arrays with a count: no allocation per kernel.)
 */
function launchBufs(out: unknown[], l: Launch, epilogue?: Epilogue, prologue?: FusedKernel): number {
  let n = viewsOf(l, out);
  if (prologue) for (const v of prologue.inputs) out[n++] = v.buf;
  if (epilogue) {
    for (const v of epilogue.k.inputs) out[n++] = v.buf;
    for (const o of epilogue.k.outputs) out[n++] = o.view.buf;
  }
  return n;
}

/** A fused kernel's buffers, outputs first, written to `out` (the roles of its program); returns their count. */
function fusedBufs(out: unknown[], k: FusedKernel): number {
  let n = 0;
  for (const o of k.outputs) out[n++] = o.view.buf;
  for (const v of k.inputs) out[n++] = v.buf;
  return n;
}

/** Whether a cached key equals the first n words of `key`. */
function sameKey(a: readonly number[], key: readonly number[], n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== key[i]) return false;
  return true;
}

/** FNV-1a over 32-bit words. */
function hashWords(key: readonly number[], n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h;
}

function launchName(l: Launch): string {
  return l.kind === 'unary' || l.kind === 'binary' || l.kind === 'reduce' ? `${l.kind}:${l.op}` : l.kind === 'random' ? `random:${l.dist}` : l.kind;
}

/** `launch <no> (<name>)`, the call site (after ' at ') outside the parentheses. */
function formatLabel(no: number, name: string): string {
  const at = name.indexOf(' at ');
  return at < 0 ? `launch ${no} (${name})` : `launch ${no} (${name.slice(0, at)})${name.slice(at)}`;
}

/** Writes `v`'s buffer at out[n] when it is a view (not a scalar operand); returns the next index. */
function put(out: unknown[], n: number, v: unknown): number {
  if (typeof v !== 'object' || v === null) return n;
  out[n] = (v as View).buf;
  return n + 1;
}

/** Writes the buffers of a launch's views to `out` from index 0, its output first; returns their count. */
function viewsOf(l: Launch, out: unknown[]): number {
  const n = put(out, 0, l.out);
  switch (l.kind) {
    case 'unary': case 'copy': case 'reduce': case 'scan': return put(out, n, l.x);
    case 'binary': return put(out, put(out, n, l.a), l.b);
    case 'where': return put(out, put(out, put(out, n, l.cond), l.a), l.b);
    case 'matmul': return put(out, put(out, n, l.a), l.b);
    case 'gather': return put(out, put(out, n, l.x), l.index);
    case 'scatter': return put(out, put(out, put(out, n, l.self), l.index), l.src);
    case 'sort': return put(out, put(out, n, l.x), l.indices);
    case 'fill': case 'random': return n;
    default: return l satisfies never;
  }
}

export class WebGPUBackend implements Backend, Ctx {
  readonly device = 'webgpu' as const;
  readonly limits: DeviceLimits;
  readonly gpu: GPUDevice;
  readonly info: DeviceInfo;
  /** Set once the device is lost or destroyed; every later call throws DeviceLostError. */
  lost: { reason: string; message: string } | null = null;
  /**
   * Kernels per submit. Small enough that the device starts while JS still records (a realized
   * graph of the seed's loop is ~30 kernels): on lavapipe 32 against 128 took the launch chain from
   * 9.2 to 6.4 ms (best of 30) and the seed loop ~10% faster; a submit costs tens of µs.
   */
  batchLimit = 32;
  readonly maxWorkgroupsPerDim: number;
  readonly subgroups: boolean;
  readonly subgroupMinSize: number;
  readonly cpuAdapter: boolean;

  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  /** Pipelines by final shader text and by specialization key, and their bind group layouts. */
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly byKey = new Map<string, GPUComputePipeline>();
  private readonly pipes = new Map<GPUComputePipeline, PipeInfo>();
  /** Bind group layouts by the access of their storage bindings ('w' read_write, 'r' read). */
  private readonly bindLayouts = new Map<string, PipeInfo>();
  private groups = new Map<number, GroupEntry>();
  private groupCount = 0;
  /**
   * The same groups by their key without the memory of the bindings that had none when the group
   * was made (those are -1 in the hashed key): what bindFree() may bind them to.
   */
  private byFree = new Map<number, GroupEntry[]>();
  /** Scratch for bind group keys and a dispatch's buffers (no allocation per dispatch). */
  private readonly key: number[] = [];
  private readonly scratch: GpuBuf[] = [];
  private readonly replayTemps: GpuBuf[] = [];
  private readonly bound: GpuBuf[] = [];
  private batch: Batch | null = null;
  private nextBatchId = 0;
  private arenaFree: ArenaChunk[] = [];
  private nextChunkId = 1;
  private readonly align: number;
  private checks: Promise<DeviceError | null>[] = [];
  private uncaptured: DeviceError[] = [];
  /** The kernel being encoded: its name and number (its label is formatted only when needed). */
  private curName = '';
  private curNo = 0;
  /** The program being recorded by the kernel being encoded, and its scratch buffers. */
  private rec: { ops: Op[]; bufs: readonly GpuBuf[]; temps: GpuBuf[]; ok: boolean } | null = null;
  /** The plan being run (planBegin()), and how many plans were begun. */
  private plan: Run | null = null;
  private plans = 0;
  /** Indices of a dispatch's bindings that have no memory (scratch of bindFrame()). */
  private readonly unboundAt: number[] = [];

  constructor(info: DeviceInfo) {
    this.info = info;
    this.gpu = info.device;
    const lim = info.limits;
    const maxBytes = Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize);
    // As many buffers per kernel as the device was given (the adapter's own limit is requested:
    // device.ts), at most 16; 8 is WebGPU's default and what a device without the request has.
    // The scheduler splits a group to fit. On lavapipe (16) the launch chain's device time fell
    // from ~7 to ~4.4 ms per 1000 ops against 8 (bench/NOTES.md).
    this.limits = { maxBufferSize: maxBytes, dtypes: ['float32', 'int32', 'bool'], maxKernelBuffers: Math.min(16, lim.maxStorageBuffersPerShaderStage) };
    this.maxWorkgroupsPerDim = lim.maxComputeWorkgroupsPerDimension;
    this.subgroups = info.subgroups;
    this.subgroupMinSize = info.subgroupMinSize;
    const ai = info.adapterInfo;
    this.cpuAdapter = isCpuAdapter(ai);
    this.align = lim.minUniformBufferOffsetAlignment;
    const U = GPUBufferUsage;
    this.pool = new BufferPool(this.gpu, U.STORAGE | U.COPY_SRC | U.COPY_DST, maxBytes, this, 'tensor');
    this.staging = new BufferPool(this.gpu, U.MAP_READ | U.COPY_DST, lim.maxBufferSize, this, 'staging');
    this.gpu.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      ev.preventDefault?.();
      this.uncaptured.push(this.toError(ev.error, null));
    };
    void this.gpu.lost.then((i) => this.markLost(i.reason ?? 'unknown', i.message));
  }

  /** The kernel being encoded, as error messages and Dawn's labels name it. */
  get label(): string {
    return formatLabel(this.curNo, this.curName);
  }

  // ---- Backend: buffers ----------------------------------------------------------------------

  /** A buffer handle; its memory is bound when it is first used (pool.ts), so this creates nothing. */
  alloc(numel: number, dtype: DType): BufferHandle {
    this.checkAlive();
    const bytes = numel * 4;
    if (bytes > this.limits.maxBufferSize) {
      const which = this.info.limits.maxStorageBufferBindingSize <= this.info.limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
      throw new RuntimeError(
        `WebGPU: a ${dtype} tensor of ${numel} elements needs ${bytes} bytes, more than this device's ${which} (${this.limits.maxBufferSize} bytes)`,
      );
    }
    return this.pool.acquire(bytes);
  }

  write(buf: BufferHandle, dtype: DType, data: HostArray): void {
    const g = this.own(buf);
    const src = dtype === 'bool' ? Uint32Array.from(data) : data;
    if (src instanceof Float64Array) throw new RuntimeError('float64 is not supported on WebGPU');
    const b = this.begin(); // the error scopes catch an out-of-memory createBuffer
    const mem = this.bindMem(g);
    // queue.writeBuffer runs before commands still in the open encoder: submit them first when
    // they use this memory (for this tensor, or for its previous owner).
    if (mem.lastUse === b.id) {
      this.flush();
      this.begin();
    }
    this.gpu.queue.writeBuffer(mem.buffer, 0, src.buffer, src.byteOffset, src.byteLength);
    gpuStats.writes++;
    gpuStats.bytesWritten += src.byteLength;
  }

  async read(buf: BufferHandle, dtype: DType, offset: number, numel: number): Promise<HostArray> {
    const g = this.own(buf);
    if (numel === 0) {
      await this.takeErrors();
      return hostArray(dtype, 0);
    }
    const bytes = numel * 4;
    const b = this.begin();
    const st = this.staging.acquire(bytes);
    const stBuf = st.buffer;
    this.endPass(b);
    const mem = this.bindMem(g);
    b.encoder.copyBufferToBuffer(mem.buffer, offset * 4, stBuf, 0, bytes);
    b.commands++;
    mem.lastUse = b.id;
    this.flush();
    gpuStats.reads++;
    gpuStats.mapAsyncs++;
    gpuStats.bytesRead += bytes;
    const mapped = stBuf.mapAsync(GPUMapMode.READ, 0, bytes);
    let err: unknown = null;
    try {
      await this.takeErrors();
    } catch (e) {
      err = e;
    }
    try {
      await mapped;
    } catch (e) {
      err ??= this.mapFailure(e);
    }
    if (err) {
      if (stBuf.mapState === 'mapped') stBuf.unmap();
      if (!this.lost) this.staging.release(st);
      throw err;
    }
    const range = stBuf.getMappedRange(0, bytes);
    const out = dtype === 'bool' ? Uint8Array.from(new Uint32Array(range)) : dtype === 'int32' ? new Int32Array(range.slice(0)) : new Float32Array(range.slice(0));
    stBuf.unmap();
    this.staging.release(st);
    return out;
  }

  release(buf: BufferHandle): void {
    const g = buf as GpuBuf;
    if (!(g instanceof GpuBuf) || g.owner !== this || this.lost) return;
    this.pool.release(g);
  }

  /** Binds g's memory (counted in the stats when it is created). */
  private bindMem(g: GpuBuf, pick?: PoolMem, avoid = 0): PoolMem {
    if (g.mem) return g.mem;
    const created = this.pool.created;
    const mem = g.bind(pick, avoid);
    gpuStats.buffersCreated += this.pool.created - created;
    return mem;
  }

  // ---- Backend: launches ---------------------------------------------------------------------

  validate(l: Launch): void {
    this.checkAlive();
    const bufs = this.scratch;
    const n = viewsOf(l, bufs);
    for (let i = 0; i < n; i++) this.own(bufs[i]!);
    gpuStats.launches++;
  }

  /** Matmul epilogues run inside the matmul kernel, reduction prologues inside the reduction's. */
  readonly epilogues = true;
  readonly prologues = true;

  launch(l: Launch, label?: string, epilogue?: Epilogue, prologue?: FusedKernel, cache?: object): void {
    this.checkAlive();
    if (prologue) for (const v of prologue.inputs) this.own(v.buf);
    if (epilogue) {
      for (const v of epilogue.k.inputs) this.own(v.buf);
      for (const o of epilogue.k.outputs) this.own(o.view.buf);
    }
    const slot = cache && REPLAYABLE.has(l.kind) ? (cache as Slot) : undefined;
    const b = this.open(label ?? launchName(l));
    try {
      const p = slot?.program;
      if (p && this.current(p)) {
        launchBufs(this.scratch, l, epilogue, prologue);
        this.replay(p, this.scratch);
      } else if (slot && p !== null) {
        const bufs: GpuBuf[] = [];
        launchBufs(bufs, l, epilogue, prologue);
        this.record(slot, bufs, () => this.encodeLaunch(l, epilogue, prologue));
      } else this.encodeLaunch(l, epilogue, prologue);
    } catch (e) {
      throw this.encodeError(e);
    }
    this.close(b);
  }

  private encodeLaunch(l: Launch, epilogue?: Epilogue, prologue?: FusedKernel): void {
    switch (l.kind) {
      case 'matmul': encodeMatmul(this, l, epilogue && ((p, first) => matmulEpilogue(this, epilogue, p, first))); break;
      case 'reduce': encodeReduce(this, l, prologue && ((p, first) => reducePrologue(prologue, p, first))); break;
      case 'gather': case 'scatter': case 'sort': case 'scan': encodeIndexing(this, l); break;
      default: encodeElementwise(this, l);
    }
  }

  runFused(k: FusedKernel, label: string, cache?: object): void {
    this.checkAlive();
    for (const v of k.inputs) this.own(v.buf);
    for (const o of k.outputs) this.own(o.view.buf);
    gpuStats.fused++;
    const slot = cache as Slot | undefined;
    const b = this.open(label);
    try {
      const p = slot?.program;
      if (p && this.current(p)) {
        fusedBufs(this.scratch, k);
        this.replay(p, this.scratch);
      } else if (slot && p !== null) {
        const bufs: GpuBuf[] = [];
        fusedBufs(bufs, k);
        this.record(slot, bufs, () => encodeFused(this, k, this.label));
      } else encodeFused(this, k, this.label);
    } catch (e) {
      throw this.encodeError(e);
    }
    this.close(b);
  }

  /**
   * Opens one kernel's encode in the batch (see the file comment for how a plan step's slot is
   * recorded and replayed); close() ends it.
   */
  private open(name: string): Batch {
    const b = this.begin();
    b.launches++;
    gpuStats.kernels++;
    this.curName = name;
    this.curNo = gpuStats.kernels;
    b.names.push(name);
    return b;
  }

  private close(b: Batch): void {
    if (b.launches >= this.batchLimit) this.flush();
  }

  private encodeError(e: unknown): TorchError {
    this.rec = null;
    if (e instanceof TorchError) return e;
    return new DeviceError(`WebGPU could not encode ${this.label}: ${(e as Error).message}`);
  }

  /** Whether a program was generated under the kernel choice and overrides in force now. */
  private current(p: Program): boolean {
    return p.choice === kernelChoice() && p.overrides[0] === kernelOverrides.matmul && p.overrides[1] === kernelOverrides.reduce;
  }

  /** Runs `body` and keeps what it dispatched as the slot's program (null: not replayable). */
  private record(slot: Slot, bufs: GpuBuf[], body: () => void): void {
    const before = new Map(dispatchedVariants());
    const rec = (this.rec = { ops: [] as Op[], bufs, temps: [] as GpuBuf[], ok: true });
    try {
      body();
    } finally {
      this.rec = null;
    }
    const variants: string[] = [];
    for (const [v, n] of dispatchedVariants()) for (let i = before.get(v) ?? 0; i < n; i++) variants.push(v);
    slot.program = rec.ok ? { ops: rec.ops, variants, choice: kernelChoice(), overrides: [kernelOverrides.matmul, kernelOverrides.reduce] } : null;
  }

  /** Dispatches a recorded program with this launch's buffers. */
  private replay(p: Program, bufs: readonly GpuBuf[]): void {
    gpuStats.replayed++;
    const temps = this.replayTemps;
    let nt = 0;
    const bound = this.bound;
    for (const op of p.ops) {
      if (op.t === 'temp') temps[nt++] = this.temp(op.bytes);
      else if (op.t === 'free') this.freeTemp(temps[op.temp]!);
      else {
        const r = op.roles;
        for (let i = 0; i < r.length; i++) bound[i] = r[i]! >= 0 ? bufs[r[i]!]! : temps[-1 - r[i]!]!;
        this.dispatchWords(op.pipeline, op.words, op.words.length, op.bytes, bound, r.length, op.x, op.y, op.z);
      }
    }
    countVariant(...p.variants);
  }

  async synchronize(): Promise<void> {
    this.checkAlive();
    this.flush();
    try {
      await this.gpu.queue.onSubmittedWorkDone();
    } catch (e) {
      throw this.mapFailure(e);
    }
    await this.takeErrors();
  }

  // ---- Ctx: what kernel generators call ------------------------------------------------------

  pipeline(key: string, code: () => string, label: string, wants?: { random?: boolean; subgroups?: boolean }): GPUComputePipeline {
    let pipeline = this.byKey.get(key);
    if (pipeline) return pipeline;
    const text = (wants?.subgroups ? 'enable subgroups;\n' : '') + commonWgsl + (wants?.random ? randomWgsl : '') + code();
    pipeline = this.pipelines.get(text);
    if (!pipeline) {
      const info = this.layoutOf(text);
      const module = this.gpu.createShaderModule({ code: text, label });
      const layout = this.gpu.createPipelineLayout({ bindGroupLayouts: [info.layout], label });
      pipeline = this.gpu.createComputePipeline({ layout, compute: { module, entryPoint: 'main' }, label });
      this.pipelines.set(text, pipeline);
      this.pipes.set(pipeline, info);
      gpuStats.pipelines++;
    }
    this.byKey.set(key, pipeline);
    return pipeline;
  }

  /**
   * The explicit bind group layout of a kernel's text: binding 0 is the parameter block (a slice
   * of the arena), then the storage bindings its text declares (codegen.ts bindingDecl).
   */
  private layoutOf(text: string): PipeInfo {
    const access: string[] = [];
    for (const m of text.matchAll(/@binding\((\d+)\)\s*var<storage,\s*(read_write|read)>/g)) access[Number(m[1]) - 1] = m[2] === 'read' ? 'r' : 'w';
    const sig = Array.from(access, (a) => a ?? '?').join('');
    let info = this.bindLayouts.get(sig);
    if (!info) {
      const C = GPUShaderStage.COMPUTE;
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: C, buffer: { type: 'uniform' } }];
      Array.from(access).forEach((a, i) => {
        if (a === undefined) throw new Error(`kernel text declares no binding ${i + 1}`);
        entries.push({ binding: i + 1, visibility: C, buffer: { type: a === 'r' ? 'read-only-storage' : 'storage' } });
      });
      info = { layout: this.gpu.createBindGroupLayout({ entries, label: `bindings(${sig})` }), id: this.bindLayouts.size + 1 };
      this.bindLayouts.set(sig, info);
    }
    return info;
  }

  dispatch(pipeline: GPUComputePipeline, params: Params, buffers: readonly GpuBuf[], workgroups: number | readonly [number, number, number]): void {
    let x: number, y: number, z: number;
    if (typeof workgroups === 'number') {
      if (workgroups === 0) return;
      y = Math.ceil(workgroups / this.maxWorkgroupsPerDim);
      x = Math.ceil(workgroups / y);
      z = 1;
    } else [x, y, z] = workgroups;
    const bytes = params.vec4s * 16;
    const rec = this.rec;
    if (rec) {
      const roles = new Int32Array(buffers.length);
      buffers.forEach((g, i) => {
        const t = rec.temps.indexOf(g), v = rec.bufs.indexOf(g);
        if (t < 0 && v < 0) rec.ok = false;
        roles[i] = t >= 0 ? -1 - t : v;
      });
      rec.ops.push({ t: 'dispatch', pipeline, words: Uint32Array.from(params.words), bytes, roles, x, y, z });
    }
    this.dispatchWords(pipeline, params.words, params.words.length, bytes, buffers, buffers.length, x, y, z);
  }

  /** One dispatch of `words` (n of them) binding buffers[0..nb) (arrays may be longer: reused scratch). */
  private dispatchWords(pipeline: GPUComputePipeline, words: ArrayLike<number>, n: number, bytes: number, buffers: readonly GpuBuf[], nb: number, x: number, y: number, z: number): void {
    const b = this.batch!;
    // The parameters: this dispatch's own slice of the batch's arena.
    let c = b.arena[b.arena.length - 1];
    if (!c || c.used + bytes > ARENA_BYTES) {
      c = this.arenaFree.pop() ?? {
        buffer: this.gpu.createBuffer({ size: ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'params' }),
        host: new Uint32Array(ARENA_BYTES / 4),
        used: 0,
        id: this.nextChunkId++,
      };
      b.arena.push(c);
    }
    const offset = c.used;
    const host = c.host, base = offset >> 2;
    for (let i = 0; i < n; i++) host[base + i] = words[i]!;
    c.used = Math.ceil((offset + bytes) / this.align) * this.align;

    // The bind group, keyed by layout, parameter size, chunk, offset and the memory bound (the
    // offset is not a dynamic one: see the file comment; on lavapipe the page mapped and unmapped
    // for each such dispatch cost ~50 µs of its GPU thread, bench/NOTES.md "Session 7").
    const info = this.pipes.get(pipeline)!;
    const key = this.key;
    const nk = 4 + nb;
    key[0] = info.id;
    key[1] = bytes;
    key[2] = c.id;
    key[3] = offset;
    // the words of the bindings that have memory; those that have none are -1 for now
    let unbound = 0;
    for (let i = 0; i < nb; i++) {
      const mem = buffers[i]!.mem;
      key[4 + i] = mem === null ? -1 : mem.id;
      if (mem === null) unbound++;
    }
    const hFree = unbound > 0 ? hashWords(key, nk) : 0;
    if (unbound > 0) {
      if (this.plan) this.bindFrame(this.plan, buffers, nb, hFree);
      else this.bindFree(buffers, nb, hFree);
    }
    for (let i = 0; i < nb; i++) {
      const g = buffers[i]!;
      const mem = g.mem ?? this.bindMem(g);
      mem.lastUse = b.id;
      key[4 + i] = mem.id;
    }
    const h = hashWords(key, nk);
    let e = this.groups.get(h) ?? null;
    while (e && !sameKey(e.key, key, nk)) e = e.next;
    let group: GPUBindGroup;
    if (e) {
      group = e.group;
      gpuStats.bindGroupHits++;
    } else {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: c.buffer, offset, size: bytes } }];
      for (let i = 0; i < nb; i++) entries.push({ binding: i + 1, resource: { buffer: buffers[i]!.mem!.buffer } });
      group = this.gpu.createBindGroup({ layout: info.layout, entries, label: this.label });
      gpuStats.bindGroups++;
      if (this.groupCount >= MAX_GROUPS) this.clearGroups();
      const made: GroupEntry = { key: key.slice(0, nk), group, next: this.groups.get(h) ?? null, mems: [] };
      for (let i = 0; i < nb; i++) made.mems.push(buffers[i]!.mem!);
      this.groups.set(h, made);
      this.groupCount++;
      if (unbound > 0) {
        const list = this.byFree.get(hFree);
        if (list) list.push(made);
        else this.byFree.set(hFree, [made]);
      }
    }

    let pass = b.pass;
    if (!pass) {
      pass = b.pass = b.encoder.beginComputePass();
      b.pipeline = null;
    }
    if (b.pipeline !== pipeline) {
      pass.setPipeline(pipeline);
      b.pipeline = pipeline;
    }
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    b.commands++;
    gpuStats.dispatches++;
  }

  /**
   * Plans replay the same dispatches, so the memory their outputs are bound to decides whether
   * their bind groups are found again. A plain training loop's step outputs come back only when the
   * collector finds them dead, at irregular steps, so that memory is free in another combination at
   * each replay. Each plan therefore keeps frames: the memory one replay bound, in order. A replay
   * follows the first frame whose memory is all free (its bind groups were made when the frame
   * was), or else the one with the fewest memories in use, binding those to other memory, and keeps
   * what it bound as a new frame; frames are dropped least recently used first (MAX_FRAMES). Once a
   * plan has as many frames as replays happen between collections, every replay finds one free.
   */
  planBegin(slot: object, kernels: number): void {
    // A plan that fits in a batch but not in what is left of the open one starts a new batch, so
    // its dispatches take the parameter offsets (part of their bind groups' keys) of an earlier
    // run. A larger one runs on where the open batch is (a submit more per run would cost more
    // than its bind groups save when its memory is reused in order, as a loop that disposes does).
    const b = this.batch;
    if (b && b.launches > 0 && kernels <= this.batchLimit && b.launches + kernels > this.batchLimit) this.flush();
    const frames = ((slot as PlanSlot).frames ??= []);
    let use: Frame | null = null;
    let fewest = Infinity;
    for (const f of frames) {
      const m = f.mems;
      let busy = 0;
      for (let i = 0; i < m.length && busy < fewest; i++) if (m[i]!.at < 0) busy++;
      if (busy < fewest) {
        fewest = busy;
        use = f;
        if (busy === 0) break;
      }
    }
    this.plans++;
    // the frame's memory is claimed by this run: a binding whose own memory is in use takes other
    if (use) for (const m of use.mems) m.claim = this.plans;
    this.plan = { frames, use, made: [], broken: false };
  }

  planEnd(): void {
    const run = this.plan;
    this.plan = null;
    if (!run || run.made.length === 0) return;
    const { frames, use, made } = run;
    if (use && !run.broken && made.length === use.mems.length) {
      use.used = this.plans;
      return;
    }
    if (frames.length >= MAX_FRAMES) {
      let lru = 0;
      for (let i = 1; i < frames.length; i++) if (frames[i]!.used < frames[lru]!.used) lru = i;
      frames.splice(lru, 1);
    }
    frames.push({ mems: made, used: this.plans });
  }

  /**
   * Binds a dispatch's bindings without memory while a plan runs: each to the memory its frame
   * holds at that place (planBegin()) when that is free, else as bindFree() does; what they got is
   * added to the run's `made`.
   */
  private bindFrame(run: Run, buffers: readonly GpuBuf[], nb: number, hFree: number): void {
    const at = this.unboundAt;
    let u = 0;
    for (let i = 0; i < nb; i++) if (buffers[i]!.mem === null) at[u++] = i;
    const use = run.use, made = run.made;
    if (!use) this.bindFree(buffers, nb, hFree);
    for (let k = 0; k < u; k++) {
      const g = buffers[at[k]!]!;
      let mem = g.mem;
      if (mem === null) {
        const pick = use ? use.mems[made.length] : undefined;
        mem = this.bindMem(g, pick, use ? this.plans : 0);
        if (use && mem !== pick) run.broken = true;
      }
      made.push(mem);
    }
  }

  /**
   * Binds the bindings without memory (the dispatch's outputs, usually) to free memory for which
   * a bind group with the dispatch's other words is cached, when there is such: a plain loop's
   * garbage comes back from the collector in another order each time, and the oldest free buffers,
   * taken otherwise, often make a combination never bound before — a createBindGroup, ~100 µs of
   * JS on Dawn (bench/NOTES.md, "Session 8"). `hFree` hashes this.key with those words at -1.
   */
  private bindFree(buffers: readonly GpuBuf[], nb: number, hFree: number): void {
    const list = this.byFree.get(hFree);
    if (!list) return;
    const key = this.key;
    for (let j = list.length - 1, tries = 0; j >= 0 && tries < PICK_TRIES; j--, tries++) {
      const e = list[j]!;
      if (!this.fits(e, buffers, nb, key)) continue;
      for (let i = 0; i < nb; i++) {
        const g = buffers[i]!;
        if (g.mem === null) this.bindMem(g, e.mems[i]);
      }
      return;
    }
  }

  /**
   * Whether cached group e can serve this dispatch: its words equal this.key's where a binding
   * has memory, and where one has none, e's memory is free, of the binding's size, and bound to
   * no other binding (one handle bound twice has one memory).
   */
  private fits(e: GroupEntry, buffers: readonly GpuBuf[], nb: number, key: readonly number[]): boolean {
    const k = e.key;
    if (k.length !== 4 + nb) return false;
    for (let i = 0; i < 4; i++) if (k[i] !== key[i]) return false;
    for (let i = 0; i < nb; i++) {
      const g = buffers[i]!;
      if (g.mem !== null) {
        if (k[4 + i] !== key[4 + i]) return false;
        continue;
      }
      const m = e.mems[i]!;
      if (m.at < 0 || m.size !== g.size || g.released) return false;
      for (let q = 0; q < i; q++) if (buffers[q]!.mem === null && e.mems[q] === m && buffers[q] !== g) return false;
    }
    return true;
  }

  private clearGroups(): void {
    this.groups = new Map();
    this.byFree = new Map();
    this.groupCount = 0;
  }

  temp(bytes: number): GpuBuf {
    const g = this.pool.acquire(bytes);
    const rec = this.rec;
    if (rec) {
      rec.ops.push({ t: 'temp', bytes });
      rec.temps.push(g);
    }
    return g;
  }

  freeTemp(g: GpuBuf): void {
    const rec = this.rec;
    if (rec) {
      const t = rec.temps.indexOf(g);
      if (t < 0) rec.ok = false;
      rec.ops.push({ t: 'free', temp: t });
    }
    this.pool.release(g);
  }

  // ---- batches -------------------------------------------------------------------------------

  /** The open batch, opened (with its error scopes) when there is none. */
  private begin(): Batch {
    if (this.batch) return this.batch;
    this.gpu.pushErrorScope('out-of-memory');
    this.gpu.pushErrorScope('validation');
    this.batch = { id: ++this.nextBatchId, encoder: this.gpu.createCommandEncoder(), pass: null, pipeline: null, commands: 0, launches: 0, arena: [], names: [], first: gpuStats.kernels + 1 };
    return this.batch;
  }

  /** Submits the open batch; its errors are checked asynchronously and thrown by takeErrors(). */
  flush(): void {
    const b = this.batch;
    if (!b || this.lost) return;
    this.batch = null;
    this.endPass(b);
    const q = this.gpu.queue;
    for (const c of b.arena) q.writeBuffer(c.buffer, 0, c.host.buffer, 0, c.used);
    if (b.commands > 0) {
      q.submit([b.encoder.finish()]);
      gpuStats.submits++;
    }
    for (const c of b.arena) {
      c.used = 0;
      this.arenaFree.push(c);
    }
    const scopes = [this.gpu.popErrorScope(), this.gpu.popErrorScope()];
    this.checks.push(
      Promise.all(scopes).then(
        ([v, o]) => (v ?? o ? this.toError((v ?? o)!, b) : null),
        () => null,
      ),
    );
  }

  private endPass(b: Batch): void {
    b.pass?.end();
    b.pass = null;
    b.pipeline = null;
  }

  /** Throws the first error reported since the last call (the device's loss first of all). */
  private async takeErrors(): Promise<void> {
    const checks = this.checks;
    this.checks = [];
    const found = (await Promise.all(checks)).filter((e): e is DeviceError => e !== null);
    const all = [...this.uncaptured, ...found];
    this.uncaptured = [];
    this.checkAlive();
    if (all.length > 0) {
      const first = all[0]!;
      if (all.length > 1) first.message += ` (and ${all.length - 1} more WebGPU error${all.length > 2 ? 's' : ''})`;
      throw first;
    }
  }

  private toError(e: GPUError, batch: Batch | null): DeviceError {
    const oom = typeof GPUOutOfMemoryError !== 'undefined' && e instanceof GPUOutOfMemoryError;
    const names = batch?.names ?? [];
    // Dawn names the labelled object at fault; pipelines and bind groups are shared, labelled by
    // the launch that made them, so a label counts only when it names a launch of this batch
    const m = /launch (\d+) \([^)]*\)(?: at [^"\]\n]*)?/.exec(e.message);
    const no = m ? Number(m[1]) : NaN;
    const named = m && (!batch || (no >= batch.first && no < batch.first + names.length)) ? m[0] : undefined;
    const listed = names.slice(0, 8).map((n, i) => formatLabel(batch!.first + i, n).replace(/^launch \d+ /, ''));
    const where = named ?? (names.length ? `a batch of ${names.length} launches (${listed.join(', ')}${names.length > 8 ? ', ...' : ''})` : 'a WebGPU call');
    return new DeviceError(`WebGPU ${oom ? 'out-of-memory' : 'validation'} error in ${where}: ${e.message.trim()}`);
  }

  private mapFailure(e: unknown): TorchError {
    if (this.lost) return this.lostError();
    const m = (e as Error)?.message ?? String(e);
    if ((e as Error)?.name === 'AbortError' || /lost|destroy/i.test(m)) {
      this.markLost('unknown', m);
      return this.lostError();
    }
    return new DeviceError(`WebGPU read failed: ${m}`);
  }

  // ---- device state --------------------------------------------------------------------------

  private own(buf: BufferHandle): GpuBuf {
    this.checkAlive();
    const g = buf as GpuBuf;
    if (!(g instanceof GpuBuf)) throw new RuntimeError('expected a WebGPU buffer');
    if (g.owner !== this) {
      throw new DeviceLostError('this tensor belongs to a WebGPU device that was lost or replaced; its values are gone. Create it again on the current device.');
    }
    if (g.released) throw new RuntimeError('Tensor was disposed: its storage has been released');
    return g;
  }

  private lostError(): DeviceLostError {
    const l = this.lost!;
    return new DeviceLostError(
      `WebGPU device was lost (${l.reason}${l.message ? `: ${l.message}` : ''}). Call \`await torch.webgpu.init()\` to start a new device; tensors of the lost device cannot be used.`,
    );
  }

  checkAlive(): void {
    if (this.lost) throw this.lostError();
  }

  /** Records the loss; the pools and caches of the dead device are dropped. */
  markLost(reason: string, message: string): void {
    if (this.lost) return;
    this.lost = { reason, message };
    this.batch = null;
    this.checks = [];
    this.pool.clear();
    this.staging.clear();
    this.pipelines.clear();
    this.byKey.clear();
    this.pipes.clear();
    this.bindLayouts.clear();
    this.clearGroups();
    this.arenaFree = [];
  }

  /** Destroys the device (tests of device loss); the next op or read throws DeviceLostError. */
  destroy(): void {
    this.markLost('destroyed', 'torch.webgpu.destroy() was called');
    this.gpu.destroy();
  }

  memoryStats(): PoolStats {
    return memoryStats(this.pool, this.staging);
  }

  /** Frees every pooled (unused) buffer, and the bind groups that could bind them. */
  emptyCache(): void {
    if (this.lost) return;
    // free memory may still be used by the open batch: submit it before destroying any
    this.flush();
    this.pool.trim();
    this.staging.trim();
    this.clearGroups();
  }
}
