/**
 * Probe of the CPU matmul kernel alone (no tensors, no autograd): square or M×K×N float32 products
 * through src/backends/cpu/matmul.ts, with the load average beside every line.
 *
 * On a shared machine a run of a second almost surely contains a stall (the process not running
 * for 0.1–1 s), so besides whole runs (wall and CPU time, median and best) it reports a "split"
 * figure: C is computed as blocks of 256×128, each block timed many times, and the best time of every
 * block summed. Same kernel, same work; short pieces are what can run without a stall.
 *
 * Run: node bench/bench.mjs --script cpu-matmul [256 512 1024 | 64x1000x100 ...]   (REPS=n)
 */
import os from 'node:os';
import { matmulInto } from '../src/backends/cpu/matmul.js';

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 8) / 16777216 - 0.5;
  }
  return a;
}

const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

export async function main(args: string[]): Promise<number> {
  const shapes = (args.length ? args : ['256', '512', '768', '1024']).map((a) => {
    const d = a.split('x').map(Number);
    return d.length === 1 ? [d[0]!, d[0]!, d[0]!] : (d as [number, number, number]);
  });
  const reps = Number(process.env.REPS ?? 5);
  let bad = 0;
  for (const [M, K, N] of shapes) {
    const A = fill(M * K, 1), B = fill(K * N, 2), C = new Float32Array(M * N);
    const flop = 2 * M * K * N;
    const gf = (ms: number) => (flop / ms / 1e6).toFixed(2);
    // Whole runs: wall time and this process's CPU time, after one warm-up.
    const wall: number[] = [], cpu: number[] = [];
    for (let r = 0; r <= reps; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      matmulInto(A, 0, K, 1, B, 0, N, 1, C, 0, M, K, N);
      if (r === 0) continue;
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    // One sampled entry against a float64 dot product.
    const i = M >> 1, j = N - 1;
    let ref = 0, abs = 0;
    for (let k = 0; k < K; k++) {
      ref += A[i * K + k]! * B[k * N + j]!;
      abs += Math.abs(A[i * K + k]! * B[k * N + j]!);
    }
    const ok = Math.abs(C[i * N + j]! - ref) <= K * 2 ** -24 * abs;
    if (!ok) bad++;
    // Split: C[ib:ib+256, jb:jb+128] = A[ib:ib+256, :] · B[:, jb:jb+128] (operands read through
    // offsets and strides), each block's best of 3·reps runs, summed.
    const MB = 256, NB = 128;
    const part = new Float32Array(MB * NB);
    let split = 0;
    for (let ib = 0; ib < M; ib += MB) {
      for (let jb = 0; jb < N; jb += NB) {
        const mb = Math.min(MB, M - ib), nb = Math.min(NB, N - jb);
        let best = Infinity;
        for (let r = 0; r < 3 * reps; r++) {
          const t0 = performance.now();
          matmulInto(A, ib * K, K, 1, B, jb, N, 1, part, 0, mb, K, nb);
          best = Math.min(best, performance.now() - t0);
        }
        split += best;
      }
    }
    console.log(
      `${`${M}x${K}x${N}`.padStart(14)}  GFLOP/s: wall median ${gf(med(wall))} best ${gf(Math.min(...wall))}, ` +
        `cpu-time median ${gf(med(cpu))} best ${gf(Math.min(...cpu))}, split ${gf(split)}  ` +
        `(runs ${wall.map((t) => t.toFixed(0)).join(' ')} ms)  load ${os.loadavg()[0]!.toFixed(2)}  ${ok ? 'ok' : 'WRONG'}`,
    );
  }
  return bad ? 1 : 0;
}
