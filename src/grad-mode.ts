/**
 * Grad mode (PyTorch's torch.no_grad / torch.enable_grad). An async body must not switch recording
 * off for the whole process while it awaits: where the platform tracks async context (Node's
 * AsyncLocalStorage) the mode follows the body's own continuations; elsewhere an async body is
 * rejected with an error instead of running with the wrong mode.
 */
import { RuntimeError, TypeError } from './errors.js';

/** The part of AsyncLocalStorage grad mode uses. */
export interface ContextStore {
  getStore(): boolean | undefined;
  run<R>(store: boolean, fn: () => R): R;
}

/** Node's AsyncLocalStorage when present; looked up at run time so the browser build has no Node import. */
function asyncContext(): ContextStore | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const hooks = proc?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage?: new () => ContextStore } | undefined;
  return hooks?.AsyncLocalStorage ? new hooks.AsyncLocalStorage() : null;
}

const isThenable = (v: unknown): boolean =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';

/** The grad-mode functions over an async context, or over a plain flag when `context` is null. */
export function createGradMode(context: ContextStore | null) {
  /** The mode of synchronous code, used where there is no async context. */
  let syncMode = true;
  const isGradEnabled = (): boolean => (context ? (context.getStore() ?? true) : syncMode);
  function withGradMode<T>(mode: boolean, fn: () => T, name: string): T {
    if (typeof fn !== 'function') throw new TypeError(`torch.${name}(fn): fn must be a function, not ${typeof fn}`);
    if (context) return context.run(mode, fn);
    const prev = syncMode;
    syncMode = mode;
    let result: T;
    try {
      result = fn();
    } finally {
      syncMode = prev;
    }
    if (isThenable(result)) {
      throw new RuntimeError(
        `torch.${name}(fn): fn returned a Promise, but this platform cannot scope grad mode to an async body ` +
          '(no AsyncLocalStorage); use a synchronous fn and await outside it',
      );
    }
    return result;
  }
  return {
    isGradEnabled,
    noGrad: <T>(fn: () => T): T => withGradMode(false, fn, 'noGrad'),
    enableGrad: <T>(fn: () => T): T => withGradMode(true, fn, 'enableGrad'),
  };
}

const mode = createGradMode(asyncContext());

/** Whether ops currently record autograd nodes (PyTorch's torch.is_grad_enabled()). */
export const isGradEnabled: () => boolean = mode.isGradEnabled;

/** Same as isGradEnabled, for the library's hot paths. */
export const gradEnabled = isGradEnabled;

/**
 * Runs fn with gradient recording off: `torch.noGrad(() => { w.sub_(w.grad!.mul(lr)); })`. In Node an
 * async fn keeps the mode across its awaits without affecting code running meanwhile; in browsers
 * fn must be synchronous.
 */
export const noGrad: <T>(fn: () => T) => T = mode.noGrad;

/** Runs fn with gradient recording on, even inside noGrad (same async rules as noGrad). */
export const enableGrad: <T>(fn: () => T) => T = mode.enableGrad;
