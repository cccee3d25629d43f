/**
 * A loop of `await t.item()` on the CPU runs on microtasks only, so FinalizationRegistry callbacks
 * (which return collected tensors' memory, and run as a task) would never get their turn. The JS
 * backend counts the bytes it had to allocate afresh (nothing released fitted), the WebAssembly
 * one the bytes of tensors made (their memory is bound lazily, so fresh blocks say little), and a
 * read yields one task after YIELD_AFTER of them.
 */
export const YIELD_AFTER = 2 ** 20;

/** Resolves on the next task (setImmediate in Node; setTimeout elsewhere). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
