/**
 * Float64 references in plain JS, independent of wgtorch's kernels: each bench result is checked
 * against them (a few sampled entries, or the whole value for scalars) before its time counts.
 */

/** A 2-D operand on the host: element (i, j) is data[off + i * rs + j * cs]. */
export interface HostMatrix {
  readonly data: ArrayLike<number>;
  readonly rows: number;
  readonly cols: number;
  readonly rs: number;
  readonly cs: number;
}

/** `count` distinct-ish sample positions in [0, n), always including the first and last. */
export function samplePositions(n: number, count: number, seed = 12345): number[] {
  const out = [0, n - 1];
  let s = seed >>> 0;
  for (let i = 2; i < Math.min(count, n); i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.floor((s / 4294967296) * n));
  }
  return out;
}

const U32 = 2 ** -24; // unit roundoff of float32

/**
 * Checks sampled entries of C = A·B (row-major, contiguous, float32). Any summation order in
 * float32 is within γ_K·Σ|a_ik·b_kj| (+ one rounding of the output) of the exact value, so a bound
 * that tight still rejects a wrong index or a missed K block, whose error is ~Σ|ab|/√K.
 */
export function checkMatmul(C: ArrayLike<number>, A: HostMatrix, B: HostMatrix, samples = 48): string | null {
  const M = A.rows, K = A.cols, N = B.cols;
  if (C.length !== M * N) return `output has ${C.length} elements, expected ${M * N}`;
  const gamma = (K * U32) / (1 - K * U32);
  for (const p of samplePositions(M * N, samples)) {
    const i = Math.floor(p / N), j = p % N;
    let ref = 0, abs = 0;
    for (let k = 0; k < K; k++) {
      const v = A.data[i * A.rs + k * A.cs]! * B.data[k * B.rs + j * B.cs]!;
      ref += v;
      abs += Math.abs(v);
    }
    const got = C[p]!;
    if (!(Math.abs(got - ref) <= gamma * abs + U32 * Math.abs(ref) + 1e-30)) {
      return `C[${i}, ${j}] = ${got}, float64 reference ${ref} (tolerance ${(gamma * abs).toExponential(2)})`;
    }
  }
  return null;
}

/** Checks sampled entries of an elementwise result: f in float64, rounded to float32, within 1 ulp. */
export function checkElementwise(out: ArrayLike<number>, f: (i: number) => number, samples = 64): string | null {
  for (const p of samplePositions(out.length, samples)) {
    const ref = Math.fround(f(p));
    const got = out[p]!;
    if (!(Math.abs(got - ref) <= Math.abs(ref) * 2 ** -23)) return `out[${p}] = ${got}, float64 reference ${ref}`;
  }
  return null;
}

/**
 * Sums of integer-valued float32 data are exact in any order while partial sums stay below 2^24,
 * so a reduction must match the float64 sum exactly: a dropped or doubled element shows.
 */
export function checkSums(out: ArrayLike<number>, x: ArrayLike<number>, rows: number, cols: number, which: 'all' | 'rows', samples = 32): string | null {
  if (which === 'all') {
    let ref = 0;
    for (let i = 0; i < x.length; i++) ref += x[i]!;
    return out.length === 1 && out[0] === ref ? null : `sum = ${out[0]}, float64 reference ${ref}`;
  }
  if (out.length !== rows) return `sum(dim=1) has ${out.length} elements, expected ${rows}`;
  for (const r of samplePositions(rows, samples)) {
    let ref = 0;
    for (let c = 0; c < cols; c++) ref += x[r * cols + c]!;
    if (out[r] !== ref) return `sum(dim=1)[${r}] = ${out[r]}, float64 reference ${ref}`;
  }
  return null;
}

/** C = op(A)·op(B) in float64 for the reference net; A is m×k, B is k×n, both row-major. */
function mm(A: Float64Array, B: Float64Array, m: number, k: number, n: number, ta = false, tb = false): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const a = ta ? A[p * m + i]! : A[i * k + p]!;
      if (a === 0) continue;
      const ci = i * n;
      if (tb) for (let j = 0; j < n; j++) C[ci + j] += a * B[j * k + p]!;
      else {
        const bp = p * n;
        for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j]!;
      }
    }
  }
  return C;
}

/**
 * The seed's two-layer net in float64: the same initial values, the same updates; returns the loss
 * of every step (losses[t - 1] is step t's). Sizes: x [B, I], y [B, O], w1 [I, H], w2 [H, O].
 */
export function twoLayerNetF64(
  init: { x: ArrayLike<number>; y: ArrayLike<number>; w1: ArrayLike<number>; w2: ArrayLike<number> },
  dims: { B: number; I: number; H: number; O: number },
  steps: number,
  lr: number,
): number[] {
  const { B, I, H, O } = dims;
  const x = Float64Array.from(init.x), y = Float64Array.from(init.y);
  const w1 = Float64Array.from(init.w1), w2 = Float64Array.from(init.w2);
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const h = mm(x, w1, B, I, H);
    const hr = h.map((v) => (v > 0 ? v : 0));
    const yp = mm(hr, w2, B, H, O);
    let loss = 0;
    const gy = new Float64Array(B * O);
    for (let i = 0; i < B * O; i++) {
      const d = yp[i]! - y[i]!;
      loss += d * d;
      gy[i] = 2 * d;
    }
    losses.push(loss);
    const gw2 = mm(hr, gy, H, B, O, true); // hrᵀ·gy
    const gh = mm(gy, w2, B, O, H, false, true); // gy·w2ᵀ
    for (let i = 0; i < B * H; i++) if (!(h[i]! >= 0)) gh[i] = 0; // clamp(min=0) passes where h >= 0
    const gw1 = mm(x, gh, I, B, H, true); // xᵀ·gh
    for (let i = 0; i < w1.length; i++) w1[i] -= lr * gw1[i]!;
    for (let i = 0; i < w2.length; i++) w2[i] -= lr * gw2[i]!;
  }
  return losses;
}
