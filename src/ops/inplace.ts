/**
 * In-place ops as PyTorch runs them: the checks made before any kernel (leaf and view rules, memory
 * overlap between the written-to tensor and the inputs), and the history rewrite afterwards. An
 * in-place op on a view rewrites its base's history as a CopySlices node; other views of that base
 * then regenerate theirs as AsStridedBackward0 from the base (PyTorch's view + in-place design).
 */
import { Node, gradientEdge, sumToShape, type GradRule } from '../autograd.js';
import { RuntimeError } from '../errors.js';
import { gradEnabled } from '../grad-mode.js';
import { isContiguous, numel, sameSizes } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Where a tensor's elements lie in its storage. */
export interface Geometry {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export const geometry = (t: Tensor): Geometry => ({ shape: t.shape.slice(), strides: t.strides.slice(), offset: t.offset });

const CLONE_HINT = 'Please clone() the tensor before performing the operation.';

/** PyTorch's is_non_overlapping_and_dense: the strides are a permutation of contiguous ones. */
export function nonOverlappingAndDense(shape: readonly number[], strides: readonly number[]): boolean {
  // no elements: contiguous, as PyTorch counts it (zeros([0, 1]).expand([0, 3]).add_(1) is allowed)
  if (shape.includes(0)) return true;
  if (shape.length === 1) return shape[0]! < 2 || strides[0] === 1;
  // contiguous (the common case), without building the permutation
  if (isContiguous(shape, strides)) return true;
  const perm = shape.map((_, i) => i).filter((i) => shape[i]! >= 2);
  perm.sort((a, b) => strides[a]! - strides[b]!);
  let want = 1;
  for (const i of perm) {
    if (strides[i] !== want) return false;
    want *= shape[i]!;
  }
  return true;
}

/** PyTorch's assert_no_internal_overlap: a written-to tensor may not alias itself (stride 0 on a dim > 1). */
export function checkInternalOverlap(t: Tensor): void {
  if (nonOverlappingAndDense(t.shape, t.strides)) return;
  if (t.shape.some((s, i) => s > 1 && t.strides[i] === 0)) {
    throw new RuntimeError(`unsupported operation: more than one element of the written-to tensor refers to a single memory location. ${CLONE_HINT}`);
  }
}

/**
 * PyTorch's assert_no_partial_overlap between the written-to tensor and an input: the same elements
 * in the same layout (x.add_(x)) are fine, a shifted or re-strided alias (x.copy_(x.t())) is not.
 * Layouts PyTorch cannot judge (not dense) are let through, as there.
 */
export function checkPartialOverlap(out: Tensor, input: Tensor): void {
  if (out === input || out.storage !== input.storage) return;
  const n = out.numel(), m = input.numel();
  if (n === 0 || m === 0) return;
  if (!nonOverlappingAndDense(out.shape, out.strides) || !nonOverlappingAndDense(input.shape, input.strides)) return;
  const a0 = out.offset, a1 = a0 + n, b0 = input.offset, b1 = b0 + m;
  const sameStrides = sameSizes(out.strides, input.strides);
  const partial = a0 === b0 && a1 === b1 ? !sameStrides : a0 < b1 && b0 < a1;
  if (partial) {
    throw new RuntimeError(
      `unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. ${CLONE_HINT}`,
    );
  }
}

const NO_GRAD_VIEW = (what: string) =>
  `A view was created in no_grad mode and ${what} with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. ` +
  "You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).";

/** PyTorch's check_inplace, made when grad mode is on and some operand requires grad. */
export function checkInplace(t: Tensor): void {
  if (t.base) {
    if (t.multiOutput) {
      throw new RuntimeError(
        `Output ${t.multiOutput.index} of ${t.multiOutput.name} is a view and is being modified inplace. This view is the output of a function that returns multiple views. ` +
          'Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one.',
      );
    }
    if (t.viewInNoGrad) throw new RuntimeError(NO_GRAD_VIEW('is being modified inplace'));
    if (t.requiresGrad && t.base.isLeaf) {
      throw new RuntimeError('a view of a leaf Variable that requires grad is being used in an in-place operation.');
    }
  }
  if (t.requiresGrad && t.isLeaf) throw new RuntimeError('a leaf Variable that requires grad is being used in an in-place operation.');
}

/** A tensor of `g`'s type over fresh zeroed memory laid out as `base` (PyTorch's new_empty_strided), and that memory. */
function zerosLaidOutAs(g: Tensor, base: Geometry): { buf: Tensor; at: (geo: Geometry) => Tensor } {
  const span = numel(base.shape) === 0 ? 0 : 1 + base.shape.reduce((s, n, i) => s + (n - 1) * base.strides[i]!, 0);
  const buf = Tensor.empty([span], g.dtype, g.device).zero_();
  // Views of the base address elements at or after the base's own offset (strides are not negative).
  const at = (geo: Geometry) => new Tensor(buf.storage, geo.shape, geo.strides, geo.offset - base.offset);
  return { buf, at };
}

/**
 * The gradient of a base from the gradient of one of its views, placed by storage position
 * (AsStridedBackward0). Dims the view repeats (stride 0) are summed first.
 */
export function viewGradToBase(g: Tensor, base: Geometry, view: Geometry): Tensor {
  const repeated = view.shape.map((_, i) => i).filter((i) => view.strides[i] === 0 && view.shape[i]! > 1);
  const gv = repeated.length ? g.sum(repeated, true) : g;
  const { at } = zerosLaidOutAs(g, base);
  at({ ...view, shape: gv.shape }).copy_(gv);
  return at(base);
}

/** The history a view regenerates after its storage changed: AsStridedBackward0 from its base, or none. */
export function regeneratedViewGrad(view: Tensor, base: Tensor): Node | null {
  if (!base.requiresGrad) return null;
  if (view.viewInNoGrad) {
    if (!gradEnabled()) return null;
    throw new RuntimeError(NO_GRAD_VIEW('its base or another view of its base has been modified inplace'));
  }
  const b = geometry(base), v = geometry(view);
  return new Node('AsStridedBackward0', [gradientEdge(base)], [{ shape: b.shape, dtype: base.dtype }], [], (g) => [viewGradToBase(g, b, v)]);
}

/**
 * The base's new history after `fn` ran in place on its view (PyTorch's CopySlices): the base's
 * gradient is the incoming one with the view's part replaced by what `fn` passes to its self input;
 * fn's other inputs get fn's gradients. The view's own old history is not followed (it is a view of
 * the base's old history, which the first edge reaches).
 */
export function copySlices(base: Tensor, view: Geometry, fn: Node): Node {
  const b = geometry(base);
  const rule: GradRule = (g, saved, needs) => {
    const { at } = zerosLaidOutAs(g, b);
    const whole = at(b).copy_(g);
    const slice = at(view);
    const res = fn.rule(slice.clone(), saved, needs);
    if (needs[0]) {
      if (res[0]) slice.copy_(sumToShape(res[0], view.shape));
      else slice.zero_();
    }
    return [needs[0] ? whole : null, ...res.slice(1)];
  };
  const node = new Node('CopySlices', [gradientEdge(base), ...fn.next.slice(1)], [{ shape: b.shape, dtype: base.dtype }, ...fn.inputs.slice(1)], fn.saved ?? [], rule, fn.savedIsOutput);
  node.savedVersions = fn.savedVersions.slice();
  return node;
}
