/**
 * Reductions over any set of dims: shaders/reduce.wgsl specialized for the op, the dtype and the
 * shape of the work (how many outputs share a workgroup). Large reduced extents run as several
 * passes over partial results, so no invocation loops over more than `itemsMax` elements. The
 * workgroup size, itemsMax and subgroup use come from kernels.ts.
 */
import type { Launch, ReduceOp, View } from '../../backend.js';
import type { DType } from '../../dtype.js';
import template from '../../../shaders/reduce.wgsl?raw';
import { bindingDecl, coalesce, computeType, convertLoad, convertStore, fill, Params, storageType, type Ctx } from './codegen.js';
import { encodeElementwise } from './elementwise.js';
import { countVariant, declareVariants, kernelsFor, type ReduceKernel } from './kernels.js';
import type { GpuBuf } from './pool.js';

/** Each op's subgroup builtin, where one folds it (arg ops carry an index, which no builtin does). */
const SUBGROUP_OP: Record<ReduceOp, string | null> = { sum: 'subgroupAdd', max: 'subgroupMax', min: 'subgroupMin', argmax: null, argmin: null };
const OPS = Object.keys(SUBGROUP_OP) as ReduceOp[];

/**
 * Whether a pass folds its lanes with subgroup ops: the adapter has them, the op has one, and the
 * lanes run along r (outer lanes put several outputs in a workgroup: O >= 2, as coalescing drops
 * size-1 dims). The pass also needs one output per workgroup (TX == 1).
 */
const subgroupCapable = (cfg: ReduceKernel, op: ReduceOp, outer: boolean): boolean => cfg.subgroups && SUBGROUP_OP[op] !== null && !outer;

type Lanes = 'inner' | 'outer';
const passVariant = (op: ReduceOp, lanes: Lanes, subgroup: boolean) => `reduce:${op}:${lanes}:${subgroup ? 'subgroup' : 'shared'}`;
/** Where a pass reads (a view walked by one reduced dim or several, or partial results) and writes. */
const IO_VARIANTS = ['reduce:in-view1', 'reduce:in-viewN', 'reduce:in-partial', 'reduce:out-final', 'reduce:out-partial'] as const;
type IoVariant = (typeof IO_VARIANTS)[number];

// Each op, lane layout and tree is a code path; so is each kind of input and output.
declareVariants(({ reduce: cfg }) => [
  ...OPS.flatMap((op) =>
    (['inner', 'outer'] as const).flatMap((lanes) => [passVariant(op, lanes, false), ...(subgroupCapable(cfg, op, lanes === 'outer') ? [passVariant(op, lanes, true)] : [])]),
  ),
  ...IO_VARIANTS,
]);

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

type In =
  | { kind: 'view'; x: View; kept: { shape: number[]; strides: number[] }; red: { shape: number[]; strides: number[] } }
  | { kind: 'partial'; vals: GpuBuf; idx: GpuBuf | null; G: number };

type Out = { kind: 'final'; out: View } | { kind: 'partial'; vals: GpuBuf; idx: GpuBuf | null };

function combineCode(op: ReduceOp, T: 'f32' | 'i32'): { identity: string; code: string; sub: string | null } {
  const nan = T === 'f32';
  const lo = T === 'f32' ? '-wg_inf()' : 'bitcast<i32>(0x80000000u)';
  const hi = T === 'f32' ? 'wg_inf()' : '2147483647';
  switch (op) {
    case 'sum':
      return { identity: 'T(0)', code: 'fn comb(a: T, b: T) -> T { return a + b; }', sub: SUBGROUP_OP.sum };
    case 'max':
    case 'min': {
      const body = nan ? `select(${op}(a, b), wg_nan(), wg_isnan(a) || wg_isnan(b))` : `${op}(a, b)`;
      return { identity: op === 'max' ? lo : hi, code: `fn comb(a: T, b: T) -> T { return ${body}; }`, sub: SUBGROUP_OP[op] };
    }
    case 'argmax':
    case 'argmin': {
      const cmp = op === 'argmax' ? '>' : '<';
      // Does (bv, bi) replace (av, ai)? NaN is the extreme; ties go to the smaller index.
      const code = nan
        ? `fn better(av: T, ai: u32, bv: T, bi: u32) -> bool {
  let an = wg_isnan(av);
  let bn = wg_isnan(bv);
  if (an || bn) {
    return bn && (!an || bi < ai);
  }
  return bv ${cmp} av || (bv == av && bi < ai);
}`
        : `fn better(av: T, ai: u32, bv: T, bi: u32) -> bool {
  return bv ${cmp} av || (bv == av && bi < ai);
}`;
      return { identity: op === 'argmax' ? lo : hi, code, sub: SUBGROUP_OP[op] };
    }
  }
}

