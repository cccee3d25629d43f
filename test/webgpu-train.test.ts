/**
 * The seed's two-layer net trained on WebGPU: a step is one submit, reads nothing back unless asked,
 * matches the CPU run, and memory stays flat without dispose() (the pool reuses buffers). Also
 * validation and size errors. Skips without an adapter unless WGTORCH_REQUIRE_WEBGPU=1.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import type { MemorySamples } from './webgpu-memory-child.js';
import { errorOfDestroyedBuffer } from './helpers.js';
import { seedNet } from './seed-net.js';
import { webgpuSuite } from './webgpu-suite.js';

const execFileAsync = promisify(execFile);

const available = await webgpuSuite('test/webgpu-train.test.ts');

/**
 * Runs test/webgpu-memory-child.ts in a child `node --expose-gc` (bundled as the examples are):
 * a real gc() needs the flag at start-up. Returns its memory samples.
 */
async function memoryChild(steps: number, every: number, irregular = false): Promise<MemorySamples> {
  const cacheDir = `wgtorch-memory-child-${process.pid}`;
  const script = `import { importTs } from ${JSON.stringify(new URL('../scripts/esbuild-common.mjs', import.meta.url).href)};
    const m = await importTs(${JSON.stringify(fileURLToPath(new URL('./webgpu-memory-child.ts', import.meta.url)))}, ${JSON.stringify(cacheDir)});
    await m.main(${steps}, ${every}, ${irregular});`;
  try {
    const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as MemorySamples;
  } finally {
    fs.rmSync(new URL(`../node_modules/.cache/${cacheDir}`, import.meta.url), { recursive: true, force: true });
  }
}

