/**
 * The seed's two-layer net trained on WebGPU: a step is one submit, reads nothing back unless asked,
 * matches the CPU run, and memory stays flat without dispose() (the pool reuses buffers). Also
 * validation and size errors. Skips without an adapter unless WGTORCH_REQUIRE_WEBGPU=1.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import type { GpuBuf } from '../src/backends/webgpu/pool.js';
import { webgpuSuite } from './webgpu-suite.js';

const available = await webgpuSuite('test/webgpu-train.test.ts');

/** The seed's net: N, D_in, H, D_out = 64, 1000, 100, 10. */
function seedNet(device: Device, seed = 0) {
  torch.manualSeed(seed);
  const x = torch.randn([64, 1000], { device });
  const y = torch.randn([64, 10], { device });
  const w1 = torch.randn([1000, 100], { device, requiresGrad: true });
  const w2 = torch.randn([100, 10], { device, requiresGrad: true });
  const lr = 1e-6;
  const step = (): Tensor => {
    const yPred = x.mm(w1).clamp({ min: 0 }).mm(w2);
    const loss = yPred.sub(y).pow(2).sum();
    loss.backward();
    torch.noGrad(() => {
      w1.sub_(w1.grad!.mul(lr));
      w2.sub_(w2.grad!.mul(lr));
      w1.grad!.zero_();
      w2.grad!.zero_();
    });
    return loss;
  };
  return { x, y, w1, w2, step };
}

/** A full garbage collection (what the FinalizationRegistry needs to return buffers promptly). */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

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
    expect(s2.submits).toBeLessThanOrEqual(3);
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

  it('keeps live memory flat over 2000 steps without dispose()', async () => {
    const net = seedNet('webgpu', 1);
    const settle = async () => {
      await torch.webgpu.synchronize();
      // Finalizers run in later tasks, and only for what a collection found: a few rounds.
      for (let k = 0; k < 3; k++) {
        gc();
        await new Promise((r) => setTimeout(r, 30));
      }
      return torch.webgpu.memoryStats();
    };
    const steps = 2000;
    const live: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const l = net.step();
      if (i % 100 === 99) {
        losses.push(await l.item());
        live.push((await settle()).liveBytes);
      }
    }
    const m = await settle();
    const mb = (b: number) => (b / 2 ** 20).toFixed(2);
    console.log(`memory after ${steps} steps: ${JSON.stringify(m)}; live every 100 steps (MB): ${live.map(mb).join(' ')}`);
    // The steps ran: the loss kept falling.
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 2);
    // What stays alive is the model: x, y, w1, w2 and their grads (about 1.1 MB), plus what the
    // last collections have not finalized yet (a step's temporaries are about 1.3 MB). Leaking
    // one of the step's activations (64×100 floats) would add 50 MB over the run, a gradient of
    // w1 (1000×100 floats) 800 MB.
    const model = [net.x, net.y, net.w1, net.w2, net.w1.grad!, net.w2.grad!];
    const modelBytes = model.reduce((a, t) => a + t.numel() * 4, 0);
    expect(m.liveBytes).toBeGreaterThanOrEqual(modelBytes);
    const after = live.slice(2);
    const spread = Math.max(...after) - Math.min(...after);
    expect(spread).toBeLessThan(4 * 2 ** 20);
    expect(Math.max(...after)).toBeLessThan(modelBytes + 8 * 2 ** 20);
    // Flat, not growing: the last five samples are no higher than the first five after warm-up.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(after.slice(-5))).toBeLessThanOrEqual(mean(after.slice(0, 5)) + 2 ** 20);
  });
});

describe.skipIf(!available)('webgpu errors', () => {
  it('a validation error is thrown as a DeviceError naming the launch, and the device keeps working', async () => {
    const a = torch.ones([8], { device: 'webgpu' });
    await torch.webgpu.synchronize();
    // Destroy the buffer under a live tensor: the next submit that uses it is invalid.
    (a.storage.buf as GpuBuf).buffer.destroy();
    const b = a.mul(3);
    const err = await b.data().then(() => null, (e: unknown) => e);
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
