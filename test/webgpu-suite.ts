/**
 * What every WebGPU-only test file starts with: whether there is an adapter (a missing one fails
 * the file under WGTORCH_REQUIRE_WEBGPU=1, else the file skips with one line), the generous
 * timeouts lavapipe needs on a busy 2-core machine, and a small deterministic PRNG for test data.
 */
import { describe, expect, it, vi } from 'vitest';
import * as torch from '../src/index.js';

export async function webgpuSuite(file: string): Promise<boolean> {
  vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
  const available = await torch.webgpu.isAvailable();
  if (!available) {
    if (process.env.WGTORCH_REQUIRE_WEBGPU === '1') {
      describe('webgpu', () => it('needs a WebGPU adapter (WGTORCH_REQUIRE_WEBGPU=1)', () => expect.fail('no WebGPU adapter found')));
    } else console.warn(`${file} skipped: no WebGPU adapter (set WGTORCH_REQUIRE_WEBGPU=1 to fail instead)`);
  }
  return available;
}

/** mulberry32: uniform numbers in [0, 1), the same sequence for the same seed. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
