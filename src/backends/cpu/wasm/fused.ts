/**
 * The WebAssembly renderer of a fused elementwise kernel (src/kernel.ts): one function per kernel
 * structure, generated with the emitter and compiled once, that walks the output as R rows of L
 * elements, four lanes at a time (f32x4) with a scalar tail, as the SIMD map kernels do.
 *
 * Values match the JS renderer (../fused.ts) bit for bit: it computes each node in float64 and
 * rounds it to the node's dtype. For float32 operands, add/sub/mul/div/sqrt in float32 are that
 * float64 result rounded once (float64 holds more than twice float32's precision), min/max/clamp
 * commute with rounding, and comparisons of float32 values are exact. A constant that float32
 * cannot hold (0.01, 1/3) enters add/sub/mul/div as float64 (two f64x2 halves, then rounded), as
 * the JS renderer computes it. Ops without exact SIMD code (exp, log, tanh, atan2, a comparison
 * with 0.1…) call the op's reference function, imported from src/ops/elementwise.ts, per lane.
 *
 * Covered: float32, bool and int32 nodes (int32 values compared, selected, converted, stored or
 * passed to reference functions); inputs that are contiguous, a broadcast row, a broadcast column,
 * a single value, or rows with a row stride and an element stride (a transpose); outputs that are
 * contiguous or such rows (in place over an input of the same layout). Anything else (float64
 * nodes, int32 arithmetic, float → int32 conversions, other strided views, an output overlapping
 * an input in another layout) makes `run` return false, and the kernel runs in the JS renderer.
 */
import type { View } from '../../../backend.js';
import type { FusedKernel, KNode } from '../../../kernel.js';
import { isContiguous } from '../../../shape.js';
import { f32, f64, Func, i32, v128, type SimdOp } from './emitter.js';
import type { Kind } from './elementwise.js';
import type { KernelCache, Module } from './kernels.js';
import { binaryOps, unaryOps } from '../../../ops/elementwise.js';

/** Parameters of a kernel function at most (engines allow 1000). */
const MAX_PARAMS = 900;
const size = (shape: readonly number[]) => shape.reduce((n, s) => n * s, 1);
const exact32 = (x: number) => Math.fround(x) === x || x !== x;

/**
 * How a view of the kernel's shape is walked: 'v' contiguous; 'r' a row repeated over leading
 * dims (stride 0 or size 1), with its length L; 'c' one value per row of L elements; 's' one value.
 * Null for any other layout.
 */
export function layoutOf(v: Pick<View, 'shape' | 'strides'>, shape: readonly number[]): { kind: Kind; L: number } | null {
  if (isContiguous(v.shape, v.strides)) return { kind: 'v', L: 0 };
  const nd = shape.length;
  if (v.strides.every((s, d) => s === 0 || shape[d] === 1)) return { kind: 's', L: 0 };
  let d = 0;
  while (d < nd && (v.strides[d] === 0 || shape[d] === 1)) d++;
  if (d > 0 && isContiguous(shape.slice(d), v.strides.slice(d))) return { kind: 'r', L: size(shape.slice(d)) };
  let e = nd;
  while (e > 0 && (v.strides[e - 1] === 0 || shape[e - 1] === 1)) e--;
  if (e < nd && isContiguous(shape.slice(0, e), v.strides.slice(0, e))) return { kind: 'c', L: size(shape.slice(e)) };
  return null;
}

/** A single stride that walks dims `sh` with strides `st` in row-major order, or null (0 when every dim has size 1). */
function oneStride(sh: readonly number[], st: readonly number[]): number | null {
  const ds = sh.flatMap((n, d) => (n === 1 ? [] : [d]));
  for (let q = 0; q + 1 < ds.length; q++) if (st[ds[q]!] !== st[ds[q + 1]!]! * sh[ds[q + 1]!]!) return null;
  return ds.length ? st[ds[ds.length - 1]!]! : 0;
}

/**
 * A view walked as rows of L elements with a row stride and an element stride (a transposed
 * weight's gradient): the longest run of trailing dims that has one stride, and leading dims that
 * have one too. Null when no split does.
 */
function stridedOf(v: Pick<View, 'strides'>, shape: readonly number[]): { L: number; sr: number; sc: number } | null {
  for (let s = 1; s < shape.length; s++) {
    const sr = oneStride(shape.slice(0, s), v.strides.slice(0, s)), sc = oneStride(shape.slice(s), v.strides.slice(s));
    if (sr !== null && sc !== null && sc > 0) return { L: size(shape.slice(s)), sr, sc };
  }
  return null;
}

/** How the fused kernel walks an input: a Kind, or 'g' with strides (stridedOf). */
type Walk = { kind: Kind | 'g'; sr: number; sc: number };

