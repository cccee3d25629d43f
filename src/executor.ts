import type { Backend, Device, Launch } from './backend.js';
import { cpuBackend } from './backends/cpu/index.js';
import { RuntimeError } from './errors.js';

/**
 * The graph executor: every op hands its Launch records here, and they go to the device's backend,
 * which runs them (CPU) or encodes them into its pending command buffer (WebGPU).
 */
const backends: Partial<Record<Device, Backend>> = { cpu: cpuBackend };

/** Launch counts by kind, for tests and the bench (how many kernels a step costs). */
export const launchStats = { total: 0, byKind: {} as Partial<Record<Launch['kind'], number>> };

/** Installs (or, with null, removes) the backend of a device. */
export function registerBackend(device: Device, b: Backend | null): void {
  if (b) backends[device] = b;
  else delete backends[device];
}

/** The backend of a device, with PyTorch's wording when it is not there. */
export function backendFor(device: Device): Backend {
  const b = backends[device];
  if (!b) {
    throw new RuntimeError(
      device === 'webgpu'
        ? "WebGPU backend is not initialized: no adapter found. Call `await torch.webgpu.isAvailable()` first, or use device 'cpu'"
        : `unknown device ${String(device)}`,
    );
  }
  return b;
}

/** Sends one launch to the backend that owns its output buffer. */
export function launch(device: Device, l: Launch): void {
  launchStats.total++;
  launchStats.byKind[l.kind] = (launchStats.byKind[l.kind] ?? 0) + 1;
  backendFor(device).launch(l);
}
