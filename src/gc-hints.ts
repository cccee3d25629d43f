/**
 * Collection hints for memory the garbage collector cannot see. A tensor's memory lives outside the
 * JS heap (the wasm memory, a GPUBuffer): the collector sees a small Tensor object, and the
 * FinalizationRegistry callbacks that return the memory run only after a collection, which small
 * objects rarely cause. An ArrayBuffer's size counts as external memory, which is what schedules
 * full collections; a large one that is never written costs address space, not resident memory
 * (the allocator maps zero pages). Hints cost a full collection each: every 4 MiB made, the seed's
 * training loop spent a third of its time collecting; every 32 MiB, a tenth.
 * A loop that never yields to the event loop still holds its garbage until it does: finalizers are
 * tasks. Such loops release promptly with torch.scope() or dispose().
 */
const HINT_BYTES = 128 * 2 ** 20;
let hintSink: ArrayBuffer | null = null;

/** Asks for a full collection (see the file comment). */
export function gcHint(): void {
  hintSink = null;
  try {
    hintSink = new ArrayBuffer(HINT_BYTES);
  } catch {
    // an engine that refuses the address space gets no hint; nothing else depends on it
  }
}

/**
 * Counts the bytes of memory handed to tensors and not yet returned; whenever they have grown by
 * `every` bytes, dead tensors are likely waiting for a collection and a hint is given.
 */
export class HeldBytes {
  /** Bytes handed out and not yet returned, and the figure at which the next hint is given. */
  private held = 0;
  private hintAt: number;

  constructor(
    private readonly every = 32 * 2 ** 20,
    private readonly hint: () => void = gcHint,
  ) {
    this.hintAt = every;
  }

  /**
   * Counts `bytes` handed out. The bytes handed out before count, not these: one large tensor made
   * after the last one was disposed is not garbage, and must not cost a collection per op.
   */
  made(bytes: number): void {
    if (this.held >= this.hintAt) {
      this.hintAt = this.held + this.every;
      this.hint();
    }
    this.held += bytes;
  }

  /** The bytes handed out and not yet returned. */
  get bytes(): number {
    return this.held;
  }

  /** Counts `bytes` returned. */
  returned(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
    this.hintAt = Math.min(this.hintAt, this.held + this.every);
  }
}
