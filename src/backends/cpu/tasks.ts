/**
 * A loop of `await t.item()` on the CPU runs on microtasks only, so FinalizationRegistry callbacks
 * (which return collected tensors' memory, and run as a task) would never get their turn. Both CPU
 * backends count the bytes they had to allocate afresh (nothing released fitted), and a read
 * yields one task after YIELD_AFTER of them: a loop whose garbage is being returned never waits.
 */
export const YIELD_AFTER = 2 ** 20;

/** Resolves on the next task (setImmediate in Node; setTimeout elsewhere). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
