/**
 * The caching allocator: GPU buffers are kept in size buckets when their Storage is released and
 * handed out again, as PyTorch's CUDA caching allocator does.
 *
 * Binding is lazy: `acquire()` returns a handle without memory, and the handle takes a GPUBuffer
 * from the pool (or creates one) the first time something really uses it — a kernel binds it, a
 * write or a read. A tensor whose kernel the executor never runs (an intermediate that lives only
 * inside a fused kernel) therefore costs no createBuffer. The stats count what PyTorch's
 * memory_allocated() does: every live handle's bucket as live, bound yet or not; pooled counts
 * free memory kept for reuse.
 *
 * A released buffer is reusable at once, even when the open (not yet submitted) command encoder
 * still uses it: commands run in the order they were encoded, so a later dispatch that writes it
 * runs after the earlier readers. Only queue.writeBuffer and destroy() jump ahead of the open
 * encoder; the buffer's record keeps the id of the last batch that used it (`lastUse`) across
 * owners, so the backend submits that batch before writing, and emptyCache() submits the open
 * batch before destroying free memory.
 */
import { RuntimeError } from '../../errors.js';
import { BufferNote } from '../../buffer-note.js';
import { HeldBytes } from '../../gc-hints.js';

/** A pooled GPUBuffer: the memory, its bucket size, and the last batch (encoder) that used it. */
export interface PoolMem {
  readonly buffer: GPUBuffer;
  readonly size: number;
  /** Process-unique, for keys of bind groups that bind this buffer. */
  readonly id: number;
  /** Id of the last batch that used this buffer; batch ids start at 1, -1 is none. */
  lastUse: number;
  /** Its index in its bucket's free heap while it is free memory (bind() may take it), else -1. */
  at: number;
  /** A mark bind() avoids when it looks for other memory than a pick (the backend's frames). */
  claim: number;
}

let nextMemId = 1;

/** The handle a Storage holds on WebGPU: a (lazily bound) pooled buffer and the backend that owns it. */
export class GpuBuf extends BufferNote {
  /** The memory, once bound (see the file comment); null before the first use and after release. */
  mem: PoolMem | null = null;
  released = false;
  constructor(
    private readonly pool: BufferPool,
    /** Capacity in bytes (the bucket size, a multiple of 16). */
    readonly size: number,
    readonly owner: object,
  ) {
    super();
  }

  /** The bound memory, bound now when it was not yet (see BufferPool.bind()). */
  bind(pick?: PoolMem, avoid = 0): PoolMem {
    if (this.released) throw new RuntimeError('Tensor was disposed: its storage has been released');
    return this.mem ?? this.pool.bind(this, pick, avoid);
  }

