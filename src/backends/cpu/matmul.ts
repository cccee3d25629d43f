import type { HostArray } from '../../dtype.js';

/**
 * C[M,N] = A[M,K] · B[K,N] for one batch, reading A and B through strides. A is packed into
 * 4-row panels and B into 4-column panels so the inner loop keeps a 4×4 block of C in locals
 * (register blocking): 16 multiply-adds per 8 loads, sequential memory in the hot loop.
 */
export function matmulInto(
  A: HostArray, aOff: number, aRs: number, aCs: number,
  B: HostArray, bOff: number, bRs: number, bCs: number,
  C: HostArray, cOff: number,
  M: number, K: number, N: number,
): void {
  const Mp = (M + 3) & ~3;
  const Np = (N + 3) & ~3;
  const ap = new Float64Array(Mp * K);
  for (let i0 = 0; i0 < Mp; i0 += 4) {
    const base = i0 * K;
    for (let r = 0; r < 4; r++) {
      const i = i0 + r;
      if (i >= M) continue;
      for (let k = 0; k < K; k++) ap[base + k * 4 + r] = A[aOff + i * aRs + k * aCs]!;
    }
  }
  const bp = new Float64Array(Np * K);
  for (let j0 = 0; j0 < Np; j0 += 4) {
    const base = j0 * K;
    for (let c = 0; c < 4; c++) {
      const j = j0 + c;
      if (j >= N) continue;
      for (let k = 0; k < K; k++) bp[base + k * 4 + c] = B[bOff + k * bRs + j * bCs]!;
    }
  }
  for (let i0 = 0; i0 < M; i0 += 4) {
    const ab = i0 * K;
    for (let j0 = 0; j0 < N; j0 += 4) {
      const bb = j0 * K;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0; k < K; k++) {
        const a = ab + k * 4, b = bb + k * 4;
        const a0 = ap[a]!, a1 = ap[a + 1]!, a2 = ap[a + 2]!, a3 = ap[a + 3]!;
        const b0 = bp[b]!, b1 = bp[b + 1]!, b2 = bp[b + 2]!, b3 = bp[b + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
      for (let r = 0; r < 4 && i0 + r < M; r++) {
        const row = cOff + (i0 + r) * N + j0;
        for (let c = 0; c < 4 && j0 + c < N; c++) C[row + c] = block[r * 4 + c]!;
      }
    }
  }
}
