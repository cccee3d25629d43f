/**
 * `torch.webgpu`: starting the WebGPU device and looking at it, as `torch.cuda` does for CUDA.
 *
 * @example
 * const DEVICE = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
 */
import { gpuStats, WebGPUBackend, type GpuStats } from './backends/webgpu/index.js';
import { requestDevice, type AdapterInfo } from './backends/webgpu/device.js';
import { kernelChoice, kernelsFor, setKernelChoice, type KernelChoice, type KernelConfig } from './backends/webgpu/kernels.js';
import type { PoolStats } from './backends/webgpu/pool.js';
import { RuntimeError } from './errors.js';
import { realize, registerBackend } from './executor.js';

let backend: WebGPUBackend | null = null;
let pending: Promise<WebGPUBackend | string> | null = null;
/** Why the last attempt found no device (isAvailable() does not retry; init() does). */
let unavailable: string | null = null;
let batchLimit = 32;

const env = (k: string): string | undefined => (typeof process !== 'undefined' ? process.env?.[k] : undefined);

function start(): Promise<WebGPUBackend | string> {
  if (backend && !backend.lost) return Promise.resolve(backend);
  if (env('WGTORCH_DEVICE') === 'cpu') return Promise.resolve('WGTORCH_DEVICE=cpu is set');
  try {
    kernelChoice(); // a bad WGTORCH_KERNELS is reported here, not from the first launch
  } catch (e) {
    return Promise.resolve((e as Error).message);
  }
  pending ??= (async () => {
    const info = await requestDevice();
    if (typeof info === 'string') return info;
    const b = new WebGPUBackend(info);
    b.batchLimit = batchLimit;
    backend = b;
    registerBackend('webgpu', b);
    return b;
  })()
    .catch((e: unknown) => `WebGPU initialization failed: ${(e as Error).message}`)
    .then((r) => {
      pending = null;
      unavailable = typeof r === 'string' ? r : null;
      return r;
    });
  return pending;
}

/** Memory held by the WebGPU caching allocator. */
export type MemoryStats = PoolStats;
export type { KernelChoice, KernelConfig };

/** Options of `torch.webgpu.init()`. */
export interface InitOptions {
  /**
   * Which kernels to generate: 'auto' (the default, or WGTORCH_KERNELS) picks by adapter; 'gpu'
   * runs what a discrete GPU runs on any adapter (tiled matmul, ...); 'cpu' runs what a CPU-backed
   * adapter (lavapipe, SwiftShader) runs. Takes effect for the next launch, device started or not.
   */
  kernels?: KernelChoice;
}

export const webgpu = {
  /**
   * Whether WebGPU can be used: the first call initializes the device. Never throws; false when
   * there is no `webgpu` package (Node), no adapter or no device, or when WGTORCH_DEVICE=cpu.
   * After a device loss it initializes a new device.
   */
  async isAvailable(): Promise<boolean> {
    if (env('WGTORCH_DEVICE') === 'cpu' || (unavailable !== null && !backend)) return false;
    return typeof (await start()) !== 'string';
  },

  /**
   * Initializes the device (again, after a loss); throws a RuntimeError saying why when it cannot.
   * `kernels` sets the kernel choice (see InitOptions); a bad value throws ValueError.
   *
   * @example
   * await torch.webgpu.init({ kernels: 'gpu' }); // test the GPU kernels on a software adapter
   */
  async init(options: InitOptions = {}): Promise<void> {
    if (options.kernels !== undefined) setKernelChoice(options.kernels);
    unavailable = null;
    const r = await start();
    if (typeof r === 'string') throw new RuntimeError(`WebGPU is not available: ${r}`);
  },

  /** The adapter in use (vendor, architecture, device, description), or null before init. */
  adapterInfo(): AdapterInfo | null {
    return backend?.info.adapterInfo ?? null;
  },

  /** The kernels in use: the choice, the family it resolved to on this adapter, their settings; null before init. */
  kernels(): KernelConfig | null {
    return backend && !backend.lost ? kernelsFor(backend) : null;
  },

  /** The device's limits as requested (the adapter's own), or null before init. */
  limits(): GPUSupportedLimits | null {
    return backend?.info.limits ?? null;
  },

  /** Submits every queued launch and waits for the device; throws the errors they raised. */
  async synchronize(): Promise<void> {
    if (!backend) return;
    realize('webgpu', false);
    await backend.synchronize();
  },

  /** Bytes and buffers held by live tensors and kept in the pool for reuse. */
  memoryStats(): MemoryStats {
    return backend && !backend.lost ? backend.memoryStats() : { liveBytes: 0, liveBuffers: 0, pooledBytes: 0, pooledBuffers: 0, stagingBytes: 0, stagingBuffers: 0 };
  },

  /** Frees the pool's unused buffers (PyTorch's torch.cuda.empty_cache()). */
  emptyCache(): void {
    backend?.emptyCache();
  },

  /**
   * Counters since the last resetStats(): submits, launches, kernels, dispatches, pipelines, reads,
   * mapAsyncs, writes, buffersCreated, bindGroups (created) and bindGroupHits, replayed kernels.
   */
  stats(): GpuStats {
    return { ...gpuStats };
  },

  resetStats(): void {
    for (const k of Object.keys(gpuStats) as (keyof GpuStats)[]) gpuStats[k] = 0;
  },

  /** Kernels per submit (default 32): the queue is submitted when a batch reaches it. */
  setBatchLimit(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RuntimeError(`batch limit must be a positive integer, got ${n}`);
    batchLimit = n;
    if (backend) backend.batchLimit = n;
  },

  /** The GPUDevice in use, for interop with other WebGPU code (null before init). */
  device(): GPUDevice | null {
    return backend && !backend.lost ? backend.gpu : null;
  },

  /** Destroys the device, as a device loss would (for tests): later ops throw DeviceLostError until init(). */
  destroy(): void {
    backend?.destroy();
  },
};
