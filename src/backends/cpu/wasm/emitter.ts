/**
 * A small WebAssembly bytecode emitter: kernels are written as TypeScript calls that append
 * instructions, and a module is assembled in memory at run time (nothing is fetched or read from
 * disk, in Node or in a browser). Only what the CPU kernels use is here; the binary format is the
 * WebAssembly 2.0 core spec's (SIMD included). Type errors surface as `WebAssembly.CompileError`
 * when the module is compiled, so the kernels are compiled once in the tests.
 */

/** Value types, by their binary encoding. */
export const i32 = 0x7f, f32 = 0x7d, f64 = 0x7c, v128 = 0x7b;
/** A WebAssembly value type. */
export type ValType = typeof i32 | typeof f32 | typeof f64 | typeof v128;

/** Unsigned LEB128. */
function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

/** Signed LEB128 (i32 constants). */
function sleb(n: number, out: number[]): void {
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return void out.push(b);
    out.push(b | 0x80);
  }
}

/** SIMD opcodes used by the kernels (after the 0xfd prefix). */
const SIMD = {
  load: 0x00, load32_splat: 0x09, store: 0x0b,
  i32x4_splat: 0x11, f32x4_splat: 0x13, f32x4_extract_lane: 0x1f, f64x2_splat: 0x14, f64x2_extract_lane: 0x21,
  f32x4_eq: 0x41, f32x4_ne: 0x42, f32x4_lt: 0x43, f32x4_gt: 0x44, f32x4_le: 0x45, f32x4_ge: 0x46,
  v128_not: 0x4d, v128_and: 0x4e, v128_andnot: 0x4f, v128_or: 0x50, v128_xor: 0x51, v128_bitselect: 0x52,
  f32x4_abs: 0xe0, f32x4_neg: 0xe1, f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4, f32x4_sub: 0xe5, f32x4_mul: 0xe6, f32x4_div: 0xe7, f32x4_min: 0xe8, f32x4_max: 0xe9,
  f64x2_add: 0xf0, f64x2_sub: 0xf1, f64x2_mul: 0xf2, f64x2_div: 0xf3,
  f64x2_promote_low_f32x4: 0x5f, f32x4_demote_f64x2_zero: 0x5e, f32x4_trunc: 0x69, i32x4_ne: 0x38,
  f32x4_relaxed_madd: 0x105,
} as const;
/** The names `Func.simd()` accepts. */
export type SimdOp = keyof typeof SIMD;

/**
 * One function's body. Methods append instructions and return `this`, so a kernel reads as a
 * stack-machine listing: `f.get(x).get(y).f32x4('f32x4_add')`. Addresses are byte offsets into
 * the one imported memory; loads and stores take an optional constant offset.
 */
export class Func {
  readonly code: number[] = [];
  private readonly extra: ValType[] = [];

  constructor(readonly params: readonly number[], readonly results: readonly number[] = []) {}

  /** A new local of type t; returns its index. Parameters are locals 0..params.length-1. */
  local(t: ValType): number {
    this.extra.push(t);
    return this.params.length + this.extra.length - 1;
  }

  get(i: number): this { return this.op(0x20).u(i); }
  set(i: number): this { return this.op(0x21).u(i); }
  tee(i: number): this { return this.op(0x22).u(i); }
  i32(n: number): this { this.code.push(0x41); sleb(n, this.code); return this; }
  f32(x: number): this {
    const b = new Uint8Array(Float32Array.of(x).buffer);
    this.code.push(0x43, ...b);
    return this;
  }

  f64(x: number): this {
    const b = new Uint8Array(Float64Array.of(x).buffer);
    this.code.push(0x44, ...b);
    return this;
  }

  /** Raw opcodes (scalar ALU ops: see the named helpers below). */
  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  private u(n: number): this { uleb(n, this.code); return this; }
  /** An unsigned LEB128 immediate (a memory offset after raw opcodes). */
  u32(n: number): this { return this.u(n); }

  // i32 arithmetic and comparisons
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  shl(): this { return this.op(0x74); }
  ltS(): this { return this.op(0x48); }
  geS(): this { return this.op(0x4e); }
  eqz(): this { return this.op(0x45); }

