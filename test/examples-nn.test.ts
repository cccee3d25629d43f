/**
 * The tutorial's polynomial programs and the iris classifier print what the PyTorch programs
 * print (same lines, same format), and they learn: losses fall, accuracy rises.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Device } from '../src/index.js';
import { trainClassifier } from '../examples/classifier.js';
import * as dynamicNet from '../examples/dynamic-net.js';
import * as autograd from '../examples/polynomial-autograd.js';
import * as customFunction from '../examples/polynomial-custom-function.js';
import * as moduleEx from '../examples/polynomial-module.js';
import * as nnEx from '../examples/polynomial-nn.js';
import * as optimEx from '../examples/polynomial-optim.js';
import * as tensors from '../examples/polynomial-tensors.js';
import { devices } from './devices.js';

const FLOAT = String.raw`-?\d+(\.\d+)?(e[+-]\d+)?`;
const POLY = new RegExp(`^Result: y = ${FLOAT} \\+ ${FLOAT} x \\+ ${FLOAT} x\\^2 \\+ ${FLOAT} x\\^3$`);
const LOSS = new RegExp(`^(\\d+) (${FLOAT})$`);

type Run = (o: { device: Device; steps?: number; seed?: number; print?: (l: string) => void }) => Promise<void>;
const programs: [string, Run, RegExp][] = [
  ['polynomial-tensors', tensors.run, POLY],
  ['polynomial-autograd', autograd.run, POLY],
  ['polynomial-custom-function', customFunction.run, new RegExp(`^Result: y = ${FLOAT} \\+ ${FLOAT} \\* P3\\(${FLOAT} \\+ ${FLOAT} x\\)$`)],
  ['polynomial-nn', nnEx.run, POLY],
  ['polynomial-optim', optimEx.run, POLY],
  ['polynomial-module', moduleEx.run, POLY],
];

async function linesOf(run: Run, device: Device, steps: number): Promise<string[]> {
  const lines: string[] = [];
  await run({ device, steps, seed: 0, print: (l) => lines.push(l) });
  return lines;
}

describe.each(devices)('nn examples on %s', (device) => {
  const steps = 300;
  it.each(programs)('%s prints "t loss" every 100 iterations, then the result, and the loss falls', async (_name, run, result) => {
    const lines = await linesOf(run, device, steps);
    expect(lines).toHaveLength(steps / 100 + 1);
    const losses = lines.slice(0, -1).map((l, i) => {
      const m = LOSS.exec(l);
      expect(m, l).not.toBeNull();
      expect(Number(m![1])).toBe(100 * i + 99);
      return Number(m![2]);
    });
    expect(lines[lines.length - 1]).toMatch(result);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
  });

  it('dynamic-net prints every 2000 iterations and a five-term result', async () => {
    const lines = await linesOf(dynamicNet.run, device, 2000);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^1999 ${FLOAT}$`));
    expect(lines[1]).toMatch(new RegExp(`^Result: y = ${FLOAT} \\+ ${FLOAT} x \\+ ${FLOAT} x\\^2 \\+ ${FLOAT} x\\^3 \\+ ${FLOAT} x\\^4 \\? \\+ ${FLOAT} x\\^5 \\?$`));
  });

  it('the iris classifier prints one line per epoch and reaches 90% test accuracy', async () => {
    const lines: string[] = [];
    const hist = await trainClassifier({ device, epochs: 15, print: (l) => lines.push(l) });
    expect(lines).toHaveLength(15);
    lines.forEach((l, i) => expect(l).toMatch(new RegExp(`^Epoch ${String(i + 1).padStart(2)}: loss \\d\\.\\d{4}, train accuracy \\d+\\.\\d%, test accuracy \\d+\\.\\d%$`)));
    expect(hist[14]!.loss).toBeLessThan(hist[0]!.loss);
    expect(hist[14]!.testAccuracy).toBeGreaterThanOrEqual(0.9);
  });
});

describe('`npm run example` runs them', () => {
  it('polynomial-module and classifier through scripts/run-example.mjs', () => {
    const env = { ...process.env, STEPS: '200', EPOCHS: '2' };
    const poly = execFileSync('node', ['scripts/run-example.mjs', 'polynomial-module'], { encoding: 'utf8', env }).trim().split('\n');
    expect(poly).toHaveLength(3);
    expect(poly[0]).toMatch(LOSS);
    expect(poly[2]).toMatch(POLY);
    const cls = execFileSync('node', ['scripts/run-example.mjs', 'classifier'], { encoding: 'utf8', env }).trim().split('\n');
    expect(cls[0]).toMatch(/^Device: (cpu|webgpu)$/);
    expect(cls.slice(1)).toHaveLength(2);
  });
});
