/**
 * The elementwise op table: each op declared once, with its CPU scalar function, its WGSL expression,
 * its dtype rule and its gradient rule (written as tensor ops, so it runs on the forward's device).
 * The backends read `cpu` and `wgsl`; src/ops/ builds launches and autograd nodes from the rest.
 */
import type { Tensor } from '../tensor.js';

/**
 * WGSL expressions use `x` (unary) or `a`, `b` (binary) of the compute type `T`, and the unary
 * parameters `p0`, `p1` (f32). Comparison expressions yield WGSL `bool`; others yield `T`.
 * Helper functions named here (`wg_pow`) live in shaders/common.wgsl.
 */
export interface UnaryDef {
  readonly cpu: (x: number, p0: number, p1: number) => number;
  readonly wgsl: string;
  /** 'same': the input dtype (ints stay ints); 'float': ints and bools become float32. */
  readonly result: 'same' | 'float';
  /** PyTorch's grad_fn name. */
  readonly node: string;
  /** Gradient of the input from the output gradient g, the input x and the output y. */
  readonly grad: ((g: Tensor, x: Tensor, y: Tensor, params: readonly number[]) => Tensor) | null;
  /** Which of x, y the rule needs kept alive for backward. */
  readonly saves: readonly ('x' | 'y')[];
}

export interface BinaryDef {
  readonly cpu: (a: number, b: number) => number;
  readonly wgsl: string;
  /** 'promote': PyTorch's type promotion; 'float': promotion, then ints become float32; 'bool': comparisons. */
  readonly result: 'promote' | 'float' | 'bool';
  readonly node: string;
  /**
   * Gradients of a and b (full broadcast shape; the caller reduces them to each input's shape),
   * computed only where `needs` says so. A scalar operand arrives as a number.
   */
  readonly grad: ((g: Tensor, a: Tensor | number, b: Tensor | number, y: Tensor, needs: readonly boolean[]) => [Tensor | null, Tensor | null]) | null;
  /** The tensors the gradient of a (resp. b) needs kept alive; only those are saved. */
  readonly saves: { readonly a?: readonly ('a' | 'b' | 'y')[]; readonly b?: readonly ('a' | 'b' | 'y')[] };
}

// NOTE: relu is its own primitive rather than clamp(min=0) because PyTorch passes no gradient at
// x == 0 for relu but the full gradient for clamp(min=0): the tie behaviour differs on purpose.
export const unaryOps = {
  neg: { cpu: (x) => -x, wgsl: '-x', result: 'same', node: 'NegBackward0', grad: (g) => g.neg(), saves: [] },
  abs: { cpu: Math.abs, wgsl: 'abs(x)', result: 'same', node: 'AbsBackward0', grad: (g, x) => g.mul(x.sign()), saves: ['x'] },
  // PyTorch 1.13: sign(NaN) and sign(-0) are +0 (so abs's gradient g * sign(x) is 0 at NaN). WGSL's
  // sign() leaves NaN implementation-defined; ordered compares are false for NaN. The difference is
  // taken in i32: lavapipe folds select(0., -1., c) into -f32(c), which is -0 when c is false.
  sign: { cpu: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), wgsl: 'T(i32(x > T(0)) - i32(x < T(0)))', result: 'same', node: 'SignBackward0', grad: (g) => g.mul(0), saves: [] },
  exp: { cpu: Math.exp, wgsl: 'exp(x)', result: 'float', node: 'ExpBackward0', grad: (g, _x, y) => g.mul(y), saves: ['y'] },
  log: { cpu: Math.log, wgsl: 'log(x)', result: 'float', node: 'LogBackward0', grad: (g, x) => g.div(x), saves: ['x'] },
  // d/dx sqrt(x) = 1 / (2 sqrt(x))
  sqrt: { cpu: Math.sqrt, wgsl: 'sqrt(x)', result: 'float', node: 'SqrtBackward0', grad: (g, _x, y) => g.div(y.mul(2)), saves: ['y'] },
  relu: { cpu: (x) => (x > 0 ? x : x !== x ? x : 0), wgsl: 'select(T(0), x, x > T(0) || x != x)', result: 'same', node: 'ReluBackward0', grad: (g, _x, y) => g.where(y.gt(0), 0), saves: ['y'] },
  // d/dx sigmoid = y (1 - y)
  sigmoid: { cpu: (x) => 1 / (1 + Math.exp(-x)), wgsl: 'T(1) / (T(1) + exp(-x))', result: 'float', node: 'SigmoidBackward0', grad: (g, _x, y) => g.mul(y.mul(y.neg().add(1))), saves: ['y'] },
  // d/dx tanh = 1 - y^2
  tanh: { cpu: Math.tanh, wgsl: 'tanh(x)', result: 'float', node: 'TanhBackward0', grad: (g, _x, y) => g.mul(y.mul(y).neg().add(1)), saves: ['y'] },
  // clamp(x, p0, p1); an absent bound is ±Infinity. min > max gives max everywhere, as in PyTorch.
  // The gradient passes where p0 <= x <= p1 (ties included), as PyTorch's clamp_backward does.
  clamp: {
    cpu: (x, lo, hi) => (x !== x ? x : Math.min(Math.max(x, lo), hi)),
    wgsl: 'select(min(max(x, T(p0)), T(p1)), x, x != x)',
    result: 'same',
    node: 'ClampBackward1',
    grad: (g, x, _y, [lo, hi]) => g.where(x.ge(lo!).logicalAnd(x.le(hi!)), 0),
    saves: ['x'],
  },
} as const satisfies Record<string, UnaryDef>;

