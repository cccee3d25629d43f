/**
 * Pacing of Dawn's event polling in Node. The `webgpu` package delivers its callbacks (mapAsync,
 * onSubmittedWorkDone, popErrorScope) by polling: while one is pending, its binding calls the
 * global `setImmediate(tick)` (looked up on every call), and each tick processes Dawn's events and
 * queues the next. While JS waits for the device, that loop spins the main thread: on lavapipe,
 * whose workers run on the same cores, the seed's net (500 steps, a read every 100) spent ~600
 * ticks a step, 10% of its profile in the ticks themselves, and made 60% of all the garbage the
 * collector then spent 12–16% of the profile on.
 *
 * Installed once when the WebGPU backend starts in Node, the wrapper forwards every call to the
 * real setImmediate, except Dawn's ticks (anonymous native functions) of a wait older than SPIN_MS:
 * until the wait is NAP_UNTIL_MS old, such a tick first sleeps NAP_MS (the thread blocks, leaving
 * the core to the device's workers), then from a 1 ms timer. A short wait (a small read in a test)
 * still sees its result within microseconds, one of a few milliseconds at most NAP_MS late (a 1 ms
 * timer made a 2.5 ms read of a 256K sum 3.5 ms), a long one at most a millisecond, and none spins.
 */

/** How long a wait polls at full speed before its ticks are paced (small reads keep Dawn's own latency). */
export const SPIN_MS = 2;
/** Until a wait is this old, a paced tick naps NAP_MS first; later ones run from a timer. */
export const NAP_UNTIL_MS = 20;
/** A paced tick's nap: the most a result that came during the nap waits for JS to see it. */
export const NAP_MS = 0.25;
/** The delay of a tick paced by a timer (Node clamps timers to at least 1 ms). */
export const PACED_DELAY_MS = 1;

type Immediate = (cb: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
type Timeout = (cb: () => void, ms: number) => unknown;
type Sleep = (ms: number) => void;

/** Blocks the thread for `ms` (Atomics.wait; Node allows it on the main thread). */
function napper(): Sleep {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  return (ms) => void Atomics.wait(cell, 0, 0, ms);
}

const fnToString = Function.prototype.toString;
const NATIVE_ANONYMOUS = /^function \(\) \{\s*\[native code\]\s*\}$/;
/**
 * The timer paced ticks run from, taken when this module loads: a test that fakes setTimeout later
 * (vi.useFakeTimers) must not park Dawn's tick in a fake timer that useRealTimers() then drops —
 * Dawn queues its next tick only from the last one, so every later read would wait forever.
 */
const realTimeout = globalThis.setTimeout;

/** Whether a setImmediate callback is one of Dawn's ticks: a native function without a name. */
export function isDawnTick(cb: unknown): cb is (...args: unknown[]) => void {
  // arrow functions have no prototype; native template functions (Napi::Function) do
  return typeof cb === 'function' && cb.name === '' && 'prototype' in cb && NATIVE_ANONYMOUS.test(fnToString.call(cb));
}

/**
 * A setImmediate that paces Dawn's ticks (see the file comment). A tick requested from outside a
 * tick starts a wait; ticks requested by ticks continue it.
 */
export function pacedSetImmediate(immediate: Immediate, timeout: Timeout, now: () => number, sleep: Sleep = napper()): Immediate {
  let waitStart = 0;
  let inTick = false;
  const paced = function setImmediate(cb: (...args: unknown[]) => void, ...args: unknown[]): unknown {
    if (!isDawnTick(cb)) return immediate(cb, ...args);
    const t = now();
    if (!inTick) waitStart = t;
    const run = () => {
      inTick = true;
      try {
        cb(...args);
      } finally {
        inTick = false;
      }
    };
    const age = t - waitStart;
    if (age < SPIN_MS) return immediate(run);
    if (age < NAP_UNTIL_MS) {
      return immediate(() => {
        sleep(NAP_MS);
        run();
      });
    }
    return timeout(run, PACED_DELAY_MS);
  };
  // util.promisify(setImmediate) and friends read properties of the function itself
  for (const key of Reflect.ownKeys(immediate)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    Object.defineProperty(paced, key, Object.getOwnPropertyDescriptor(immediate, key)!);
  }
  return paced;
}

const INSTALLED = Symbol.for('wgtorch.dawnPacing');

/** Installs the pacing on globalThis.setImmediate once per realm (Node only; a no-op elsewhere). */
export function installDawnPacing(): void {
  const g = globalThis as { setImmediate?: Immediate & { [INSTALLED]?: true } };
  if (typeof g.setImmediate !== 'function' || g.setImmediate[INSTALLED]) return;
  const paced = pacedSetImmediate(g.setImmediate, (cb, ms) => realTimeout(cb, ms), () => performance.now()) as Immediate & { [INSTALLED]?: true };
  paced[INSTALLED] = true;
  g.setImmediate = paced;
}