/**
 * How a pass spreads its work: TX outputs x TY lanes per workgroup (lanes over outputs when the
 * outputs are adjacent in memory and r is strided), `items` elements per lane, G chunks per output.
 */
function layout(cfg: ReduceKernel, O: number, R: number, outer: boolean): { TX: number; TY: number; items: number; G: number } {
  const WG = cfg.workgroupSize;
  const TX = outer ? Math.min(32, nextPow2(O)) : WG / Math.min(WG, nextPow2(R));
  const TY = WG / TX;
  const items = Math.min(cfg.itemsMax, Math.ceil(R / TY));
  return { TX, TY, items, G: Math.ceil(R / (TY * items)) };
}

/** The executor's prologue (fused.ts): WGSL `fn pro(j)` giving x's element at memory index j. */
export type ReducePrologue = (p: Params, firstBinding: number) => { bufs: readonly GpuBuf[]; key: string; code: string };

/** One pass: reduces `R` elements per output for `O` outputs into G chunks each. */
function pass(ctx: Ctx, cfg: ReduceKernel, op: ReduceOp, T: 'f32' | 'i32', xDtype: DType, input: In, O: number, R: number, output: Out, outer: boolean, prologue?: ReducePrologue): void {
  const arg = op === 'argmax' || op === 'argmin';
  const WG = cfg.workgroupSize;
  const { TX, TY, items, G } = layout(cfg, O, R, outer);
  const workgroups = Math.ceil(O / TX) * G;
  const useSub = subgroupCapable(cfg, op, outer) && TX === 1;

  // Parameters: fixed ones first, the dims of a view input last (the text must not depend on ranks).
  const p = new Params();
  const refs = { O: p.u32(O), R: p.u32(R), G: p.u32(G), ITEMS: p.u32(items), WORKGROUPS: p.u32(workgroups), TX: p.u32(TX), TY: p.u32(TY) };
  const view = input.kind === 'view' ? input : null;
  const red1 = view !== null && view.red.shape.length === 1;
  const inRefs = view
    ? { off: p.u32(view.x.offset), kr: p.u32(view.kept.shape.length), rr: p.u32(view.red.shape.length), rs0: red1 ? p.u32(view.red.strides[0]!) : '' }
    : { gin: p.u32((input as Extract<In, { kind: 'partial' }>).G) };
  const outOff = output.kind === 'final' ? p.u32(output.out.offset) : '';
  // The prologue's parameters go before the dims, whose count varies with the rank; its buffers
  // bind after the reduction's own (no x when there is a prologue, the output and its indices).
  const usePro = input.kind === 'view' && prologue !== undefined;
  const pro = usePro ? prologue(p, 1 + (output.kind === 'partial' && output.idx ? 2 : 1)) : undefined;
  const kb = p.words.length;
  if (view) {
    [...view.kept.shape, ...view.kept.strides].forEach((v) => p.u32(v));
    if (!red1) [...view.red.shape, ...view.red.strides].forEach((v) => p.u32(v));
  }
  const bufs: GpuBuf[] = [];
  // With a prologue, x itself is not read (its values are computed) and not bound.
  if (input.kind === 'view') {
    if (!usePro) bufs.push(input.x.buf as GpuBuf);
  } else bufs.push(input.vals, ...(input.idx ? [input.idx] : []));
  if (output.kind === 'final') bufs.push(output.out.buf as GpuBuf);
  else bufs.push(output.vals, ...(output.idx ? [output.idx] : []));
  if (pro) bufs.push(...pro.bufs);
  const outDtype = output.kind === 'final' ? output.out.dtype : 'partial';
  const key = ['red', op, T, xDtype, input.kind, red1, input.kind === 'partial' && !!input.idx, outDtype, outer, useSub, WG, kb, p.vec4s, pro?.key ?? ''].join('|');

  const code = (): string => {
    const c = combineCode(op, T);
    const decls: string[] = [];
    const bind = (elem: string, write: boolean) => {
      decls.push(bindingDecl(decls.length + 1, `b${decls.length + 1}`, elem, write));
      return `b${decls.length}`;
    };
    let base: string;
    let elem: string;
    let idxExpr = 'r';
    if (input.kind === 'view') {
      const { off, kr, rr, rs0 } = inRefs as { off: string; kr: string; rr: string; rs0: string };
      const X = usePro ? '' : bind(storageType(xDtype), false);
      const rb = `${kb}u + 2u * ${kr}`;
      base = `    var base = ${off};
    var q = o;
    for (var d = ${kr}; d > 0u; d = d - 1u) {
      let s = pr(${kb}u + d - 1u);
      base = base + q % s * pr(${kb}u + ${kr} + d - 1u);
      q = q / s;
    }`;
      // One reduced dim (the usual case after coalescing) indexes directly; more walk their dims.
      elem = red1
        ? ''
        : `      var e = base;
      var qr = r;
      for (var d = ${rr}; d > 0u; d = d - 1u) {
        let s = pr(${rb} + d - 1u);
        e = e + qr % s * pr(${rb} + ${rr} + d - 1u);
        qr = qr / s;
      }\n`;
      const at = red1 ? `base + r * ${rs0}` : 'e';
      elem += `      let v = ${convertLoad(xDtype, T, pro ? `pro(${at})` : `${X}[${at}]`)};`;
    } else {
      const V = bind(T, false);
      base = `    let base = o * ${(inRefs as { gin: string }).gin};`;
      elem = `      let v = ${V}[base + r];`;
      if (input.idx) {
        elem += `\n      let vi = ${bind('u32', false)}[base + r];`;
        idxExpr = 'vi';
      }
    }
    const accum = arg ? `      if (better(acc, ai, v, ${idxExpr})) { acc = v; ai = ${idxExpr}; }` : '      acc = comb(acc, v);';

    // Tree over the TY lanes of each output; lane ty of output tx sits at index lid.
    const step = outer ? 'TX' : '1u';
    let tree: string;
    let sgArgs = '';
    if (useSub) {
      sgArgs = ', @builtin(subgroup_id) sg_id: u32, @builtin(num_subgroups) nsg: u32, @builtin(subgroup_invocation_id) sg_lane: u32';
      const sgv = T === 'f32' && op !== 'sum' ? `select(${c.sub}(acc), wg_nan(), subgroupAny(wg_isnan(acc)))` : `${c.sub}(acc)`;
      tree = `  let sgv = ${sgv};
  if (sg_lane == 0u) {
    sv[sg_id] = sgv;
  }
  workgroupBarrier();
  for (var s = ${WG / ctx.subgroupMinSize / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s && lid + s < nsg) {
      sv[lid] = comb(sv[lid], sv[lid + s]);
    }
    workgroupBarrier();
  }
  let res = sv[0];
  let resi = 0u;`;
    } else {
      const merge = arg
        ? `let q = lid + s * ${step};
      if (better(sv[lid], si[lid], sv[q], si[q])) {
        sv[lid] = sv[q];
        si[lid] = si[q];
      }`
        : `sv[lid] = comb(sv[lid], sv[lid + s * ${step}]);`;
      tree = `  sv[lid] = acc;${arg ? '\n  si[lid] = ai;' : ''}
  workgroupBarrier();
  for (var s = TY / 2u; s > 0u; s = s >> 1u) {
    if (ty < s) {
      ${merge}
    }
    workgroupBarrier();
  }
  let res = sv[lid];
  let resi = ${arg ? 'si[lid]' : 'ai'};`;
    }

    let write: string;
    if (output.kind === 'final') {
      const out = output.out;
      const at = `${bind(storageType(out.dtype), true)}[${outOff} + o]`;
      write = arg ? `    ${at} = i32(resi);` : `    ${at} = ${convertStore(out.dtype, T, 'res')};`;
    } else {
      write = `    ${bind(T, true)}[o * G + g] = res;`;
      if (output.idx) write += `\n    ${bind('u32', true)}[o * G + g] = resi;`;
    }
    if (pro) decls.push(pro.code);
    return fill(template, {
      ...refs, T, PARAMS: p.decl(), WG, BINDINGS: decls.join('\n'), COMBINE: c.code, SG_ARGS: sgArgs,
      TXI: outer ? 'lid % TX' : 'lid / TY', TYI: outer ? 'lid / TX' : 'lid % TY',
      IDENTITY: c.identity, BASE: base, ELEM: elem, ACCUM: accum, TREE: tree, WRITE: write,
    });
  };
  const variant = passVariant(op, outer ? 'outer' : 'inner', useSub);
  const inVariant: IoVariant = input.kind === 'partial' ? 'reduce:in-partial' : red1 ? 'reduce:in-view1' : 'reduce:in-viewN';
  ctx.dispatch(ctx.pipeline(key, code, variant, { subgroups: useSub }), p, bufs, workgroups);
  countVariant(variant, inVariant, output.kind === 'final' ? 'reduce:out-final' : 'reduce:out-partial');
}

