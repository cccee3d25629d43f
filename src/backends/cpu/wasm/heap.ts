import { RuntimeError } from '../../../errors.js';
import { cpuAllocError, hostView, type DType, type HostArray } from '../../../dtype.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB; engines may allow less (growth failure is reported, not thrown raw). */
const MAX_PAGES = 65536;
/** A collection hint is given each time the bytes of tensors made and not returned grow by this much. */
const HINT_EVERY = 32 * 2 ** 20;
/** A hint is also given when this many bytes of fresh memory were cut with no block released meanwhile. */
const HINT_FRESH = 4 * 2 ** 20;
const HINT_BYTES = 128 * 2 ** 20;
let hintSink: ArrayBuffer | null = null;

/**
 * Tells the garbage collector that memory is being held. Tensors in the wasm memory are invisible
 * to it: it sees small Tensor objects, and FinalizationRegistry callbacks (which return their
 * blocks) run only after a full collection, which small objects rarely cause. An ArrayBuffer's
 * size counts as external memory, which is what schedules full collections; a large one that is
 * never written costs address space, not resident memory (the allocator maps zero pages). The
 * heap gives a hint whenever the bytes of tensors made and not returned grow by HINT_EVERY (see
 * made()), and when the memory grows by HINT_FRESH with no block coming back: 60,000 rounds of a
 * 64×64 `mul` + `sum` + `item()` then grow the process by ~45 MB, not ~1 GB
 * (test/cpu-memory.test.ts). Hints cost a full collection each: every 4 MiB made the seed's
 * training loop spent a third of its time collecting; every 32 MiB, a tenth.
 * A loop that never yields to the event loop still holds its garbage until it does: finalizers
 * are tasks. Such loops release promptly with torch.scope() or dispose().
 */
function gcHint(): void {
  hintSink = null;
  try {
    hintSink = new ArrayBuffer(HINT_BYTES);
  } catch {
    // an engine that refuses the address space gets no hint; nothing else depends on it
  }
}

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
  /** Bytes of tensors made and not yet returned, and the figure at which the next hint is given. */
  private outstanding = 0;
  private hintAt = HINT_EVERY;
  /** Fresh bytes cut since a block was last released, and whether a hint was given for them. */
  private sinceRelease = 0;
  private hinted = false;

  /**
   * Counts a tensor of `bytes` made (its block is bound later, if ever). Whenever the tensors not
   * returned have grown by HINT_EVERY, dead ones are likely waiting for a collection: a hint is
   * given. The tensors made before this one count, not this one: one large tensor made after
   * the last one was disposed is not garbage, and must not cost a collection per op.
   */
  made(bytes: number): void {
    this.fresh += bytes;
    if (this.outstanding >= this.hintAt) {
      this.hintAt = this.outstanding + HINT_EVERY;
      gcHint();
    }
    this.outstanding += bytes;
  }

  /** Counts a tensor of `bytes` returned (see made()). */
  returned(bytes: number): void {
    this.outstanding = Math.max(0, this.outstanding - bytes);
    this.hintAt = Math.min(this.hintAt, this.outstanding + HINT_EVERY);
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
