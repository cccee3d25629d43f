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
export function nanSafe(expr: string, T: 'f32' | 'i32'): string {
  if (T !== 'f32') return expr;
  return expr.replace(NE, (_, a: string, b: string) => (a === b ? `wg_isnan(${a})` : `!(${a} == ${b})`));
}

/**
 * An op table's WGSL expression for compute type T: `f32_to_T(e)` converts an f32 value as storing
 * it would (i32: wg_f2i — truncated, wrapped, NaN and infinities 0 — where WGSL's i32() saturates),
 * and `!=` is NaN-proof (nanSafe).
 */
export function forType(expr: string, T: 'f32' | 'i32'): string {
  return nanSafe(expr.replace(/\bf32_to_T\(/g, T === 'i32' ? 'wg_f2i(' : 'f32('), T);
}

interface Plan {
  T: 'f32' | 'i32';
  ops: Operand[];
  names: string[];
  value: 'T' | 'bool';
  random?: boolean;
  /** Allocates the launch's own parameters (scalars of the op) and returns their references. */
  params: (p: Params) => string[];
  /** WGSL computing `r` from the parameter references and the loaded operands. */
  body: (refs: string[], loads: string[]) => string;
}

/** The operands of a launch in order, and how its result is computed from their loaded values. */
function describe(l: ElementwiseLaunch): Plan {
  switch (l.kind) {
    case 'unary': {
      const T = computeType(l.compute);
      return {
        T, ops: [l.x], names: ['x'], value: 'T',
        params: (p) => [p.scalar(l.params[0] ?? 0, 'f32'), p.scalar(l.params[1] ?? 0, 'f32')],
        body: ([p0, p1], [x]) => `  let x: T = ${x};\n  let p0 = ${p0};\n  let p1 = ${p1};\n  let r = ${forType(unaryOps[l.op].wgsl, T)};\n`,
      };
    }
    case 'binary': {
      const T = computeType(l.compute);
      const def = binaryOps[l.op];
      return {
        T, ops: [l.a, l.b], names: ['a', 'b'], value: def.result === 'bool' ? 'bool' : 'T',
        params: () => [],
        body: (_, [a, b]) => `  let a: T = ${a};\n  let b: T = ${b};\n  let r = ${forType(def.wgsl, T)};\n`,
      };
    }
    case 'where':
      return {
        T: computeType(l.out.dtype), ops: [l.cond, l.a, l.b], names: ['c', 'a', 'b'], value: 'T',
        params: () => [],
        body: (_, [c, a, b]) => `  let c = ${c};\n  let a: T = ${a};\n  let b: T = ${b};\n  let r = select(b, a, c != 0);\n`,
      };
    case 'copy':
      return { T: computeType(l.x.dtype), ops: [l.x], names: ['x'], value: 'T', params: () => [], body: (_, [x]) => `  let r: T = ${x};\n` };
    case 'fill': {
      const T = computeType(l.out.dtype);
      return { T, ops: [], names: [], value: 'T', params: (p) => [p.scalar(l.value, T)], body: ([v]) => `  let r: T = ${v};\n` };
    }
    case 'random': {
      const fn = l.dist === 'uniform' ? 'wg_uniform' : 'wg_normal';
      return {
        T: 'f32', ops: [], names: [], value: 'T', random: true,
        params: (p) => [p.u32(l.seed), p.u32(l.counter)],
        body: ([seed, counter]) => `  let r = ${fn}(${seed}, ${counter} + i);\n`,
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
  const contiguous = strides.map((st) => rowMajor(shape, st));

  // Parameters: count, rank, each view's offset, scalar operands, the op's own; then the dims, last,
  // so that the kernel text does not depend on the rank.
  const p = new Params();
  const nRef = p.u32(n);
  const rank = p.u32(shape.length);
  const offs = views.map((v) => p.u32(v.offset));
  const scalars = d.ops.map((o, k) => (typeof o !== 'number' ? '' : d.names[k] === 'c' ? p.u32(o) : p.scalar(o, d.T)));
  const own = d.params(p);
  const stridedViews = views.map((_, k) => k).filter((k) => !contiguous[k]);
  const base = p.words.length;
  if (stridedViews.length > 0) {
    shape.forEach((s) => p.u32(s));
    stridedViews.forEach((k) => strides[k]!.forEach((s) => p.u32(s)));
  }
  // One binding per distinct buffer; an input that shares the output's buffer reads it there.
  const bufs: GpuBuf[] = [];
  const slot = views.map((v) => {
    const k = bufs.indexOf(v.buf as GpuBuf);
    return k >= 0 ? k : bufs.push(v.buf as GpuBuf) - 1;
  });
  const opsKey = d.ops.map((o, k) => (typeof o === 'number' ? 's' : `${slot[views.indexOf(o)]}${o.dtype[0]}`)).join(',');
  const key = ['ew', l.kind, 'op' in l ? l.op : '', l.kind === 'random' ? l.dist : '', d.T, d.value, l.out.dtype, opsKey, contiguous.join(','), base, p.vec4s].join('|');

  const code = (): string => {
    const decls = bufs.map((b, k) => bindingDecl(k + 1, `b${k + 1}`, storageType(views[slot.indexOf(k)]!.dtype), k === 0));
    // Element index of each view: `offset + i` when contiguous, else accumulated over the dims.
    let index = views.map((_, k) => (contiguous[k] ? `  let j${k} = ${offs[k]} + i;\n` : `  var j${k} = ${offs[k]};\n`)).join('');
    if (stridedViews.length > 0) {
      index +=
        `  var q = i;\n  for (var d = ${rank}; d > 0u; d = d - 1u) {\n` +
        `    let c = q % pr(${base}u + d - 1u);\n    q = q / pr(${base}u + d - 1u);\n` +
        stridedViews.map((k, m) => `    j${k} = j${k} + c * pr(${base}u + ${rank} * ${m + 1}u + d - 1u);\n`).join('') +
        '  }\n';
    }
    let vi = 0;
    const loads = d.ops.map((o, k) => {
      if (typeof o === 'number') return scalars[k]!;
      const v = ++vi;
      const at = `b${slot[v]! + 1}[j${v}]`;
      return d.names[k] === 'c' ? at : convertLoad(o.dtype, d.T, at);
    });
    const body = d.body(own, loads) + `  b${slot[0]! + 1}[j0] = ${convertStore(l.out.dtype, d.value === 'bool' ? 'bool' : d.T, 'r')};`;
    return fill(template, { T: d.T, PARAMS: p.decl(), COUNT: nRef, BINDINGS: decls.join('\n'), WG, INDEX: index, BODY: body });
  };
  const label = l.kind === 'unary' || l.kind === 'binary' ? `${l.kind}:${l.op}` : l.kind;
  ctx.dispatch(ctx.pipeline(key, code, label, { random: d.random }), p, bufs, Math.ceil(n / WG));
  temps.forEach((t) => ctx.freeTemp(t));
}
