/**
 * torch.scope(fn): prompt release of the tensors a synchronous block makes, for loops that should
 * not wait for the garbage collector (tf.tidy's idea, with autograd taken into account).
 */
import type { Node } from './autograd.js';
import { RuntimeError, TypeError } from './errors.js';
import { realize } from './executor.js';
// A cycle (tensor.ts calls trackTensor); Tensor is only used inside functions, after both load.
import { Tensor } from './tensor.js';

interface Frame {
  /** Tensors made while this scope was innermost. */
  made: Set<Tensor>;
  /** Tensors made outside whose history was rebased (in-place under grad) inside: kept graph roots. */
  roots: Set<Tensor>;
}
const frames: Frame[] = [];

/** Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  // (frames[-1] would be a named-property lookup through the prototypes: check the length first)
  const n = frames.length;
  if (n !== 0) frames[n - 1]!.made.add(t);
}

/** A tensor that now belongs to another (a leaf's .grad): no scope disposes it. */
export function untrackTensor(t: Tensor): void {
  for (const f of frames) f.made.delete(t);
}

/** A tensor whose gradFn changed in place: its new history must outlive the scope. */
export function noteRebased(t: Tensor): void {
  const f = frames[frames.length - 1];
  if (f && !f.made.has(t)) f.roots.add(t);
}

/** Tensors, in arrays and plain objects, of a scope's return value. */
function collect(v: unknown, out: Tensor[], seen: Set<unknown>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) collect(x, out, seen);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, seen);
}

/**
 * What a kept tensor's backward still reads: the saved tensors of every node in its graph (and the
 * tensors retainGrad() asked about), found by walking the nodes' edges. Nodes do not hold their
 * inputs: backward needs their history, not their storage.
 */
function keepGraph(roots: Iterable<Tensor>, keep: Set<Tensor>): void {
  const hold = (t: Tensor) => keep.add(t);
  const stack: Node[] = [];
  const nodes = new Set<Node>();
  const visit = (n: Node | null | undefined) => {
    if (n && !nodes.has(n)) {
      nodes.add(n);
      stack.push(n);
    }
  };
  for (const r of roots) {
    hold(r);
    visit(r.gradFn);
  }
  while (stack.length) {
    const n = stack.pop()!;
    for (const s of n.saved ?? []) hold(s);
    if (n.retained) hold(n.retained);
    for (const e of n.next) visit(e?.node);
  }
}

/**
 * Runs fn, then disposes every tensor fn made except those in its return value (a tensor, or
 * arrays / plain objects / Maps of them), the .grad of leaves, and whatever a kept tensor's autograd
 * graph still needs. Scopes nest: a tensor returned from an inner scope belongs to the outer one.
 * fn must be synchronous (await outside: `const loss = torch.scope(() => step()); await loss.item()`).
 */
export function scope<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`torch.scope(fn): fn must be a function, not ${typeof fn}`);
  const frame: Frame = { made: new Set(), roots: new Set() };
  frames.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    frames.pop();
    release(frame, []);
    throw e;
  }
  frames.pop();
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    // Nothing is disposed: the async body may still be using its tensors.
    for (const t of frame.made) frames[frames.length - 1]?.made.add(t);
    throw new RuntimeError('torch.scope(fn) needs a synchronous fn; it returned a Promise (await outside the scope)');
  }
  release(frame, result);
  return result;
}

/**
 * Runs fn (autograd's backward loop) and disposes the tensors it made, except those `keep()` lists
 * (the gradients it delivered): its temporaries go back to the device at once instead of waiting
 * for the garbage collector, which a loop that rarely yields would make it wait for long. When
 * `keep()` gives null (user code ran inside and may hold anything), nothing is disposed. Unlike
 * scope(), the graph is not realized here: forward, backward and update stay one graph.
 */
export function disposeTemporaries(fn: () => void, keep: () => readonly Tensor[] | null): void {
  const frame: Frame = { made: new Set(), roots: new Set() };
  frames.push(frame);
  try {
    fn();
  } finally {
    frames.pop();
    const kept = keep();
    closeFrame(frame, kept ? new Set(kept) : null);
  }
}

/**
 * Disposes what a closed frame made except `keep` (all of it kept when null), hands the rest and
 * the frame's roots to the enclosing frame.
 */
function closeFrame(frame: Frame, keep: ReadonlySet<Tensor> | null): void {
  const outer = frames[frames.length - 1];
  for (const t of frame.made) {
    if (!keep || keep.has(t)) outer?.made.add(t);
    else t.dispose();
  }
  if (outer) for (const r of frame.roots) if (!outer.made.has(r)) outer.roots.add(r);
}

function release(frame: Frame, result: unknown): void {
  const returned: Tensor[] = [];
  collect(result, returned, new Set());
  const keep = new Set<Tensor>();
  keepGraph([...returned, ...frame.roots], keep);
  closeFrame(frame, keep);
  // Prompt release: run what the scope recorded, so the buffers it disposed go back now.
  realize();
}