/** Encodes a reduction as one or more passes (see the file comment), with the executor's prologue when given. */
export function encodeReduce(ctx: Ctx, l: Extract<Launch, { kind: 'reduce' }>, prologue?: ReducePrologue): void {
  const { op, x, out } = l;
  const dims = new Set(l.dims);
  const pick = (red: boolean) => {
    const idx = x.shape.map((_, d) => d).filter((d) => dims.has(d) === red);
    return coalesce(idx.map((d) => x.shape[d]!), [idx.map((d) => x.strides[d]!)]);
  };
  const k = pick(false), r = pick(true);
  const kept = { shape: k.shape, strides: k.strides[0]! };
  const red = { shape: r.shape, strides: r.strides[0]! };
  const O = prod(kept.shape), R = prod(red.shape);
  if (O === 0 || prod(x.shape) === 0) {
    // An empty reduction: sums are 0 (max/min of nothing is rejected before a launch is made).
    if (O > 0) encodeElementwise(ctx, { kind: 'fill', out, value: 0 });
    return;
  }
  const T = computeType(x.dtype);
  const cfg = kernelsFor(ctx).reduce;
  const arg = op === 'argmax' || op === 'argmin';
  const lastStride = (s: number[]) => (s.length ? s[s.length - 1]! : 0);
  // Outputs adjacent in memory and a strided reduced dim: lanes spread over outputs (coalesced reads).
  const outer = kept.shape.length > 0 && lastStride(kept.strides) === 1 && lastStride(red.strides) !== 1;
  let input: In = { kind: 'view', x, kept, red };
  let n = R;
  let isOuter = outer;
  for (;;) {
    const { G } = layout(cfg, O, n, isOuter);
    if (G === 1) {
      pass(ctx, cfg, op, T, x.dtype, input, O, n, { kind: 'final', out }, isOuter, prologue);
      break;
    }
    const bytes = O * G * 4;
    const vals = ctx.temp(bytes);
    const idx = arg ? ctx.temp(bytes) : null;
    pass(ctx, cfg, op, T, x.dtype, input, O, n, { kind: 'partial', vals, idx }, isOuter, prologue);
    if (input.kind === 'partial') {
      ctx.freeTemp(input.vals);
      if (input.idx) ctx.freeTemp(input.idx);
    }
    input = { kind: 'partial', vals, idx, G };
    n = G;
    isOuter = false;
  }
  if (input.kind === 'partial') {
    ctx.freeTemp(input.vals);
    if (input.idx) ctx.freeTemp(input.idx);
  }
}