type Vec = 'f32x4_add' | 'f32x4_sub' | 'f32x4_mul' | 'f32x4_div';
/** Float arithmetic: f32x4 op, scalar f32 op, f64x2 op, scalar f64 op. */
const ARITH: Record<string, [Vec, number, number, number]> = {
  add: ['f32x4_add', 0x92, 0xf0, 0xa0],
  sub: ['f32x4_sub', 0x93, 0xf1, 0xa1],
  mul: ['f32x4_mul', 0x94, 0xf2, 0xa2],
  div: ['f32x4_div', 0x95, 0xf3, 0xa3],
};
/** float32 comparisons: f32x4 opcode, scalar f32 opcode. */
const CMP: Record<string, [number, number]> = {
  eq: [0x41, 0x5b], ne: [0x42, 0x5c], lt: [0x43, 0x5d], gt: [0x44, 0x5e], le: [0x45, 0x5f], ge: [0x46, 0x60],
};
/** float32 → float32 unary ops that are one instruction: f32x4 opcode, scalar f32 opcode. */
const UNARY1: Record<string, [number, number]> = {
  neg: [0xe1, 0x8c], abs: [0xe0, 0x8b], sqrt: [0xe3, 0x91], ceil: [0x67, 0x8d], floor: [0x68, 0x8e], trunc: [0x69, 0x8f],
};
/** int32 comparisons: i32x4 opcode, scalar i32 opcode. */
const ICMP: Record<string, [number, number]> = {
  eq: [0x37, 0x46], ne: [0x38, 0x47], lt: [0x39, 0x48], gt: [0x3b, 0x4a], le: [0x3d, 0x4c], ge: [0x3f, 0x4e],
};
const UNARY = new Set([...Object.keys(UNARY1), 'relu', 'clamp', 'hardtanh', 'frac', 'reciprocal', 'sign', 'leakyRelu']);

/**
 * Why a kernel is out of scope (a string), or null. Nodes are float32, bool or int32. An int32
 * value is loaded, stored, compared, selected by where, converted to float32 or bool, or passed to
 * a reference function; int32 arithmetic, and conversions to int32 from float (a wrapping
 * truncation), stay in the JS renderer.
 */
function unsupported(k: FusedKernel): string | null {
  const isConst = (j: number) => k.nodes[j]!.op === 'const';
  const intish = (j: number) => (isConst(j) ? intConst(k, j) : k.nodes[j]!.dtype !== 'float32');
  for (const [j, n] of k.nodes.entries()) {
    if (n.dtype !== 'float32' && n.dtype !== 'bool' && n.dtype !== 'int32') return `dtype ${n.dtype}`;
    if (n.op === 'const' && n.dtype === 'bool' && n.value !== 0 && n.value !== 1) return 'bool constant';
    if (n.op === 'const' && n.dtype === 'int32' && !intConst(k, j)) return 'int32 constant';
    // the reference-function path rounds to float32 or bool only (logicalAnd of bools computes in
    // int32: its SIMD code gives the same 0/1)
    if ((n.op === 'unary' || n.op === 'binary') && (n.compute === 'int32' || n.dtype === 'int32') && !simdNode(k, j)) return `${n.f} in int32`;
    if (n.op === 'where' && n.dtype === 'int32' && !(intish(n.a) && intish(n.b))) return 'where into int32';
    if (n.op === 'copy' && n.dtype === 'int32' && !intish(n.x)) return 'float to int32';
  }
  return null;
}

/** Whether constant j is an int32 value. */
const intConst = (k: FusedKernel, j: number) => {
  const v = (k.nodes[j] as { value: number }).value;
  return v === (v | 0);
};

/**
 * Whether unary or binary node n has exact SIMD code; the others call the op's reference function
 * (the JS renderer's, from src/ops/elementwise.ts) once per element, in float64, and round as it does.
 */
function simdNode(k: FusedKernel, n: number): boolean {
  const N = k.nodes[n]!;
  const isConst = (j: number) => k.nodes[j]!.op === 'const';
  const value = (j: number) => (k.nodes[j] as { value: number }).value;
  const inexact = (j: number) => isConst(j) && !exact32(value(j));
  // an int32 value enters float arithmetic exactly only as float64 (the reference-function path)
  const intNode = (j: number) => !isConst(j) && k.nodes[j]!.dtype === 'int32';
  if (N.op === 'unary') return N.compute === 'float32' && N.dtype === 'float32' && UNARY.has(N.f) && !inexact(N.x) && !intNode(N.x);
  if (N.op !== 'binary') return true;
  const { f, a, b } = N;
  if (N.compute === 'int32' && f in ICMP) return N.dtype === 'bool' && [a, b].every((j) => (isConst(j) ? intConst(k, j) : k.nodes[j]!.dtype !== 'float32'));
  if (f !== 'logicalAnd' && (intNode(a) || intNode(b))) return false;
  // a !== 0 on bool values, or on constants (a NaN constant would count as true there)
  if (f === 'logicalAnd') return N.dtype === 'bool' && [a, b].every((j) => (!isConst(j) && k.nodes[j]!.dtype === 'bool') || (isConst(j) && value(j) === value(j)));
  if (N.compute !== 'float32') return false;
  if (f in CMP) return N.dtype === 'bool' && !inexact(a) && !inexact(b);
  if (N.dtype !== 'float32') return false;
  if (f in ARITH) return !(inexact(a) && inexact(b));
  if (f === 'pow') return isConst(b) && (value(b) === 1 || value(b) === 2) && !inexact(a);
  return f === 'maximum' || f === 'minimum';
}

