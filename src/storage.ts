import type { Backend, BufferHandle } from './backend.js';
import type { DType } from './dtype.js';

/**
 * A backend buffer shared by a tensor and its views, with a reference count and the version counter
 * autograd uses to detect in-place changes to saved tensors.
 */
export class Storage {
  refs = 0;
  version = 0;
  /** Host copy of the whole buffer when it is known (set by reads and CPU writes on WebGPU). */
  hostCache: ArrayLike<number> | null = null;
  constructor(
    readonly backend: Backend,
    public buf: BufferHandle,
    readonly dtype: DType,
    readonly numel: number,
  ) {}

  retain(): void {
    this.refs++;
  }

  /** Drops a reference; the last one returns the buffer to the backend. */
  releaseRef(): void {
    if (--this.refs === 0 && this.buf !== null) {
      this.backend.release(this.buf, this.dtype, this.numel);
      this.buf = null;
    }
  }

  /** Marks the storage as written: saved tensors of older versions are now stale. */
  bump(): void {
    this.version++;
    this.hostCache = null;
  }
}

/**
 * One tensor's reference to its storage, as the finalizer holds it: `done` once dispose() returned
 * it. (Registering without an unregister token and marking the ticket costs less than keeping a
 * token per tensor for unregister(): the token table's insert and removal were most of an op's
 * registration.)
 */
export interface Ticket {
  readonly storage: Storage;
  done: boolean;
}

/** Returns a garbage-collected tensor's reference, so long loops without dispose() do not grow. */
export const storageFinalizer = new FinalizationRegistry<Ticket>((t) => {
  if (!t.done) t.storage.releaseRef();
});
