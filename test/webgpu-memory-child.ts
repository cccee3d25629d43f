/**
 * Child process of test/webgpu-train.test.ts: trains the seed's net on WebGPU without dispose()
 * and prints one JSON line of memory samples. It runs under `node --expose-gc` (a real flag at
 * start-up, not v8.setFlagsFromString) so it can force the collections the FinalizationRegistry
 * needs to hand buffers back to the pool.
 */
import * as torch from '../src/index.js';
import type { MemoryStats } from '../src/webgpu.js';
import { seedNet } from './seed-net.js';

declare const gc: (() => void) | undefined;

export interface MemorySamples {
  steps: number;
  /** liveBytes after each sample's collections, every `every` steps. */
  live: number[];
  pooled: number[];
  losses: number[];
  /** Bind groups created by then (torch.webgpu.stats().bindGroups), at each sample. */
  bindGroups: number[];
  modelBytes: number;
  final: MemoryStats;
}

/**
 * Trains `steps` steps, sampling memory every `every` steps; prints the samples as one JSON line.
 * With `irregular`, it also collects after steps 15 to 40 steps apart (a fixed pseudo-random
 * sequence), as a loop's own collections come: what they return reaches the pool in another order
 * each time.
 */
export async function main(steps: number, every: number, irregular = false): Promise<void> {
  if (typeof gc !== 'function') throw new Error('run me with node --expose-gc');
  if (!(await torch.webgpu.isAvailable())) throw new Error('no WebGPU adapter');
  const net = seedNet('webgpu', 1);
  const settle = async () => {
    await torch.webgpu.synchronize();
    // Finalizers run in later tasks, and only for what a collection found: a few rounds.
    for (let k = 0; k < 3; k++) {
      gc!();
      await new Promise((r) => setTimeout(r, 20));
    }
    return torch.webgpu.memoryStats();
  };
  const out: MemorySamples = { steps, live: [], pooled: [], losses: [], bindGroups: [], modelBytes: 0, final: await settle() };
  let seed = 12345, next = 20;
  for (let i = 0; i < steps; i++) {
    const l = net.step();
    if (irregular && --next === 0) {
      next = 15 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 26);
      gc!();
      await new Promise((r) => setTimeout(r, 0));
    }
    if (i % every === every - 1) {
      out.losses.push(await l.item());
      const m = await settle();
      out.live.push(m.liveBytes);
      out.pooled.push(m.pooledBytes);
      out.bindGroups.push(torch.webgpu.stats().bindGroups);
    }
  }
  out.final = await settle();
  out.modelBytes = [net.x, net.y, net.w1, net.w2, net.w1.grad!, net.w2.grad!].reduce((a, t) => a + t.numel() * 4, 0);
  console.log(JSON.stringify(out));
}
