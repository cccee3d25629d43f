/**
 * torch.autograd.Function: user-defined ops with a hand-written backward, recorded through the same
 * `record()` as the built-in ops, so the backward loop, version checks and freeing apply unchanged.
 */
import { noGrad, record, type Node } from './autograd.js';
import { RuntimeError, TypeError } from './errors.js';
import { userCode } from './executor.js';
import { Tensor } from './tensor.js';

const FREED =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ' +
  'Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). ' +
  'Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.';

/** The `ctx` a Function's forward and backward share (PyTorch's FunctionCtx). */
export class FunctionCtx {
  /** For each forward argument: whether it is a tensor that requires grad. */
  readonly needsInputGrad: readonly boolean[];
  private toSave: readonly Tensor[] = [];
  /** Set once the output is recorded; saved tensors are then read through it (and freed with it). */
  private node: Node | null = null;
  constructor(needs: readonly boolean[]) {
    this.needsInputGrad = needs;
  }
  /** Keeps tensors for backward; an in-place change to one before backward is an error there. */
  saveForBackward(...tensors: Tensor[]): void {
    this.toSave = tensors;
  }
  /** The tensors given to saveForBackward, in order. */
  get savedTensors(): readonly Tensor[] {
    if (this.node === null) return this.toSave;
    if (this.node.saved === null) throw new RuntimeError(FREED);
    return this.node.saved;
  }
  /** @internal what saveForBackward received (before recording). */
  pendingSaved(): readonly Tensor[] {
    return this.toSave;
  }
  /** @internal the recorded node now owns the saved tensors (backward frees them there). */
  attach(node: Node | null): void {
    if (node === null) return;
    this.node = node;
    this.toSave = [];
  }
}

/** What a Function's backward may return: one gradient, or one per forward argument. */
export type BackwardResult = Tensor | null | undefined | readonly (Tensor | null | undefined)[];

/**
 * Base class of custom autograd ops. Subclass it with static `forward(ctx, ...args)` and
 * `backward(ctx, ...gradOutputs)`, then call `Fn.apply(...args)`.
 *
 * @example
 * class Cube extends torch.autograd.Function {
 *   static forward(ctx: torch.autograd.FunctionCtx, x: torch.Tensor) { ctx.saveForBackward(x); return x.pow(3); }
 *   static backward(ctx: torch.autograd.FunctionCtx, g: torch.Tensor) { const [x] = ctx.savedTensors; return g.mul(x!.pow(2).mul(3)); }
 * }
 * const y = Cube.apply(x);
 */
export class AutogradFunction {
  /** Computes the output; runs with gradient recording off, as in PyTorch. */
  static forward(_ctx: FunctionCtx, ..._args: never[]): Tensor {
    throw new RuntimeError('You must implement the forward function for custom autograd.Function.');
  }
  /** Gradients of the inputs from the output's gradient (runs under noGrad, like every rule). */
  static backward(_ctx: FunctionCtx, ..._grads: Tensor[]): BackwardResult {
    throw new RuntimeError('You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.');
  }

  /** Runs forward and records a node whose gradient rule is this class's backward. */
  static apply<A extends unknown[]>(this: { forward(ctx: FunctionCtx, ...args: A): Tensor; backward(ctx: FunctionCtx, ...g: Tensor[]): BackwardResult; name: string }, ...args: A): Tensor {
    const needs = args.map((a) => a instanceof Tensor && a.requiresGrad);
    const ctx = new FunctionCtx(needs);
    const raw = noGrad(() => this.forward(ctx, ...args));
    if (!(raw instanceof Tensor)) {
      throw new TypeError(`${this.name}.forward must return a Tensor, not ${raw === null ? 'None' : typeof raw}`);
    }
    // An input returned as is gets a new identity, so recording does not rewrite the input's history.
    const out = args.includes(raw) ? raw.detach() : raw;
    const inputs = args.map((a) => (a instanceof Tensor ? a : null));
    // The rule keeps only shapes: the node holds its saved tensors and nothing else alive.
    const shapes = inputs.map((t) => (t ? t.shape.slice() : null));
    const backward = this.backward.bind(this);
    const name = this.name;
    record(out, `${name}Backward`, inputs, ctx.pendingSaved(), (g, _saved, need) => {
      // User code: what it computes, and the gradient it is given, may be kept (executor.userCode).
      const r = userCode(g.device, [g.storage.buf], () => backward(ctx, g));
      const grads = r instanceof Tensor || r === null || r === undefined ? [r] : r;
      if (grads.length !== shapes.length) {
        throw new RuntimeError(`function ${name}Backward returned an incorrect number of gradients (expected ${shapes.length}, got ${grads.length})`);
      }
      return shapes.map((shape, i) => {
        const gi = grads[i] ?? null;
        if (!need[i] || gi === null || shape === null) return null;
        // PyTorch accepts a gradient the input's shape expands to; the backward loop sums it down.
        if (!expandsTo(shape, gi.shape)) {
          throw new RuntimeError(`Function ${name}Backward returned an invalid gradient at index ${i} - got [${gi.shape.join(', ')}] but expected shape compatible with [${shape.join(', ')}]`);
        }
        return gi;
      });
    });
    ctx.attach(out.gradFn);
    return out;
  }
}

/** Whether `shape` broadcasts to `target` (PyTorch's is_expandable_to). */
function expandsTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const lead = target.length - shape.length;
  return shape.every((s, i) => s === 1 || s === target[i + lead]);
}
