/** Synchronous reads on the CPU, util.inspect, and what String(t) says for values not on the host. */
import util from 'node:util';
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { devices } from './devices.js';

describe('CPU reads and printing', () => {
  it('itemSync, tolistSync, dataSync', () => {
    const x = torch.tensor([[1, 2], [3, 4]]);
    expect(x.tolistSync()).toEqual([[1, 2], [3, 4]]);
    expect(Array.from(x.t().dataSync())).toEqual([1, 3, 2, 4]);
    expect(x.sum().itemSync()).toBe(10);
    expect(() => x.itemSync()).toThrow('a Tensor with 4 elements cannot be converted to Scalar');
    expect(torch.tensor(2.5).tolistSync()).toBe(2.5);
  });
  it('String(t), toString() and util.inspect give PyTorch text', () => {
    const x = torch.tensor([1, 2, 3]);
    expect(String(x)).toBe('tensor([1., 2., 3.])');
    expect(util.inspect(x)).toBe('tensor([1., 2., 3.])');
    expect(`${x.mul(2)}`).toBe('tensor([2., 4., 6.])');
    expect(String(torch.tensor([1.5], { dtype: 'float64' }))).toBe('tensor([1.5000], dtype=torch.float64)');
    expect(String(torch.tensor([1, 2], { requiresGrad: true }).mul(2))).toBe('tensor([2., 4.], grad_fn=<MulBackward0>)');
  });
  it('pyFloatRepr formats as Python prints floats', () => {
    expect(torch.pyFloatRepr(32)).toBe('32.0');
    expect(torch.pyFloatRepr(362.14410400390625)).toBe('362.14410400390625');
  });
});

describe.skipIf(!devices.includes('webgpu'))('WebGPU reads and printing', () => {
  it('String(t) does not block: pending text until values are read, format() gives PyTorch text', async () => {
    const x = torch.ones(2, 2, { device: 'webgpu' }).mul(3);
    expect(String(x)).toBe("tensor(<pending>, device='webgpu:0', size=(2, 2))");
    expect(await x.format()).toBe("tensor([[3., 3.],\n        [3., 3.]], device='webgpu:0')");
    expect(() => x.dataSync()).toThrow("dataSync() needs a CPU tensor; use `await t.data()` on device 'webgpu'");
    const back = await x.to('cpu');
    expect(back.device).toBe('cpu');
    expect(String(back)).toBe('tensor([[3., 3.],\n        [3., 3.]])');
    expect(torch.tensor([1, 2]).to('webgpu').device).toBe('webgpu');
  });

  it('reads reuse their staging buffer: 300 reads leave memoryStats (tensor and staging pools) unchanged', async () => {
    const x = torch.arange(64, { device: 'webgpu' }).mul(2);
    const y = x.sum();
    // Warm-up: the first reads create one staging buffer per size bucket (256 B and 16 B).
    await x.data();
    await y.item();
    const before = torch.webgpu.memoryStats();
    expect(before.stagingBuffers).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 150; i++) {
      expect((await x.data())[63]).toBe(126); // 2 * 63
      expect(await y.item()).toBe(4032); // 2 * (0 + ... + 63) = 63 * 64
    }
    // Before the fix every read parked its staging buffer in a pending list that was never
    // drained: stagingBuffers grew by one per read (300 here) and no read reused one.
    expect(torch.webgpu.memoryStats()).toEqual(before);
  });
});
