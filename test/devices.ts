/**
 * The devices the conformance suite runs on. WebGPU joins when an adapter is found; with
 * WGTORCH_REQUIRE_WEBGPU=1 (CI) a missing adapter fails the run instead of skipping.
 */
import * as torch from '../src/index.js';
import type { Device } from '../src/index.js';

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

export const devices: Device[] = await probe();
