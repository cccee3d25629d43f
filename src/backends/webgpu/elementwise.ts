/**
 * Elementwise launches (unary, binary, where, copy, fill, random) as one generated kernel each:
 * the op table's WGSL expression spliced into shaders/elementwise.wgsl, every view read in place
 * through its strides, scalars passed as uniforms.
 */
import type { Launch, Operand, View } from '../../backend.js';
import { binaryOps, unaryOps } from '../../ops/elementwise.js';
import { contiguousStrides } from '../../shape.js';
import template from '../../../shaders/elementwise.wgsl?raw';
import { bindingDecl, coalesce, computeType, convertLoad, convertStore, fill, Params, rowMajor, storageType, type Ctx } from './codegen.js';
import type { GpuBuf } from './pool.js';

export type ElementwiseLaunch = Extract<Launch, { kind: 'unary' | 'binary' | 'where' | 'copy' | 'fill' | 'random' }>;

const WG = 256;

/**
 * Float `!=` made NaN-proof: the op table writes `x != x` for isnan and `a != b` for ne, but WGSL
 * compilers may assume there are no NaNs (Dawn on lavapipe evaluates f32 `!=` as an ordered
 * compare: false when an operand is NaN). Self-comparisons become bit tests, others `!(a == b)`.
 */
const OPERAND = String.raw`[A-Za-z_]\w*(?:\([^()]*\))?`;
const NE = new RegExp(`(${OPERAND}) != (${OPERAND})`, 'g');
function nanSafe(expr: string, T: 'f32' | 'i32'): string {
  if (T !== 'f32') return expr;
  return expr.replace(NE, (_, a: string, b: string) => (a === b ? `wg_isnan(${a})` : `!(${a} == ${b})`));
}