describe.skipIf(!available)('webgpu training step', () => {
  it('is one submit and reads nothing back unless asked', async () => {
    const net = seedNet('webgpu');
    net.step();
    await torch.webgpu.synchronize();
    torch.webgpu.resetStats();
    const launches = torch.launchStats.total;
    net.step();
    await torch.webgpu.synchronize();
    const s = torch.webgpu.stats();
    console.log(`seed step on webgpu: ${torch.launchStats.total - launches} launches, ${s.dispatches} dispatches, ${s.submits} submit(s), ${s.reads} reads`);
    expect(s.submits).toBe(1);
    expect(s.reads).toBe(0);
    expect(s.mapAsyncs).toBe(0);
    expect(s.writes).toBe(0);
    // Five more steps, then one loss: one read, one mapAsync, and the steps' launches in few submits.
    torch.webgpu.resetStats();
    let loss: Tensor | null = null;
    for (let i = 0; i < 5; i++) loss = net.step();
    const value = await loss!.item();
    const s2 = torch.webgpu.stats();
    expect(Number.isFinite(value)).toBe(true);
    expect(s2.reads).toBe(1);
    expect(s2.mapAsyncs).toBe(1);
    expect(s2.bytesRead).toBe(4);
    // A submit per batch of 32 kernels (the default batch limit) and the read's: lazily the five
    // steps are ~30 kernels, eagerly (WGTORCH_EAGER=1) ~160.
    expect(s2.submits).toBeLessThanOrEqual(Math.ceil(s2.kernels / 32) + 1);
    expect(s2.submits).toBeLessThanOrEqual(torch.isEager() ? 6 : 3);
  });

  it('matches the CPU run', async () => {
    const g = seedNet('webgpu', 5);
    const c = seedNet('cpu', 5);
    const losses: [number, number][] = [];
    for (let i = 0; i < 3; i++) losses.push([await g.step().item(), c.step().itemSync()]);
    for (const [lg, lc] of losses) expect(Math.abs(lg - lc) / lc).toBeLessThan(1e-4);
    const w = await g.w2.data();
    const wc = c.w2.dataSync();
    for (let i = 0; i < wc.length; i++) expect(Math.abs(w[i]! - wc[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(wc[i]!)));
  });

  it('keeps live memory flat over 300 steps without dispose() (child process with --expose-gc)', async () => {
    const m = await memoryChild(300, 25);
    const mb = (b: number) => (b / 2 ** 20).toFixed(2);
    console.log(`memory after ${m.steps} steps: ${JSON.stringify(m.final)}; live every 25 steps (MB): ${m.live.map(mb).join(' ')}`);
    // The steps ran: the loss kept falling.
    expect(m.live.length).toBe(12);
    expect(m.losses.every(Number.isFinite)).toBe(true);
    expect(m.losses[m.losses.length - 1]!).toBeLessThan(m.losses[0]!);
    // What stays alive is the model: x, y, w1, w2 and their grads (about 1.1 MB), plus what the
    // last collections have not finalized yet (a step's temporaries are about 1.3 MB). Leaking one
    // of the step's activations (64×100 floats, 25.6 KB) grows live memory by 6.4 MB over the 250
    // steps after warm-up, a gradient of w1 (1000×100 floats) by 100 MB: both fail the bounds below.
    expect(m.final.liveBytes).toBeGreaterThanOrEqual(m.modelBytes);
    const after = m.live.slice(2);
    expect(Math.max(...after) - Math.min(...after)).toBeLessThan(3 * 2 ** 20);
    expect(Math.max(...after)).toBeLessThan(m.modelBytes + 6 * 2 ** 20);
    // The pool reuses what the steps release: pooled bytes do not grow either.
    const pooled = m.pooled.slice(2);
    expect(Math.max(...pooled) - Math.min(...pooled)).toBeLessThan(3 * 2 ** 20);
    // Reads (one loss per sample) reuse one staging buffer.
    expect(m.final.stagingBuffers).toBeLessThanOrEqual(2);
    // Collections at a fixed period return memory in the same order each time: after warm-up, every
    // dispatch finds its bind group.
    expect(m.bindGroups[m.bindGroups.length - 1]! - m.bindGroups[1]!).toBe(0);
  });

  it('finds most bind groups again when the collector returns memory at irregular steps', async () => {
    // A replayed step binds memory to its outputs; a new combination of memory costs a
    // createBindGroup (~100 µs of JS on Dawn). Its outputs take the memory of an earlier replay of
    // the plan that is all free now (a frame): with collections 15 to 40 steps apart, 0.31 groups
    // are made per step (0.50 when each dispatch looked for a cached group with free memory alone,
    // 1.92 when outputs took the oldest free memory); at a fixed period, none (the test above).
    const m = await memoryChild(300, 25, true);
    const perStep = (m.bindGroups[m.bindGroups.length - 1]! - m.bindGroups[1]!) / (25 * (m.bindGroups.length - 2));
    console.log(`bind groups made per step with collections at irregular steps: ${perStep.toFixed(2)}`);
    expect(m.losses[m.losses.length - 1]!).toBeLessThan(m.losses[0]!);
    expect(perStep).toBeLessThan(0.45);
  });
});

describe.skipIf(!available)('webgpu errors', () => {
  it('a validation error is thrown as a DeviceError naming the launch, and the device keeps working', async () => {
    const err = await errorOfDestroyedBuffer((a) => a.mul(3));
    expect(err).toBeInstanceOf(torch.DeviceError);
    expect((err as Error).message).toMatch(/WebGPU validation error/);
    expect((err as Error).message).toMatch(/binary:mul/);
    // The error was reported once; new work runs.
    expect(await torch.ones([3], { device: 'webgpu' }).sum().item()).toBe(3);
    await torch.webgpu.synchronize();
  });

  it('a tensor larger than the device allows throws before anything is allocated', async () => {
    const lim = torch.webgpu.limits()!;
    const maxBytes = Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize);
    const before = torch.webgpu.memoryStats();
    const n = Math.floor(maxBytes / 4) + 1;
    expect(() => torch.empty([n], { device: 'webgpu' })).toThrow(torch.RuntimeError);
    expect(() => torch.zeros([n], { device: 'webgpu' })).toThrow(/maxStorageBufferBindingSize|maxBufferSize/);
    expect(torch.webgpu.memoryStats()).toEqual(before);
    // Exactly at the limit is fine in principle; float64 is refused with its own message.
    expect(() => torch.zeros([2], { device: 'webgpu', dtype: 'float64' })).toThrow(/float64/);
  });
});
