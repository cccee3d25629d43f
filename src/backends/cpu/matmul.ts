import type { HostArray } from '../../dtype.js';

/** K and N are processed in chunks of these sizes so the packed B block (KC×NC) stays in L2. */
const KC = 256;
const NC = 128;

/**
 * Scratch buffers reused across calls (matmulInto is synchronous, so never re-entered): the seed's
 * step runs five matmuls, and fresh accumulators and panels each time were garbage the collector
 * had to chase. Buffers above SCRATCH_MAX doubles are not kept (big products amortize them).
 */
const SCRATCH_MAX = 1 << 20;
const scratch = { acc: new Float64Array(0), ap: new Float64Array(0), bp: new Float64Array(0) };
function take(which: keyof typeof scratch, n: number): Float64Array {
  if (n > SCRATCH_MAX) return new Float64Array(n);
  if (scratch[which].length < n) scratch[which] = new Float64Array(Math.min(SCRATCH_MAX, Math.max(n, 2 * scratch[which].length)));
  return scratch[which];
}

/**
 * C[M,N] = A[M,K] · B[K,N] for one batch, reading A and B through strides. A is packed into
 * 2-row panels and B into 4-column panels per K chunk, so the inner loop keeps a 2×4 block of C
 * in locals (register blocking that fits x86-64's 16 float registers): 8 multiply-adds per 6
 * sequential loads. Sums are kept in float64 and rounded once on store.
 */
export function matmulInto(
  A: HostArray, aOff: number, aRs: number, aCs: number,
  B: HostArray, bOff: number, bRs: number, bCs: number,
  C: HostArray, cOff: number,
  M: number, K: number, N: number,
): void {
  const acc = take('acc', M * N).fill(0, 0, M * N);
  const ap = take('ap', ((M + 1) & ~1) * Math.min(KC, K));
  const bp = take('bp', ((Math.min(NC, N) + 3) & ~3) * Math.min(KC, K));
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    packA(A, aOff + pc * aCs, aRs, aCs, ap, M, kc);
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      packB(B, bOff + pc * bRs + jc * bCs, bRs, bCs, bp, nc, kc);
      microKernels(ap, bp, acc, M, N, kc, jc, nc);
    }
  }
  for (let i = 0; i < M * N; i++) C[cOff + i] = acc[i]!;
}

/** acc[:, jc:jc+nc] += packed A chunk · packed B block, 2×4 outputs at a time. */
function microKernels(ap: Float64Array, bp: Float64Array, acc: Float64Array, M: number, N: number, kc: number, jc: number, nc: number): void {
    for (let i0 = 0; i0 < M; i0 += 2) {
      const ab = i0 * kc;
      const rows = Math.min(2, M - i0);
      for (let j0 = 0; j0 < nc; j0 += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        for (let k = 0, a = ab, b = j0 * kc; k < kc; k++, a += 2, b += 4) {
          const a0 = ap[a]!, a1 = ap[a + 1]!;
          const b0 = bp[b]!, b1 = bp[b + 1]!, b2 = bp[b + 2]!, b3 = bp[b + 3]!;
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        }
        const cols = Math.min(4, nc - j0);
        const r0 = i0 * N + jc + j0;
        if (cols === 4) {
          acc[r0] += c00; acc[r0 + 1] += c01; acc[r0 + 2] += c02; acc[r0 + 3] += c03;
          if (rows === 2) {
            const r1 = r0 + N;
            acc[r1] += c10; acc[r1 + 1] += c11; acc[r1 + 2] += c12; acc[r1 + 3] += c13;
          }
        } else {
          const row0 = [c00, c01, c02, c03], row1 = [c10, c11, c12, c13];
          for (let j = 0; j < cols; j++) {
            acc[r0 + j] += row0[j]!;
            if (rows === 2) acc[r0 + N + j] += row1[j]!;
          }
        }
      }
    }
}

/** Rows i0, i0+1 of A's K chunk, interleaved: ap[(i0 * kc) + 2k + r] = A[i0 + r, k]. */
function packA(A: HostArray, off: number, rs: number, cs: number, ap: Float64Array, M: number, kc: number): void {
  for (let i = 0; i < M; i++) {
    const base = (i >> 1) * 2 * kc + (i & 1);
    const src = off + i * rs;
    for (let k = 0; k < kc; k++) ap[base + 2 * k] = A[src + k * cs]!;
  }
  if (M & 1) {
    const base = (M >> 1) * 2 * kc + 1;
    for (let k = 0; k < kc; k++) ap[base + 2 * k] = 0;
  }
}

/** Columns j0..j0+3 of B's K chunk, interleaved: bp[(j0 * kc) + 4k + c] = B[k, j0 + c] (0 past N). */
function packB(B: HostArray, off: number, rs: number, cs: number, bp: Float64Array, N: number, kc: number): void {
  const Np = (N + 3) & ~3;
  for (let j = 0; j < Np; j++) {
    const base = (j >> 2) * 4 * kc + (j & 3);
    if (j >= N) {
      for (let k = 0; k < kc; k++) bp[base + 4 * k] = 0;
      continue;
    }
    const src = off + j * cs;
    for (let k = 0; k < kc; k++) bp[base + 4 * k] = B[src + k * rs]!;
  }
}
