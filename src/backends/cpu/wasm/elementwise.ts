import { f32, Func, i32, v128 } from './emitter.js';

/**
 * float32 elementwise kernels in WebAssembly SIMD. An operand is one of:
 * - 'v': contiguous, as long as the output;
 * - 'r': a row repeated over the output's leading dims (a bias `[N]` added to `[B, N]`);
 * - 'c': one value per row, repeated along it (`[B, 1]` against `[B, N]`: softmax's `x - max`);
 * - 's': a scalar, passed as an f32 parameter and splat once.
 * The kernel walks the output as R rows of L elements (R = 1 without 'r' operands), four lanes at a
 * time with a scalar tail. Arithmetic is float32, as PyTorch's float kernels compute (a JS scalar
 * is rounded to float32 first, as PyTorch casts a Python scalar to the op's type).
 */
export type Kind = 'v' | 'r' | 'c' | 's';

/**
 * One elementwise op: its v128 expression and its f32 expression over operand locals. A fused
 * elementwise group is one of these too: its `vec`/`sca` emit the whole expression over the
 * group's operands (mapKernel takes any arity), cached under a key of the group's structure.
 */
export interface WasmOp {
  readonly arity: number;
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
 * The ops with SIMD kernels, named as in src/ops/elementwise.ts ('square' and 'identity' are pow
 * with exponents 2 and 1).
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
  identity: { arity: 1, vec: (f, [x]) => void f.get(x!), sca: (f, [x]) => void f.get(x!) },
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

/** An elementwise op with a SIMD kernel. */
export type WasmOpName = keyof typeof wasmOps;

/**
 * map(p0..pk-1, out, R, L, s0..sk-1, q0, q1): out[r·L + j] = op(operands) for r < R, j < L.
 * Pointers are byte addresses; s_i is operand i's value when it is a scalar, q0/q1 the op's
 * parameters (clamp's bounds).
 */
export function mapKernel(op: WasmOpName | WasmOp, kinds: readonly Kind[]): Func {
  const def: WasmOp = typeof op === 'string' ? wasmOps[op] : op;
  if (def.arity !== kinds.length) throw new Error(`mapKernel: ${def.arity} operands expected, ${kinds.length} given`);
  const k = kinds.length;
  const f = new Func([...kinds.map(() => i32), i32, i32, i32, ...kinds.map(() => f32), f32, f32]);
  const ptr = (i: number) => i, out = k, R = k + 1, L = k + 2, sc = (i: number) => k + 3 + i, q = (i: number) => 2 * k + 3 + i;
  const r = f.local(i32), j = f.local(i32), end4 = f.local(i32), end = f.local(i32), ro = f.local(i32);
  const rows = kinds.map(() => f.local(i32));
  const vx = kinds.map(() => f.local(v128)), sx = kinds.map(() => f.local(f32));
  const vs = kinds.map((kd) => (kd === 's' || kd === 'c' ? f.local(v128) : -1));
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
      else if (kd === 'c') f.get(ptr(i)).get(r).i32(2).shl().add().f32Load().tee(sx[i]!).simd('f32x4_splat').set(vs[i]!);
    });
    f.for(j, 0, end4, 16, () => {
      kinds.forEach((kd, i) => { if (kd === 'v' || kd === 'r') f.get(rows[i]!).get(j).add().v128Load().set(vx[i]!); });
      f.get(ro).get(j).add();
      def.vec(f, kinds.map((kd, i) => (kd === 's' || kd === 'c' ? vs[i]! : vx[i]!)), vq);
      f.v128Store();
    });
    f.for(j, { local: end4 }, end, 4, () => {
      kinds.forEach((kd, i) => { if (kd === 'v' || kd === 'r') f.get(rows[i]!).get(j).add().f32Load().set(sx[i]!); });
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

/** float32 comparisons with a bool result: the f32x4 and the scalar f32 opcode of each. */
export const compareOps = {
  eq: [0x41, 0x5b], ne: [0x42, 0x5c], lt: [0x43, 0x5d], gt: [0x44, 0x5e], le: [0x45, 0x5f], ge: [0x46, 0x60],
} as const;
/** A comparison with a SIMD kernel. */
export type CompareOp = keyof typeof compareOps;

/**
 * compare(pa, pb, out, n, sa, sb): out[i] = a[i] op b[i] as one byte (0 or 1), for float32 operands
 * of kind 'v' or 's' (sa/sb are the scalars). Sixteen elements per step: four f32x4 comparisons
 * (lanes of all ones or zeros) narrowed to bytes, masked to 1.
 */
export function compareKernel(op: CompareOp, kinds: readonly ('v' | 's')[]): Func {
  const [vop, sop] = compareOps[op];
  const f = new Func([i32, i32, i32, i32, f32, f32]);
  const [pa, pb, out, n, sa, sb] = [0, 1, 2, 3, 4, 5];
  const j = f.local(i32), end16 = f.local(i32), ones = f.local(v128);
  const splat = [f.local(v128), f.local(v128)];
  const m = [f.local(v128), f.local(v128), f.local(v128), f.local(v128)];
  const ptrs = [pa, pb], scal = [sa, sb];
  kinds.forEach((k, i) => { if (k === 's') f.get(scal[i]!).simd('f32x4_splat').set(splat[i]!); });
  f.i32(1).op(0xfd, 0x0f /* i8x16.splat */).set(ones);
  f.get(n).i32(-16).op(0x71).set(end16);
  const operand = (i: number, at: () => void, vector: boolean) => {
    if (kinds[i] === 's') f.get(vector ? splat[i]! : scal[i]!);
    else { f.get(ptrs[i]!); at(); f.add(); if (vector) f.v128Load(); else f.f32Load(); }
  };
  f.for(j, 0, end16, 16, () => {
    for (let q = 0; q < 4; q++) {
      const at = () => f.get(j).i32(2).shl().i32(16 * q).add();
      operand(0, at, true);
      operand(1, at, true);
      f.op(0xfd, vop).set(m[q]!);
    }
    f.get(out).get(j).add();
    f.get(m[0]!).get(m[1]!).op(0xfd, 0x85, 0x01 /* i16x8.narrow_i32x4_s */);
    f.get(m[2]!).get(m[3]!).op(0xfd, 0x85, 0x01);
    f.op(0xfd, 0x65 /* i8x16.narrow_i16x8_s */).get(ones).simd('v128_and').v128Store();
  });
  f.for(j, { local: end16 }, n, 1, () => {
    const at = () => f.get(j).i32(2).shl();
    f.get(out).get(j).add();
    operand(0, at, false);
    operand(1, at, false);
    f.op(sop).op(0x3a, 0, 0 /* i32.store8 */);
  });
  return f;
}

/**
 * where(pc, pa, pb, out, n, sa, sb): out[i] = c[i] ? a[i] : b[i] for a one-byte condition and float32
 * operands of kind 'v' or 's'. Four lanes per step: the condition's bytes widened to i32 lanes, a
 * lane mask from `!= 0`, then v128.bitselect.
 */
export function whereKernel(kinds: readonly ('v' | 's')[]): Func {
  const f = new Func([i32, i32, i32, i32, i32, f32, f32]);
  const [pc, pa, pb, out, n, sa, sb] = [0, 1, 2, 3, 4, 5, 6];
  const j = f.local(i32), end4 = f.local(i32), zero = f.local(v128);
  const splat = [f.local(v128), f.local(v128)];
  const ptrs = [pa, pb], scal = [sa, sb];
  kinds.forEach((k, i) => { if (k === 's') f.get(scal[i]!).simd('f32x4_splat').set(splat[i]!); });
  f.v128Zero().set(zero);
  f.get(n).i32(-4).op(0x71).set(end4);
  const operand = (i: number, vector: boolean) => {
    if (kinds[i] === 's') f.get(vector ? splat[i]! : scal[i]!);
    else { f.get(ptrs[i]!).get(j).i32(2).shl().add(); if (vector) f.v128Load(); else f.f32Load(); }
  };
  f.for(j, 0, end4, 4, () => {
    f.get(out).get(j).i32(2).shl().add();
    operand(0, true);
    operand(1, true);
    // mask = widen(c[j..j+3]) != 0
    f.get(pc).get(j).add().op(0xfd, 0x5c, 2, 0 /* v128.load32_zero */);
    f.op(0xfd, 0x89, 0x01 /* i16x8.extend_low_i8x16_u */).op(0xfd, 0xa9, 0x01 /* i32x4.extend_low_i16x8_u */);
    f.get(zero).op(0xfd, 0x38 /* i32x4.ne */).simd('v128_bitselect').v128Store();
  });
  f.for(j, { local: end4 }, n, 1, () => {
    f.get(out).get(j).i32(2).shl().add();
    operand(0, false);
    operand(1, false);
    f.get(pc).get(j).add().i32Load8U().op(0x1b /* select */).f32Store();
  });
  return f;
}

/** logicalAnd(pa, pb, out, n): out[i] = (a[i] != 0) & (b[i] != 0) over bytes, sixteen at a time. */
export function logicalAndKernel(): Func {
  const f = new Func([i32, i32, i32, i32]);
  const [pa, pb, out, n] = [0, 1, 2, 3];
  const j = f.local(i32), end16 = f.local(i32), zero = f.local(v128), ones = f.local(v128);
  f.v128Zero().set(zero).i32(1).op(0xfd, 0x0f).set(ones);
  f.get(n).i32(-16).op(0x71).set(end16);
  f.for(j, 0, end16, 16, () => {
    f.get(out).get(j).add();
    f.get(pa).get(j).add().v128Load().get(zero).op(0xfd, 0x24 /* i8x16.ne */);
    f.get(pb).get(j).add().v128Load().get(zero).op(0xfd, 0x24);
    f.simd('v128_and').get(ones).simd('v128_and').v128Store();
  });
  f.for(j, { local: end16 }, n, 1, () => {
    f.get(out).get(j).add();
    f.get(pa).get(j).add().i32Load8U().i32(0).op(0x47 /* i32.ne */);
    f.get(pb).get(j).add().i32Load8U().i32(0).op(0x47);
    f.op(0x71).op(0x3a, 0, 0);
  });
  return f;
}

/**
 * colSum(x, out, R, C, acc): out[c] = Σ_r x[r·C + c] (a sum over leading dims) in float64, in the
 * JS reference's order (row after row), with `acc` as C (rounded up to even) doubles of scratch.
 */
export function colSumKernel(): Func {
  const f = new Func([i32, i32, i32, i32, i32]);
  const [x, out, R, C, acc] = [0, 1, 2, 3, 4];
  const r = f.local(i32), c = f.local(i32), p = f.local(i32), even = f.local(i32), a = f.local(i32);
  f.get(C).i32(-2).op(0x71).set(even);
  f.get(C).i32(1).add().i32(-2).op(0x71).set(a); // doubles to clear: C rounded up to even
  f.for(c, 0, a, 2, () => void f.get(acc).get(c).i32(3).shl().add().v128Zero().v128Store());
  f.for(r, 0, R, 1, () => {
    f.get(x).get(r).get(C).mul().i32(2).shl().add().set(p);
    f.for(c, 0, even, 2, () => {
      f.get(acc).get(c).i32(3).shl().add().set(a);
      f.get(a).get(a).v128Load().get(p).get(c).i32(2).shl().add().op(0xfd, 0x5d, 3, 0).op(0xfd, 0x5f).simd('f64x2_add').v128Store();
    });
    f.for(c, { local: even }, C, 1, () => {
      f.get(acc).get(c).i32(3).shl().add().set(a);
      f.get(a).get(a).op(0x2b, 3, 0 /* f64.load */).get(p).get(c).i32(2).shl().add().f32Load().op(0xbb).op(0xa0).op(0x39, 3, 0 /* f64.store */);
    });
  });
  f.for(c, 0, C, 1, () => {
    f.get(out).get(c).i32(2).shl().add().get(acc).get(c).i32(3).shl().add().op(0x2b, 3, 0).op(0xb6).f32Store();
  });
  return f;
}

/**
 * extreme(x, out, R, L): the max / min / argmax / argmin of each row of L float32 values, with the
 * JS reference's rule: a later value replaces the best only when it is NaN or strictly better, and
 * nothing replaces a NaN, so the first NaN wins and ties keep the first index (PyTorch's CPU kernels). A scalar loop: the rule is
 * order-dependent on ±0 and NaN, which lane-wise max/min are not.
 */
export function extremeKernel(op: 'max' | 'min' | 'argmax' | 'argmin'): Func {
  const f = new Func([i32, i32, i32, i32]);
  const [x, out, R, L] = [0, 1, 2, 3];
  const r = f.local(i32), j = f.local(i32), p = f.local(i32), at = f.local(i32), best = f.local(f32), v = f.local(f32);
  const better = op === 'max' || op === 'argmax' ? 0x5e /* f32.gt */ : 0x5d; /* f32.lt */
  f.for(r, 0, R, 1, () => {
    f.get(x).get(r).get(L).mul().i32(2).shl().add().set(p);
    f.get(p).f32Load().set(best).i32(0).set(at);
    f.for(j, 1, L, 1, () => {
      f.get(p).get(j).i32(2).shl().add().f32Load().set(v);
      // best == best && (v != v || v > best) (resp. <): the first NaN stays
      f.get(best).get(best).op(0x5b).get(v).get(v).op(0x5c).get(v).get(best).op(better).op(0x72 /* i32.or */).op(0x71).if();
      f.get(v).set(best).get(j).set(at).end();
    });
    f.get(out).get(r).i32(2).shl().add();
    if (op === 'argmax' || op === 'argmin') f.get(at).op(0x36, 2, 0 /* i32.store */);
    else f.get(best).f32Store();
  });
  return f;
}
