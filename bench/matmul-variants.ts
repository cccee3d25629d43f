/**
 * The WebGPU matmul kernel's variants (tiled with workgroup tiles; direct with each invocation's
 * block read through the caches; subgroup, direct with A shared by subgroupBroadcast; tile shapes;
 * vec4 or scalar loads) on the same products, in
 * GFLOP/s. src/backends/webgpu/kernels.ts's 'auto' choice is the fastest measured here (bench/NOTES.md).
 *
 *   node bench/bench.mjs --script matmul-variants            every variant
 *   node bench/bench.mjs --script matmul-variants direct     variants whose name contains a word
 *   ... rounds=5 case=x·w case=xT·g                           more rounds, only these products
 *
 * Each cell is the best of 3 (or `rounds=N`) interleaved rounds, as wall-clock / per CPU-second of
 * this process (a software adapter runs in this process's threads, so on a shared machine the second
 * is steadier); after each variant's name, the time of its first calls (mostly shader compilation).
 * The subgroup variants run only where the adapter has subgroup ops.
 * Every variant's result is checked against float64 sums before its time is shown.
 */
import * as torch from '../src/index.js';
import { kernelOverrides, type MatmulKernel } from '../src/backends/webgpu/kernels.js';
import { checkMatmul, type HostMatrix } from './reference.js';

const ALL: [string, MatmulKernel][] = [
  ['tiled 64x64 BK16 4x4 vec4', { kind: 'tiled', tile: { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 }, vec4: true }],
  ['tiled 64x64 BK16 4x4 scalar', { kind: 'tiled', tile: { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 }, vec4: false }],
  ['tiled 32x32 BK16 4x4 vec4', { kind: 'tiled', tile: { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 }, vec4: true }],
  ['tiled 128x128 BK8 8x8 vec4', { kind: 'tiled', tile: { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 }, vec4: true }],
  ['direct 8x8 4x4 vec4', { kind: 'direct', block: { WGX: 8, WGY: 8, TM: 4, TN: 4 }, vec4: true }],
  ['direct 8x8 4x4 scalar', { kind: 'direct', block: { WGX: 8, WGY: 8, TM: 4, TN: 4 }, vec4: false }],
  ['direct 4x4 4x4 vec4', { kind: 'direct', block: { WGX: 4, WGY: 4, TM: 4, TN: 4 }, vec4: true }],
  ['direct 8x8 4x8 vec4', { kind: 'direct', block: { WGX: 8, WGY: 8, TM: 4, TN: 8 }, vec4: true }],
  ['direct 8x8 8x8 vec4', { kind: 'direct', block: { WGX: 8, WGY: 8, TM: 8, TN: 8 }, vec4: true }],
  ['direct 4x4 8x8 vec4', { kind: 'direct', block: { WGX: 4, WGY: 4, TM: 8, TN: 8 }, vec4: true }],
  ['direct 4x4 16x16 vec4', { kind: 'direct', block: { WGX: 4, WGY: 4, TM: 16, TN: 16 }, vec4: true }],
  ['direct 8x2 16x16 vec4', { kind: 'direct', block: { WGX: 8, WGY: 2, TM: 16, TN: 16 }, vec4: true }],
  ['subgroup 32x4', { kind: 'subgroup', block: { SG: 8, TM: 32, TN: 4 }, vec4: true }],
  ['subgroup 16x4', { kind: 'subgroup', block: { SG: 8, TM: 16, TN: 4 }, vec4: true }],
  ['subgroup 32x8', { kind: 'subgroup', block: { SG: 8, TM: 32, TN: 8 }, vec4: true }],
  ['subgroup 64x4', { kind: 'subgroup', block: { SG: 8, TM: 64, TN: 4 }, vec4: true }],
  ['subgroup 32x4 scalar', { kind: 'subgroup', block: { SG: 8, TM: 32, TN: 4 }, vec4: false }],
];

/** A 2-D tensor's values on the host, row-major (t may be a transposed view). */
async function host(t: torch.Tensor): Promise<HostMatrix> {
  const [rows, cols] = t.shape as [number, number];
  return { data: await t.contiguous().data(), rows, cols, rs: cols, cs: 1 };
}

