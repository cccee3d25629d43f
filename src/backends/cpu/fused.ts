/**
 * The CPU renderer of a fused elementwise kernel (src/kernel.ts): one pass over the elements, each
 * node a small closure over a row of values. Values are computed in float64 and rounded to each
 * node's dtype, as separate launches would have stored them, so fusion changes nothing.
 */
import type { View } from '../../backend.js';
import { castScalar, type DType, type HostArray } from '../../dtype.js';
import type { FusedKernel } from '../../kernel.js';
import { binaryOps, unaryOps } from '../../ops/elementwise.js';
import { isContiguous } from '../../shape.js';
import { allOffsets } from './strided.js';

/** Rounding of a value stored as dtype. */
function storeRound(d: DType): ((x: number) => number) | null {
  switch (d) {
    case 'float32': return Math.fround;
    case 'float64': return null;
    case 'int32': return (x) => castScalar(x, 'int32');
    case 'bool': return (x) => (x !== 0 && x === x ? 1 : 0);
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Element offsets of a view in row-major order, or null when they are offset + i. */
const offsetsOf = (v: View): Int32Array | null => (isContiguous(v.shape, v.strides) ? null : allOffsets(v.shape, v.strides, v.offset));

const sameLayout = (a: View, b: View) =>
  a.offset === b.offset && a.shape.length === b.shape.length && a.strides.every((s, d) => s === b.strides[d] || a.shape[d] === 1);

/** Runs a fused kernel on typed arrays. */
export function runFused(k: FusedKernel): void {
  const n = numel(k.shape);
  if (n === 0) return;
  const v = new Float64Array(k.nodes.length);
  const fns = k.nodes.map((node): ((i: number) => number) => {
    switch (node.op) {
      case 'load': {
        const view = k.inputs[node.input]!;
        // An input that an output overwrites in another layout (t.copy_(t.t())) is read from a copy.
        const overlap = k.outputs.some((o) => o.view.buf === view.buf && !sameLayout(o.view, view));
        const a = overlap ? (view.buf as HostArray).slice() : (view.buf as HostArray), offs = offsetsOf(view), off = view.offset;
        return offs ? (i) => a[offs[i]!]! : (i) => a[off + i]!;
      }
      case 'const': {
        const c = node.value;
        return () => c;
      }
      case 'unary': {
        const f = unaryOps[node.f].cpu, x = node.x, p0 = node.params[0] ?? 0, p1 = node.params[1] ?? 0;
        const ci = node.compute === 'int32', r = storeRound(node.dtype);
        if (ci) return () => r!(castScalar(f(v[x]!, p0, p1), 'int32'));
        return r ? () => r(f(v[x]!, p0, p1)) : () => f(v[x]!, p0, p1);
      }
      case 'binary': {
        const f = binaryOps[node.f].cpu, a = node.a, b = node.b;
        const ci = node.compute === 'int32', r = storeRound(node.dtype);
        if (ci) return () => r!(castScalar(f(v[a]!, v[b]!), 'int32'));
        return r ? () => r(f(v[a]!, v[b]!)) : () => f(v[a]!, v[b]!);
      }
      case 'where': {
        const c = node.c, a = node.a, b = node.b, r = storeRound(node.dtype);
        return r ? () => r(v[c] ? v[a]! : v[b]!) : () => (v[c] ? v[a]! : v[b]!);
      }
      case 'copy': {
        const x = node.x, from = k.nodes[x]!.dtype;
        const r = node.dtype === 'int32' && from !== 'int32' ? (y: number) => castScalar(y, 'int32') : storeRound(node.dtype);
        return r ? () => r(v[x]!) : () => v[x]!;
      }
    }
  });
  const outs = k.outputs.map((o) => ({ a: o.view.buf as HostArray, offs: offsetsOf(o.view), off: o.view.offset, node: o.node }));
  const m = fns.length;
  // The common case: one contiguous output; no per-output dispatch in the loop.
  if (outs.length === 1 && !outs[0]!.offs) {
    const { a, off, node } = outs[0]!;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) v[j] = fns[j]!(i);
      a[off + i] = v[node]!;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) v[j] = fns[j]!(i);
    for (const o of outs) o.a[o.offs ? o.offs[i]! : o.off + i] = v[o.node]!;
  }
}
