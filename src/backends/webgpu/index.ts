/**
 * The WebGPU backend. Launches are encoded into one command encoder (their dispatches share a compute
 * pass; bind groups carry the launch's name, so Dawn's messages name it) and submitted on a read, on
 * synchronize(), or when the batch reaches `batchLimit` launches. Uniform parameters of a batch live
 * in one arena buffer written once per submit. Errors are captured with error scopes around each
 * batch and thrown, typed, from the next read or synchronize().
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
import { encodeFused, matmulEpilogue, reducePrologue, type FusedCache } from './fused.js';
import type { Epilogue, FusedKernel } from '../../kernel.js';
import { encodeMatmul } from './matmul.js';
import { BufferPool, GpuBuf, memoryStats, type PoolStats } from './pool.js';
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
};
export type GpuStats = typeof gpuStats;

/** Parameter arena chunk: parameters of many dispatches, uploaded with one writeBuffer per submit. */
interface ArenaChunk {
  buffer: GPUBuffer;
  host: Uint32Array;
  used: number;
}
const ARENA_BYTES = 64 * 1024;

interface Batch {
  id: number;
  encoder: GPUCommandEncoder;
  /** The open compute pass: dispatches share one until a copy or the submit ends it. */
  pass: GPUComputePassEncoder | null;
  commands: number;
  launches: number;
  arena: ArenaChunk[];
  labels: string[];
}

function launchName(l: Launch): string {
  return l.kind === 'unary' || l.kind === 'binary' || l.kind === 'reduce' ? `${l.kind}:${l.op}` : l.kind === 'random' ? `random:${l.dist}` : l.kind;
}

function viewsOf(l: Launch): View[] {
  const vs: unknown[] = [l.out];
  switch (l.kind) {
    case 'unary': case 'copy': case 'reduce': vs.push(l.x); break;
    case 'binary': vs.push(l.a, l.b); break;
    case 'where': vs.push(l.cond, l.a, l.b); break;
    case 'matmul': vs.push(l.a, l.b); break;
    case 'gather': vs.push(l.x, l.index); break;
    case 'scatter': vs.push(l.self, l.index, l.src); break;
    case 'sort': vs.push(l.x, l.indices); break;
    case 'scan': vs.push(l.x); break;
    case 'fill': case 'random': break;
    default: l satisfies never;
  }
  return vs.filter((v): v is View => typeof v === 'object' && v !== null);
}

export class WebGPUBackend implements Backend, Ctx {
  readonly device = 'webgpu' as const;
  readonly limits: DeviceLimits;
  readonly gpu: GPUDevice;
  readonly info: DeviceInfo;
  /** Set once the device is lost or destroyed; every later call throws DeviceLostError. */
  lost: { reason: string; message: string } | null = null;
  /** Launches per submit. */
  batchLimit = 128;
  readonly maxWorkgroupsPerDim: number;
  readonly subgroups: boolean;
  readonly subgroupMinSize: number;
  readonly cpuAdapter: boolean;

  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  /** Pipelines by final shader text and by specialization key, and their bind group layouts. */
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly byKey = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<GPUComputePipeline, GPUBindGroupLayout>();
  private batch: Batch | null = null;
  private nextBatchId = 0;
  private arenaFree: ArenaChunk[] = [];
  private readonly align: number;
  private checks: Promise<DeviceError | null>[] = [];
  private uncaptured: DeviceError[] = [];
  private label = '';

  constructor(info: DeviceInfo) {
    this.info = info;
    this.gpu = info.device;
    const lim = info.limits;
    const maxBytes = Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize);
    // At most 8 buffers per kernel, what browsers give by default (the scheduler splits to fit).
    this.limits = { maxBufferSize: maxBytes, dtypes: ['float32', 'int32', 'bool'], maxKernelBuffers: Math.min(8, lim.maxStorageBuffersPerShaderStage) };
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

  // ---- Backend: buffers ----------------------------------------------------------------------

  alloc(numel: number, dtype: DType): BufferHandle {
    this.checkAlive();
    const bytes = numel * 4;
    if (bytes > this.limits.maxBufferSize) {
      const which = this.info.limits.maxStorageBufferBindingSize <= this.info.limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
      throw new RuntimeError(
        `WebGPU: a ${dtype} tensor of ${numel} elements needs ${bytes} bytes, more than this device's ${which} (${this.limits.maxBufferSize} bytes)`,
      );
    }
    this.begin(); // the error scopes catch an out-of-memory createBuffer
    return this.pool.acquire(bytes);
  }