/**
 * What the generated code depends on in each constant's value, by constant node: the value itself
 * where it picks the code (a pow exponent, a bool), else 1 for a float32 value (f32x4 code), 2 for
 * NaN, 0 for a value float32 cannot hold (float64 code). Values themselves are parameters.
 */
function valueSig(k: FusedKernel, consts: readonly number[], pinned: readonly boolean[]): number[] {
  return consts.map((j, q) => sigOf((k.nodes[j] as { value: number }).value, pinned[q]!));
}
const sigOf = (v: number, pinned: boolean) => (pinned ? v : v !== v ? 2 : exact32(v) ? 1 : 0);
/** Whether constant j's value picks the code: a pow exponent or a bool. */
const pinnedConst = (k: FusedKernel, j: number) => k.nodes[j]!.dtype === 'bool' || k.nodes.some((n) => n.op === 'binary' && n.f === 'pow' && n.b === j);

/** The kernel's structure (no buffers), with `sig` (valueSig) and the input layouts. */
function structureKey(k: FusedKernel, walks: readonly Walk[], outWalks: readonly Walk[], sig: readonly number[]): string {
  const nk = (n: KNode): string => {
    switch (n.op) {
      case 'load': return `l${n.input}`;
      case 'const': return `c${n.dtype[0]}`;
      case 'unary': return `u${n.f},${n.x},${n.compute[0]}${n.dtype[0]}`;
      case 'binary': return `b${n.f},${n.a},${n.b},${n.compute[0]}${n.dtype[0]}`;
      case 'where': return `w${n.c},${n.a},${n.b},${n.dtype[0]}`;
      case 'copy': return `y${n.x},${n.dtype[0]}`;
    }
  };
  const w = (d: string, x: Walk) => d[0]! + x.kind + (x.kind === 'g' ? `${x.sr},${x.sc}` : '');
  const ins = k.inputs.map((v, i) => w(v.dtype, walks[i]!)).join(';') + '>' + k.outputs.map((o, q) => w(o.view.dtype, outWalks[q]!)).join(';');
  return `fused:${k.nodes.map(nk).join(';')}|${k.outputs.map((o) => o.node).join(',')}|${ins}|${sig.join(',')}`;
}

/** An operand of a float64 operation: a float32 value pushed by `push`, or a float64 parameter. */
type Op64 = { push: () => void } | { param: number };

/**
 * The kernel function: f(in_0.., out_0.., R, L, p_0..): byte pointers of the inputs and outputs,
 * R rows of L elements, then float64 parameters: each constant's value, then each unary node's two
 * parameters (clamp's bounds, leakyRelu's slope).
 */
