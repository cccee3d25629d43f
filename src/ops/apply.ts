/** Builds elementwise launches from the op table: dtype rule, broadcasting, autograd record. */
import { record, type GradRule } from '../autograd.js';
import { gradEnabled } from '../grad-mode.js';
import type { Operand } from '../backend.js';
import { isFloating, resultType, toFloating, type DType } from '../dtype.js';
import { pyName } from '../args.js';
import { RuntimeError, TypeError } from '../errors.js';
import { launch } from '../executor.js';
import { broadcastShapes, sameSizes } from '../shape.js';
import { Tensor, sameDevice } from '../tensor.js';
import { binaryOps, unaryOps, type BinaryOp, type UnaryDef, type UnaryOp } from './elementwise.js';

/** Applies a unary op of the table; `node` overrides the grad_fn name (clamp's variants). */
export function unary(op: UnaryOp, x: Tensor, params: readonly number[] = [], node?: string): Tensor {
  if (op === 'clamp') {
    for (const p of params) if (typeof p !== 'number') throw new TypeError(`clamp(): argument 'min'/'max' must be Number, not ${typeof p}`);
    // The bounds take part in type promotion: int.clamp({max: 1.5}) is float, bool.clamp({min: 0}) int.
    const dtype = resultType([x, ...params.filter(Number.isFinite)]);
    if (dtype !== x.dtype) return unary(op, x.type(dtype), params, node);
  }
  const def = unaryOps[op];
  if (x.dtype === 'bool' && op === 'neg') {
    throw new RuntimeError(
      'Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
    );
  }
  // PyTorch has no bool kernel for these (its messages differ per op).
  if (x.dtype === 'bool' && op === 'relu') throw new RuntimeError('Boolean inputs not supported for relu');
  if (x.dtype === 'bool' && op === 'abs') throw new RuntimeError(`"abs_${x.device}" not implemented for 'Bool'`);
  if (x.dtype === 'bool' && op === 'hardtanh') throw new RuntimeError('Bool inputs not supported for hardtanh');
  // Rounding keeps ints as they are, but PyTorch's (vectorized) kernels have no bool version.
  if (x.dtype === 'bool' && (op === 'floor' || op === 'ceil' || op === 'round' || op === 'trunc')) {
    throw new RuntimeError(`"${op}_vml_${x.device}" not implemented for 'Bool'`);
  }
  // PyTorch names gelu's kernel without the device (GeluKernelImpl) in this message.
  if ((op === 'gelu' || op === 'geluTanh') && !isFloating(x.dtype)) throw new RuntimeError(`"GeluKernelImpl" not implemented for '${x.typeLabel()}'`);
  const ints = (def as UnaryDef).ints;
  if (ints && !isFloating(x.dtype)) {
    if (ints === 'error') throw new RuntimeError(`"${pyName(op)}_${x.device}" not implemented for '${x.typeLabel()}'`);
    return x.clone();
  }
  const dtype: DType = def.result === 'float' ? toFloating(x.dtype) : x.dtype;
  const out = Tensor.emptyAs(x, x.shape, dtype, x.device);
  const compute: DType = dtype === 'bool' ? 'int32' : dtype;
  launch(x.device, { kind: 'unary', op, x: x.kernelView(), out: out.kernelView(), compute, params });
  const grad = def.grad;
  if (!grad || !isFloating(dtype)) return out;
  const saves = def.saves as readonly ('x' | 'y')[];
  const sx = saves.indexOf('x'), sy = saves.indexOf('y');
  const saved = sx < 0 ? [] : [x];
  if (sy >= 0) saved.splice(sy, 0, out);
  return record(out, node ?? def.node, [x], saved, unaryRule(grad, sx, sy, params));
}

// Rules are made by top-level factories so that their closures capture only what they name: a
// closure made inside an op would share the op's scope and keep its input tensors alive.
const UNSAVED = null as unknown as Tensor; // a rule never reads what its op did not save

