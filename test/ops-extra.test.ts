/**
 * The ops of issue 13 against real PyTorch on every device: forward values, gradients of
 * (out * upstream).sum() and refusals (error class and text), from test/fixtures/ops-extra.json.
 */
import { describe, expect, it } from 'vitest';
import type { Device, Tensor } from '../src/index.js';
import { devices } from './devices.js';
import { extraOps } from './fixture-ops-extra.js';
import type { FixtureTensor, OpCase } from './fixture-ops.js';
import { expectClose, fixtureValues, fromFixture, loadFixture } from './helpers.js';

interface ExtraCase extends Omit<OpCase, 'out'> {
  out?: FixtureTensor;
  error?: { type: string; message: string };
}

const cases = loadFixture<ExtraCase[]>('ops-extra.json');
const label = (c: ExtraCase, i: number) => `${i}: ${c.op}(${c.inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ')}) ${JSON.stringify(c.kwargs)}`;

/**
 * Known device gaps, each with its reason. Checking an index's range or inferring a class count
 * needs the index values on the host, which WebGPU would have to read back: the CPU refuses an
 * out-of-range class as PyTorch does; WebGPU leaves such rows zero.
 */
const gaps: Partial<Record<Device, (c: ExtraCase) => string | null>> = {
  webgpu: (c) =>
    c.op === 'one_hot' && (c.error || c.kwargs.num_classes === -1) ? 'one_hot needs the class values on the host' : null,
};

describe.each(devices)('ops-extra fixtures on %s', (device) => {
  const run = async (c: ExtraCase, grad: boolean): Promise<{ out: Tensor; inputs: Tensor[] }> => {
    const f = extraOps[c.op];
    expect(f, `no mapping for fixture op ${c.op}`).toBeDefined();
    const inputs = c.inputs.map((t) => fromFixture(t, device, grad && t.dtype === 'float32'));
    return { out: await f!(inputs, c.kwargs), inputs };
  };
  cases.forEach((c, i) => {
    const gap = gaps[device]?.(c);
    if (gap) return;
    if (c.error) {
      it(`refuses ${label(c, i)}`, async () => {
        const err = await run(c, false).then(
          () => null,
          (e: Error) => e,
        );
        expect(err, 'expected an error').not.toBeNull();
        expect(err!.name).toBe(c.error!.type);
        // A kernel's name in PyTorch's text ends with its device ("frac_cpu"; CUDA says "frac_cuda").
        expect(err!.message).toBe(c.error!.message.replace(/_cpu" not implemented/, `_${device}" not implemented`));
      });
      return;
    }
    it(`value ${label(c, i)}`, async () => {
      const { out } = await run(c, false);
      const want = c.out!.dtype === 'int64' ? 'int32' : c.out!.dtype;
      expect(out.dtype).toBe(want);
      await expectClose(out, c.out!.shape, fixtureValues(c.out!), 1e-4, 1e-5);
    });
    if (!c.grads || !c.upstream) return;
    it(`gradient ${label(c, i)}`, async () => {
      const { out, inputs } = await run(c, true);
      out.mul(fromFixture(c.upstream!, device)).sum().backward();
      const floats = inputs.filter((t) => t.dtype === 'float32');
      expect(floats.length).toBe(c.grads!.length);
      for (const [k, g] of c.grads!.entries()) {
        expect(floats[k]!.grad, `grad of input ${k}`).not.toBeNull();
        await expectClose(floats[k]!.grad!, g!.shape, fixtureValues(g!), 1e-4, 1e-5);
      }
    });
  });
});
