import { hostArray, type DType, type HostArray } from '../../dtype.js';

/**
 * A small caching allocator for the CPU backend: typed arrays of released storages are kept by
 * (dtype, length) and handed out again, the way the WebGPU backend pools its buffers. A training
 * loop allocates the same shapes every step; reusing their (already mapped, cache-warm) memory
 * avoids a fresh zeroed allocation per op, which the bench measured as the main cost of large
 * elementwise ops (bench/NOTES.md). Like torch.empty, a reused array is not cleared.
 */
export class HostPool {
  private readonly free = new Map<DType, Map<number, HostArray[]>>();
  pooledBytes = 0;
  /** Bytes allocated afresh (the pool had no array to hand out); reads reset it (tasks.ts). */
  fresh = 0;

  constructor(
    /** Arrays of fewer elements are left to the JS allocator (cheap, and many). */
    private readonly minNumel = 16 * 1024,
    /** The pool never holds more than this; a release beyond it just drops the array. */
    private readonly capBytes = 256 * 2 ** 20,
  ) {}

  acquire(dtype: DType, numel: number): HostArray {
    const a = numel >= this.minNumel ? this.free.get(dtype)?.get(numel)?.pop() : undefined;
    if (!a) {
      // hostArray raises PyTorch's allocator error for an array that cannot exist
      const fresh = hostArray(dtype, numel);
      this.fresh += fresh.byteLength;
      return fresh;
    }
    this.pooledBytes -= a.byteLength;
    return a;
  }

  release(a: HostArray, dtype: DType): void {
    if (a.length < this.minNumel || this.pooledBytes + a.byteLength > this.capBytes) return;
    let sizes = this.free.get(dtype);
    if (!sizes) this.free.set(dtype, (sizes = new Map()));
    let list = sizes.get(a.length);
    if (!list) sizes.set(a.length, (list = []));
    list.push(a);
    this.pooledBytes += a.byteLength;
  }
}