function unaryRule(grad: NonNullable<(typeof unaryOps)[UnaryOp]['grad']>, sx: number, sy: number, params: readonly number[]): GradRule {
  return (g, s) => [grad(g, s[sx] ?? UNSAVED, s[sy] ?? UNSAVED, params)];
}

function checkScalar(v: unknown): void {
  if (typeof v !== 'number' && typeof v !== 'boolean') {
    throw new TypeError(`expected a Tensor or a number, but got ${v === null ? 'null' : typeof v}`);
  }
}

/**
 * Checks up to three operands (one must be a tensor) as PyTorch does, scalars first, then shapes,
 * then devices, and returns their broadcast shape: the first tensor's own shape array when the
 * others have its shape.
 */
function operandsShape(ops: readonly (Tensor | number)[]): readonly number[] {
  let first: Tensor | null = null;
  for (const o of ops) {
    if (o instanceof Tensor) first ??= o;
    else checkScalar(o);
  }
  if (first === null) throw new TypeError('expected at least one Tensor argument');
  let shape = first.shape;
  for (const o of ops) if (o instanceof Tensor && o !== first && !sameSizes(shape, o.shape)) shape = broadcastShapes(shape, o.shape);
  for (const o of ops) if (o instanceof Tensor && o.device !== first.device) sameDevice([first, o]);
  return shape;
}

const operand = (o: Tensor | number, shape: readonly number[]): Operand =>
  typeof o === 'number' ? o : sameSizes(o.shape, shape) ? o.kernelView() : o.broadcastView(shape);

/**
 * Integer fmod/remainder by zero: PyTorch's CPU raises "ZeroDivisionError". A scalar divisor is
 * checked everywhere; a tensor one on the CPU (a synchronous read, so the error stays at the call);
 * WebGPU kernels cannot raise (their result there is the kernel's).
 */
function checkIntDivisor(b: Tensor | number): void {
  const zero = typeof b === 'number' ? b === 0 : b.device === 'cpu' && b.numel() > 0 && b.dataSync().includes(0);
  if (zero) throw new RuntimeError('ZeroDivisionError');
}

/**
 * Applies a binary op of the table with broadcasting; a scalar may stand on either side. `node`
 * overrides the grad_fn name (rsub records RsubBackward0 / RsubBackward1 as PyTorch does).
 */
export function binary(op: BinaryOp, a: Tensor | number, b: Tensor | number, node?: string): Tensor {
  if (op === 'sub') subCheck(a, b);
  if (typeof a === 'boolean') a = +a;
  if (typeof b === 'boolean') b = +b;
  const def = binaryOps[op];
  const shape = operandsShape([a, b]);
  const first = typeof a === 'number' ? (b as Tensor) : a, device = first.device;
  const promoted = resultType([a, b]);
  if (op === 'pow' && !isFloating(promoted) && typeof b === 'number' && b < 0) {
    throw new RuntimeError('Integers to negative integer powers are not allowed.');
  }
  if ((op === 'fmod' || op === 'remainder') && !isFloating(promoted)) checkIntDivisor(b);
  const dtype: DType = def.result === 'bool' ? 'bool' : def.result === 'float' ? toFloating(promoted) : promoted;
  const compute: DType = def.result === 'float' ? dtype : promoted === 'bool' ? 'int32' : promoted;
  const out = Tensor.emptyAs(first, shape, dtype, device);
  launch(device, { kind: 'binary', op, a: operand(a, shape), b: operand(b, shape), out: out.kernelView(), compute });
  const grad = def.grad;
  if (!grad || !isFloating(dtype) || !gradEnabled() || !(typeof a !== 'number' && a.requiresGrad) && !(typeof b !== 'number' && b.requiresGrad)) return out;
  const saves = def.saves as { a?: readonly Operand3[]; b?: readonly Operand3[] };
  const names: Operand3[] = [];
  const want = (list: readonly Operand3[] | undefined) => list?.forEach((n) => names.includes(n) || names.push(n));
  if (typeof a !== 'number' && a.requiresGrad) want(saves.a);
  if (typeof b !== 'number' && b.requiresGrad) want(saves.b);
  const kept: Operand3[] = [], saved: Tensor[] = [];
  for (const n of names) {
    const v = n === 'a' ? a : n === 'b' ? b : out;
    if (typeof v === 'number') continue; // a scalar operand reaches the rule as itself
    kept.push(n);
    saved.push(v);
  }
  // pow's node says which operand was a tensor: PowBackward0 (scalar exponent), 1 (both), 2 (scalar base).
  // pow, fmod and remainder: PyTorch's overloads with a tensor exponent / divisor are ...Backward1.
  const overload = op === 'pow' ? (typeof a === 'number' ? 2 : typeof b === 'number' ? 0 : 1) : (op === 'fmod' || op === 'remainder') && typeof b !== 'number' ? 1 : null;
  const name = node ?? (overload !== null ? def.node.replace(/0$/, String(overload)) : def.node);
  return record(out, name, [a, b], saved, binaryRule(grad, kept, typeof a === 'number' ? a : null, typeof b === 'number' ? b : null));
}