  write(buf: BufferHandle, dtype: DType, data: HostArray): void {
    const g = this.own(buf);
    // queue.writeBuffer runs before commands still in the open encoder: submit them first.
    if (this.batch && g.lastUse === this.batch.id) this.flush();
    this.begin();
    const src = dtype === 'bool' ? Uint32Array.from(data) : data;
    if (src instanceof Float64Array) throw new RuntimeError('float64 is not supported on WebGPU');
    this.gpu.queue.writeBuffer(g.buffer, 0, src.buffer, src.byteOffset, src.byteLength);
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
    const st = this.staging.acquire(bytes);
    const b = this.begin();
    this.endPass(b);
    b.encoder.copyBufferToBuffer(g.buffer, offset * 4, st.buffer, 0, bytes);
    b.commands++;
    g.lastUse = b.id;
    this.flush();
    gpuStats.reads++;
    gpuStats.mapAsyncs++;
    gpuStats.bytesRead += bytes;
    const mapped = st.buffer.mapAsync(GPUMapMode.READ, 0, bytes);
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
      if (st.buffer.mapState === 'mapped') st.buffer.unmap();
      if (!this.lost) this.staging.release(st, -1);
      throw err;
    }
    const range = st.buffer.getMappedRange(0, bytes);
    const out = dtype === 'bool' ? Uint8Array.from(new Uint32Array(range)) : dtype === 'int32' ? new Int32Array(range.slice(0)) : new Float32Array(range.slice(0));
    st.buffer.unmap();
    this.staging.release(st, -1);
    return out;
  }

  release(buf: BufferHandle): void {
    const g = buf as GpuBuf;
    if (!(g instanceof GpuBuf) || g.owner !== this || this.lost) return;
    this.pool.release(g, this.batch?.id ?? -1);
  }

  // ---- Backend: launches ---------------------------------------------------------------------

  validate(l: Launch): void {
    this.checkAlive();
    for (const v of viewsOf(l)) this.own(v.buf);
    gpuStats.launches++;
  }

  /** Matmul epilogues run inside the matmul kernel, reduction prologues inside the reduction's. */
  readonly epilogues = true;
  readonly prologues = true;

  launch(l: Launch, label?: string, epilogue?: Epilogue, prologue?: FusedKernel): void {
    this.checkAlive();
    for (const v of prologue?.inputs ?? []) this.own(v.buf);
    if (epilogue) {
      for (const v of epilogue.k.inputs) this.own(v.buf);
      for (const o of epilogue.k.outputs) this.own(o.view.buf);
    }
    this.encode(label ?? launchName(l), () => {
      switch (l.kind) {
        case 'matmul': encodeMatmul(this, l, epilogue && ((p, first) => matmulEpilogue(this, epilogue, p, first))); break;
        case 'reduce': encodeReduce(this, l, prologue && ((p, first) => reducePrologue(prologue, p, first))); break;
        case 'gather': case 'scatter': case 'sort': case 'scan': encodeIndexing(this, l); break;
        default: encodeElementwise(this, l);
      }
    });
  }

  runFused(k: FusedKernel, label: string, cache?: object): void {
    this.checkAlive();
    for (const v of k.inputs) this.own(v.buf);
    for (const o of k.outputs) this.own(o.view.buf);
    gpuStats.fused++;
    this.encode(label, () => encodeFused(this, k, this.label, cache as FusedCache | undefined));
  }

  /** Encodes one kernel into the open batch, labelled for Dawn's messages and ours. */
  private encode(name: string, body: () => void): void {
    const b = this.begin();
    b.launches++;
    gpuStats.kernels++;
    const at = name.indexOf(' at ');
    this.label = at < 0 ? `launch ${gpuStats.kernels} (${name})` : `launch ${gpuStats.kernels} (${name.slice(0, at)})${name.slice(at)}`;
    b.labels.push(this.label);
    try {
      body();
    } catch (e) {
      if (e instanceof TorchError) throw e;
      throw new DeviceError(`WebGPU could not encode ${this.label}: ${(e as Error).message}`);
    }
    if (b.launches >= this.batchLimit) this.flush();
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
      const module = this.gpu.createShaderModule({ code: text, label });
      pipeline = this.gpu.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
      this.pipelines.set(text, pipeline);
      this.layouts.set(pipeline, pipeline.getBindGroupLayout(0));
      gpuStats.pipelines++;
    }
    this.byKey.set(key, pipeline);
    return pipeline;
  }

  dispatch(pipeline: GPUComputePipeline, params: Params, buffers: readonly GpuBuf[], workgroups: number | readonly [number, number, number]): void {
    const b = this.batch!;
    let grid: readonly [number, number, number];
    if (typeof workgroups === 'number') {
      if (workgroups === 0) return;
      const gy = Math.ceil(workgroups / this.maxWorkgroupsPerDim);
      grid = [Math.ceil(workgroups / gy), gy, 1];
    } else grid = workgroups;
    const layout = this.layouts.get(pipeline) ?? pipeline.getBindGroupLayout(0);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: this.params(params) }];
    buffers.forEach((g, i) => {
      g.lastUse = b.id;
      entries.push({ binding: i + 1, resource: { buffer: g.buffer } });
    });
    const group = this.gpu.createBindGroup({ layout, entries, label: this.label });
    b.pass ??= b.encoder.beginComputePass();
    b.pass.setPipeline(pipeline);
    b.pass.setBindGroup(0, group);
    b.pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    b.commands++;
    gpuStats.dispatches++;
  }

  temp(bytes: number): GpuBuf {
    return this.pool.acquire(bytes);
  }

  freeTemp(g: GpuBuf): void {
    this.pool.release(g, this.batch?.id ?? -1);
  }

  // ---- batches -------------------------------------------------------------------------------

  /** The open batch, opened (with its error scopes) when there is none. */
  private begin(): Batch {
    if (this.batch) return this.batch;
    this.gpu.pushErrorScope('out-of-memory');
    this.gpu.pushErrorScope('validation');
    this.batch = { id: ++this.nextBatchId, encoder: this.gpu.createCommandEncoder(), pass: null, commands: 0, launches: 0, arena: [], labels: [] };
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
    for (const c of b.arena) c.used = 0;
    this.arenaFree.push(...b.arena);
    this.pool.afterSubmit();
    const scopes = [this.gpu.popErrorScope(), this.gpu.popErrorScope()];
    this.checks.push(
      Promise.all(scopes).then(
        ([v, o]) => (v ?? o ? this.toError((v ?? o)!, b.labels) : null),
        () => null,
      ),
    );
  }

  private endPass(b: Batch): void {
    b.pass?.end();
    b.pass = null;
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

  private toError(e: GPUError, labels: readonly string[] | null): DeviceError {
    const oom = typeof GPUOutOfMemoryError !== 'undefined' && e instanceof GPUOutOfMemoryError;
    const named = /launch \d+ \([^)]*\)(?: at [^"\]\n]*)?/.exec(e.message)?.[0];
    const where = named ?? (labels && labels.length ? `a batch of ${labels.length} launches (${labels.slice(0, 8).map((s) => s.replace(/^launch \d+ /, '')).join(', ')}${labels.length > 8 ? ', ...' : ''})` : 'a WebGPU call');
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

  // ---- parameters ----------------------------------------------------------------------------

  private params(p: Params): GPUBufferBinding {
    const b = this.batch!;
    const size = p.vec4s * 16;
    let c = b.arena[b.arena.length - 1];
    if (!c || c.used + size > ARENA_BYTES) {
      c = this.arenaFree.pop() ?? {
        buffer: this.gpu.createBuffer({ size: ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'params' }),
        host: new Uint32Array(ARENA_BYTES / 4),
        used: 0,
      };
      b.arena.push(c);
    }
    const offset = c.used;
    c.host.set(p.words, offset / 4);
    c.used = Math.ceil((offset + size) / this.align) * this.align;
    return { buffer: c.buffer, offset, size };
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
    this.layouts.clear();
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

  /** Frees every pooled (unused) buffer. */
  emptyCache(): void {
    if (this.lost) return;
    this.pool.trim();
    this.staging.trim();
  }
}
