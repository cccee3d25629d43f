import { f32, Func, i32, v128 } from './emitter.js';

/**
 * float32 elementwise kernels in WebAssembly SIMD. An operand is one of:
 * - 'v': contiguous, as long as the output;
 * - 'r': a row repeated over the output's leading dims (a bias `[N]` added to `[B, N]`);
 * - 's': a scalar, passed as an f32 parameter and splat once.
 * The kernel walks the output as R rows of L elements (R = 1 without 'r' operands), four lanes at a
 * time with a scalar tail. Arithmetic is float32, as PyTorch's float kernels compute (a JS scalar
 * is rounded to float32 first, as PyTorch casts a Python scalar to the op's type).
 */
export type Kind = 'v' | 'r' | 's';

/** One elementwise op: its v128 expression and its f32 expression over operand locals. */
interface WasmOp {
  readonly arity: 1 | 2;
  /** Pushes the result of `xs` (v128 locals) with parameters `ps` (v128 splat locals). */
  readonly vec: (f: Func, xs: number[], ps: number[]) => void;
  /** The same over f32 locals. */
  readonly sca: (f: Func, xs: number[], ps: number[]) => void;
}

const vbin = (o: 'f32x4_add' | 'f32x4_sub' | 'f32x4_mul' | 'f32x4_div' | 'f32x4_max' | 'f32x4_min', so: number): WasmOp => ({
  arity: 2,
  vec: (f, [a, b]) => void f.get(a!).get(b!).simd(o),
  sca: (f, [a, b]) => void f.get(a!).get(b!).op(so),
});

/**
 * The ops with SIMD kernels, named as in src/ops/elementwise.ts ('square' is pow with exponent 2).
 * NaN and ±0 behave as the JS reference: f32x4.min/max return NaN when either side is NaN and
 * order -0 below +0, as Math.min/Math.max do.
 */
export const wasmOps = {
  add: vbin('f32x4_add', 0x92),
  sub: vbin('f32x4_sub', 0x93),
  mul: vbin('f32x4_mul', 0x94),
  div: vbin('f32x4_div', 0x95),
  minimum: vbin('f32x4_min', 0x96),
  maximum: vbin('f32x4_max', 0x97),
  neg: { arity: 1, vec: (f, [x]) => void f.get(x!).simd('f32x4_neg'), sca: (f, [x]) => void f.get(x!).op(0x8c) },
  abs: { arity: 1, vec: (f, [x]) => void f.get(x!).simd('f32x4_abs'), sca: (f, [x]) => void f.get(x!).op(0x8b) },
  sqrt: { arity: 1, vec: (f, [x]) => void f.get(x!).simd('f32x4_sqrt'), sca: (f, [x]) => void f.get(x!).op(0x91) },
  square: { arity: 1, vec: (f, [x]) => void f.get(x!).get(x!).simd('f32x4_mul'), sca: (f, [x]) => void f.get(x!).get(x!).op(0x94) },
  // relu(x) = max(x, 0): NaN stays NaN, -0 becomes +0 (the reference's `x > 0 ? x : 0`)
  relu: { arity: 1, vec: (f, [x]) => void f.get(x!).v128Zero().simd('f32x4_max'), sca: (f, [x]) => void f.get(x!).f32(0).op(0x97) },
  // clamp(x, lo, hi) = min(max(x, lo), hi): NaN stays NaN; lo > hi gives hi, as in PyTorch
  clamp: {
    arity: 1,
    vec: (f, [x], [lo, hi]) => void f.get(x!).get(lo!).simd('f32x4_max').get(hi!).simd('f32x4_min'),
    sca: (f, [x], [lo, hi]) => void f.get(x!).get(lo!).op(0x97).get(hi!).op(0x96),
  },
} as const satisfies Record<string, WasmOp>;

export type WasmOpName = keyof typeof wasmOps;

/**
 * map(p0..pk-1, out, R, L, s0..sk-1, q0, q1): out[r·L + j] = op(operands) for r < R, j < L.
 * Pointers are byte addresses; s_i is operand i's value when it is a scalar, q0/q1 the op's
 * parameters (clamp's bounds).
 */
