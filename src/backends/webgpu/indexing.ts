/**
 * The indexing launches (gather, scatter, sort, scan) on WebGPU: shaders/indexing.wgsl's walk over
 * a grid shape with one kernel body each (shaders/gather.wgsl, scatter.wgsl, sort.wgsl, scan.wgsl).
 * Every view is read in place through its strides; the kernel text depends only on the dtypes.
 * Indices out of range cannot raise here: gather reads 0 for them and scatter skips them.
 */
import type { Launch, View } from '../../backend.js';
import template from '../../../shaders/indexing.wgsl?raw';
import gatherBody from '../../../shaders/gather.wgsl?raw';
import scatterBody from '../../../shaders/scatter.wgsl?raw';
import scanBody from '../../../shaders/scan.wgsl?raw';
import sortBody from '../../../shaders/sort.wgsl?raw';
import { bindingDecl, fill, Params, storageType, type Ctx } from './codegen.js';
import type { GpuBuf } from './pool.js';

export type IndexingLaunch = Extract<Launch, { kind: 'gather' | 'scatter' | 'sort' | 'scan' }>;

const WG = 256;
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
/** Strides with the one of `dim` zeroed: a view read at its row start. */
const rowOf = (v: View, dim: number): View => ({ ...v, strides: v.strides.map((s, d) => (d === dim ? 0 : s)) });

interface Plan {
  grid: readonly number[];
  /** Views whose offsets and strides the kernel walks (view 0, 1, ...). */
  views: View[];
  /** Bound buffers in binding order (b1 is written; sort also writes b2). */
  bound: View[];
  writes: number;
  size: number;
  dimStrides: number[];
  flags: number;
  /** Words after the strides (scatter: the index's shape). */
  extra: readonly number[];
  body: string;
  store: string;
}

function plan(l: IndexingLaunch): Plan {
  switch (l.kind) {
    case 'gather':
      return {
        grid: l.out.shape, views: [l.out, l.index, rowOf(l.x, l.dim)], bound: [l.out, l.index, l.x], writes: 1,
        size: l.x.shape[l.dim]!, dimStrides: [l.x.strides[l.dim]!], flags: 0, extra: [], body: gatherBody, store: '',
      };
    case 'scatter':
      return {
        grid: l.out.shape, views: [l.out, l.self, l.index, l.src], bound: [l.out, l.self, l.index, l.src], writes: 1,
        size: l.index.shape[l.dim]!, dimStrides: [l.index.strides[l.dim]!, l.src.strides[l.dim]!], flags: l.mode === 'add' ? 1 : 0,
        extra: l.index.shape, body: scatterBody, store: l.out.dtype === 'bool' ? 'min(acc, 1u)' : 'acc',
      };
    case 'sort':
      return {
        grid: l.x.shape, views: [l.out, l.indices, l.x], bound: [l.out, l.indices, l.x], writes: 2,
        size: l.x.shape[l.dim]!, dimStrides: [l.out.strides[l.dim]!, l.indices.strides[l.dim]!, l.x.strides[l.dim]!],
        flags: l.descending ? 1 : 0, extra: [], body: sortBody, store: '',
      };
    case 'scan':
      return {
        grid: l.x.shape, views: [l.out, l.x], bound: [l.out, l.x], writes: 1,
        size: l.x.shape[l.dim]!, dimStrides: [l.x.strides[l.dim]!],
        flags: (l.exclusive ? 1 : 0) | (l.reverse ? 2 : 0) | (l.op === 'prod' ? 4 : 0), extra: [], body: scanBody, store: '',
      };
  }
}

export function encodeIndexing(ctx: Ctx, l: IndexingLaunch): void {
  const d = plan(l);
  const n = numel(d.grid);
  if (n === 0) return;
  // A 0-dim grid walks as one element of a 1-dim one.
  const grid = d.grid.length ? d.grid : [1];
  const strides = (v: View) => (v.strides.length ? v.strides : [0]);
  const p = new Params();
  p.u32(n);
  p.u32(grid.length);
  p.u32(d.grid.length ? l.dim : 0);
  p.u32(d.size);
  for (let k = 0; k < 3; k++) p.u32(d.dimStrides[k] ?? 0);
  p.u32(d.flags);
  for (let k = 0; k < 4; k++) p.u32(d.views[k]?.offset ?? 0);
  grid.forEach((s) => p.u32(s));
  d.views.forEach((v) => strides(v).forEach((s) => p.u32(s)));
  if (l.kind === 'scatter') (d.extra.length ? d.extra : [1]).forEach((s) => p.u32(s));
  // The value type: x's (gather, sort, scan) or out's (scatter); every value view shares it.
  const X = storageType(l.kind === 'scatter' || l.kind === 'gather' ? l.out.dtype : l.x.dtype);
  const types = d.bound.map((v) => storageType(v.dtype));
  const key = ['ix', l.kind, types.join(','), p.vec4s].join('|');
  const code = () =>
    fill(template, {
      X,
      PARAMS: p.decl(),
      BINDINGS: d.bound.map((_, k) => bindingDecl(k + 1, `b${k + 1}`, types[k]!, k < d.writes)).join('\n'),
      NANBODY: X === 'f32' ? 'return wg_isnan(a);' : 'return false;',
      BODY: fill(d.body, { STORE: d.store || 'acc' }),
    });
  ctx.dispatch(ctx.pipeline(key, code, l.kind), p, d.bound.map((v) => v.buf as GpuBuf), Math.ceil(n / WG));
}
