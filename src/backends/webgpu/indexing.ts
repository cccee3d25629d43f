/**
 * The indexing launches (gather, scatter, sort, scan) on WebGPU: shaders/indexing.wgsl's walk over
 * a grid shape with one kernel body each (shaders/gather.wgsl, scatter.wgsl, sort.wgsl, scan.wgsl).
 * Every view is read in place through its strides; the kernel text depends only on the dtypes.
 * Indices out of range cannot raise here: gather reads 0 for them and scatter skips them. A scan
 * along more than SCAN_DIRECT_MAX elements runs as Hillis-Steele passes (shaders/scan-pass.wgsl),
 * a sort along more than SORT_RANK_MAX as bitonic passes (shaders/sort-bitonic.wgsl).
 */
import type { Launch, View } from '../../backend.js';
import template from '../../../shaders/indexing.wgsl?raw';
import gatherBody from '../../../shaders/gather.wgsl?raw';
import scatterBody from '../../../shaders/scatter.wgsl?raw';
import scanBody from '../../../shaders/scan.wgsl?raw';
import scanPassBody from '../../../shaders/scan-pass.wgsl?raw';
import bitonicBody from '../../../shaders/sort-bitonic.wgsl?raw';
import sortBody from '../../../shaders/sort.wgsl?raw';
import { bindingDecl, fill, Params, storageType, type Ctx } from './codegen.js';
import { contiguousStrides } from '../../shape.js';
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

/** Rows longer than this scan in log2(n) passes instead of one O(n)-per-element dispatch. */
const SCAN_DIRECT_MAX = 32;

/** Header, shape and the views' offsets and strides (shaders/indexing.wgsl's parameter layout). */
function params(grid: readonly number[], dim: number, size: number, dimStrides: readonly number[], flags: number, views: readonly View[], extra: readonly number[]): Params {
  const p = new Params();
  const g = grid.length ? grid : [1];
  p.u32(numel(grid));
  p.u32(g.length);
  p.u32(grid.length ? dim : 0);
  p.u32(size);
  for (let k = 0; k < 3; k++) p.u32(dimStrides[k] ?? 0);
  p.u32(flags);
  for (let k = 0; k < 4; k++) p.u32(views[k]?.offset ?? 0);
  g.forEach((s) => p.u32(s));
  views.forEach((v) => (v.strides.length ? v.strides : [0]).forEach((s) => p.u32(s)));
  extra.forEach((s) => p.u32(s));
  return p;
}

function kernel(ctx: Ctx, kind: string, body: string, store: string, bound: readonly View[], writes: number, X: string, p: Params): GPUComputePipeline {
  const types = bound.map((v) => storageType(v.dtype));
  const key = ['ix', kind, types.join(','), p.vec4s].join('|');
  const code = () =>
    fill(template, {
      X,
      PARAMS: p.decl(),
      BINDINGS: bound.map((_, k) => bindingDecl(k + 1, `b${k + 1}`, types[k]!, k < writes)).join('\n'),
      NANBODY: X === 'f32' ? 'return wg_isnan(a);' : 'return false;',
      BODY: fill(body, { STORE: store || 'acc' }),
    });
  return ctx.pipeline(key, code, kind);
}

