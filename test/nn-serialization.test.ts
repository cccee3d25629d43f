/**
 * safetensors against a reference writer/reader in scripts/fixtures/nn.py (the format's layout,
 * checked there by a round trip through torch.frombuffer): our bytes must equal its bytes, and
 * its files (including int64, float16 and bfloat16 ones) must load with the same values.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import { devices } from './devices.js';
import { expectClose, fixtureValues, fromFixture, loadFixture, type FixtureTensor } from './helpers.js';

interface StCase {
  tensors: Record<string, FixtureTensor>;
  metadata: Record<string, string>;
  bytes: string;
  foreign: Record<string, FixtureTensor>;
  foreign_bytes: string;
}
const st = loadFixture<{ safetensors: StCase }>('nn.json').safetensors;
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe.each(devices)('safetensors on %s', (device: Device) => {
  // float64 lives on the CPU only; the WebGPU run saves the other tensors from the GPU.
  const onDevice = (name: string, f: FixtureTensor): Tensor => fromFixture(f, f.dtype === ('float64' as string) ? 'cpu' : device);

  it('writes the bytes the reference writer writes', async () => {
    const tensors: Record<string, Tensor> = {};
    for (const [k, f] of Object.entries(st.tensors)) tensors[k] = onDevice(k, f);
    const bytes = await torch.saveSafetensors(tensors, st.metadata);
    expect(Buffer.from(bytes).toString('base64')).toBe(st.bytes);
  });

  it('reads the reference files back to the same values', async () => {
    const loaded = torch.loadSafetensors(b64(st.bytes), { device: 'cpu' });
    expect(Object.keys(loaded).sort()).toEqual(Object.keys(st.tensors).sort());
    for (const [k, f] of Object.entries(st.tensors)) {
      expect(loaded[k]!.dtype, k).toBe(f.dtype === 'int64' ? 'int32' : f.dtype);
      await expectClose(loaded[k]!, f.shape, fixtureValues(f), 0, 0);
    }
    const foreign = torch.loadSafetensors(b64(st.foreign_bytes), { device });
    for (const [k, f] of Object.entries(st.foreign)) await expectClose(foreign[k]!, f.shape, fixtureValues(f), 0, 0);
    expect(foreign.i64!.dtype).toBe('int32');
  });

  it('round-trips a model through stateDict', async () => {
    torch.manualSeed(1);
    const a = await new torch.nn.Sequential(new torch.nn.Linear(3, 4), new torch.nn.ReLU(), new torch.nn.Linear(4, 2)).to(device);
    const b = await new torch.nn.Sequential(new torch.nn.Linear(3, 4), new torch.nn.ReLU(), new torch.nn.Linear(4, 2)).to(device);
    b.loadStateDict(torch.loadSafetensors(await torch.saveSafetensors(a.stateDict()), { device }));
    const x = torch.randn(2, 3, { device });
    expect(Array.from(await b.forward(x).data())).toEqual(Array.from(await a.forward(x).data()));
  });

  it('malformed bytes get an error, not a crash', () => {
    expect(() => torch.loadSafetensors(new Uint8Array(4))).toThrow('Error while deserializing header: HeaderTooSmall');
    const bad = b64(st.bytes).slice(0, 40);
    expect(() => torch.loadSafetensors(bad)).toThrow(torch.RuntimeError);
  });
});