/** The operands of a launch in order, and how its result is computed from their loaded values. */
function describe(l: ElementwiseLaunch): { T: 'f32' | 'i32'; ops: Operand[]; names: string[]; value: 'T' | 'bool'; body: (p: Params, loads: string[]) => string; random?: boolean } {
  switch (l.kind) {
    case 'unary': {
      const T = computeType(l.compute);
      return {
        T, ops: [l.x], names: ['x'], value: 'T',
        body: (p, [x]) =>
          `  let x: T = ${x};\n  let p0 = ${p.scalar(l.params[0] ?? 0, 'f32')};\n  let p1 = ${p.scalar(l.params[1] ?? 0, 'f32')};\n` +
          `  let r = ${nanSafe(unaryOps[l.op].wgsl, T)};\n`,
      };
    }
    case 'binary': {
      const T = computeType(l.compute);
      const def = binaryOps[l.op];
      return {
        T, ops: [l.a, l.b], names: ['a', 'b'], value: def.result === 'bool' ? 'bool' : 'T',
        body: (_p, [a, b]) => `  let a: T = ${a};\n  let b: T = ${b};\n  let r = ${nanSafe(def.wgsl, T)};\n`,
      };
    }
    case 'where':
      return {
        T: computeType(l.out.dtype), ops: [l.cond, l.a, l.b], names: ['c', 'a', 'b'], value: 'T',
        body: (_p, [c, a, b]) => `  let c = ${c};\n  let a: T = ${a};\n  let b: T = ${b};\n  let r = select(b, a, c != 0);\n`,
      };
    case 'copy':
      return { T: computeType(l.x.dtype), ops: [l.x], names: ['x'], value: 'T', body: (_p, [x]) => `  let r: T = ${x};\n` };
    case 'fill': {
      const T = computeType(l.out.dtype);
      return { T, ops: [], names: [], value: 'T', body: (p) => `  let r: T = ${p.scalar(l.value, T)};\n` };
    }
    case 'random': {
      const fn = l.dist === 'uniform' ? 'wg_uniform' : 'wg_normal';
      return {
        T: 'f32', ops: [], names: [], value: 'T', random: true,
        body: (p) => `  let r = ${fn}(${p.u32(l.seed)}, ${p.u32(l.counter)} + i);\n`,
      };
    }
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeElementwise(ctx: Ctx, l: ElementwiseLaunch): void {
  const n = numel(l.out.shape);
  if (n === 0) return;
  const d = describe(l);
  // An input that overlaps the output with another layout (t.copy_(t.t())) is read from a copy
  // first, so no invocation reads an element another one already overwrote.
  const temps: GpuBuf[] = [];
  d.ops = d.ops.map((o) => {
    if (typeof o === 'number' || o.buf !== l.out.buf || (o.offset === l.out.offset && o.strides.every((s, i) => s === l.out.strides[i]))) return o;
    const t = ctx.temp(n * 4);
    temps.push(t);
    const copy: View = { buf: t, dtype: o.dtype, shape: o.shape, strides: contiguousStrides(o.shape), offset: 0 };
    encodeElementwise(ctx, { kind: 'copy', x: o, out: copy });
    return copy;
  });
  const views: View[] = [l.out, ...d.ops.filter((o): o is View => typeof o !== 'number')];
  const { shape, strides } = coalesce(l.out.shape, views.map((v) => v.strides));
  const p = new Params();
  p.u32(n);
  const rank = p.u32(shape.length);
  const contiguous = strides.map((st) => rowMajor(shape, st));

  // One binding per distinct buffer; an input that shares the output's buffer reads it there.
  const bufs: GpuBuf[] = [];
  const decls: string[] = [];
  const nameOf = (v: View, write: boolean): string => {
    const b = v.buf as GpuBuf;
    let k = bufs.indexOf(b);
    if (k < 0) {
      k = bufs.push(b) - 1;
      decls.push(bindingDecl(k + 1, `b${k + 1}`, storageType(v.dtype), write));
    }
    return `b${k + 1}`;
  };
  // Element index of each view: `offset + i` when contiguous, else accumulated over the dims below.
  let index = '';
  const stridedViews: number[] = [];
  const elem = (v: View, k: number): string => {
    const off = p.u32(v.offset);
    if (contiguous[k]) index += `  let j${k} = ${off} + i;\n`;
    else {
      index += `  var j${k} = ${off};\n`;
      stridedViews.push(k);
    }
    return `j${k}`;
  };
  const outName = nameOf(l.out, true);
  const outIdx = elem(l.out, 0);
  let vi = 1;
  const loads = d.ops.map((o, k) => {
    if (typeof o === 'number') return d.names[k] === 'c' ? p.u32(o) : p.scalar(o, d.T);
    const name = nameOf(o, false);
    const j = elem(o, vi++);
    return d.names[k] === 'c' ? `${name}[${j}]` : convertLoad(o.dtype, d.T, `${name}[${j}]`);
  });
  let body = d.body(p, loads);
  body += `  ${outName}[${outIdx}] = ${convertStore(l.out.dtype, d.value === 'bool' ? 'bool' : d.T, 'r')};`;
  if (stridedViews.length > 0) {
    // The dims go last, so the kernel text does not depend on the rank: shape, then each strided
    // view's strides, read with a loop over the (runtime) rank.
    const base = p.words.length;
    shape.forEach((s) => p.u32(s));
    stridedViews.forEach((k) => strides[k]!.forEach((s) => p.u32(s)));
    index +=
      `  var q = i;\n  for (var d = ${rank}; d > 0u; d = d - 1u) {\n` +
      `    let c = q % pr(${base}u + d - 1u);\n    q = q / pr(${base}u + d - 1u);\n` +
      stridedViews.map((k, m) => `    j${k} = j${k} + c * pr(${base}u + ${rank} * ${m + 1}u + d - 1u);\n`).join('') +
      '  }\n';
  }
  const code = fill(template, { T: d.T, NPARAMS: p.vec4s, BINDINGS: decls.join('\n'), WG, INDEX: index, BODY: body });
  const label = l.kind === 'unary' || l.kind === 'binary' ? `${l.kind}:${l.op}` : l.kind;
  ctx.dispatch(ctx.pipeline(code, label, { random: d.random }), p, bufs, Math.ceil(n / WG));
  temps.forEach((t) => ctx.freeTemp(t));
}