function emit(k: FusedKernel, walks: readonly Walk[], outWalks: readonly Walk[]): Module {
  const kinds = walks.map((w) => w.kind);
  const ni = k.inputs.length, no = k.outputs.length;
  const consts = k.nodes.flatMap((n, j) => (n.op === 'const' ? [j] : []));
  const unaries = k.nodes.flatMap((n, j) => (n.op === 'unary' ? [j] : []));
  const f = new Func([...Array<number>(ni + no + 2).fill(i32), ...Array<number>(consts.length + 2 * unaries.length).fill(f64)]);
  const R = ni + no, L = ni + no + 1;
  const param = new Map<number, number>(); // node → its first f64 parameter
  consts.forEach((j, c) => param.set(j, L + 1 + c));
  unaries.forEach((j, u) => param.set(j, L + 1 + consts.length + 2 * u));
  const isConst = (x: number) => k.nodes[x]!.op === 'const';
  const isBool = (x: number) => !isConst(x) && k.nodes[x]!.dtype === 'bool';
  const isInt = (x: number) => !isConst(x) && k.nodes[x]!.dtype === 'int32';
  const inexact = (x: number) => isConst(x) && !exact32((k.nodes[x] as { value: number }).value);

  const r = f.local(i32), j = f.local(i32), end4 = f.local(i32), t64 = f.local(f64), at = f.local(i32);
  const imports: Module['imports'][number][] = [];
  const rowIn = k.inputs.map(() => f.local(i32)), rowOut = k.outputs.map(() => f.local(i32));
  // every node: a v128 local (f32 lanes, or i32 lanes of 0 / -1 for bool) and a scalar local (f32, or i32 0 / 1)
  const vl = k.nodes.map(() => f.local(v128));
  const sl = k.nodes.map((_, n) => f.local(isBool(n) || isInt(n) ? i32 : f32));
  // constants' truthiness (c !== 0 && c === c), as 0/1 and as a mask
  const cms = new Map<number, number>(), cmv = new Map<number, number>();
  // and as an int32 (for int32 comparisons and where)
  const cis = new Map<number, number>(), civ = new Map<number, number>();
  // inputs of kind 'c' and 's': their value (per row, or once)
  const splatV = k.inputs.map(() => f.local(v128)), splatS = k.inputs.map((v) => f.local(v.dtype === 'float32' ? f32 : i32));
  const onesF = f.local(v128), onesI = f.local(v128), zero = f.local(v128), tmp = f.local(v128);
  f.f32(1).simd('f32x4_splat').set(onesF).i32(1).simd('i32x4_splat').set(onesI).v128Zero().set(zero);
  for (const c of consts) {
    const p = param.get(c)!, ms = f.local(i32), mv = f.local(v128);
    f.get(p).op(0xb6 /* f32.demote_f64 */).tee(sl[c]!).simd('f32x4_splat').set(vl[c]!);
    f.get(p).f64(0).op(0x62 /* f64.ne */).get(p).get(p).op(0x61 /* f64.eq */).op(0x71).set(ms);
    f.i32(0).get(ms).sub().simd('i32x4_splat').set(mv);
    cms.set(c, ms);
    cmv.set(c, mv);
    const is = f.local(i32), iv = f.local(v128);
    f.get(p).op(0xfc, 0x02 /* i32.trunc_sat_f64_s */).tee(is).simd('i32x4_splat').set(iv);
    cis.set(c, is);
    civ.set(c, iv);
  }
  const esz = (i: number) => (k.inputs[i]!.dtype === 'bool' ? 1 : 4);
  /** Input i's one value at the address `addr` pushes, into splatS (bool: 0/1) and splatV (bool: a mask). */
  const loadSplat = (i: number, addr: () => void) => {
    addr();
    if (k.inputs[i]!.dtype === 'bool') f.i32Load8U().i32(0).op(0x47 /* i32.ne */).set(splatS[i]!).i32(0).get(splatS[i]!).sub().simd('i32x4_splat').set(splatV[i]!);
    else if (k.inputs[i]!.dtype === 'int32') f.op(0x28, 2, 0 /* i32.load */).tee(splatS[i]!).simd('i32x4_splat').set(splatV[i]!);
    else f.f32Load().tee(splatS[i]!).simd('f32x4_splat').set(splatV[i]!);
  };
  kinds.forEach((kd, i) => { if (kd === 's') loadSplat(i, () => f.get(i)); });

  /** Pushes node x as float32 (bool → 0/1; a constant rounded to float32). */
  const asF32 = (x: number, vec: boolean) => {
    if (isInt(x)) {
      // rounded to nearest even, as Math.fround rounds an int32 (only where the value is stored as float32)
      f.get(vec ? vl[x]! : sl[x]!);
      if (vec) f.op(0xfd, 0xfa, 0x01 /* f32x4.convert_i32x4_s */); else f.op(0xb2 /* f32.convert_i32_s */);
    } else if (!isBool(x)) f.get(vec ? vl[x]! : sl[x]!);
    else if (vec) f.get(vl[x]!).get(onesF).simd('v128_and');
    else f.get(sl[x]!).op(0xb3 /* f32.convert_i32_u */);
  };
  /** Pushes node x's truthiness (x !== 0 && x === x: JS's `v ?` and its bool rounding) as a mask or 0/1. */
  const asMask = (x: number, vec: boolean) => {
    if (isBool(x)) f.get(vec ? vl[x]! : sl[x]!);
    else if (isConst(x)) f.get(vec ? cmv.get(x)! : cms.get(x)!);
    else if (isInt(x)) {
      f.get(vec ? vl[x]! : sl[x]!);
      if (vec) f.get(zero).simd('i32x4_ne'); else f.i32(0).op(0x47);
    }
    else if (vec) f.get(vl[x]!).get(zero).simd('f32x4_ne').get(vl[x]!).get(vl[x]!).simd('f32x4_eq').simd('v128_and');
    else f.get(sl[x]!).f32(0).op(0x5c).get(sl[x]!).get(sl[x]!).op(0x5b).op(0x71);
  };
  /** Pushes node x as int32 lanes or an i32 (int32 values, bool 0/1, integral constants). */
  const asI32 = (x: number, vec: boolean) => {
    if (isConst(x)) f.get(vec ? civ.get(x)! : cis.get(x)!);
    else if (isBool(x) && vec) f.get(vl[x]!).get(onesI).simd('v128_and');
    else f.get(vec ? vl[x]! : sl[x]!);
  };
  /** a op b computed in float64 and rounded to float32 (the JS renderer's arithmetic with an inexact constant). */
  const viaF64 = (vec: boolean, a: Op64, b: Op64, op64x2: number, op64: number) => {
    if (!vec) {
      for (const d of [a, b]) {
        if ('param' in d) f.get(d.param);
        else { d.push(); f.op(0xbb /* f64.promote_f32 */); }
      }
      f.op(op64).op(0xb6);
      return;
    }
    const locs = [a, b].map((d) => {
      if ('param' in d) return -1;
      const t = f.local(v128);
      d.push();
      f.set(t);
      return t;
    });
    const res = [f.local(v128), f.local(v128)];
    for (const half of [0, 1]) {
      [a, b].forEach((d, q) => {
        if ('param' in d) return void f.get(d.param).simd('f64x2_splat');
        f.get(locs[q]!);
        if (half === 1) f.get(locs[q]!).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
        f.simd('f64x2_promote_low_f32x4');
      });
      f.simdOp(op64x2).simd('f32x4_demote_f64x2_zero').set(res[half]!);
    }
    // lanes 0-1 from the low half's result, 2-3 from the high half's
    f.get(res[0]!).get(res[1]!).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
  };
  const pick = (vec: boolean, v: SimdOp | number, s: number) => (vec ? (typeof v === 'number' ? f.simdOp(v) : f.simd(v)) : f.op(s));

  /** The import index of node N's reference function (unary: (x, p0, p1); binary: (a, b)). */
  const importOf = (N: Extract<KNode, { op: 'unary' | 'binary' }>) => {
    const name = N.op === 'unary' ? `u_${N.f}` : `b_${N.f}`;
    let at = imports.findIndex((m) => m.name === name);
    if (at < 0) {
      const fn = (N.op === 'unary' ? unaryOps[N.f].cpu : binaryOps[N.f].cpu) as (...a: number[]) => number;
      at = imports.push({ name, params: N.op === 'unary' ? [f64, f64, f64] : [f64, f64], results: [f64], fn }) - 1;
    }
    return at;
  };
  /**
   * Node n through its reference function, lane by lane: operands as float64 (constants as given),
   * the result rounded to float32 or made 0/1 (bool: r !== 0 && r === r), as the JS renderer stores it.
   */
  const callNode = (n: number, vec: boolean) => {
    const N = k.nodes[n] as Extract<KNode, { op: 'unary' | 'binary' }>;
    const fn = importOf(N), bool = N.dtype === 'bool', p = param.get(n);
    const operands = N.op === 'unary' ? [N.x] : [N.a, N.b];
    const one = (lane: number) => {
      if (bool && vec) f.i32(0);
      for (const x of operands) {
        if (isConst(x)) f.get(param.get(x)!);
        else if (isInt(x)) {
          f.get(vec ? vl[x]! : sl[x]!);
          if (vec) f.op(0xfd, 0x1b, lane);
          f.op(0xb7 /* f64.convert_i32_s: exact */);
        } else {
          asF32(x, vec);
          if (vec) f.op(0xfd, 0x1f, lane /* f32x4.extract_lane */);
          f.op(0xbb);
        }
      }
      if (N.op === 'unary') f.get(p!).get(p! + 1);
      f.call(fn);
      if (!bool) return void f.op(0xb6);
      f.tee(t64).f64(0).op(0x62).get(t64).get(t64).op(0x61).op(0x71);
      if (vec) f.sub(); // 0 - b: a lane of 0 / -1
    };
    if (!vec) return one(0);
    f.get(zero);
    for (let lane = 0; lane < 4; lane++) {
      one(lane);
      f.op(0xfd, bool ? 0x1c : 0x20, lane); // i32x4 / f32x4.replace_lane
    }
  };
  /** Computes node n (for the four lanes at j, or the one element at j) into its local. */
  const node = (n: number, vec: boolean) => {
    const N = k.nodes[n]!;
    if ((N.op === 'unary' || N.op === 'binary') && !simdNode(k, n)) {
      callNode(n, vec);
      return void f.set(vec ? vl[n]! : sl[n]!);
    }
    switch (N.op) {
      case 'const':
        return;
      case 'load': {
        const i = N.input, kd = kinds[i]!;
        if (kd === 's' || kd === 'c') f.get(vec ? splatV[i]! : splatS[i]!);
        else if (kd === 'g') {
          // element j of the row at j·sc: four loads into lanes (constant offsets from the first)
          const dtype = k.inputs[i]!.dtype, bool = dtype === 'bool', ints = dtype !== 'float32', sc = walks[i]!.sc * (bool ? 1 : 4);
          f.get(rowIn[i]!).get(j).i32(sc).mul().add();
          const ld = (off: number) => (bool ? f.i32Load8U(off) : ints ? f.op(0x28, 2).u32(off) : f.f32Load(off));
          if (!vec) ld(0);
          else {
            f.tee(at);
            ld(0).simd(ints ? 'i32x4_splat' : 'f32x4_splat');
            for (let l = 1; l < 4; l++) {
              f.get(at);
              ld(l * sc).op(0xfd, ints ? 0x1c : 0x20, l);
            }
          }
          if (bool) {
            if (vec) f.get(zero).simd('i32x4_ne'); else f.i32(0).op(0x47);
          }
        } else if (k.inputs[i]!.dtype === 'bool') {
          // four bytes widened to i32 lanes, then != 0
          f.get(rowIn[i]!).get(j).add();
          if (vec) f.op(0xfd, 0x5c, 0, 0 /* v128.load32_zero */).op(0xfd, 0x89, 0x01).op(0xfd, 0xa9, 0x01).get(zero).simd('i32x4_ne');
          else f.i32Load8U().i32(0).op(0x47);
        } else {
          f.get(rowIn[i]!).get(j).i32(2).shl().add();
          if (vec) f.v128Load(); else if (k.inputs[i]!.dtype === 'int32') f.op(0x28, 2, 0); else f.f32Load();
        }
        break;
      }
      case 'copy':
        if (N.dtype === 'bool') asMask(N.x, vec); else if (N.dtype === 'int32') asI32(N.x, vec); else asF32(N.x, vec);
        break;
      case 'where':
        if (N.dtype === 'bool') { asMask(N.a, vec); asMask(N.b, vec); } else if (N.dtype === 'int32') { asI32(N.a, vec); asI32(N.b, vec); } else { asF32(N.a, vec); asF32(N.b, vec); }
        asMask(N.c, vec);
        pick(vec, 'v128_bitselect', 0x1b /* select */);
        break;
      case 'unary': {
        const x = N.x, p = param.get(n)!, one = UNARY1[N.f];
        asF32(x, vec);
        if (one) { pick(vec, one[0], one[1]); break; }
        switch (N.f) {
          case 'relu': // max(x, +0): NaN stays NaN, -0 becomes +0 (the reference's x > 0 ? x : 0)
            if (vec) f.get(zero); else f.f32(0);
            pick(vec, 'f32x4_max', 0x97);
            break;
          case 'clamp': case 'hardtanh': // the bounds rounded to float32: rounding commutes with min/max
            f.get(p).op(0xb6);
            if (vec) f.simd('f32x4_splat');
            pick(vec, 'f32x4_max', 0x97);
            f.get(p + 1).op(0xb6);
            if (vec) f.simd('f32x4_splat');
            pick(vec, 'f32x4_min', 0x96);
            break;
          case 'frac': // x - trunc(x), exact in float32
            asF32(x, vec);
            pick(vec, 'f32x4_trunc', 0x8f);
            pick(vec, 'f32x4_sub', 0x93);
            break;
          case 'reciprocal': // 1 / x
            f.set(vec ? tmp : sl[n]!);
            if (vec) f.get(onesF).get(tmp); else f.f32(1).get(sl[n]!);
            pick(vec, 'f32x4_div', 0x95);
            break;
          case 'sign': // (x > 0) - (x < 0); NaN and -0 give +0
            if (vec) {
              f.set(tmp).get(onesF).get(tmp).get(zero).simd('f32x4_gt').simd('v128_and');
              f.f32(-1).simd('f32x4_splat').get(tmp).get(zero).simd('f32x4_lt').simd('v128_and').simd('v128_or');
            } else {
              f.set(sl[n]!).get(sl[n]!).f32(0).op(0x5e).get(sl[n]!).f32(0).op(0x5d).sub().op(0xb2 /* f32.convert_i32_s */);
            }
            break;
          case 'leakyRelu': // x > 0 ? x : x · slope, the product in float64 as the reference computes it
            viaF64(vec, { push: () => asF32(x, vec) }, { param: p }, 0xf2, 0xa2);
            asF32(x, vec);
            if (vec) f.get(zero).simd('f32x4_gt').simd('v128_bitselect'); else f.f32(0).op(0x5e).op(0x1b);
            break;
        }
        break;
      }
      case 'binary': {
        const { a, b } = N, cmp = CMP[N.f], ar = ARITH[N.f];
        if (N.compute === 'int32' && N.f in ICMP) {
          asI32(a, vec);
          asI32(b, vec);
          pick(vec, ICMP[N.f]![0], ICMP[N.f]![1]);
        } else if (N.f === 'logicalAnd') {
          asMask(a, vec);
          asMask(b, vec);
          pick(vec, 'v128_and', 0x71);
        } else if (cmp) {
          asF32(a, vec);
          asF32(b, vec);
          pick(vec, cmp[0], cmp[1]);
        } else if (ar && (inexact(a) || inexact(b))) {
          const side = (x: number): Op64 => (inexact(x) ? { param: param.get(x)! } : { push: () => asF32(x, vec) });
          viaF64(vec, side(a), side(b), ar[2], ar[3]);
        } else if (ar) {
          asF32(a, vec);
          asF32(b, vec);
          pick(vec, ar[0], ar[1]);
        } else if (N.f === 'maximum' || N.f === 'minimum') {
          asF32(a, vec);
          asF32(b, vec);
          if (N.f === 'maximum') pick(vec, 'f32x4_max', 0x97); else pick(vec, 'f32x4_min', 0x96);
        } else {
          // pow with the exponent 2 (x·x: exact in float64 for a float32 x, so rounded once) or 1
          asF32(a, vec);
          if ((k.nodes[b] as { value: number }).value === 2) {
            asF32(a, vec);
            pick(vec, 'f32x4_mul', 0x94);
          }
        }
        break;
      }
    }
    f.set(vec ? vl[n]! : sl[n]!);
  };

  /** Every node, then every output's store, at element j of this row. */
  const body = (vec: boolean) => {
    k.nodes.forEach((_, n) => node(n, vec));
    k.outputs.forEach((o, q) => {
      const bool = o.view.dtype === 'bool', ints = o.view.dtype === 'int32', sc = outWalks[q]!.kind === 'g' ? outWalks[q]!.sc * (bool ? 1 : 4) : 0;
      if (sc && vec) {
        // a strided output: lane by lane, at constant offsets from the first lane's address
        f.get(rowOut[q]!).get(j).i32(sc).mul().add().set(at);
        if (bool) asMask(o.node, vec); else if (ints) asI32(o.node, vec); else asF32(o.node, vec);
        f.set(tmp);
        for (let l = 0; l < 4; l++) {
          f.get(at).get(tmp);
          if (bool) f.op(0xfd, 0x1b, l /* i32x4.extract_lane */).i32(1).op(0x71).op(0x3a, 0).u32(l * sc);
          else if (ints) f.op(0xfd, 0x1b, l).op(0x36, 2).u32(l * sc);
          else f.op(0xfd, 0x1f, l).f32Store(l * sc);
        }
        return;
      }
      f.get(rowOut[q]!).get(j);
      if (sc) f.i32(sc).mul(); else if (!bool) f.i32(2).shl();
      f.add();
      if (bool) {
        asMask(o.node, vec);
        // lanes of 0 / -1 → bytes of 0 / 1: and 1, narrow twice, store the low four bytes
        if (vec) f.get(onesI).simd('v128_and').tee(tmp).get(tmp).op(0xfd, 0x86, 0x01).tee(tmp).get(tmp).op(0xfd, 0x66).op(0xfd, 0x5a, 0, 0, 0);
        else f.op(0x3a, 0, 0 /* i32.store8 */);
      } else if (ints) {
        asI32(o.node, vec);
        if (vec) f.v128Store(); else f.op(0x36, 2, 0 /* i32.store */);
      } else {
        asF32(o.node, vec);
        if (vec) f.v128Store(); else f.f32Store();
      }
    });
  };

  f.get(L).i32(-4).op(0x71).set(end4);
  f.for(r, 0, R, 1, () => {
    kinds.forEach((kd, i) => {
      if (kd === 'v') f.get(i).get(r).get(L).mul().i32(esz(i)).mul().add().set(rowIn[i]!);
      else if (kd === 'r') f.get(i).set(rowIn[i]!);
      else if (kd === 'g') f.get(i).get(r).i32(walks[i]!.sr * esz(i)).mul().add().set(rowIn[i]!);
      else if (kd === 'c') loadSplat(i, () => f.get(i).get(r).i32(esz(i)).mul().add());
    });
    k.outputs.forEach((o, q) => {
      const e = o.view.dtype === 'bool' ? 1 : 4;
      if (outWalks[q]!.kind === 'g') f.get(ni + q).get(r).i32(outWalks[q]!.sr * e).mul().add().set(rowOut[q]!);
      else f.get(ni + q).get(r).get(L).mul().i32(e).mul().add().set(rowOut[q]!);
    });
    f.for(j, 0, end4, 4, () => body(true));
    f.for(j, { local: end4 }, L, 1, () => body(false));
  });
  return { funcs: { f }, imports };
}

