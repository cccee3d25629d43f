/**
 * CPU kernels of the indexing launches: gather, scatter, sort and scan along one dim of any
 * strided layout. An index out of range is refused with PyTorch's text (the WebGPU kernels, which
 * cannot throw, leave such elements zero or untouched).
 */
import type { Launch, View } from '../../backend.js';
import type { HostArray } from '../../dtype.js';
import { RuntimeError } from '../../errors.js';
import { allOffsets } from './strided.js';

const arr = (v: View) => v.buf as HostArray;
/** Strides with the one of `dim` set to 0: offsets of an element's row start. */
const rowStrides = (st: readonly number[], dim: number) => st.map((s, d) => (d === dim ? 0 : s));
/** Shape with `dim` collapsed to 1: one entry per row along dim. */
const rowShape = (shape: readonly number[], dim: number) => shape.map((s, d) => (d === dim ? 1 : s));

function checkIndex(k: number, dim: number, size: number): void {
  if (k < 0 || k >= size) throw new RuntimeError(`index ${k} is out of bounds for dimension ${dim} with size ${size}`);
}

function gather(l: Extract<Launch, { kind: 'gather' }>): void {
  const { x, index, dim, out } = l;
  const o = allOffsets(out.shape, out.strides, out.offset);
  const ix = allOffsets(out.shape, index.strides, index.offset);
  const xb = allOffsets(out.shape, rowStrides(x.strides, dim), x.offset);
  const xa = arr(x), ia = arr(index), oa = arr(out);
  const size = x.shape[dim] ?? 1, sd = x.strides[dim] ?? 0;
  for (let i = 0; i < o.length; i++) {
    const k = ia[ix[i]!]!;
    checkIndex(k, dim, size);
    oa[o[i]!] = xa[xb[i]! + k * sd]!;
  }
}

function scatter(l: Extract<Launch, { kind: 'scatter' }>): void {
  const { self, index, src, dim, out } = l;
  const oa = arr(out), sa = arr(self), ia = arr(index), ra = arr(src);
  const o = allOffsets(out.shape, out.strides, out.offset);
  const s = allOffsets(self.shape, self.strides, self.offset);
  for (let i = 0; i < o.length; i++) oa[o[i]!] = sa[s[i]!]!;
  const ix = allOffsets(index.shape, index.strides, index.offset);
  const rx = allOffsets(index.shape, src.strides, src.offset);
  const ob = allOffsets(index.shape, rowStrides(out.strides, dim), out.offset);
  const size = out.shape[dim] ?? 1, sd = out.strides[dim] ?? 0;
  for (let j = 0; j < ix.length; j++) {
    const k = ia[ix[j]!]!;
    checkIndex(k, dim, size);
    const at = ob[j]! + k * sd;
    oa[at] = l.mode === 'add' ? oa[at]! + ra[rx[j]!]! : ra[rx[j]!]!;
  }
  if (out.dtype === 'bool') for (let i = 0; i < o.length; i++) oa[o[i]!] = oa[o[i]!] ? 1 : 0;
}

/** a sorts before b (positions ja < jb break ties): NaN is the largest value, as in PyTorch. */
function before(a: number, b: number, ja: number, jb: number, descending: boolean): boolean {
  const an = a !== a, bn = b !== b;
  if (an || bn) return an && bn ? ja < jb : descending ? an : bn;
  if (a === b) return ja < jb;
  return descending ? a > b : a < b;
}

function sort(l: Extract<Launch, { kind: 'sort' }>): void {
  const { x, dim, out, indices } = l;
  const n = x.shape[dim] ?? 1;
  const rs = rowShape(x.shape, dim);
  const xb = allOffsets(rs, x.strides, x.offset);
  const vb = allOffsets(rs, out.strides, out.offset);
  const ib = allOffsets(rs, indices.strides, indices.offset);
  const xa = arr(x), va = arr(out), ia = arr(indices);
  const xs = x.strides[dim] ?? 0, vs = out.strides[dim] ?? 0, is = indices.strides[dim] ?? 0;
  const vals = new Float64Array(n);
  const order = Array.from({ length: n }, (_, j) => j);
  for (let r = 0; r < xb.length; r++) {
    for (let j = 0; j < n; j++) vals[j] = xa[xb[r]! + j * xs]!;
    order.forEach((_, j) => (order[j] = j));
    order.sort((a, b) => (before(vals[a]!, vals[b]!, a, b, l.descending) ? -1 : 1));
    order.forEach((j, k) => {
      va[vb[r]! + k * vs] = vals[j]!;
      ia[ib[r]! + k * is] = j;
    });
  }
}

function scan(l: Extract<Launch, { kind: 'scan' }>): void {
  const { x, dim, out } = l;
  const n = x.shape[dim] ?? 1;
  const rs = rowShape(x.shape, dim);
  const xb = allOffsets(rs, x.strides, x.offset);
  const ob = allOffsets(rs, out.strides, out.offset);
  const xa = arr(x), oa = arr(out);
  const xs = x.strides[dim] ?? 0, os = out.strides[dim] ?? 0;
  const prod = l.op === 'prod';
  for (let r = 0; r < xb.length; r++) {
    let acc = prod ? 1 : 0;
    for (let t = 0; t < n; t++) {
      const j = l.reverse ? n - 1 - t : t;
      const v = xa[xb[r]! + j * xs]!;
      if (!l.exclusive) acc = prod ? acc * v : acc + v;
      oa[ob[r]! + j * os] = acc;
      if (l.exclusive) acc = prod ? acc * v : acc + v;
    }
  }
}

/** The launch kinds this file runs. */
export type IndexingLaunch = Extract<Launch, { kind: 'gather' | 'scatter' | 'sort' | 'scan' }>;

/** Runs an indexing launch. */
export function runIndexing(l: IndexingLaunch): void {
  switch (l.kind) {
    case 'gather': return gather(l);
    case 'scatter': return scatter(l);
    case 'sort': return sort(l);
    case 'scan': return scan(l);
    default: l satisfies never;
  }
}
