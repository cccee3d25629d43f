/**
 * The WGSL renderer of a fused elementwise kernel (src/kernel.ts): one invocation per element of
 * the kernel's shape, every node a `let` in its storage type, the op table's WGSL expression for
 * each op (in a block of its own, so `x`, `a`, `b` name that op's operands), several stores at the
 * end. Views are read and written in place through their strides (shaders/elementwise.wgsl).
 */
import type { View } from '../../backend.js';
import type { Epilogue, FusedKernel, KNode } from '../../kernel.js';
import type { MatmulEpilogue } from './matmul.js';
import { binaryOps, unaryOps } from '../../ops/elementwise.js';
import template from '../../../shaders/elementwise.wgsl?raw';
import { bindingDecl, coalesce, computeType, convertLoad, convertStore, fill, Params, rowMajor, storageType, type Ctx } from './codegen.js';
import { encodeElementwise, forType } from './elementwise.js';
import { contiguousStrides } from '../../shape.js';
import type { GpuBuf } from './pool.js';

const WG = 256;
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The op table's WGSL with its `T` (the compute type) spelled out. */
const withT = (expr: string, T: string) => expr.replace(/\bT\(/g, `${T}(`);

/** Structure of a node for the pipeline key (values live in the parameters, not the text). */
function nodeKey(n: KNode): string {
  switch (n.op) {
    case 'load': return `l${n.input}${n.dtype}`;
    case 'const': return `c${n.dtype}`;
    case 'unary': return `u${n.f},${n.x},${n.compute},${n.dtype}`;
    case 'binary': return `b${n.f},${n.a},${n.b},${n.compute},${n.dtype}`;
    case 'where': return `w${n.c},${n.a},${n.b},${n.dtype}`;
    case 'copy': return `y${n.x},${n.dtype}`;
  }
}

/**
 * WGSL statements computing every node of k as `v<j>` (in its storage type), with `load(input)`
 * as the expression of an input's element. Node values (constants, unary parameters) go into `p`.
 */
function statements(k: FusedKernel, p: Params, load: (input: number) => string): string[] {
  const dt = (j: number) => k.nodes[j]!.dtype;
  const stmts: string[] = [];
  k.nodes.forEach((node, j) => {
    const S = storageType(node.dtype);
    const v = `v${j}`;
    switch (node.op) {
      case 'load':
        stmts.push(`  let ${v} = ${load(node.input)};`);
        return;
      case 'const':
        stmts.push(`  let ${v} = ${p.scalar(node.value, S)};`);
        return;
      case 'unary': {
        const T = computeType(node.compute);
        const p0 = p.scalar(node.params[0] ?? 0, 'f32'), p1 = p.scalar(node.params[1] ?? 0, 'f32');
        const e = forType(withT(unaryOps[node.f].wgsl, T), T);
        stmts.push(`  var ${v}: ${S};\n  {\n    let x: ${T} = ${convertLoad(dt(node.x), T, `v${node.x}`)};\n    let p0 = ${p0};\n    let p1 = ${p1};\n    let r = ${e};\n    ${v} = ${convertStore(node.dtype, T, 'r')};\n  }`);
        return;
      }
      case 'binary': {
        const T = computeType(node.compute);
        const def = binaryOps[node.f];
        const e = forType(withT(def.wgsl, T), T);
        stmts.push(
          `  var ${v}: ${S};\n  {\n    let a: ${T} = ${convertLoad(dt(node.a), T, `v${node.a}`)};\n    let b: ${T} = ${convertLoad(dt(node.b), T, `v${node.b}`)};\n` +
            `    let r = ${e};\n    ${v} = ${convertStore(node.dtype, def.result === 'bool' ? 'bool' : T, 'r')};\n  }`,
        );
        return;
      }
      case 'where': {
        const T = computeType(node.dtype);
        const c = storageType(dt(node.c)) === 'f32' ? `v${node.c} != 0.0` : `v${node.c} != ${storageType(dt(node.c))}(0)`;
        stmts.push(`  let ${v} = ${convertStore(node.dtype, T, `select(${convertLoad(dt(node.b), T, `v${node.b}`)}, ${convertLoad(dt(node.a), T, `v${node.a}`)}, ${c})`)};`);
        return;
      }
      case 'copy': {
        const T = computeType(dt(node.x));
        stmts.push(`  let ${v} = ${convertStore(node.dtype, T, convertLoad(dt(node.x), T, `v${node.x}`))};`);
        return;
      }
    }
  });
  return stmts;
}

/** A fused kernel's WGSL pieces, with its parameters appended to `p`. */
interface Rendered {
  /** Buffers to bind, in order from the first binding. */
  bufs: GpuBuf[];
  decls: string;
  /** Statements computing and storing every output for the element index `i`. */
  body: string;
  key: string;
  /** Scratch copies to free after the dispatch. */
  temps: GpuBuf[];
}

/**
 * Renders k for element index `i`: binding names `b<first + slot>`, input `acc` (if >= 0) taken
 * from the WGSL value `accVar` instead of memory (a matmul's epilogue).
 */
function render(ctx: Ctx, k: FusedKernel, p: Params, first: number, acc = -1, accVar = ''): Rendered {
  const n = numel(k.shape);
  const outs = k.outputs.map((o) => o.view);
  // An input that an output overwrites in another layout (t.copy_(t.t())) is read from a copy, so
  // no invocation reads an element another one already wrote.
  const temps: GpuBuf[] = [];
  const inputs = k.inputs.map((v, i) => {
    if (i === acc || !outs.some((o) => o.buf === v.buf && !(o.offset === v.offset && o.strides.every((s, d) => s === v.strides[d])))) return v;
    const t = ctx.temp(n * 4);
    temps.push(t);
    const copy: View = { buf: t, dtype: v.dtype, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 };
    encodeElementwise(ctx, { kind: 'copy', x: v, out: copy });
    return copy;
  });
  // Views that are indexed: the outputs, then the inputs (the accumulator is not read from memory).
  const views: View[] = [...outs, ...inputs.filter((_, i) => i !== acc)];
  const viewOfInput = (i: number) => outs.length + i - (acc >= 0 && i > acc ? 1 : 0);
  const { shape, strides } = coalesce(k.shape, views.map((v) => v.strides));
  const contiguous = strides.map((st) => rowMajor(shape, st));

  // Parameters: rank, offsets, node values; the dims last (text independent of the rank).
  const rank = p.u32(shape.length);
  const offs = views.map((v) => p.u32(v.offset));
  const stmts = statements(k, p, (input) => (input === acc ? accVar : `{{LOAD${input}}}`));
  const stridedViews = views.map((_, i) => i).filter((i) => !contiguous[i]);
  const base = p.words.length;
  if (stridedViews.length > 0) {
    shape.forEach((s) => p.u32(s));
    stridedViews.forEach((i) => strides[i]!.forEach((s) => p.u32(s)));
  }
  // One binding per distinct buffer, read_write when some output is in it.
  const bufs: GpuBuf[] = [];
  const slot = views.map((v) => {
    const i = bufs.indexOf(v.buf as GpuBuf);
    return i >= 0 ? i : bufs.push(v.buf as GpuBuf) - 1;
  });
  const written = bufs.map((_, b) => outs.some((_, o) => slot[o] === b));
  const name = (v: number) => `b${slot[v]! + first}`;
  const decls = bufs.map((_, b) => bindingDecl(b + first, `b${b + first}`, storageType(views[slot.indexOf(b)]!.dtype), written[b]!)).join('\n');
  let index = views.map((_, i) => (contiguous[i] ? `  let j${i} = ${offs[i]} + i;\n` : `  var j${i} = ${offs[i]};\n`)).join('');
  if (stridedViews.length > 0) {
    index +=
      `  var q = i;\n  for (var d = ${rank}; d > 0u; d = d - 1u) {\n` +
      `    let c = q % pr(${base}u + d - 1u);\n    q = q / pr(${base}u + d - 1u);\n` +
      stridedViews.map((i, m) => `    j${i} = j${i} + c * pr(${base}u + ${rank} * ${m + 1}u + d - 1u);\n`).join('') +
      '  }\n';
  }
  const loads = stmts.map((st) => st.replace(/\{\{LOAD(\d+)\}\}/g, (_, d: string) => {
    const vi = viewOfInput(Number(d));
    return `${name(vi)}[j${vi}]`;
  }));
  const stores = k.outputs.map((o, i) => `  ${name(i)}[j${i}] = v${o.node};`);
  const key = [
    'fz', k.nodes.map(nodeKey).join(';'), k.outputs.map((o) => o.node).join(','), acc,
    views.map((v, i) => `${slot[i]}${v.dtype[0]}`).join(','), written.join(','), contiguous.join(','), base, p.vec4s,
  ].join('|');
  return { bufs, decls, body: `${index}${loads.join('\n')}\n${stores.join('\n')}`, key, temps };
}

/** Encodes one fused kernel as one dispatch (the backend replays it from a plan's slot later). */
export function encodeFused(ctx: Ctx, k: FusedKernel, label: string): void {
  const n = numel(k.shape);
  if (n === 0) return;
  const p = new Params();
  const count = p.u32(n);
  const r = render(ctx, k, p, 1);
  const code = () => fill(template, { T: 'f32', PARAMS: p.decl(), COUNT: count, BINDINGS: r.decls, WG, INDEX: '', BODY: r.body });
  const pipeline = ctx.pipeline(r.key, code, label);
  ctx.dispatch(pipeline, p, r.bufs, Math.ceil(n / WG));
  r.temps.forEach((t) => ctx.freeTemp(t));
}

/**
 * A matmul's epilogue as WGSL: `fn epi(i: u32, acc: T)` computes and stores the fused kernel at
 * output element i (row-major over [B, M, N]) from the accumulator. Its parameters follow the
 * matmul's in `p`; its buffers bind from `first`.
 */
export function matmulEpilogue(ctx: Ctx, e: Epilogue, p: Params, first: number): MatmulEpilogue {
  const r = render(ctx, e.k, p, first, e.acc, 'acc');
  return {
    bufs: r.bufs,
    key: r.key,
    code: `${r.decls}\n\nfn epi(i: u32, acc: T) {\n${r.body}\n}\n`,
    done: () => r.temps.forEach((t) => ctx.freeTemp(t)),
  };
}

/**
 * A reduction's prologue as WGSL: `fn pro(j: u32) -> S` computes the value the reduction reads at
 * memory index j of its x (every input shares x's strides and offset, so j indexes them all).
 */
export function reducePrologue(k: FusedKernel, p: Params, first: number): { bufs: GpuBuf[]; key: string; code: string } {
  const bufs: GpuBuf[] = [];
  const slot = k.inputs.map((v) => {
    const i = bufs.indexOf(v.buf as GpuBuf);
    return i >= 0 ? i : bufs.push(v.buf as GpuBuf) - 1;
  });
  const stmts = statements(k, p, (input) => `b${slot[input]! + first}[j]`);
  const decls = bufs.map((_, b) => bindingDecl(b + first, `b${b + first}`, storageType(k.inputs[slot.indexOf(b)]!.dtype), false)).join('\n');
  const out = k.outputs[0]!;
  const S = storageType(out.view.dtype);
  const key = ['pro', k.nodes.map(nodeKey).join(';'), out.node, slot.join(','), k.inputs.map((v) => v.dtype[0]).join('')].join('|');
  return { bufs, key, code: `${decls}\n\nfn pro(j: u32) -> ${S} {\n${stmts.join('\n')}\n  return v${out.node};\n}\n` };
}