export type UnaryOp = keyof typeof unaryOps;

const isT = (v: Tensor | number): v is Tensor => typeof v !== 'number';
const T = (v: Tensor | number) => v as Tensor;

/** Gradient of maximum/minimum: the winner takes g, a tie splits it in half (PyTorch's rule). */
function pickGrad(g: Tensor, a: Tensor | number, b: Tensor | number, needs: readonly boolean[], aWins: (a: Tensor, b: Tensor | number) => Tensor): [Tensor | null, Tensor | null] {
  const at = isT(a) ? a : T(b).fullLike(a);
  const tie = at.eq(b);
  const half = g.mul(0.5);
  const wins = aWins(at, b);
  return [needs[0] ? half.where(tie, g.where(wins, 0)) : null, needs[1] ? half.where(tie, g.where(wins.logicalNot(), 0)) : null];
}

export const binaryOps = {
  add: { cpu: (a, b) => a + b, wgsl: 'a + b', result: 'promote', node: 'AddBackward0', grad: (g) => [g, g], saves: {} },
  sub: { cpu: (a, b) => a - b, wgsl: 'a - b', result: 'promote', node: 'SubBackward0', grad: (g, _a, _b, _y, n) => [g, n[1] ? g.neg() : null], saves: {} },
  // d(ab) = b da + a db
  mul: {
    cpu: (a, b) => a * b, wgsl: 'a * b', result: 'promote', node: 'MulBackward0',
    grad: (g, a, b, _y, n) => [n[0] ? g.mul(b) : null, n[1] ? g.mul(a) : null],
    saves: { a: ['b'], b: ['a'] },
  },
  // d(a/b) = da / b - a db / b^2
  div: {
    cpu: (a, b) => a / b, wgsl: 'a / b', result: 'float', node: 'DivBackward0',
    grad: (g, a, b, _y, n) => [n[0] ? g.div(b) : null, n[1] ? g.mul(a).div(b).div(b).neg() : null],
    saves: { a: ['b'], b: ['a', 'b'] },
  },
  // d(a^b) = b a^(b-1) da + a^b ln(a) db. PyTorch gives 0 where the exponent is 0 (da) and where a = 0 (db).
  pow: {
    cpu: Math.pow,
    wgsl: 'T(wg_pow(f32(a), f32(b)))',
    result: 'promote',
    node: 'PowBackward0',
    grad: (g, a, b, y, n) => {
      let ga: Tensor | null = null;
      if (n[0]) {
        ga = isT(b) ? g.mul(b.mul(T(a).pow(b.sub(1)))).where(b.ne(0), 0) : b === 0 ? T(a).zerosLike() : g.mul(T(a).pow(b - 1).mul(b));
      }
      const gb = n[1] ? (isT(a) ? g.mul(y.mul(a.log())).where(a.ne(0), 0) : g.mul(y.mul(Math.log(a)))) : null;
      return [ga, gb];
    },
    saves: { a: ['a', 'b'], b: ['a', 'y'] },
  },
  maximum: {
    cpu: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)), wgsl: 'select(max(a, b), a + b, a != a || b != b)', result: 'promote', node: 'MaximumBackward0',
    grad: (g, a, b, _y, n) => pickGrad(g, a, b, n, (x, y) => x.gt(y)),
    saves: { a: ['a', 'b'], b: ['a', 'b'] },
  },
  minimum: {
    cpu: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)), wgsl: 'select(min(a, b), a + b, a != a || b != b)', result: 'promote', node: 'MinimumBackward0',
    grad: (g, a, b, _y, n) => pickGrad(g, a, b, n, (x, y) => x.lt(y)),
    saves: { a: ['a', 'b'], b: ['a', 'b'] },
  },
  eq: { cpu: (a, b) => +(a === b), wgsl: 'a == b', result: 'bool', node: '', grad: null, saves: {} },
  ne: { cpu: (a, b) => +(a !== b), wgsl: 'a != b', result: 'bool', node: '', grad: null, saves: {} },
  lt: { cpu: (a, b) => +(a < b), wgsl: 'a < b', result: 'bool', node: '', grad: null, saves: {} },
  le: { cpu: (a, b) => +(a <= b), wgsl: 'a <= b', result: 'bool', node: '', grad: null, saves: {} },
  gt: { cpu: (a, b) => +(a > b), wgsl: 'a > b', result: 'bool', node: '', grad: null, saves: {} },
  ge: { cpu: (a, b) => +(a >= b), wgsl: 'a >= b', result: 'bool', node: '', grad: null, saves: {} },
  logicalAnd: { cpu: (a, b) => +(a !== 0 && b !== 0), wgsl: 'a != T(0) && b != T(0)', result: 'bool', node: '', grad: null, saves: {} },
} as const satisfies Record<string, BinaryDef>;

export type BinaryOp = keyof typeof binaryOps;