export function mapKernel(op: WasmOpName, kinds: readonly Kind[]): Func {
  const def: WasmOp = wasmOps[op];
  const k = kinds.length;
  const f = new Func([...kinds.map(() => i32), i32, i32, i32, ...kinds.map(() => f32), f32, f32]);
  const ptr = (i: number) => i, out = k, R = k + 1, L = k + 2, sc = (i: number) => k + 3 + i, q = (i: number) => 2 * k + 3 + i;
  const r = f.local(i32), j = f.local(i32), end4 = f.local(i32), end = f.local(i32), ro = f.local(i32);
  const rows = kinds.map(() => f.local(i32));
  const vx = kinds.map(() => f.local(v128)), sx = kinds.map(() => f.local(f32));
  const vs = kinds.map((kd, i) => (kd === 's' ? f.local(v128) : -1));
  const vq = [f.local(v128), f.local(v128)];
  kinds.forEach((kd, i) => { if (kd === 's') f.get(sc(i)).simd('f32x4_splat').set(vs[i]!); });
  f.get(q(0)).simd('f32x4_splat').set(vq[0]!).get(q(1)).simd('f32x4_splat').set(vq[1]!);
  f.get(L).i32(2).shl().set(end);
  f.get(L).i32(-4).op(0x71).i32(2).shl().set(end4);
  f.for(r, 0, R, 1, () => {
    // this row's byte addresses: the output and 'v' operands advance by L elements per row
    f.get(out).get(r).get(end).mul().add().set(ro);
    kinds.forEach((kd, i) => {
      if (kd === 'v') f.get(ptr(i)).get(r).get(end).mul().add().set(rows[i]!);
      else if (kd === 'r') f.get(ptr(i)).set(rows[i]!);
    });
    f.for(j, 0, end4, 16, () => {
      kinds.forEach((kd, i) => { if (kd !== 's') f.get(rows[i]!).get(j).add().v128Load().set(vx[i]!); });
      f.get(ro).get(j).add();
      def.vec(f, kinds.map((kd, i) => (kd === 's' ? vs[i]! : vx[i]!)), vq);
      f.v128Store();
    });
    f.for(j, { local: end4 }, end, 4, () => {
      kinds.forEach((kd, i) => { if (kd !== 's') f.get(rows[i]!).get(j).add().f32Load().set(sx[i]!); });
      f.get(ro).get(j).add();
      def.sca(f, kinds.map((kd, i) => (kd === 's' ? sc(i) : sx[i]!)), [q(0), q(1)]);
      f.f32Store();
    });
  });
  return f;
}

/**
 * rowSum(x, out, R, L): out[r] = Σ_j x[r·L + j] in float64 (two f64x2 accumulators, the JS
 * reference's precision), rounded once to float32.
 */
export function rowSumKernel(): Func {
  const f = new Func([i32, i32, i32, i32]);
  const [x, out, R, L] = [0, 1, 2, 3];
  const r = f.local(i32), j = f.local(i32), p = f.local(i32), end4 = f.local(i32), end = f.local(i32);
  const a0 = f.local(v128), a1 = f.local(v128), s = f.local(0x7c);
  f.get(L).i32(2).shl().set(end);
  f.get(L).i32(-4).op(0x71).i32(2).shl().set(end4);
  f.for(r, 0, R, 1, () => {
    f.get(x).get(r).get(end).mul().add().set(p);
    f.v128Zero().set(a0).v128Zero().set(a1);
    f.for(j, 0, end4, 16, () => {
      // two f32 → f64x2 at a time: v128.load64_zero, then f64x2.promote_low_f32x4
      f.get(a0).get(p).get(j).add().op(0xfd, 0x5d, 3, 0).op(0xfd, 0x5f).simd('f64x2_add').set(a0);
      f.get(a1).get(p).get(j).add().op(0xfd, 0x5d, 3, 8).op(0xfd, 0x5f).simd('f64x2_add').set(a1);
    });
    f.get(a0).get(a1).simd('f64x2_add').tee(a0).op(0xfd, 0x21, 0).get(a0).op(0xfd, 0x21, 1).op(0xa0).set(s);
    f.for(j, { local: end4 }, end, 4, () => {
      f.get(s).get(p).get(j).add().f32Load().op(0xbb /* f64.promote_f32 */).op(0xa0).set(s);
    });
    f.get(out).get(r).i32(2).shl().add().get(s).op(0xb6 /* f32.demote_f64 */).f32Store();
  });
  return f;
}
