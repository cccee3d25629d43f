/**
 * Child process of cpu-memory.test.ts: issue 10's loop, never disposing, a read each round.
 * Prints one JSON line: resident memory growth, and the wasm heap's extent when that backend runs.
 */
import * as torch from '../src/index.js';
import { cpuBackend } from '../src/backends/cpu/index.js';

const rounds = Number(process.argv[2] ?? 60000);
const heap = (cpuBackend as { heap?: { top: number } }).heap;
const a = torch.randn(64, 64), b = torch.randn(64, 64);
// after a warm-up round, so the kernels and the first blocks are not counted
let sum = await a.mul(b).sum().item();
const rss0 = process.memoryUsage().rss, top0 = heap?.top ?? 0;
for (let i = 0; i < rounds; i++) sum += await a.mul(b).sum().item();
const mb = (n: number) => Math.round(n / 2 ** 20);
console.log(JSON.stringify({ rssGrowthMB: mb(process.memoryUsage().rss - rss0), heapGrowthMB: heap ? mb(heap.top - top0) : null, finite: Number.isFinite(sum) }));