/** What a cached plan keeps between replays of one fused kernel: no buffers. */
interface Plan {
  /** The compiled kernel, or null: this kernel runs in the JS renderer. */
  readonly fn: ((...args: number[]) => void) | null;
  readonly R: number;
  readonly L: number;
  /** Constant nodes, what the code depends on in their values (valueSig), and which values it depends on wholly. */
  readonly consts: readonly number[];
  readonly sig: readonly number[];
  readonly pinned: readonly boolean[];
  readonly unaries: readonly number[];
}

/** Counts for tests: kernels generated and compiled, kernels run as wasm, kernels left to JS. */
export interface FusedStats {
  compiled: number;
  wasm: number;
  js: number;
}

/**
 * Runs fused kernels as wasm when the renderer covers them. `run` returns false for a kernel it
 * leaves to the JS renderer; `ptr` is a view's byte address (its buffer's address plus offset).
 */
export class WasmFused {
  readonly stats: FusedStats = { compiled: 0, wasm: 0, js: 0 };

  constructor(private readonly kernels: KernelCache, private readonly ptr: (v: View) => number) {}

  private plan(k: FusedKernel): Plan {
    const consts = k.nodes.flatMap((n, j) => (n.op === 'const' ? [j] : []));
    const unaries = k.nodes.flatMap((n, j) => (n.op === 'unary' ? [j] : []));
    const pinned = consts.map((j) => pinnedConst(k, j));
    const sig = valueSig(k, consts, pinned);
    const none: Plan = { fn: null, R: 0, L: 0, consts, sig, pinned, unaries };
    if (unsupported(k)) return none;
    // engines cap a function's parameters at 1000
    if (k.inputs.length + k.outputs.length + 2 + consts.length + 2 * unaries.length > MAX_PARAMS) return none;
    // views sharing a buffer with an output: the same elements (then each is read before it is
    // written, as in the JS renderer), else the JS renderer (which copies such inputs first)
    const sameLayout = (a: View, b: View) => a.offset === b.offset && a.strides.every((st, d) => st === b.strides[d] || k.shape[d] === 1);
    const clash = (v: View, q: number) => k.outputs.some((o, p) => p !== q && o.view.buf === v.buf && !sameLayout(o.view, v));
    if (k.inputs.some((v) => v.dtype === 'float64')) return none;
    if (k.outputs.some((o, q) => o.view.dtype !== k.nodes[o.node]!.dtype || clash(o.view, q))) return none;
    let L = 0;
    const fits = (l: number) => {
      if (L !== 0 && l !== L) return false;
      L = l;
      return true;
    };
    const walks: Walk[] = [], outWalks: Walk[] = [];
    for (const o of k.outputs) {
      if (isContiguous(o.view.shape, o.view.strides)) outWalks.push({ kind: 'v', sr: 0, sc: 0 });
      else {
        const g = stridedOf(o.view, k.shape);
        if (!g || !fits(g.L)) return none;
        outWalks.push({ kind: 'g', sr: g.sr, sc: g.sc });
      }
    }
    for (const v of k.inputs) {
      const g = layoutOf(v, k.shape) ? null : stridedOf(v, k.shape);
      const lay: { kind: Walk['kind']; L: number } | null = g ? { kind: 'g', L: g.L } : layoutOf(v, k.shape);
      if (!lay || ((lay.kind === 'r' || lay.kind === 'c' || lay.kind === 'g') && !fits(lay.L)) || clash(v, -1)) return none;
      walks.push({ kind: lay.kind, sr: g?.sr ?? 0, sc: g?.sc ?? 0 });
    }
    const n = size(k.shape);
    if (L === 0) L = n;
    const key = structureKey(k, walks, outWalks, sig);
    const before = this.kernels.compiled;
    const e = this.kernels.get(key, () => emit(k, walks, outWalks));
    this.stats.compiled += this.kernels.compiled - before;
    return { fn: e.f as (...args: number[]) => void, R: L === 0 ? 0 : n / L, L, consts, sig, pinned, unaries };
  }

