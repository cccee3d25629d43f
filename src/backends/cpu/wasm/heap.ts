import { RuntimeError } from '../../../errors.js';
import { cpuAllocError, hostView, type DType, type HostArray } from '../../../dtype.js';
import { gcHint, HeldBytes } from '../../../gc-hints.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB; engines may allow less (growth failure is reported, not thrown raw). */
const MAX_PAGES = 65536;
/**
 * A hint (gc-hints.ts) is also given when this many bytes of fresh memory were cut with no block
 * released meanwhile. With the hints every 32 MiB of tensors made and not returned (HeldBytes),
 * 60,000 rounds of a 64×64 `mul` + `sum` + `item()` grow the process by ~45 MB, not ~1 GB
 * (test/cpu-memory.test.ts).
 */
const HINT_FRESH = 4 * 2 ** 20;

/**
 * The size class of a request: multiples of 16 bytes (v128 alignment) up to 1 KiB, then four
 * classes per power of two (at most 25% slack), so a freed block fits any later request of its class.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 1024) return Math.max(16, (bytes + 15) & ~15);
  const p = 2 ** Math.floor(Math.log2(bytes));
  const q = p / 4;
  return Math.ceil(bytes / q) * q;
}

/**
 * The CPU backend's memory: one `WebAssembly.Memory` that grows, cut into blocks by a bump pointer,
 * and free lists per size class that released blocks return to (a wasm memory never shrinks, so
 * the free lists are the pool: the JS backend's HostPool, without the collector in the loop).
 *
 * Typed-array views of the memory are valid only until it grows (growth detaches the old
 * ArrayBuffer): `array()` makes a view for the duration of one launch, and reads copy out.
 */
export class WasmHeap {
  readonly memory = new WebAssembly.Memory({ initial: 16 });
  top = 64; // address 0 stays unused, so a pointer is never 0
  private readonly free = new Map<number, number[]>();
  /** Size (class) of every block handed out, by address. */
  private readonly sizes = new Map<number, number>();
  /** Bytes of blocks held by live buffers / waiting in the free lists. */
  liveBytes = 0;
  pooledBytes = 0;
  /** Bytes of tensors made since the backend last yielded a task (it resets it when it yields). */
  fresh = 0;
  /** Bytes of tensors made and not yet returned (collection hints). */
  private readonly held = new HeldBytes();
  /** Fresh bytes cut since a block was last released, and whether a hint was given for them. */
  private sinceRelease = 0;
  private hinted = false;

  /** Counts a tensor of `bytes` made (its block is bound later, if ever): see HeldBytes.made(). */
  made(bytes: number): void {
    this.fresh += bytes;
    this.held.made(bytes);
  }

  /** Counts a tensor of `bytes` returned. */
  returned(bytes: number): void {
    this.held.returned(bytes);
  }

  /** The address of a block of at least `bytes` bytes, 16-byte aligned; not cleared when it is reused. */
  alloc(bytes: number): number {
    let size = sizeClass(bytes);
    let ptr = this.free.get(size)?.pop();
    // a free block of one of the next size classes (at most 2× as large) beats growing the memory:
    // workloads whose sizes drift (63 rows, then 64) reuse instead of cutting fresh blocks
    for (let c = size; ptr === undefined && size > 1024 && (c = sizeClass(c + 1)) <= 2 * sizeClass(bytes); ) {
      ptr = this.free.get(c)?.pop();
      if (ptr !== undefined) size = c;
    }
    if (ptr !== undefined) this.pooledBytes -= size;
    else {
      ptr = this.top;
      if (!this.reserve(ptr + size)) {
        // out of memory: a larger free block serves whole (free lists are never merged)
        const bigger = [...this.free].filter(([s, l]) => s > size && l.length).sort((a, b) => a[0] - b[0])[0];
        if (!bigger) throw new RuntimeError(cpuAllocError(bytes));
        size = bigger[0];
        ptr = bigger[1].pop()!;
        this.pooledBytes -= size;
      } else {
        this.top += size;
        // the memory grows while nothing comes back: dead tensors (kept alive by views the
        // collector has not seen die) are likely waiting — one hint until a block comes back
        this.sinceRelease += size;
        if (this.sinceRelease >= HINT_FRESH && !this.hinted) {
          this.hinted = true;
          gcHint();
        }
      }
    }
    this.liveBytes += size;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /** Returns the block at `ptr` to its size class's free list. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
    this.liveBytes -= size;
    this.pooledBytes += size;
    this.sinceRelease = 0;
    this.hinted = false;
  }

  /** The most bytes one block can ever have (what wasm32 addresses, less the unused first bytes). */
  get maxBytes(): number {
    return MAX_PAGES * PAGE - 64;
  }

  /** Grows the memory to hold `end` bytes; false when it cannot. */
  private reserve(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    // Grow at least by half again, so a growing workload grows the memory O(log n) times.
    const need = Math.ceil(end / PAGE);
    if (need > MAX_PAGES) return false;
    for (const pages of [Math.max(need, Math.min(MAX_PAGES, Math.ceil((have * 1.5) / PAGE))), need]) {
      try {
        this.memory.grow(pages - have / PAGE);
        return true;
      } catch {
        // the engine refused: try the exact need, then give up
      }
    }
    return false;
  }

  /** Bytes the memory spans now (what the process holds for CPU tensors). */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  /** A typed-array view of `numel` elements at `ptr`; valid until the next allocation. */
  array(dtype: DType, ptr: number, numel: number): HostArray {
    return hostView(dtype, this.memory.buffer, ptr, numel);
  }
}
