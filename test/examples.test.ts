/** The seed's two sections as examples: exact printed text, and training checked against float64. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import { tensorBasics } from '../examples/tensor-basics.js';
import { trainTwoLayerNet } from '../examples/two-layer-net.js';
import { describeDevices } from './devices.js';

const expected = fs.readFileSync(new URL('./fixtures/tensor-basics.expected.txt', import.meta.url), 'utf8');

describe('tensor-basics example', () => {
  it('prints exactly what PyTorch prints for the seed', () => {
    const lines: string[] = [];
    tensorBasics((l) => lines.push(l));
    expect(lines.join('\n') + '\n').toBe(expected);
  });
  it('`npm run example -- tensor-basics` prints the same text', () => {
    const out = execFileSync('node', ['scripts/run-example.mjs', 'tensor-basics'], { encoding: 'utf8' });
    expect(out).toBe(expected);
  });
});

/** The seed's net in plain float64 JS loops, from the same initial values: an independent reference. */
function referenceLosses(x: Float64Array, y: Float64Array, w1: Float64Array, w2: Float64Array, steps: number): number[] {
  const [B, I, H, O] = [64, 1000, 100, 10];
  const lr = 1e-6;
  const losses: number[] = [];
  const h = new Float64Array(B * H), yp = new Float64Array(B * O), gyp = new Float64Array(B * O);
  const gh = new Float64Array(B * H), gw1 = new Float64Array(I * H), gw2 = new Float64Array(H * O);
  for (let t = 1; t <= steps; t++) {
    h.fill(0);
    for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) {
      const xv = x[b * I + i]!;
      for (let j = 0; j < H; j++) h[b * H + j] += xv * w1[i * H + j]!;
    }
    yp.fill(0);
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
      const r = Math.max(h[b * H + j]!, 0);
      for (let o = 0; o < O; o++) yp[b * O + o] += r * w2[j * O + o]!;
    }
    let loss = 0;
    for (let k = 0; k < B * O; k++) {
      const d = yp[k]! - y[k]!;
      loss += d * d;
      gyp[k] = 2 * d;
    }
    if (t % 100 === 0) losses.push(loss);
    gw2.fill(0);
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
      const r = Math.max(h[b * H + j]!, 0);
      let g = 0;
      for (let o = 0; o < O; o++) {
        gw2[j * O + o] += r * gyp[b * O + o]!;
        g += gyp[b * O + o]! * w2[j * O + o]!;
      }
      // clamp(min=0) passes the gradient where h >= 0
      gh[b * H + j] = h[b * H + j]! >= 0 ? g : 0;
    }
    gw1.fill(0);
    for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) {
      const xv = x[b * I + i]!;
      for (let j = 0; j < H; j++) gw1[i * H + j] += xv * gh[b * H + j]!;
    }
    for (let k = 0; k < w1.length; k++) w1[k] -= lr * gw1[k]!;
    for (let k = 0; k < w2.length; k++) w2[k] -= lr * gw2[k]!;
  }
  return losses;
}

describeDevices('two-layer-net example on %s', (device) => {
  it('prints the seed-shaped lines, and losses match a float64 reference within 1e-3 at 100 and 200', async () => {
    const seed = 1234;
    // The reference starts from the very values the example drew on this device.
    let init: Float64Array[] = [];
    const onInit = async (t: Record<'x' | 'y' | 'w1' | 'w2', torch.Tensor>) => {
      init = await Promise.all([t.x, t.y, t.w1, t.w2].map(async (v) => Float64Array.from(await v.data())));
    };
    const lines: string[] = [];
    const losses = await trainTwoLayerNet({ device, seed, steps: 200, print: (l) => lines.push(l), onInit });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Iteration:  100 \t Loss:  \d+\.\d+(e[+-]\d+)?$/);
    expect(lines[1]).toMatch(/^Iteration:  200 \t Loss:  /);
    const ref = referenceLosses(init[0]!, init[1]!, init[2]!, init[3]!, 200);
    losses.forEach((l, i) => expect(Math.abs(l - ref[i]!) / ref[i]!).toBeLessThan(1e-3));
  });
});
