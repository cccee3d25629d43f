/** Shared test helpers: fixtures from real PyTorch and tolerant comparison. */
import fs from 'node:fs';
import { expect } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import type { GpuBuf } from '../src/backends/webgpu/pool.js';
import { fixtureNumber, fromFixture as fromFixtureWith, type FixtureTensor } from './fixture-ops.js';

export type { FixtureTensor } from './fixture-ops.js';
export { fixtureDType } from './fixture-ops.js';

export function loadFixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** A fixture tensor as a wgtorch tensor on `device` (PyTorch's int64 becomes int32). */
export function fromFixture(f: FixtureTensor, device: Device, requiresGrad = false): Tensor {
  return fromFixtureWith(torch, f, device, requiresGrad);
}

export function fixtureValues(f: FixtureTensor): number[] {
  return f.data.map(fixtureNumber);
}

/** Checks shape and values within |a - b| <= atol + rtol |b| (NaN matches NaN). */
export async function expectClose(t: Tensor, shape: readonly number[], want: readonly number[], rtol = 1e-4, atol = 1e-5): Promise<void> {
  expect(t.shape).toEqual(shape);
  const got = Array.from(await t.data());
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    if (Number.isNaN(w)) expect(g, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(w)) expect(g, `element ${i}`).toBe(w);
    // Written as !(within) so that a NaN result fails against a finite want.
    else if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      expect.fail(`element ${i}: got ${g}, want ${w} (shape [${shape.join(', ')}])`);
    }
  });
}

/**
 * PyTorch's _add_suffixes: appends ", suffix" to the text, or wraps onto a new line indented by
 * len('tensor(') when the last line would pass 80 columns.
 */
export function addSuffixes(body: string, suffixes: readonly string[]): string {
  let out = body;
  let last = body.length - body.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (last + s.length + 2 > 80) {
      out += `,\n       ${s}`;
      last = 7 + s.length;
    } else {
      out += `, ${s}`;
      last += s.length + 2;
    }
  }
  return out + ')';
}

/**
 * Destroys the WebGPU buffer under a live tensor `a` (ones([8])) and reads `op(a)`: the submit that
 * uses the buffer is invalid. Returns what the read rejected with (null if it resolved). The op is
 * the caller's, so an error naming where it was called names the caller's file.
 */
export async function errorOfDestroyedBuffer(op: (a: Tensor) => Tensor): Promise<unknown> {
  const a = torch.ones([8], { device: 'webgpu' });
  await a.data(); // computed and stored (a fill nobody reads would wait, as a recipe)
  (a.storage.buf as GpuBuf).buffer.destroy();
  const b = op(a);
  return b.data().then(() => null, (e: unknown) => e);
}
