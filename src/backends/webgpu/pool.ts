/**
 * The caching allocator: GPU buffers are kept in size buckets when their Storage is released and
 * handed out again, as PyTorch's CUDA caching allocator does. A buffer released while the open
 * (not yet submitted) command encoder still uses it waits until that encoder is submitted: queue
 * order then guarantees that later work sees it only after the earlier commands.
 */

/** The handle a Storage holds on WebGPU: a pooled GPUBuffer and the backend that owns it. */
export class GpuBuf {
  /** Id of the last batch (command encoder) that used this buffer; batch ids start at 1, -1 is none. */
  lastUse = -1;
  released = false;
  constructor(
    readonly buffer: GPUBuffer,
    /** Capacity in bytes (the bucket size, a multiple of 16). */
    readonly size: number,
    readonly owner: object,
  ) {}
}

/**
 * Bucket size for a request: powers of two up to 4 KiB, then quarter steps between powers of two
 * (at most 25% slack), never above `limit`.
 */
export function bucketBytes(bytes: number, limit: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  let r: number;
  if (b <= 4096) r = 2 ** Math.ceil(Math.log2(b));
  else {
    const q = 2 ** Math.floor(Math.log2(b)) / 4;
    r = Math.ceil(b / q) * q;
  }
  // Near the limit: the request itself, rounded to 4 bytes (the caller checked bytes <= limit).
  return r <= limit ? r : Math.min(b, Math.floor(limit / 4) * 4);
}

/** One pool's counts: bytes and buffers handed out (live) and kept for reuse (pooled). */
export interface PoolCounts {
  liveBytes: number;
  liveBuffers: number;
  pooledBytes: number;
  pooledBuffers: number;
}

/** What torch.webgpu.memoryStats() reports: the tensor pool's counts and the read staging pool's. */
export interface PoolStats extends PoolCounts {
  /** Bytes and buffers of MAP_READ staging buffers (in use by a read, or kept for the next). */
  stagingBytes: number;
  stagingBuffers: number;
}

/** The tensor pool's counts with the staging pool's buffers counted in. */
export function memoryStats(tensors: BufferPool, staging: BufferPool): PoolStats {
  const s = staging.stats;
  return { ...tensors.stats, stagingBytes: s.liveBytes + s.pooledBytes, stagingBuffers: s.liveBuffers + s.pooledBuffers };
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pending: GpuBuf[] = [];
  readonly stats: PoolCounts = { liveBytes: 0, liveBuffers: 0, pooledBytes: 0, pooledBuffers: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly limit: number,
    private readonly owner: object,
    private readonly label: string,
  ) {}

  /** A buffer of at least `bytes`, from the pool when one of the bucket's size is free. */
  acquire(bytes: number): GpuBuf {
    const size = bucketBytes(bytes, this.limit);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.stats.pooledBytes -= size;
      this.stats.pooledBuffers--;
    } else {
      buffer = this.device.createBuffer({ size, usage: this.usage, label: `${this.label}[${size}]` });
    }
    this.stats.liveBytes += size;
    this.stats.liveBuffers++;
    return new GpuBuf(buffer, size, this.owner);
  }

  /**
   * Returns a buffer; it is reusable at once unless the open batch `openBatch` uses it (-1: no
   * batch is open, so nothing waits: a buffer no batch used, such as a read's staging buffer after
   * its copy was submitted, must not wait for a submit that may never call afterSubmit()).
   */
  release(b: GpuBuf, openBatch: number): void {
    if (b.released) return;
    b.released = true;
    this.stats.liveBytes -= b.size;
    this.stats.liveBuffers--;
    this.stats.pooledBytes += b.size;
    this.stats.pooledBuffers++;
    if (openBatch >= 0 && b.lastUse === openBatch) this.pending.push(b);
    else this.put(b);
  }

  /** The open batch was submitted: buffers it used may be handed out again. */
  afterSubmit(): void {
    if (this.pending.length === 0) return;
    for (const b of this.pending) this.put(b);
    this.pending = [];
  }

  private put(b: GpuBuf): void {
    let list = this.free.get(b.size);
    if (!list) this.free.set(b.size, (list = []));
    list.push(b.buffer);
  }

  /** Destroys every free buffer (PyTorch's torch.cuda.empty_cache()). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const buf of list) {
        buf.destroy();
        this.stats.pooledBytes -= buf.size;
        this.stats.pooledBuffers--;
      }
    }
    this.free.clear();
  }

  /** Forgets everything (the device is gone); nothing is destroyed. */
  clear(): void {
    this.free.clear();
    this.pending = [];
    Object.assign(this.stats, { liveBytes: 0, liveBuffers: 0, pooledBytes: 0, pooledBuffers: 0 });
  }
}
