/**
 * The elementwise op table: each op declared once, with its CPU scalar function, its WGSL expression,
 * its dtype rule and its gradient rule (written as tensor ops, so it runs on the forward's device).
 * The backends read `cpu` and `wgsl`; src/ops/ builds launches and autograd nodes from the rest.
 */
import type { Tensor } from '../tensor.js';

/**
 * WGSL expressions use `x` (unary) or `a`, `b` (binary) of the compute type `T`, and the unary
 * parameters `p0`, `p1` (f32). Comparison expressions yield WGSL `bool`; others yield `T`.
 * Helper functions named here (`wg_pow`) live in shaders/common.wgsl; `f32_to_T(e)` converts an
 * f32 value to T as storing it does (backends/webgpu/elementwise.ts forType).
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
  /** 'method': also a Tensor method and a torch.* function of one argument (src/ops/methods.ts). */
  readonly api?: 'method';
  /** How int and bool inputs are treated: 'identity' returns a copy (floor of an int), 'error' refuses. */
  readonly ints?: 'identity' | 'error';
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
  /** 'method': also a Tensor method `a.op(b)` and a torch.* function `torch.op(a, b)`. */
  readonly api?: 'method';
}

const GELU_K = Math.sqrt(2 / Math.PI);

/** Rounds halves to even (torch.round). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Python's a % b: the result takes the divisor's sign. */
function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/**
 * The error function to float64 precision (the CPU reference and float64 gradcheck need it):
 * erf(x) = 2/√π e^(-x²) Σ (2x²)^n x / (2n+1)!!, a series of positive terms (no cancellation);
 * beyond |x| = 6 erf is ±1 in float64.
 */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  const x2 = 2 * ax * ax;
  let term = ax, sum = ax;
  for (let n = 1; term > 1e-17 * sum; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum);
}

