import type { DType } from './dtype.js';

/**
 * What the graph executor (executor.ts) knows of one buffer: which graph uses it and its number
 * there, whether it died in that graph, the carried kernels that write and read it, and, once it
 * was released while carried kernels still name it, what to return when they let go. The
 * backends' handle classes extend this class, so the executor reads a handle's fields instead of
 * looking buffers up in maps (a handle that is not one, a typed array of the JS kernels, gets a
 * BufferNote in its property `ex`). Only the executor reads or writes these fields.
 */
export class BufferNote {
  graph = 0;
  id = 0;
  dead = 0;
  /** Carried kernels writing the buffer (the executor's Carried): none, one, or several. */
  w: unknown = null;
  /** Carried kernels reading it. */
  r: unknown = null;
  /** Set when the buffer was released while carried kernels named it: its dtype (numel in heldNumel). */
  held: DType | null = null;
  heldNumel = 0;
}
