import { isFloating, type DType } from './dtype.js';
import { pyType } from './args.js';
import { RuntimeError, TypeError } from './errors.js';
import { beginInternal, endInternal, userCode, userCodeRuns } from './executor.js';
import { disposeTemporaries } from './scope.js';
import { sameSizes } from './shape.js';
import { gradEnabled, noGrad } from './grad-mode.js';
import type { Tensor } from './tensor.js';

/**
 * Reverse-mode autograd. Each op that has an input requiring grad records a Node whose edges are
 * the nodes that produced its inputs, captured when the op runs (PyTorch's next_functions): an
 * in-place op that later gives a tensor a new history does not rewire earlier consumers. backward()
 * walks the nodes in reverse topological order and runs their gradient rules, which are tensor ops
 * and so emit kernel launches on the forward's device. A node keeps only the tensors its rule
 * saved, never its inputs.
 */

export { enableGrad, isGradEnabled, noGrad } from './grad-mode.js';

/** Gradient rule: input gradients from the output gradient and the saved tensors. */
export type GradRule = (g: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => (Tensor | null)[];

/** A hook on the gradient flowing into a node (t.registerHook): may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void | undefined | null;

/** What t.registerHook returns. */
export interface HookHandle {
  remove(): void;
}

/** A gradient edge: the node that produced a tensor and which of its outputs the tensor is. */
export interface Edge {
  readonly node: Node;
  readonly index: number;
}

/** What backward needs to know of an input without keeping it. */
export interface InputMeta {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** An autograd record: the op's name as PyTorch prints it, its input edges and what it saved. */
export class Node {
  saved: readonly Tensor[] | null;
  savedVersions: number[];
  /** Per saved tensor: it is this node's own output (an error then names this node). */
  savedIsOutput: boolean[];
  /** The output tensor, kept only when retainGrad() asked for its .grad. */
  retained: Tensor | null = null;
  /** Hooks on the gradient of this node's output, in registration order. */
  hooks: Map<number, GradHook> | null = null;
  constructor(
    /** PyTorch's grad_fn name; a composite op renames its result's last inner node (ops/composite.ts). */
    public name: string,
    readonly next: readonly (Edge | null)[],
    /** Shape and dtype of each input: its gradient is reduced and cast to them (PyTorch's input metadata). */
    readonly inputs: readonly InputMeta[],
    saved: readonly Tensor[],
    readonly rule: GradRule,
    savedIsOutput: readonly boolean[] = saved.map(() => false),
  ) {
    this.saved = saved;
    this.savedVersions = saved.map((t) => t.storage.version);
    this.savedIsOutput = savedIsOutput.slice();
  }
}

/** The sink of a leaf that requires grad: backward adds its gradient into the leaf's .grad. */
export class AccumulateGrad extends Node {
  constructor(readonly variable: Tensor) {
    super('AccumulateGrad', [], [], [], () => []);
  }
}

/** Where a tensor's gradient goes: its gradFn, its leaf accumulator, or nowhere. */
export function gradientEdge(t: Tensor): Edge | null {
  if (!t.requiresGrad) return null;
  const fn = t.gradFn;
  return fn ? { node: fn, index: 0 } : { node: t.gradAccumulator(), index: 0 };
}

let hookIds = 0;

/** Registers a gradient hook on a node (the tensor's gradFn or its leaf accumulator). */
export function addHook(node: Node, fn: GradHook): HookHandle {
  if (typeof fn !== 'function') throw new TypeError(`register_hook(): argument 'hook' must be callable, not ${typeof fn}`);
  const id = hookIds++;
  (node.hooks ??= new Map()).set(id, fn);
  return { remove: () => void node.hooks?.delete(id) };
}

/**
 * Attaches a Node to `out` when grad mode is on and an input requires grad. Inputs that do not
 * require grad (and numbers) become null edges; the node keeps `saved` and nothing else alive, so
 * the rule must reach its tensors through `saved`. Integer and bool outputs are never recorded.
 */
export function record(out: Tensor, name: string, inputs: readonly (Tensor | number | null)[], saved: readonly Tensor[], rule: GradRule): Tensor {
  if (!gradEnabled() || !isFloating(out.dtype)) return out;
  const edges = inputs.map((t) => (t !== null && typeof t !== 'number' ? gradientEdge(t) : null));
  if (edges.every((e) => e === null)) return out;
  const meta = inputs.map((t): InputMeta => (t !== null && typeof t !== 'number' ? { shape: t.shape, dtype: t.dtype } : { shape: [], dtype: out.dtype }));
  out.gradFn = new Node(name, edges, meta, saved, rule, saved.map((t) => t === out));
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
    if (i < node.next.length) {
      top[1]++;
      const next = node.next[i]?.node;
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
  if (sameSizes(g.shape, shape)) return g;
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
    if (t.storage.version === node.savedVersions[i]) return;
    // A saved output names this node; a saved input names its producer as it is now.
    const producer = node.savedIsOutput[i] ? node : t.gradFn;
    throw new RuntimeError(
      'one of the variables needed for gradient computation has been modified by an inplace operation: ' +
        `[${t.typeName()} [${t.shape.join(', ')}]]${producer ? `, which is output 0 of ${producer.name},` : ''} is at version ${t.storage.version}; ` +
        `expected version ${node.savedVersions[i]} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).`,
    );
  });
}

/**
 * Runs a node's hooks over the gradient flowing into it. A gradient a hook sees may be kept by
 * the user, so it is delivered (the executor must store it) like a leaf's .grad.
 */
function runHooks(node: Node, g: Tensor, delivered: Tensor[]): Tensor {
  if (!node.hooks) return g;
  for (const hook of [...node.hooks.values()]) {
    delivered.push(g);
    const r = userCode(g.device, [g.storage.buf], () => hook(g));
    if (r === undefined || r === null) continue;
    if (typeof r !== 'object' || !('storage' in r)) throw new TypeError(`expected Variable, but hook returned '${pyType(r)}'`);
    g = r;
  }
  return g;
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
  // Tensors asked for by autograd.grad are found through the node their gradient flows into.
  const wantNodes = new Map<Node, Tensor>();
  capture?.forEach((t) => {
    const e = gradientEdge(t);
    if (e) wantNodes.set(e.node, t);
  });
  const grads = new Map<Node, Tensor>();
  const addTo = <K>(m: Map<K, Tensor>, k: K, g: Tensor) => {
    const prev = m.get(k);
    m.set(k, prev ? prev.add(g) : g);
  };
  // What backward computes is internal to it (the executor need not store it), except what it
  // delivers: leaves' .grad, retained .grad and the captured gradients.
  const delivered: Tensor[] = [];
  const device = roots[0]?.device;
  if (device) beginInternal(device);
  const runs = userCodeRuns();
  try {
    // Backward's temporaries are released when it ends (a hook or custom Function may keep any).
    disposeTemporaries(noGradBackward, () => (userCodeRuns() === runs ? [...delivered, ...captured.values()] : null));
  } finally {
    if (device) endInternal(device, [...delivered, ...captured.values()].map((t) => t.storage.buf));
  }
  return captured;

  function noGradBackward(): void {
  noGrad(() => {
    const rootNodes: Node[] = [];
    roots.forEach((r, i) => {
      const e = gradientEdge(r)!;
      addTo(grads, e.node, rootGrads[i]!);
      if (!rootNodes.includes(e.node)) rootNodes.push(e.node);
    });
    const order = topoOrder(rootNodes);
    // Check every node before running any rule, so a failed backward leaves all .grad untouched.
    for (const node of order) checkSaved(node);
    for (const node of order) {
      let g = grads.get(node);
      if (!g) continue;
      grads.delete(node);
      g = runHooks(node, g, delivered);
      if (node.retained) {
        node.retained.accumulateGrad(g);
        delivered.push(node.retained.grad!);
      }
      const asked = wantNodes.get(node);
      if (asked) addTo(captured, asked, g);
      if (node instanceof AccumulateGrad) {
        if (!capture) {
          node.variable.accumulateGrad(g);
          delivered.push(node.variable.grad!);
        }
        continue;
      }
      const needs = node.next.map((e) => e !== null);
      const outs = node.rule(g, node.saved!, needs);
      node.next.forEach((e, i) => {
        const gi = outs[i];
        if (!e || !gi) return;
        const meta = node.inputs[i]!;
        const gr = sumToShape(gi, meta.shape);
        // A float32 input gets a float32 gradient even when it met a float64 0-dim tensor.
        addTo(grads, e.node, gr.dtype === meta.dtype ? gr : gr.type(meta.dtype));
      });
    }
    if (!retainGraph) for (const node of order) if (node.saved && node.saved.length) node.saved = null;
  });
  }
}