// NOTE: relu is its own primitive rather than clamp(min=0) because PyTorch passes no gradient at
// x == 0 for relu but the full gradient for clamp(min=0): the tie behaviour differs on purpose.
export const unaryOps = {
  neg: { cpu: (x) => -x, wgsl: '-x', result: 'same', node: 'NegBackward0', grad: (g): Tensor => g.neg(), saves: [], api: 'method' },
  abs: { cpu: Math.abs, wgsl: 'abs(x)', result: 'same', node: 'AbsBackward0', grad: (g, x): Tensor => g.mul(x.sign()), saves: ['x'], api: 'method' },
  // PyTorch 1.13: sign(NaN) and sign(-0) are +0 (so abs's gradient g * sign(x) is 0 at NaN). WGSL's
  // sign() leaves NaN implementation-defined; ordered compares are false for NaN. The difference is
  // taken in i32: lavapipe folds select(0., -1., c) into -f32(c), which is -0 when c is false.
  sign: { cpu: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), wgsl: 'T(i32(x > T(0)) - i32(x < T(0)))', result: 'same', node: 'SignBackward0', grad: (g): Tensor => g.mul(0), saves: [], api: 'method' },
  exp: { cpu: Math.exp, wgsl: 'exp(x)', result: 'float', node: 'ExpBackward0', grad: (g, _x, y): Tensor => g.mul(y), saves: ['y'], api: 'method' },
  log: { cpu: Math.log, wgsl: 'log(x)', result: 'float', node: 'LogBackward0', grad: (g, x): Tensor => g.div(x), saves: ['x'], api: 'method' },
  // d/dx sqrt(x) = 1 / (2 sqrt(x))
  sqrt: { cpu: Math.sqrt, wgsl: 'sqrt(x)', result: 'float', node: 'SqrtBackward0', grad: (g, _x, y): Tensor => g.div(y.mul(2)), saves: ['y'], api: 'method' },
  relu: { cpu: (x) => (x > 0 ? x : x !== x ? x : 0), wgsl: 'select(T(0), x, x > T(0) || x != x)', result: 'same', node: 'ReluBackward0', grad: (g, _x, y): Tensor => g.where(y.gt(0), 0), saves: ['y'], api: 'method' },
  // d/dx sigmoid = y (1 - y)
  sigmoid: { cpu: (x) => 1 / (1 + Math.exp(-x)), wgsl: 'T(1) / (T(1) + exp(-x))', result: 'float', node: 'SigmoidBackward0', grad: (g, _x, y): Tensor => g.mul(y.mul(y.neg().add(1))), saves: ['y'], api: 'method' },
  // d/dx tanh = 1 - y^2
  tanh: { cpu: Math.tanh, wgsl: 'tanh(x)', result: 'float', node: 'TanhBackward0', grad: (g, _x, y): Tensor => g.mul(y.mul(y).neg().add(1)), saves: ['y'], api: 'method' },
  // clamp(x, p0, p1); an absent bound is ±Infinity. min > max gives max everywhere, as in PyTorch.
  // The gradient passes where p0 <= x <= p1 (ties included), as PyTorch's clamp_backward does.
  clamp: {
    cpu: (x, lo, hi) => (x !== x ? x : Math.min(Math.max(x, lo), hi)),
    wgsl: 'select(min(max(x, T(p0)), T(p1)), x, x != x)',
    result: 'same',
    node: 'ClampBackward1',
    grad: (g, x, _y, [lo, hi]): Tensor => g.where(x.ge(lo!).logicalAnd(x.le(hi!)), 0),
    saves: ['x'],
  },
  sin: { cpu: Math.sin, wgsl: 'sin(x)', result: 'float', node: 'SinBackward0', grad: (g, x): Tensor => g.mul(x.cos()), saves: ['x'], api: 'method' },
  cos: { cpu: Math.cos, wgsl: 'cos(x)', result: 'float', node: 'CosBackward0', grad: (g, x): Tensor => g.mul(x.sin().neg()), saves: ['x'], api: 'method' },
  // d/dx tan = 1 + y^2
  tan: { cpu: Math.tan, wgsl: 'tan(x)', result: 'float', node: 'TanBackward0', grad: (g, _x, y): Tensor => g.mul(y.mul(y).add(1)), saves: ['y'], api: 'method' },
  // Rounding has a zero gradient almost everywhere (PyTorch's FloorBackward0 etc. return zeros).
  floor: { cpu: Math.floor, wgsl: 'floor(x)', result: 'same', node: 'FloorBackward0', grad: (g): Tensor => g.mul(0), saves: [], api: 'method', ints: 'identity' },
  ceil: { cpu: Math.ceil, wgsl: 'ceil(x)', result: 'same', node: 'CeilBackward0', grad: (g): Tensor => g.mul(0), saves: [], api: 'method', ints: 'identity' },
  // Halves round to even, as torch.round and WGSL's round() do (JS Math.round does not).
  round: { cpu: roundHalfEven, wgsl: 'round(x)', result: 'same', node: 'RoundBackward0', grad: (g): Tensor => g.mul(0), saves: [], api: 'method', ints: 'identity' },
  trunc: { cpu: Math.trunc, wgsl: 'trunc(x)', result: 'same', node: 'TruncBackward0', grad: (g): Tensor => g.mul(0), saves: [], api: 'method', ints: 'identity' },
  // frac = x - trunc(x) (WGSL's fract is x - floor(x): another function for negative x).
  frac: { cpu: (x) => x - Math.trunc(x), wgsl: 'x - trunc(x)', result: 'same', node: 'FracBackward0', grad: (g): Tensor => g, saves: [], api: 'method', ints: 'error' },
  // d/dx 1/x = -y^2
  reciprocal: { cpu: (x) => 1 / x, wgsl: 'T(1) / x', result: 'float', node: 'ReciprocalBackward0', grad: (g, _x, y): Tensor => g.mul(y.mul(y)).neg(), saves: ['y'], api: 'method' },
  // d/dx x^-1/2 = -y^3 / 2
  rsqrt: { cpu: (x) => 1 / Math.sqrt(x), wgsl: 'T(1) / sqrt(x)', result: 'float', node: 'RsqrtBackward0', grad: (g, _x, y): Tensor => g.mul(y.mul(y).mul(y)).mul(-0.5), saves: ['y'], api: 'method' },
  log1p: { cpu: Math.log1p, wgsl: 'wg_log1p(x)', result: 'float', node: 'Log1PBackward0', grad: (g, x): Tensor => g.div(x.add(1)), saves: ['x'], api: 'method' },
  expm1: { cpu: Math.expm1, wgsl: 'wg_expm1(x)', result: 'float', node: 'Expm1Backward0', grad: (g, _x, y): Tensor => g.mul(y.add(1)), saves: ['y'], api: 'method' },
  log2: { cpu: Math.log2, wgsl: 'log2(x)', result: 'float', node: 'Log2Backward0', grad: (g, x): Tensor => g.div(x.mul(Math.LN2)), saves: ['x'], api: 'method' },
  log10: { cpu: Math.log10, wgsl: 'log(x) * 0.4342944819032518', result: 'float', node: 'Log10Backward0', grad: (g, x): Tensor => g.div(x.mul(Math.LN10)), saves: ['x'], api: 'method' },
  exp2: { cpu: (x) => Math.pow(2, x), wgsl: 'exp2(x)', result: 'float', node: 'Exp2Backward0', grad: (g, _x, y): Tensor => g.mul(y.mul(Math.LN2)), saves: ['y'], api: 'method' },
  sinh: { cpu: Math.sinh, wgsl: 'sinh(x)', result: 'float', node: 'SinhBackward0', grad: (g, x): Tensor => g.mul(x.cosh()), saves: ['x'], api: 'method' },
  cosh: { cpu: Math.cosh, wgsl: 'cosh(x)', result: 'float', node: 'CoshBackward0', grad: (g, x): Tensor => g.mul(x.sinh()), saves: ['x'], api: 'method' },
  // d/dx asin = 1 / √(1 - x^2), acos its negative, atan 1 / (1 + x^2). asin and acos go through
  // atan2 in WGSL: some drivers' asin/acos (lavapipe's) miss float32 precision by 1e-4 near ±1.
  asin: { cpu: Math.asin, wgsl: 'atan2(x, sqrt((T(1) - x) * (T(1) + x)))', result: 'float', node: 'AsinBackward0', grad: (g, x): Tensor => g.div(x.mul(x).neg().add(1).sqrt()), saves: ['x'], api: 'method' },
  acos: { cpu: Math.acos, wgsl: 'atan2(sqrt((T(1) - x) * (T(1) + x)), x)', result: 'float', node: 'AcosBackward0', grad: (g, x): Tensor => g.div(x.mul(x).neg().add(1).sqrt()).neg(), saves: ['x'], api: 'method' },
  atan: { cpu: Math.atan, wgsl: 'atan(x)', result: 'float', node: 'AtanBackward0', grad: (g, x): Tensor => g.div(x.mul(x).add(1)), saves: ['x'], api: 'method' },
  // d/dx erf = 2/√π exp(-x^2)
  erf: { cpu: erf, wgsl: 'wg_erf(x)', result: 'float', node: 'ErfBackward0', grad: (g, x): Tensor => g.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI))), saves: ['x'], api: 'method' },

  // Activations (torch.nn.functional; src/nn/functional.ts passes their parameters as p0, p1).
  // silu = x σ(x); d/dx = σ (1 + x (1 - σ))
  silu: {
    cpu: (x) => x / (1 + Math.exp(-x)), wgsl: 'x / (T(1) + exp(-x))', result: 'float', node: 'SiluBackward0', saves: ['x'], ints: 'error',
    grad: (g, x): Tensor => {
      const s = x.sigmoid();
      return g.mul(s.mul(x.mul(s.neg().add(1)).add(1)));
    },
  },
  // gelu = x Φ(x); d/dx = Φ(x) + x φ(x)
  gelu: {
    cpu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)), wgsl: 'T(0.5) * x * (T(1) + wg_erf(x * T(0.7071067811865476)))', result: 'float', node: 'GeluBackward0', saves: ['x'],
    grad: (g, x): Tensor => g.mul(x.mul(Math.SQRT1_2).erf().add(1).mul(0.5).add(x.mul(x.mul(x).mul(-0.5).exp()).mul(1 / Math.sqrt(2 * Math.PI)))),
  },
  // gelu(approximate='tanh') = x (1 + tanh(u)) / 2 with u = √(2/π) (x + 0.044715 x^3)
  geluTanh: {
    cpu: (x) => 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x))),
    wgsl: 'T(0.5) * x * (T(1) + tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)))', result: 'float', node: 'GeluBackward0', saves: ['x'],
    grad: (g, x): Tensor => {
      const t = x.mul(x).mul(x).mul(0.044715).add(x).mul(GELU_K).tanh();
      const du = x.mul(x).mul(3 * 0.044715).add(1).mul(GELU_K);
      return g.mul(t.add(1).mul(0.5).add(x.mul(0.5).mul(t.mul(t).neg().add(1)).mul(du)));
    },
  },
  leakyRelu: {
    cpu: (x, s) => (x > 0 ? x : x * s), wgsl: 'select(x * T(p0), x, x > T(0))', result: 'same', node: 'LeakyReluBackward0', saves: ['x'], ints: 'error',
    grad: (g, x, _y, [s]): Tensor => g.where(x.gt(0), g.mul(s!)),
  },
  // elu = x for x > 0, α (e^x - 1) otherwise; d/dx = α e^x there
  elu: {
    cpu: (x, a) => (x > 0 ? x : a * Math.expm1(x)), wgsl: 'select(T(p0) * wg_expm1(x), x, x > T(0))', result: 'same', node: 'EluBackward0', saves: ['x'], ints: 'error',
    grad: (g, x, _y, [a]): Tensor => g.where(x.gt(0), g.mul(x.exp().mul(a!))),
  },
  // hardtanh is clamp(x, p0, p1) but passes no gradient at the bounds (PyTorch's hardtanh_backward).
  hardtanh: {
    cpu: (x, lo, hi) => (x !== x ? x : Math.min(Math.max(x, lo), hi)), wgsl: 'select(min(max(x, T(p0)), T(p1)), x, x != x)', result: 'same', node: 'HardtanhBackward0', saves: ['x'],
    grad: (g, x, _y, [lo, hi]): Tensor => g.where(x.gt(lo!).logicalAnd(x.lt(hi!)), 0),
  },
  // softplus = log(1 + e^(βx)) / β, linear above the threshold p1; d/dx = σ(βx)
  softplus: {
    cpu: (x, b, t) => (x * b > t ? x : Math.log1p(Math.exp(b * x)) / b),
    wgsl: 'select(wg_log1p(exp(T(p0) * x)) / T(p0), x, x * T(p0) > T(p1))', result: 'float', node: 'SoftplusBackward0', saves: ['x'], ints: 'error',
    grad: (g, x, _y, [b, t]): Tensor => g.where(x.mul(b!).gt(t!), g.mul(x.mul(b!).sigmoid())),
  },
} as const satisfies Record<string, UnaryDef>;

