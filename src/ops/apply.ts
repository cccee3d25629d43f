/** Builds elementwise launches from the op table: dtype rule, broadcasting, autograd record. */
import { record } from '../autograd.js';
import type { Operand } from '../backend.js';
import { isFloating, promoteTypes, promoteWithScalar, toFloating, type DType } from '../dtype.js';
import { RuntimeError, TypeError } from '../errors.js';
import { launch } from '../executor.js';
import { broadcastShapes } from '../shape.js';
import { Tensor, sameDevice } from '../tensor.js';
import { binaryOps, unaryOps, type BinaryOp, type UnaryDef, type UnaryOp } from './elementwise.js';

/** Applies a unary op of the table; `node` overrides the grad_fn name (clamp's variants). */
export function unary(op: UnaryOp, x: Tensor, params: readonly number[] = [], node?: string): Tensor {
  const def = unaryOps[op];
  if (x.dtype === 'bool' && (op === 'neg' || op === 'sign')) {
    throw new RuntimeError(
      'Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
    );
  }
  const ints = (def as UnaryDef).ints;
  if (ints && !isFloating(x.dtype)) {
    if (ints === 'error') throw new RuntimeError(`"${op.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_${x.device}" not implemented for '${x.typeLabel()}'`);
    return x.clone();
  }
  const dtype: DType = def.result === 'float' ? toFloating(x.dtype) : x.dtype;
  const out = Tensor.empty(x.shape, dtype, x.device);
  const compute: DType = dtype === 'bool' ? 'int32' : dtype;
  launch(x.device, { kind: 'unary', op, x: x.kernelView(), out: out.kernelView(), compute, params });
  const grad = def.grad;
  if (!grad || !isFloating(dtype)) return out;
  const saves = def.saves as readonly ('x' | 'y')[];
  const saved = saves.map((s) => (s === 'x' ? x : out));
  return record(out, node ?? def.node, [x], saved, (g, s) => {
    const sx = saves.indexOf('x'), sy = saves.indexOf('y');
    return [grad(g, sx >= 0 ? s[sx]! : x, sy >= 0 ? s[sy]! : out, params)];
  });
}

function checkScalar(v: unknown): void {
  if (typeof v !== 'number' && typeof v !== 'boolean') {
    throw new TypeError(`expected a Tensor or a number, but got ${v === null ? 'null' : typeof v}`);
  }
}

/** The broadcast shape and device of up to three operands (at least one a tensor). */
function operandsInfo(ops: readonly (Tensor | number)[]): { shape: number[]; device: Tensor['device'] } {
  const ts = ops.filter((o): o is Tensor => o instanceof Tensor);
  ops.forEach((o) => o instanceof Tensor || checkScalar(o));
  if (ts.length === 0) throw new TypeError('expected at least one Tensor argument');
  let shape: number[] = ts[0]!.shape.slice();
  for (const t of ts.slice(1)) shape = broadcastShapes(shape, t.shape);
  sameDevice(ts);
  return { shape, device: ts[0]!.device };
}

const operand = (o: Tensor | number, shape: readonly number[]): Operand =>
  typeof o === 'number' ? o : o.broadcastView(shape);

function resultType(a: Tensor | number, b: Tensor | number): DType {
  if (typeof a !== 'number' && typeof b !== 'number') return promoteTypes(a.dtype, b.dtype);
  if (typeof a !== 'number') return promoteWithScalar(a.dtype, b as number);
  return promoteWithScalar((b as Tensor).dtype, a);
}

/** Applies a binary op of the table with broadcasting; a scalar may stand on either side. */
export function binary(op: BinaryOp, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'boolean') a = +a;
  if (typeof b === 'boolean') b = +b;
  const def = binaryOps[op];
  const { shape, device } = operandsInfo([a, b]);
  const promoted = resultType(a, b);
  const dtype: DType = def.result === 'bool' ? 'bool' : def.result === 'float' ? toFloating(promoted) : promoted;
  const compute: DType = def.result === 'float' ? dtype : promoted === 'bool' ? 'int32' : promoted;
  const out = Tensor.empty(shape, dtype, device);
  launch(device, { kind: 'binary', op, a: operand(a, shape), b: operand(b, shape), out: out.kernelView(), compute });
  const grad = def.grad;
  if (!grad || !isFloating(dtype)) return out;
  const req = [a, b].map((o) => typeof o !== 'number' && o.requiresGrad);
  const names = new Set<'a' | 'b' | 'y'>();
  const saves = def.saves as { a?: readonly ('a' | 'b' | 'y')[]; b?: readonly ('a' | 'b' | 'y')[] };
  if (req[0]) saves.a?.forEach((n) => names.add(n));
  if (req[1]) saves.b?.forEach((n) => names.add(n));
  const list = [...names].filter((n) => n === 'y' || typeof (n === 'a' ? a : b) !== 'number');
  const pick = { a, b, y: out };
  return record(out, def.node, [a, b], list.map((n) => pick[n] as Tensor), (g, s, needs) => {
    const get = (n: 'a' | 'b' | 'y') => {
      const i = list.indexOf(n);
      return i >= 0 ? s[i]! : pick[n];
    };
    return grad(g, get('a'), get('b'), get('y') as Tensor, needs);
  });
}

/** torch.where(cond, a, b): a where cond is true, else b; a and b may be scalars. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (!(cond instanceof Tensor)) throw new TypeError('where(): argument \'condition\' must be Tensor');
  if (cond.dtype !== 'bool') {
    throw new RuntimeError(`where expected condition to be a boolean tensor, but got a tensor with dtype ${cond.typeLabel()}`);
  }
  const { shape, device } = operandsInfo([cond, a, b]);
  const dtype = resultType(a, b);
  const out = Tensor.empty(shape, dtype, device);
  launch(device, { kind: 'where', cond: cond.broadcastView(shape), a: operand(a, shape), b: operand(b, shape), out: out.kernelView() });
  if (!isFloating(dtype)) return out;
  return record(out, 'WhereBackward0', [null, a, b], [cond], (g, [c]) => [null, g.where(c!, 0), where(c!, 0, g)]);
}
