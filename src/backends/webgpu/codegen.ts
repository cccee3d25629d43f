/**
 * What every kernel generator shares: the launch context the backend gives them, the uniform
 * parameter block, WGSL types of our dtypes, and dim coalescing for strided views.
 */
import type { DType } from '../../dtype.js';
import { RuntimeError } from '../../errors.js';
import paramsTemplate from '../../../shaders/params.wgsl?raw';
import type { GpuBuf } from './pool.js';

/** The backend's services to a kernel generator while it encodes one launch. */
export interface Ctx {
  /**
   * The pipeline of a kernel: cached by `key` (everything the text depends on), so `code` runs
   * only on a miss; pipelines are also shared by identical text. `wants` adds helper sources.
   */
  pipeline(key: string, code: () => string, label: string, wants?: { random?: boolean; subgroups?: boolean }): GPUComputePipeline;
  /**
   * One dispatch. `buffers` bind at 1..n in order (params at 0). `workgroups` is a count, split
   * into a 2-D grid when it passes the per-dimension limit, or an explicit [x, y, z].
   */
  dispatch(pipeline: GPUComputePipeline, params: Params, buffers: readonly GpuBuf[], workgroups: number | readonly [number, number, number]): void;
  /** A scratch buffer for this launch; it returns to the pool once the batch is submitted. */
  temp(bytes: number): GpuBuf;
  /** Gives a scratch buffer back (safe: it is reused only after the submit). */
  freeTemp(b: GpuBuf): void;
  readonly maxWorkgroupsPerDim: number;
  /** Subgroup ops are available (see device.ts), with at least this many lanes per subgroup. */
  readonly subgroups: boolean;
  readonly subgroupMinSize: number;
  /** The adapter runs on the CPU (a fallback adapter such as lavapipe or SwiftShader). */
  readonly cpuAdapter: boolean;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * A dispatch's parameters: u32 words read in WGSL as `P.v[i / 4][i % 4]` through the references
 * returned here, so generated code and written values cannot drift apart.
 */
export class Params {
  readonly words: number[] = [];
  /** Appends a word and returns its WGSL expression (type u32). */
  u32(v: number): string {
    const i = this.words.length;
    this.words.push(v >>> 0);
    return `P.v[${i >> 2}].${'xyzw'[i & 3]}`;
  }
  /** A value in the bits of WGSL type `t` (f32 values rounded to float32). */
  scalar(v: number, t: WgslScalar): string {
    if (t === 'f32') {
      f32[0] = v;
      return `bitcast<f32>(${this.u32(u32[0]!)})`;
    }
    if (t === 'i32') return `bitcast<i32>(${this.u32(v | 0)})`;
    return this.u32(v);
  }
  /**
   * Number of vec4 slots the WGSL struct declares: at least 16 (256 bytes, the usual uniform offset
   * alignment, so it costs nothing) and a power of two, so that kernels whose parameter count
   * varies with the rank share one text.
   */
  get vec4s(): number {
    return Math.max(16, 2 ** Math.ceil(Math.log2(Math.ceil(this.words.length / 4))));
  }
  /** The WGSL declaration of the block (shaders/params.wgsl), for a template's {{PARAMS}} slot. */
  decl(): string {
    return fill(paramsTemplate, { NPARAMS: this.vec4s });
  }
}

export type WgslScalar = 'f32' | 'i32' | 'u32';

/** Element type of a dtype's buffer: bool is stored as u32 0/1. */
export function storageType(d: DType): WgslScalar {
  switch (d) {
    case 'float32': return 'f32';
    case 'int32': return 'i32';
    case 'bool': return 'u32';
    case 'float64': throw new RuntimeError('float64 is not supported on WebGPU');
  }
}

/** Type the values of a dtype are computed in (bool computes as i32). */
export function computeType(d: DType): 'f32' | 'i32' {
  return d === 'float32' || d === 'float64' ? 'f32' : 'i32';
}

/** Converts a loaded element of dtype `from` into compute type `to`. */
export function convertLoad(from: DType, to: 'f32' | 'i32', e: string): string {
  const s = storageType(from);
  if (s === to) return e;
  if (to === 'i32') return s === 'f32' ? `wg_f2i(${e})` : `i32(${e})`;
  return `f32(${e})`;
}

/** Converts a computed value `r` (of type `t`, or WGSL bool) into what a buffer of dtype `out` stores. */
export function convertStore(out: DType, t: 'f32' | 'i32' | 'bool', r: string): string {
  const s = storageType(out);
  if (t === 'bool') return s === 'u32' ? `select(0u, 1u, ${r})` : `select(${s}(0), ${s}(1), ${r})`;
  if (s === 'u32') return t === 'f32' ? `select(0u, 1u, ${r} != 0.0 && !wg_isnan(${r}))` : `select(0u, 1u, ${r} != 0)`;
  if (s === t) return r;
  return s === 'i32' ? `wg_f2i(${r})` : `f32(${r})`;
}

/** A storage binding line. */
export function bindingDecl(binding: number, name: string, elem: string, write: boolean): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${elem}>;`;
}

/**
 * Merges dims that every view walks contiguously together and drops size-1 dims, so a broadcast or
 * sliced view costs as few index divisions as possible. Row-major order is preserved.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const rs: number[] = [];
  const rst: number[][] = strides.map(() => []);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    if (n === 1) continue;
    const k = rs.length - 1;
    if (k >= 0 && strides.every((st, v) => st[d] === rst[v]![k]! * rs[k]!)) {
      rs[k] = rs[k]! * n;
    } else {
      rs.push(n);
      strides.forEach((st, v) => rst[v]!.push(st[d]!));
    }
  }
  return { shape: rs.reverse(), strides: rst.map((s) => s.reverse()) };
}

/** True when `strides` are the row-major strides of `shape` (a coalesced, size-1-free shape). */
export function rowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let e = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (strides[d] !== e) return false;
    e *= shape[d]!;
  }
  return true;
}

/** Fills the `{{NAME}}` slots (upper-case names) of a template. */
export function fill(template: string, slots: Record<string, string | number>): string {
  return template.replace(/\{\{([A-Z][A-Z0-9_]*)\}\}/g, (_, k: string) => {
    const v = slots[k];
    if (v === undefined) throw new Error(`shader template slot {{${k}}} has no value`);
    return String(v);
  });
}