  /** The GPUBuffer (binds it). */
  get buffer(): GPUBuffer {
    return this.bind().buffer;
  }
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

/** One pool's counts: bytes and buffers of live handles (live) and of free memory kept for reuse (pooled). */
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
  /**
   * Free memory by bucket, each a binary heap ordered by id: bind() takes the oldest buffer. Memory
   * that the collector returns (a plain training loop's step outputs) comes back in a different
   * order every cycle; taken lowest id first, the k-th binding after a collection gets the same
   * buffer each cycle, so a replayed plan's dispatches find their bind groups again instead of
   * binding a new combination of buffers each step. When collections come at irregular steps that
   * order changes with them; the backend then picks the free buffer a cached bind group binds
   * (bind(g, pick)), which is taken out of the heap wherever it is.
   */
  private readonly free = new Map<number, PoolMem[]>();
  readonly stats: PoolCounts = { liveBytes: 0, liveBuffers: 0, pooledBytes: 0, pooledBuffers: 0 };
  /** createBuffer calls of this pool. */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly limit: number,
    private readonly owner: object,
    private readonly label: string,
    /** Bound bytes not yet returned: dead tensors' memory comes back only after a collection (gc-hints.ts). */
    private readonly held = new HeldBytes(),
  ) {}

  /** A handle for at least `bytes`; its memory is bound on first use (see the file comment). */
  acquire(bytes: number): GpuBuf {
    const g = new GpuBuf(this, bucketBytes(bytes, this.limit), this.owner);
    this.stats.liveBytes += g.size;
    this.stats.liveBuffers++;
    return g;
  }

  /**
   * Binds g to `pick` when that is free memory of g's bucket (the backend picks one whose bind
   * group it has), else to the oldest free buffer of its bucket whose `claim` is not `avoid` (when
   * nonzero: memory the backend means to pick next), or to a new one.
   */
  bind(g: GpuBuf, pick?: PoolMem, avoid = 0): PoolMem {
    const size = g.size;
    const heap = this.free.get(size);
    // (takeOut finds only memory of this bucket's heap)
    let mem = pick && pick.at >= 0 && heap ? takeOut(heap, pick) : undefined;
    if (!mem && heap?.length) {
      if (avoid === 0 || heap[0]!.claim !== avoid) mem = popMin(heap);
      else {
        let best: PoolMem | undefined;
        for (const m of heap) if (m.claim !== avoid && (!best || m.id < best.id)) best = m;
        if (best) mem = takeOut(heap, best);
      }
    }
    if (mem) {
      this.stats.pooledBytes -= size;
      this.stats.pooledBuffers--;
    } else {
      mem = { buffer: this.device.createBuffer({ size, usage: this.usage, label: `${this.label}[${size}]` }), size, id: nextMemId++, lastUse: -1, at: -1, claim: 0 };
      this.created++;
    }
    this.held.made(size);
    g.mem = mem;
    return mem;
  }

  /** Returns a handle's buffer to the pool (reusable at once, see the file comment). */
  release(g: GpuBuf): void {
    if (g.released) return;
    g.released = true;
    this.stats.liveBytes -= g.size;
    this.stats.liveBuffers--;
    const mem = g.mem;
    if (!mem) return;
    this.held.returned(mem.size);
    g.mem = null;
    this.stats.pooledBytes += mem.size;
    this.stats.pooledBuffers++;
    let heap = this.free.get(mem.size);
    if (!heap) this.free.set(mem.size, (heap = []));
    pushMin(heap, mem);
  }

  /** Destroys every free buffer (PyTorch's torch.cuda.empty_cache()). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const mem of list) {
        mem.at = -1;
        mem.buffer.destroy();
        this.stats.pooledBytes -= mem.size;
        this.stats.pooledBuffers--;
      }
    }
    this.free.clear();
  }

  /** Forgets everything (the device is gone); nothing is destroyed. */
  clear(): void {
    for (const list of this.free.values()) for (const mem of list) mem.at = -1;
    this.free.clear();
    Object.assign(this.stats, { liveBytes: 0, liveBuffers: 0, pooledBytes: 0, pooledBuffers: 0 });
  }
}

/** Adds mem to a binary heap ordered by id (each element's `at` is its index). */
function pushMin(heap: PoolMem[], mem: PoolMem): void {
  heap.push(mem);
  const i = holeUp(heap, heap.length - 1, mem);
  heap[i] = mem;
  mem.at = i;
}

/** Moves the hole at i up past parents with larger ids than x's; returns where x goes. */
function holeUp(heap: PoolMem[], i: number, x: PoolMem): number {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent]!;
    if (p.id <= x.id) break;
    heap[i] = p;
    p.at = i;
    i = parent;
  }
  return i;
}

/** Takes the lowest id out of a non-empty binary heap. */
function popMin(heap: PoolMem[]): PoolMem {
  return takeOut(heap, heap[0]!)!;
}

/** Takes mem out of a binary heap ordered by id (undefined when it is not there). */
function takeOut(heap: PoolMem[], mem: PoolMem): PoolMem | undefined {
  let i = mem.at;
  if (heap[i] !== mem) return undefined;
  mem.at = -1;
  const last = heap.pop()!;
  const n = heap.length;
  if (i === n) return mem;
  // the last element fills hole i: up while its parent is larger, else down while a child is smaller
  i = holeUp(heap, i, last);
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap[c + 1]!.id < heap[c]!.id) c++;
    const child = heap[c]!;
    if (child.id >= last.id) break;
    heap[i] = child;
    child.at = i;
    i = c;
  }
  heap[i] = last;
  last.at = i;
  return mem;
}
