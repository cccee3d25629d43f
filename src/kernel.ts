/**
 * The fused elementwise kernel: one backend-neutral description that the scheduler (schedule.ts)
 * builds from several recorded launches, and that each backend renders its own way — WGSL on
 * WebGPU (backends/webgpu/fused.ts), one pass of JS over memory on the CPU (backends/cpu/fused.ts).
 *
 * Every node's value is "as stored in `dtype`": float32 values are rounded to float32, int32 values
 * truncated, bool values 0/1 — exactly what a separate launch would have written to memory and the
 * next one read back. So fusing launches changes no value.
 */
import type { View } from './backend.js';
import type { DType } from './dtype.js';
import type { BinaryOp, UnaryOp } from './ops/elementwise.js';

/** One value of a fused kernel, computed per element of the kernel's shape (row-major index i). */
export type KNode =
  /** Element i of `inputs[input]` (a view whose shape is the kernel's shape; broadcast dims have stride 0). */
  | { readonly op: 'load'; readonly input: number; readonly dtype: DType }
  /** A constant: a scalar operand or a filled value. */
  | { readonly op: 'const'; readonly value: number; readonly dtype: DType }
  | { readonly op: 'unary'; readonly f: UnaryOp; readonly x: number; readonly params: readonly number[]; readonly compute: DType; readonly dtype: DType }
  | { readonly op: 'binary'; readonly f: BinaryOp; readonly a: number; readonly b: number; readonly compute: DType; readonly dtype: DType }
  | { readonly op: 'where'; readonly c: number; readonly a: number; readonly b: number; readonly dtype: DType }
  /** A dtype conversion (the value of a copy launch between dtypes). */
  | { readonly op: 'copy'; readonly x: number; readonly dtype: DType };

/**
 * Elementwise work over one shape: nodes in dependency order (operands have smaller indices), the
 * views they load, and the views some of them are stored into. `names` are the fused launches'
 * names (`binary:mul`), for labels and error messages.
 */
export interface FusedKernel {
  readonly shape: readonly number[];
  readonly inputs: readonly View[];
  readonly nodes: readonly KNode[];
  readonly outputs: readonly { readonly view: View; readonly node: number }[];
  readonly names: readonly string[];
}

/** A fused kernel run per element of a matmul's output, after the matmul wrote it; its input `acc` (-1: none) is that output. */
export interface Epilogue {
  readonly k: FusedKernel;
  readonly acc: number;
}