  // memory (align hints are log2 bytes; they never affect results)
  f32Load(off = 0): this { return this.op(0x2a, 2).u(off); }
  f32Store(off = 0): this { return this.op(0x38, 2).u(off); }
  i32Load8U(off = 0): this { return this.op(0x2d, 0).u(off); }
  v128Load(off = 0): this { return this.op(0xfd).u(SIMD.load).u(4).u(off); }
  v128Store(off = 0): this { return this.op(0xfd).u(SIMD.store).u(4).u(off); }
  v128Splat32(off = 0): this { return this.op(0xfd).u(SIMD.load32_splat).u(2).u(off); }
  v128Zero(): this { this.code.push(0xfd, 0x0c, ...new Array<number>(16).fill(0)); return this; }
  /** A SIMD instruction without immediates. */
  simd(o: SimdOp): this { return this.op(0xfd).u(SIMD[o]); }
  /** A SIMD instruction without immediates, by opcode (after the 0xfd prefix). */
  simdOp(code: number): this { return this.op(0xfd).u(code); }
  /** i8x16.shuffle: byte lanes of the two v128 operands (0-15 the first, 16-31 the second). */
  shuffle(lanes: readonly number[]): this { return this.op(0xfd, 0x0d, ...lanes); }

  // structured control: block/loop/if take an empty block type; br depths count enclosing labels
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  /** Calls function `index` (an import's index in the import list). */
  call(index: number): this { return this.op(0x10).u(index); }
  br(depth: number): this { return this.op(0x0c).u(depth); }
  brIf(depth: number): this { return this.op(0x0d).u(depth); }

  /**
   * `for (i = from; i < to; i += step) body()` with i32 locals; `to` is a local index. The body may
   * not branch out of the loop (its labels are the block at depth 1 and the loop at depth 0).
   */
  for(i: number, from: number | { local: number }, to: number, step: number, body: () => void): this {
    if (typeof from === 'number') this.i32(from); else this.get(from.local);
    this.set(i).block().loop();
    this.get(i).get(to).geS().brIf(1);
    body();
    this.get(i).i32(step).add().set(i).br(0).end().end();
    return this;
  }

  /** The function's code-section entry: locals declaration plus body. */
  encode(): number[] {
    const body: number[] = [];
    uleb(this.extra.length, body);
    for (const t of this.extra) body.push(1, t);
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(body.length, out);
    out.push(...body);
    return out;
  }
}

function section(id: number, payload: number[], out: number[]): void {
  out.push(id);
  uleb(payload.length, out);
  out.push(...payload);
}

function vec(items: number[][], out: number[]): void {
  uleb(items.length, out);
  for (const it of items) out.push(...it);
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  const out: number[] = [];
  uleb(b.length, out);
  return out.concat(b);
}

/** A function the module imports from `env` (a JS function), callable by its index in the import list. */
export interface Import {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
}

/**
 * A module importing `env.memory` (and the functions `imports` lists, whose indices come first, so
 * `call(i)` calls import i) and exporting the given functions under their names.
 */
export function assemble(funcs: Readonly<Record<string, Func>>, imports: readonly Import[] = []): Uint8Array<ArrayBuffer> {
  const entries = Object.entries(funcs);
  const sigs: string[] = [];
  const types: number[][] = [];
  const typeIndex = (params: readonly number[], results: readonly number[]) => {
    const sig = [0x60, params.length, ...params, results.length, ...results];
    const key = sig.join(',');
    let at = sigs.indexOf(key);
    if (at < 0) { at = sigs.length; sigs.push(key); types.push(sig); }
    return at;
  };
  const importTypes = imports.map((m) => typeIndex(m.params, m.results));
  const typeOf = entries.map(([, f]) => typeIndex(f.params, f.results));
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const t: number[] = [];
  vec(types, t);
  section(1, t, out);
  const imp: number[] = [];
  const fnImports = imports.map((m, i) => { const b = [...name('env'), ...name(m.name), 0x00]; uleb(importTypes[i]!, b); return b; });
  vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01], ...fnImports], imp); // memory, min 1 page, no max
  section(2, imp, out);
  const fn: number[] = [];
  vec(typeOf.map((i) => { const b: number[] = []; uleb(i, b); return b; }), fn);
  section(3, fn, out);
  const exp: number[] = [];
  vec(entries.map(([n], i) => { const b = [...name(n), 0x00]; uleb(imports.length + i, b); return b; }), exp);
  section(7, exp, out);
  const code: number[] = [];
  vec(entries.map(([, f]) => f.encode()), code);
  section(10, code, out);
  return new Uint8Array(out);
}