  /** Whether k's constants pick the code plan p was generated for. */
  private sameSig(k: FusedKernel, p: Plan): boolean {
    for (let q = 0; q < p.consts.length; q++) {
      if (!Object.is(sigOf((k.nodes[p.consts[q]!] as { value: number }).value, p.pinned[q]!), p.sig[q])) return false;
    }
    return true;
  }

  /** Runs k as wasm and returns true, or returns false (the caller runs the JS renderer). */
  run(k: FusedKernel, cache?: object): boolean {
    const c = cache as { wasmFused?: Plan } | undefined;
    let p = c?.wasmFused;
    // a replay reuses the plan while its constants pick the same code (a fill's value may change)
    if (!p || !this.sameSig(k, p)) {
      p = this.plan(k);
      if (c) c.wasmFused = p;
    }
    if (!p.fn) {
      this.stats.js++;
      return false;
    }
    this.stats.wasm++;
    if (p.R === 0) return true;
    const args: number[] = [];
    for (const v of k.inputs) args.push(this.ptr(v));
    for (const o of k.outputs) args.push(this.ptr(o.view));
    args.push(p.R, p.L);
    for (const j of p.consts) args.push((k.nodes[j] as { value: number }).value);
    for (const j of p.unaries) {
      const ps = (k.nodes[j] as { params: readonly number[] }).params;
      args.push(ps[0] ?? 0, ps[1] ?? 0);
    }
    p.fn(...args);
    return true;
  }
}
