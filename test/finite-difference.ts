/**
 * Float64 central-difference gradient check shared by the gradcheck suites: each case is a function of
 * leaf tensors, checked as d/dleaf sum(f(leaves) * upstream) for a fixed random upstream gradient.
 */
import { expect } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';

/** How a leaf's values are drawn: N(0, 1), U(0.5, 2), or N(0, 1) with element 1 set to zero. */
export type Init = 'normal' | 'positive' | 'zeros-in';

/** A gradcheck case: a name, each leaf's shape and init, and the function under test. */
export interface GradCase {
  name: string;
  leaves: [number[], Init?][];
  f: (xs: Tensor[]) => Tensor;
}

/** Builds a {@link GradCase}. */
export const C = (name: string, leaves: [number[], Init?][], f: (xs: Tensor[]) => Tensor): GradCase => ({ name, leaves, f });

/** The seeded float64 values of one leaf. */
export function initial(shape: number[], init: Init | undefined, seed: number): Float64Array {
  torch.manualSeed(seed);
  const r = init === 'positive' ? torch.rand(shape, { dtype: 'float64' }).mul(1.5).add(0.5) : torch.randn(shape, { dtype: 'float64' });
  const v = r.dataSync() as Float64Array;
  if (init === 'zeros-in') v[1] = 0;
  return v;
}

function evaluate(c: GradCase, values: Float64Array[], upstream: Tensor): { loss: Tensor; leaves: Tensor[] } {
  const leaves = values.map((v, i) => torch.tensor(v, { dtype: 'float64' }).reshape(c.leaves[i]![0]).detach().requiresGrad_());
  return { loss: c.f(leaves).mul(upstream).sum(), leaves };
}

/**
 * Checks every leaf's analytic gradient against central differences (h = 1e-6) within
 * 1e-5 + 1e-4 |numeric|; leaves start at `values` (from {@link initial}).
 */
export function expectGradientsMatchFiniteDifferences(c: GradCase, values: Float64Array[]): void {
  const probe = c.f(values.map((v, i) => torch.tensor(v, { dtype: 'float64' }).reshape(c.leaves[i]![0])));
  torch.manualSeed(99);
  const upstream = torch.randn(probe.shape.slice(), { dtype: 'float64' });
  const { loss, leaves } = evaluate(c, values, upstream);
  loss.backward();
  const h = 1e-6;
  values.forEach((v, li) => {
    const analytic = leaves[li]!.grad!.dataSync();
    expect(analytic.length).toBe(v.length);
    for (let j = 0; j < v.length; j++) {
      const plus = values.map((w) => w.slice());
      const minus = values.map((w) => w.slice());
      plus[li]![j]! += h;
      minus[li]![j]! -= h;
      const numeric = (evaluate(c, plus, upstream).loss.itemSync() - evaluate(c, minus, upstream).loss.itemSync()) / (2 * h);
      if (Math.abs(analytic[j]! - numeric) > 1e-5 + 1e-4 * Math.abs(numeric)) {
        expect.fail(`leaf ${li} element ${j}: analytic ${analytic[j]} vs numeric ${numeric}`);
      }
    }
  });
}
