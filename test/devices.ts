/**
 * The devices the conformance suites run on. WebGPU joins when an adapter is found; with
 * WGTORCH_REQUIRE_WEBGPU=1 (CI) a missing adapter fails the run instead of skipping.
 *
 * On WebGPU a suite runs twice: with the kernels the adapter picks ('auto', or WGTORCH_KERNELS),
 * and with the other family's (`kernels: 'gpu'` on lavapipe/SwiftShader, so CI runs what real
 * GPUs run; `'cpu'` on a real GPU). Write a device suite as
 *
 *   describeDevices('conformance on %s', (device) => { ... });
 *
 * (in place of `describe.each(devices)`): `%s` becomes 'cpu', 'webgpu' or 'webgpu kernels=gpu',
 * and each run sets its kernel choice before its tests and restores the default after them.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import * as torch from '../src/index.js';
import type { Device } from '../src/index.js';
import type { KernelChoice } from '../src/backends/webgpu/kernels.js';

async function probe(): Promise<Device[]> {
  const devices: Device[] = ['cpu'];
  const ok = await torch.webgpu.isAvailable();
  if (ok) devices.push('webgpu');
  else if (process.env.WGTORCH_REQUIRE_WEBGPU === '1') {
    throw new Error('WGTORCH_REQUIRE_WEBGPU=1 but no WebGPU adapter was found (install mesa-vulkan-drivers from bookworm-backports)');
  } else {
    console.warn('wgtorch: no WebGPU adapter found; WebGPU suites are skipped (set WGTORCH_REQUIRE_WEBGPU=1 to fail instead)');
  }
  return devices;
}

/** Each available device once (for checks that do not depend on the kernels, such as errors). */
export const devices: Device[] = await probe();

/** One run of a device suite: the device, and on WebGPU the kernel choice it runs under. */
export interface DeviceRun {
  /** What the suite title shows. */
  name: string;
  device: Device;
  kernels: KernelChoice | null;
}

/** The choice the process started with ('auto' unless WGTORCH_KERNELS says otherwise). */
const startChoice: KernelChoice | null = torch.webgpu.kernels()?.choice ?? null;

/** cpu; webgpu with the default kernels; webgpu with the other family's kernels. */
export const deviceRuns: DeviceRun[] = devices.flatMap((device): DeviceRun[] => {
  if (device === 'cpu') return [{ name: 'cpu', device, kernels: null }];
  const other = torch.webgpu.kernels()!.family === 'gpu' ? 'cpu' : 'gpu';
  return [
    { name: 'webgpu', device, kernels: startChoice },
    { name: `webgpu kernels=${other}`, device, kernels: other },
  ];
});

/** `describe.each` over deviceRuns: `%s` in the title is the run's name; the body gets its device. */
export function describeDevices(title: string, body: (device: Device) => void): void {
  for (const run of deviceRuns) {
    describe(title.replace('%s', run.name), () => {
      if (run.kernels !== null) {
        const kernels = run.kernels;
        beforeAll(() => torch.webgpu.init({ kernels }));
        afterAll(() => torch.webgpu.init({ kernels: startChoice! }));
      }
      body(run.device);
    });
  }
}