export type UnaryOp = keyof typeof unaryOps;

/** Gradients of a binary op's two operands. */
type Grads = [Tensor | null, Tensor | null];

const isT = (v: Tensor | number): v is Tensor => typeof v !== 'number';
const T = (v: Tensor | number) => v as Tensor;
/** Both operands as tensors (a scalar becomes a tensor like the other operand). */
const bothTensors = (a: Tensor | number, b: Tensor | number): [Tensor, Tensor] => [isT(a) ? a : T(b).fullLike(a), isT(b) ? b : T(a).fullLike(b)];

/** Gradient of maximum/minimum: the winner takes g, a tie splits it in half (PyTorch's rule). */
function pickGrad(g: Tensor, a: Tensor | number, b: Tensor | number, needs: readonly boolean[], aWins: (a: Tensor, b: Tensor | number) => Tensor): [Tensor | null, Tensor | null] {
  const at = isT(a) ? a : T(b).fullLike(a);
  const tie = at.eq(b);
  const half = g.mul(0.5);
  const wins = aWins(at, b);
  return [needs[0] ? half.where(tie, g.where(wins, 0)) : null, needs[1] ? half.where(tie, g.where(wins.logicalNot(), 0)) : null];
}

export const binaryOps = {
  add: { cpu: (a, b) => a + b, wgsl: 'a + b', result: 'promote', node: 'AddBackward0', grad: (g): Grads => [g, g], saves: {} },
  sub: { cpu: (a, b) => a - b, wgsl: 'a - b', result: 'promote', node: 'SubBackward0', grad: (g, _a, _b, _y, n): Grads => [g, n[1] ? g.neg() : null], saves: {} },
  // d(ab) = b da + a db
  mul: {
    cpu: (a, b) => a * b, wgsl: 'a * b', result: 'promote', node: 'MulBackward0',
    grad: (g, a, b, _y, n): Grads => [n[0] ? g.mul(b) : null, n[1] ? g.mul(a) : null],
    saves: { a: ['b'], b: ['a'] },
    api: 'method',
  },
  // d(a/b) = da / b - a db / b^2
  div: {
    cpu: (a, b) => a / b, wgsl: 'a / b', result: 'float', node: 'DivBackward0',
    grad: (g, a, b, _y, n): Grads => [n[0] ? g.div(b) : null, n[1] ? g.mul(a).div(b).div(b).neg() : null],
    saves: { a: ['b'], b: ['a', 'b'] },
    api: 'method',
  },
  // d(a^b) = b a^(b-1) da + a^b ln(a) db. PyTorch gives 0 where the exponent is 0 (da) and where a = 0 (db).
  pow: {
    cpu: Math.pow,
    wgsl: 'f32_to_T(wg_pow(f32(a), f32(b)))',
    result: 'promote',
    node: 'PowBackward0',
    grad: (g, a, b, y, n): Grads => {
      let ga: Tensor | null = null;
      if (n[0]) {
        ga = isT(b) ? g.mul(b.mul(T(a).pow(b.sub(1)))).where(b.ne(0), 0) : b === 0 ? T(a).zerosLike() : g.mul(T(a).pow(b - 1).mul(b));
      }
      const gb = n[1] ? (isT(a) ? g.mul(y.mul(a.log())).where(a.ne(0), 0) : g.mul(y.mul(Math.log(a)))) : null;
      return [ga, gb];
    },
    saves: { a: ['a', 'b'], b: ['a', 'y'] },
    api: 'method',
  },
  maximum: {
    cpu: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)), wgsl: 'select(max(a, b), a + b, a != a || b != b)', result: 'promote', node: 'MaximumBackward0',
    grad: (g, a, b, _y, n): Grads => pickGrad(g, a, b, n, (x, y) => x.gt(y)),
    saves: { a: ['a', 'b'], b: ['a', 'b'] },
    api: 'method',
  },
  minimum: {
    cpu: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)), wgsl: 'select(min(a, b), a + b, a != a || b != b)', result: 'promote', node: 'MinimumBackward0',
    grad: (g, a, b, _y, n): Grads => pickGrad(g, a, b, n, (x, y) => x.lt(y)),
    saves: { a: ['a', 'b'], b: ['a', 'b'] },
    api: 'method',
  },
  eq: { cpu: (a, b) => +(a === b), wgsl: 'a == b', result: 'bool', node: '', grad: null, saves: {}, api: 'method' },
  ne: { cpu: (a, b) => +(a !== b), wgsl: 'a != b', result: 'bool', node: '', grad: null, saves: {}, api: 'method' },
  lt: { cpu: (a, b) => +(a < b), wgsl: 'a < b', result: 'bool', node: '', grad: null, saves: {}, api: 'method' },
  le: { cpu: (a, b) => +(a <= b), wgsl: 'a <= b', result: 'bool', node: '', grad: null, saves: {}, api: 'method' },
  gt: { cpu: (a, b) => +(a > b), wgsl: 'a > b', result: 'bool', node: '', grad: null, saves: {}, api: 'method' },
  ge: { cpu: (a, b) => +(a >= b), wgsl: 'a >= b', result: 'bool', node: '', grad: null, saves: {}, api: 'method' },
  logicalAnd: { cpu: (a, b) => +(a !== 0 && b !== 0), wgsl: 'a != T(0) && b != T(0)', result: 'bool', node: '', grad: null, saves: {}, api: 'method' },
  // d atan2(a, b) = (b da - a db) / (a^2 + b^2)
  atan2: {
    cpu: Math.atan2, wgsl: 'atan2(a, b)', result: 'float', node: 'Atan2Backward0',
    grad: (g, a, b, _y, n): Grads => {
      const [at, bt] = bothTensors(a, b);
      const d = at.mul(at).add(bt.mul(bt));
      return [n[0] ? g.mul(bt).div(d) : null, n[1] ? g.mul(at).neg().div(d) : null];
    },
    saves: { a: ['a', 'b'], b: ['a', 'b'] },
    api: 'method',
  },
  // C's fmod: the sign of the dividend. d/db = -trunc(a / b)
  fmod: {
    cpu: (a, b) => a % b, wgsl: 'a % b', result: 'promote', node: 'FmodBackward0',
    grad: (g, a, b, _y, n): Grads => [n[0] ? g : null, n[1] ? g.mul(bothTensors(a, b)[0].div(b).trunc()).neg() : null],
    saves: { b: ['a', 'b'] },
    api: 'method',
  },
  // Python's %: the sign of the divisor. d/db = -floor(a / b)
  remainder: {
    cpu: pyMod, wgsl: 'select(a % b, a % b + b, (a % b < T(0) && b > T(0)) || (a % b > T(0) && b < T(0)))', result: 'promote', node: 'RemainderBackward0',
    grad: (g, a, b, _y, n): Grads => [n[0] ? g : null, n[1] ? g.mul(bothTensors(a, b)[0].div(b).floor()).neg() : null],
    saves: { b: ['a', 'b'] },
    api: 'method',
  },
} as const satisfies Record<string, BinaryDef>;

export type BinaryOp = keyof typeof binaryOps;