type Operand3 = 'a' | 'b' | 'y';

function binaryRule(grad: NonNullable<(typeof binaryOps)[BinaryOp]['grad']>, kept: readonly Operand3[], na: number | null, nb: number | null): GradRule {
  return (g, s, needs) => {
    const get = (n: Operand3) => s[kept.indexOf(n)] ?? UNSAVED;
    return grad(g, na ?? get('a'), nb ?? get('b'), get('y'), needs);
  };
}

const isBool = (o: Tensor | number | boolean) => typeof o === 'boolean' || (o instanceof Tensor && o.dtype === 'bool');

/** PyTorch's sub_check: subtraction is not defined on bool tensors. */
function subCheck(a: Tensor | number | boolean, b: Tensor | number | boolean): void {
  if (isBool(a) && isBool(b)) {
    throw new RuntimeError('Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.');
  }
  if (isBool(a) || isBool(b)) {
    throw new RuntimeError(
      'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
    );
  }
}

/**
 * a + alpha * b and a - alpha * b (torch.add / torch.sub with alpha). alpha takes the result's type:
 * on bools it is true or false (torch.add(b1, b2, {alpha: -1}) stays bool), and integral inputs
 * refuse a fractional alpha, as in PyTorch.
 */
export function addAlpha(op: 'add' | 'sub', a: Tensor | number, b: Tensor | number, alpha?: number): Tensor {
  if (op === 'sub') subCheck(a, b);
  if (alpha === undefined || alpha === 1) return binary(op, a, b);
  const dtype = resultType([a, b]);
  if (!isFloating(dtype) && !Number.isInteger(alpha)) {
    throw new RuntimeError('For integral input tensors, argument alpha must not be a floating point number.');
  }
  if (typeof b === 'number') return binary(op, a, dtype === 'bool' ? +(alpha !== 0 && b !== 0) : b * alpha);
  if (dtype === 'bool') return alpha ? binary(op, a, b) : binary(op, a, binary('logicalAnd', b, 0));
  return binary(op, a, binary('mul', b, alpha));
}

/** torch.where(cond, a, b): a where cond is true, else b; a and b may be scalars. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (!(cond instanceof Tensor)) throw new TypeError('where(): argument \'condition\' must be Tensor');
  if (cond.dtype !== 'bool') {
    throw new RuntimeError(`where expected condition to be a boolean tensor, but got a tensor with dtype ${cond.typeLabel()}`);
  }
  const shape = operandsShape([cond, a, b]), device = cond.device;
  const dtype = resultType([a, b]);
  const out = Tensor.emptyAs(cond, shape, dtype, device);
  launch(device, { kind: 'where', cond: cond.broadcastView(shape), a: operand(a, shape), b: operand(b, shape), out: out.kernelView() });
  if (!isFloating(dtype)) return out;
  return record(out, 'WhereBackward0', [null, a, b], [cond], (g, [c]) => [null, g.where(c!, 0), where(c!, 0, g)]);
}
