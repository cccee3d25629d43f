import { RuntimeError } from './errors.js';
import { beginInternal, endInternal } from './executor.js';
import type { Tensor } from './tensor.js';

/**
 * Reverse-mode autograd. Each op that has an input requiring grad records a Node; backward() walks
 * the nodes in reverse topological order and runs their gradient rules, which are tensor ops and so
 * emit kernel launches on the forward's device.
 */

let gradEnabled = true;

/** Whether ops currently record autograd nodes (PyTorch's torch.is_grad_enabled()). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = mode;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    gradEnabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    // An async body keeps the mode until it settles, as `with torch.no_grad():` around awaits does.
    return result.finally(() => {
      gradEnabled = prev;
    }) as T;
  }
  gradEnabled = prev;
  return result;
}

/** Runs fn with gradient recording off: `torch.noGrad(() => { w.sub_(w.grad!.mul(lr)); })`. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs fn with gradient recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Gradient rule: input gradients from the output gradient and the saved tensors. */
export type GradRule = (g: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => (Tensor | null)[];

/** An autograd record: the op's name as PyTorch prints it, its input edges and what it saved. */
export class Node {
  saved: readonly Tensor[] | null;
  savedVersions: number[];
  /** The output tensor, kept only when retainGrad() asked for its .grad. */
  retained: Tensor | null = null;
  constructor(
    readonly name: string,
    readonly inputs: readonly (Tensor | null)[],
    saved: readonly Tensor[],
    readonly rule: GradRule,
  ) {
    this.saved = saved;
    this.savedVersions = saved.map((t) => t.storage.version);
  }
}

/**
 * Attaches a Node to `out` when grad mode is on and an input requires grad. Inputs that do not
 * require grad become null edges; `saved` are kept alive until backward frees them.
 */
export function record(out: Tensor, name: string, inputs: readonly (Tensor | number | null)[], saved: readonly Tensor[], rule: GradRule): Tensor {
  if (!gradEnabled) return out;
  const edges = inputs.map((t) => (t !== null && typeof t !== 'number' && t.requiresGrad ? t : null));
  if (edges.every((e) => e === null)) return out;
  out.gradFn = new Node(name, edges, saved, rule);
  out.requiresGrad = true;
  return out;
}

const FREED =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ' +
  'Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). ' +
  'Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.';

/** Nodes reachable from the roots, in reverse topological order (outputs first). */
function topoOrder(roots: readonly Node[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative DFS: deep graphs (long chains) must not overflow the JS stack.
  const stack: [Node, number][] = roots.map((r) => [r, 0]);
  for (const r of roots) seen.add(r);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const next = node.inputs[i]?.gradFn;
      if (next && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/** Sums a broadcast gradient back to `shape`: the one place broadcasting is undone. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const dims: number[] = [];
  g.shape.forEach((s, i) => {
    if (i < lead || (shape[i - lead] === 1 && s !== 1)) dims.push(i);
  });
  const r = dims.length ? g.sum(dims, true) : g;
  return r.reshape(shape as number[]);
}

function checkSaved(node: Node): void {
  if (node.saved === null) throw new RuntimeError(FREED);
  node.saved.forEach((t, i) => {
    if (t.storage.version !== node.savedVersions[i]) {
      throw new RuntimeError(
        'one of the variables needed for gradient computation has been modified by an inplace operation: ' +
          `[${t.typeName()} [${t.shape.join(', ')}]]${t.gradFn ? `, which is output 0 of ${t.gradFn.name},` : ''} is at version ${t.storage.version}; ` +
          `expected version ${node.savedVersions[i]} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient.`,
      );
    }
  });
}

export interface BackwardOptions {
  retainGraph?: boolean;
}

/**
 * The backward loop. With `capture`, gradients of those tensors are returned instead of being
 * accumulated into leaves' .grad (torch.autograd.grad).
 */
export function runBackward(
  roots: readonly Tensor[],
  rootGrads: readonly Tensor[],
  retainGraph: boolean,
  capture: readonly Tensor[] | null,
): Map<Tensor, Tensor> {
  const captured = new Map<Tensor, Tensor>();
  const want = capture ? new Set(capture) : null;
  // Non-leaf tensors asked for by autograd.grad are found through the node that produced them.
  const wantNodes = new Map<Node, Tensor>();
  capture?.forEach((t) => t.gradFn && wantNodes.set(t.gradFn, t));
  const grads = new Map<Node, Tensor>();
  const addTo = <K>(m: Map<K, Tensor>, k: K, g: Tensor) => {
    const prev = m.get(k);
    m.set(k, prev ? prev.add(g) : g);
  };
  // What backward computes is internal to it (the executor need not store it), except what it
  // delivers: leaves' .grad, retained .grad and the captured gradients.
  const delivered: Tensor[] = [];
  const deliverLeaf = (t: Tensor, g: Tensor) => {
    if (want) {
      if (want.has(t)) addTo(captured, t, g);
    } else {
      t.accumulateGrad(g);
      delivered.push(t.grad!);
    }
  };
  const device = roots[0]?.device;
  if (device) beginInternal(device);
  try {
    noGradBackward();
  } finally {
    if (device) endInternal(device, [...delivered, ...captured.values()].map((t) => t.storage.buf));
  }
  return captured;

  function noGradBackward(): void {
  noGrad(() => {
    const rootNodes: Node[] = [];
    roots.forEach((r, i) => {
      if (r.gradFn) {
        addTo(grads, r.gradFn, rootGrads[i]!);
        rootNodes.push(r.gradFn);
      } else deliverLeaf(r, rootGrads[i]!);
    });
    const order = topoOrder(rootNodes);
    // Check every node before running any rule, so a failed backward leaves all .grad untouched.
    for (const node of order) checkSaved(node);
    for (const node of order) {
      const g = grads.get(node);
      if (!g) continue;
      grads.delete(node);
      if (node.retained) {
        node.retained.accumulateGrad(g);
        delivered.push(node.retained.grad!);
      }
      const asked = wantNodes.get(node);
      if (asked) addTo(captured, asked, g);
      const saved = node.saved!;
      const needs = node.inputs.map((t) => t !== null);
      const outs = node.rule(g, saved, needs);
      node.inputs.forEach((t, i) => {
        const gi = outs[i];
        if (!t || !gi) return;
        const reduced = sumToShape(gi, t.shape);
        if (t.gradFn) addTo(grads, t.gradFn, reduced);
        else deliverLeaf(t, reduced);
      });
    }
    if (!retainGraph) for (const node of order) if (node.saved && node.saved.length) node.saved = null;
  });
  }
}