export async function main(args: string[]): Promise<number> {
  if (!(await torch.webgpu.isAvailable())) {
    console.error('matmul-variants: no WebGPU adapter');
    return 1;
  }
  // Words `rounds=N` and `case=NAME` (repeatable) narrow the run; other words pick variants.
  const rounds = Number(args.find((w) => w.startsWith('rounds='))?.slice(7) ?? 3);
  const only = args.filter((w) => w.startsWith('case=')).map((w) => w.slice(5));
  const words = args.filter((w) => !w.includes('='));
  const runnable = ALL.filter(([, v]) => v.kind !== 'subgroup' || torch.webgpu.kernels()!.reduce.subgroups);
  const variants = words.length ? runnable.filter(([n]) => words.some((p) => n.includes(p))) : runnable;
  const device = 'webgpu';
  torch.manualSeed(0);
  const sq = (n: number) => [torch.rand([n, n], { device }), torch.rand([n, n], { device })] as const;
  const [a256, b256] = sq(256), [a512, b512] = sq(512), [a1k, b1k] = sq(1024);
  const x = torch.rand([64, 1000], { device }), w = torch.rand([1000, 100], { device }), g = torch.rand([64, 100], { device });
  const seed = 2 * 64 * 1000 * 100;
  // name, operands, flop, repetitions per timed run
  const cases: [string, torch.Tensor, torch.Tensor, number, number][] = [
    ['256', a256, b256, 2 * 256 ** 3, 4],
    ['512', a512, b512, 2 * 512 ** 3, 2],
    ['1024', a1k, b1k, 2 * 1024 ** 3, 1],
    ['512 aT·bT', a512.t(), b512.t(), 2 * 512 ** 3, 2],
    ['x·w', x, w, seed, 8],
    ['xT·g', x.t(), g, seed, 8],
    ['g·wT', g, w.t(), seed, 8],
  ];
  if (only.length) cases.splice(0, cases.length, ...cases.filter(([c]) => only.includes(c)));
  const compile = new Map<string, number>();
  const hosts = new Map<string, [HostMatrix, HostMatrix]>();
  for (const [c, a, b] of cases) hosts.set(c, [await host(a), await host(b)]);
  const best = new Map<string, [number, number]>();
  let wrong = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [name, v] of variants) {
        kernelOverrides.matmul = v;
        for (const [c, a, b, flop, reps] of cases) {
          const k = `${name}|${c}`;
          // Compile and warm up; the first round checks the result.
          const t0 = performance.now();
          const out = await a.mm(b).data();
          if (round === 0) compile.set(name, (compile.get(name) ?? 0) + performance.now() - t0);
          if (round === 0) {
            const [ha, hb] = hosts.get(c)!;
            const err = checkMatmul(out, ha, hb);
            if (err) {
              console.error(`${name} ${c}: WRONG: ${err}`);
              wrong++;
            }
          }
          const cpu = process.cpuUsage();
          const t = performance.now();
          for (let i = 0; i < reps; i++) a.mm(b);
          await torch.webgpu.synchronize();
          const ms = performance.now() - t;
          const cu = process.cpuUsage(cpu);
          const r: [number, number] = [(flop * reps) / (ms * 1e6), (flop * reps) / ((cu.user + cu.system) * 1e3)];
          const prev = best.get(k);
          best.set(k, prev ? [Math.max(prev[0], r[0]), Math.max(prev[1], r[1])] : r);
        }
      }
      process.stderr.write(`round ${round + 1}/${rounds} done\n`);
    }
  } finally {
    kernelOverrides.matmul = null;
  }
  const rows = variants.map(
    ([name]) =>
      `| ${name} (${((compile.get(name) ?? 0) / 1000).toFixed(1)} s) | ${cases.map(([c]) => (best.get(`${name}|${c}`) ?? [NaN, NaN]).map((v) => v.toFixed(2)).join(' / ')).join(' | ')} |`,
  );
  console.log(`matmul GFLOP/s (wall / per CPU-second), best of ${rounds}, first calls' time in parentheses, on ${torch.webgpu.adapterInfo()?.description}`);
  console.log(`| variant | ${cases.map(([c]) => c).join(' | ')} |\n|---|${cases.map(() => '---').join('|')}|\n${rows.join('\n')}`);
  return wrong ? 1 : 0;
}
