/**
 * Starting, losing and restarting the WebGPU device (its own file: it destroys the device).
 * Skips without an adapter unless WGTORCH_REQUIRE_WEBGPU=1.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { isCpuAdapter } from '../src/backends/webgpu/kernels.js';
import { webgpuSuite } from './webgpu-suite.js';

// WGTORCH_DEVICE=cpu hides WebGPU: isAvailable() says false, init() says why.
process.env.WGTORCH_DEVICE = 'cpu';
const hidden = await torch.webgpu.isAvailable();
const hiddenInit = await torch.webgpu.init().then(() => null, (e: unknown) => e);
delete process.env.WGTORCH_DEVICE;

// A bad WGTORCH_KERNELS is reported when the device starts; a good one is the starting choice.
process.env.WGTORCH_KERNELS = 'fast';
const badKernels = await torch.webgpu.init().then(() => null, (e: unknown) => e);
process.env.WGTORCH_KERNELS = 'gpu';
const available = await webgpuSuite('test/webgpu-device.test.ts');
const envKernels = torch.webgpu.kernels();
delete process.env.WGTORCH_KERNELS;

describe('webgpu availability', () => {
  it('WGTORCH_DEVICE=cpu makes isAvailable() false and init() throw', () => {
    expect(hidden).toBe(false);
    expect(hiddenInit).toBeInstanceOf(torch.RuntimeError);
    expect(String(hiddenInit)).toMatch(/WGTORCH_DEVICE=cpu/);
  });

  it.skipIf(!available)('WGTORCH_KERNELS: a bad value makes init() say why; gpu starts with the GPU family', () => {
    expect(String(badKernels)).toBe(`RuntimeError: WebGPU is not available: WGTORCH_KERNELS must be one of 'auto', 'gpu', 'cpu', got "fast"`);
    expect(envKernels?.choice).toBe('gpu');
    expect(envKernels?.family).toBe('gpu');
    expect(envKernels?.matmul.kind).toBe('tiled');
  });
});

describe.skipIf(!available)('webgpu kernel choice', () => {
  it("init({ kernels }) switches families on a running device; 'auto' picks by adapter; bad values throw ValueError", async () => {
    const software = isCpuAdapter(torch.webgpu.adapterInfo()!);
    const a = torch.tensor([[1, 2], [3, 4]], { device: 'webgpu' });
    try {
      // The 'cpu' family's matmul is the subgroup kernel where the adapter has subgroup ops, else the direct one.
      const cpuKinds = ['subgroup', 'direct'];
      for (const [kernels, family, kinds] of [['cpu', 'cpu', cpuKinds], ['gpu', 'gpu', ['tiled']], ['auto', software ? 'cpu' : 'gpu', software ? cpuKinds : ['tiled']]] as const) {
        await torch.webgpu.init({ kernels });
        const k = torch.webgpu.kernels()!;
        expect([k.choice, k.family]).toEqual([kernels, family]);
        expect(kinds).toContain(k.matmul.kind);
        // [[1, 2], [3, 4]]^2 = [[7, 10], [15, 22]] with either kernel.
        expect(await a.mm(a).tolist()).toEqual([[7, 10], [15, 22]]);
      }
      await expect(torch.webgpu.init({ kernels: 'fast' as never })).rejects.toThrow(torch.ValueError);
      await expect(torch.webgpu.init({ kernels: 'fast' as never })).rejects.toThrow(`kernels must be one of 'auto', 'gpu', 'cpu', got "fast"`);
      expect(torch.webgpu.kernels()!.choice).toBe('auto');
    } finally {
      await torch.webgpu.init({ kernels: 'auto' });
    }
  });
});

describe.skipIf(!available)('webgpu device', () => {
  it('reports the adapter and its limits', () => {
    const info = torch.webgpu.adapterInfo()!;
    expect(typeof info.vendor).toBe('string');
    expect(typeof info.description).toBe('string');
    const lim = torch.webgpu.limits()!;
    expect(lim.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(lim.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
  });

  it('prints device=webgpu:0 and shows values once they are on the host', async () => {
    const t = torch.tensor([1, 2], { device: 'webgpu' });
    expect(String(t.add(1))).toMatch(/<pending>.*device='webgpu:0'/);
    expect(await t.add(1).format()).toBe("tensor([2., 3.], device='webgpu:0')");
  });

  it('setDefaultDevice: creation functions without a device option use it', async () => {
    torch.setDefaultDevice('webgpu');
    try {
      const t = torch.ones([2]);
      expect(t.device).toBe('webgpu');
      expect(torch.randn(3).device).toBe('webgpu');
      expect(torch.tensor([1, 2]).device).toBe('webgpu');
      expect(torch.zeros([2], { device: 'cpu' }).device).toBe('cpu');
      expect(Array.from(await t.add(1).data())).toEqual([2, 2]);
    } finally {
      torch.setDefaultDevice('cpu');
    }
    expect(torch.ones([1]).device).toBe('cpu');
    expect(() => torch.setDefaultDevice('cuda')).toThrow(/Expected one of cpu, webgpu device type at start of device string: cuda/);
    expect(torch.getDefaultDevice()).toBe('cpu');
  });

  it('a destroyed device throws DeviceLostError from the next op and read; init() starts a new one', async () => {
    const a = torch.ones([4], { device: 'webgpu' });
    const pending = a.mul(2);
    torch.webgpu.destroy();
    expect(() => a.add(1)).toThrow(torch.DeviceLostError);
    expect(() => torch.zeros([2], { device: 'webgpu' })).toThrow(torch.DeviceLostError);
    await expect(pending.data()).rejects.toThrow(torch.DeviceLostError);
    await expect(torch.webgpu.synchronize()).rejects.toThrow(/lost.*init\(\)/);
    expect(torch.webgpu.memoryStats().liveBytes).toBe(0);

    await torch.webgpu.init();
    const b = torch.arange(5, { device: 'webgpu' }).float();
    expect(await b.sum().item()).toBe(10);
    // Tensors of the lost device stay unusable, with the same clear error.
    expect(() => a.add(b.narrow(0, 0, 4))).toThrow(torch.DeviceLostError);
    a.dispose();
  });

  it('a device lost underneath (GPUDevice.destroy()) is detected, and isAvailable() restarts it', async () => {
    const a = torch.ones([4], { device: 'webgpu' });
    const dev = torch.webgpu.device()!;
    const lost = dev.lost;
    dev.destroy();
    const info = await lost;
    expect(info.reason).toBe('destroyed');
    await new Promise((r) => setTimeout(r, 0));
    expect(() => a.mul(2)).toThrow(torch.DeviceLostError);
    expect(await torch.webgpu.isAvailable()).toBe(true);
    expect(await torch.ones([3], { device: 'webgpu' }).mul(2).sum().item()).toBe(6);
  });
});