/** A scan along a long dim: load (reverse / shift), ceil(log2 n) doubling steps, store. */
function encodeScanPasses(ctx: Ctx, l: Extract<IndexingLaunch, { kind: 'scan' }>): void {
  const grid = l.x.shape, n = numel(grid), size = grid[l.dim]!;
  const contig = contiguousStrides(grid);
  const temp = (buf: GpuBuf): View => ({ buf, dtype: l.out.dtype, shape: grid, strides: contig, offset: 0 });
  let a = ctx.temp(n * 4), b = ctx.temp(n * 4);
  const base = (l.exclusive ? 1 : 0) | (l.reverse ? 2 : 0) | (l.op === 'prod' ? 4 : 0);
  const X = storageType(l.out.dtype);
  const pass = (w: View, r: View, flags: number, k: number) => {
    const p = params(grid, l.dim, size, [r.strides[l.dim]!, k, w.strides[l.dim]!], flags, [w, r], []);
    ctx.dispatch(kernel(ctx, 'scan-pass', scanPassBody, '', [w, r], 1, X, p), p, [w.buf as GpuBuf, r.buf as GpuBuf], Math.ceil(n / WG));
  };
  pass(temp(a), l.x, base | 8, 0);
  for (let k = 1; k < size; k *= 2) {
    pass(temp(b), temp(a), base, k);
    [a, b] = [b, a];
  }
  pass(l.out, temp(a), base | 16, 0);
  ctx.freeTemp(a);
  ctx.freeTemp(b);
}

/** Rows longer than this sort by bitonic passes (O(n log² n)) instead of ranking (O(n²)). */
const SORT_RANK_MAX = 256;

/** A sort along a long dim: load into padded scratch, bitonic compare-exchange passes, store. */
function encodeBitonicSort(ctx: Ctx, l: Extract<IndexingLaunch, { kind: 'sort' }>): void {
  const n = l.x.shape[l.dim]!;
  const P = 2 ** Math.ceil(Math.log2(n));
  const grid = l.x.shape.map((s, d) => (d === l.dim ? P : s));
  const total = numel(grid);
  const contig = contiguousStrides(grid);
  const vals: View = { buf: ctx.temp(total * 4), dtype: l.x.dtype, shape: grid, strides: contig, offset: 0 };
  const pos: View = { buf: ctx.temp(total * 4), dtype: 'int32', shape: grid, strides: contig, offset: 0 };
  const bound = [l.out, l.indices, vals, pos, l.x];
  const X = storageType(l.x.dtype);
  const pass = (flags: number, j: number, k: number) => {
    const p = params(grid, l.dim, n, [j, k, contig[l.dim]!], flags | (l.descending ? 1 : 0), [l.out, l.indices, vals, l.x], []);
    ctx.dispatch(kernel(ctx, 'sort-bitonic', bitonicBody, '', bound, 4, X, p), p, bound.map((v) => v.buf as GpuBuf), Math.ceil(total / WG));
  };
  pass(8, 0, 0);
  for (let k = 2; k <= P; k *= 2) for (let j = k / 2; j >= 1; j /= 2) pass(0, j, k);
  pass(16, 0, 0);
  ctx.freeTemp(vals.buf as GpuBuf);
  ctx.freeTemp(pos.buf as GpuBuf);
}

export function encodeIndexing(ctx: Ctx, l: IndexingLaunch): void {
  if (numel(l.kind === 'scan' || l.kind === 'sort' ? l.x.shape : l.out.shape) === 0) return;
  if (l.kind === 'scan' && l.x.shape.length > 0 && l.x.shape[l.dim]! > SCAN_DIRECT_MAX) return encodeScanPasses(ctx, l);
  if (l.kind === 'sort' && l.x.shape.length > 0 && l.x.shape[l.dim]! > SORT_RANK_MAX) return encodeBitonicSort(ctx, l);
  const d = plan(l);
  const extra = l.kind === 'scatter' ? (d.extra.length ? d.extra : [1]) : [];
  const p = params(d.grid, l.dim, d.size, d.dimStrides, d.flags, d.views, extra);
  // The value type: x's (gather, sort, scan) or out's (scatter); every value view shares it.
  const X = storageType(l.kind === 'scatter' || l.kind === 'gather' ? l.out.dtype : l.x.dtype);
  const pipeline = kernel(ctx, l.kind, d.body, d.store, d.bound, d.writes, X, p);
  ctx.dispatch(pipeline, p, d.bound.map((v) => v.buf as GpuBuf), Math.ceil(numel(d.grid) / WG));
}
