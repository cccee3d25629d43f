/**
 * Matmul kernel variants, timed in GFLOP/s. Not a test: runs only with WGTORCH_BENCH=1, e.g.
 *   WGTORCH_BENCH=1 npx vitest run test/webgpu-bench.test.ts
 *   WGTORCH_BENCH=1 WGTORCH_BENCH_VARIANTS=direct npx vitest run test/webgpu-bench.test.ts
 * Each cell is the best of 3 interleaved rounds, as wall-clock / per CPU-second of this process
 * (lavapipe runs in this process's threads, so on a shared machine the second is steadier).
 * src/backends/webgpu/matmul.ts's defaults are the fastest measured here.
 */
import { it } from 'vitest';
import * as torch from '../src/index.js';
import { matmulConfig } from '../src/backends/webgpu/matmul.js';

const run = process.env.WGTORCH_BENCH === '1' && (await torch.webgpu.isAvailable());

type Cfg = typeof matmulConfig;
const all: [string, Partial<Cfg>][] = [
  ['tiled 64x64 BK16 4x4 vec4', { kind: 'tiled', tile: { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 }, vec4: true }],
  ['tiled 64x64 BK16 4x4 scalar', { kind: 'tiled', tile: { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 }, vec4: false }],
  ['tiled 32x32 BK16 4x4 vec4', { kind: 'tiled', tile: { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 }, vec4: true }],
  ['tiled 128x128 BK8 8x8 vec4', { kind: 'tiled', tile: { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 }, vec4: true }],
  ['direct 8x8 4x4 vec4', { kind: 'direct', direct: { WGX: 8, WGY: 8, TM: 4, TN: 4 }, vec4: true }],
  ['direct 8x8 4x4 scalar', { kind: 'direct', direct: { WGX: 8, WGY: 8, TM: 4, TN: 4 }, vec4: false }],
  ['direct 4x4 4x4 vec4', { kind: 'direct', direct: { WGX: 4, WGY: 4, TM: 4, TN: 4 }, vec4: true }],
  ['direct 8x8 4x8 vec4', { kind: 'direct', direct: { WGX: 8, WGY: 8, TM: 4, TN: 8 }, vec4: true }],
  ['direct 8x8 8x8 vec4', { kind: 'direct', direct: { WGX: 8, WGY: 8, TM: 8, TN: 8 }, vec4: true }],
  ['direct 4x4 8x8 vec4', { kind: 'direct', direct: { WGX: 4, WGY: 4, TM: 8, TN: 8 }, vec4: true }],
];
const pick = process.env.WGTORCH_BENCH_VARIANTS?.split(',');
const variants = pick ? all.filter(([n]) => pick.some((p) => n.includes(p))) : all;

it.skipIf(!run)('matmul variants (GFLOP/s)', async () => {
  const saved = { ...matmulConfig };
  const device = 'webgpu';
  const sq = (n: number) => [torch.rand([n, n], { device }), torch.rand([n, n], { device })] as const;
  const [a256, b256] = sq(256), [a512, b512] = sq(512), [a1k, b1k] = sq(1024);
  const x = torch.rand([64, 1000], { device }), w = torch.rand([1000, 100], { device }), g = torch.rand([64, 100], { device });
  const seed = 2 * 64 * 1000 * 100;
  const cases: [string, () => torch.Tensor, number, number][] = [
    ['256', () => a256.mm(b256), 2 * 256 ** 3, 4],
    ['512', () => a512.mm(b512), 2 * 512 ** 3, 2],
    ['1024', () => a1k.mm(b1k), 2 * 1024 ** 3, 1],
    ['512 aT·bT', () => a512.t().mm(b512.t()), 2 * 512 ** 3, 2],
    ['x·w', () => x.mm(w), seed, 8],
    ['xT·g', () => x.t().mm(g), seed, 8],
    ['g·wT', () => g.mm(w.t()), seed, 8],
  ];
  const best = new Map<string, [number, number]>();
  for (let round = 0; round < 3; round++) {
    for (const [name, v] of variants) {
      Object.assign(matmulConfig, saved, v);
      for (const [c, f, flop, reps] of cases) {
        await f().data(); // compile and warm up
        const cpu = process.cpuUsage();
        const t = performance.now();
        for (let i = 0; i < reps; i++) f();
        await torch.webgpu.synchronize();
        const ms = performance.now() - t;
        const cu = process.cpuUsage(cpu);
        const r: [number, number] = [(flop * reps) / (ms * 1e6), (flop * reps) / ((cu.user + cu.system) * 1e3)];
        const k = `${name}|${c}`;
        const prev = best.get(k);
        best.set(k, prev ? [Math.max(prev[0], r[0]), Math.max(prev[1], r[1])] : r);
      }
    }
  }
  Object.assign(matmulConfig, saved);
  const rows = variants.map(([name]) => `${name.padEnd(28)} ${cases.map(([c]) => `${c}: ${best.get(`${name}|${c}`)!.map((v) => v.toFixed(2)).join('/')}`).join('  ')}`);
  console.log(`matmul GFLOP/s (wall / per CPU-second), best of 3, on ${torch.webgpu.adapterInfo()?.description}\n${rows.join('\n')}`);
});
