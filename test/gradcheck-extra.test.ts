/**
 * Float64 finite-difference gradcheck on the CPU backend for every differentiable op of issue 13
 * (math, activations, reductions, joining, indexing), on shapes with broadcasting and views.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';

type Init = 'normal' | 'positive' | 'zeros-in';
interface Case {
  name: string;
  leaves: [number[], Init?][];
  f: (xs: Tensor[]) => Tensor;
}
const C = (name: string, leaves: [number[], Init?][], f: (xs: Tensor[]) => Tensor): Case => ({ name, leaves, f });
const F = torch.nn.functional;
const I = (v: number[], shape?: number[]) => torch.tensor(new Int32Array(v)).reshape(shape ?? [v.length]);

const cases: Case[] = [
  C('sin / cos / tan of a transpose', [[[3, 4]]], ([x]) => x!.t().sin().add(x!.t().cos()).add(x!.t().mul(0.3).tan())),
  C('reciprocal / rsqrt / log1p / log2 / log10', [[[3, 4], 'positive']], ([x]) => x!.reciprocal().add(x!.rsqrt()).add(x!.log1p()).add(x!.log2()).add(x!.log10())),
  C('expm1 / exp2 / erf / square', [[[3, 4]]], ([x]) => x!.expm1().add(x!.exp2()).add(x!.erf()).add(torch.square(x!))),
  C('floor / ceil / round / trunc (zero gradient) and frac', [[[3, 4]]], ([x]) => x!.floor().add(x!.ceil()).add(x!.round()).add(x!.trunc()).add(x!.frac())),
  C('silu / gelu / gelu tanh', [[[3, 4]]], ([x]) => F.silu(x!).add(F.gelu(x!)).add(F.gelu(x!, { approximate: 'tanh' }))),
  C('leakyRelu / elu / hardtanh / softplus', [[[4, 5]]], ([x]) => F.leakyRelu(x!, 0.2).add(F.elu(x!, 0.7)).add(F.hardtanh(x!, -0.6, 0.8)).add(F.softplus(x!, { beta: 2, threshold: 1.5 }))),
  C('atan2 broadcast', [[[3, 4]], [[4]]], ([a, b]) => torch.atan2(a!, b!)),
  C('fmod / remainder', [[[3, 4]], [[4], 'positive']], ([a, b]) => torch.fmod(a!, b!).add(a!.remainder(b!.neg()))),
  C('pow with a broadcast tensor exponent', [[[2, 3], 'positive'], [[3]]], ([a, b]) => a!.pow(b!)),
  C('lerp with a tensor weight', [[[3, 4]], [[4]], [[3, 1]]], ([a, b, w]) => torch.lerp(a!, b!, w!)),
  C('var / std', [[[3, 5]]], ([x]) => x!.var(1).add(x!.std(0, { keepdim: true }).sum()).add(x!.var({ correction: 0 }))),
  C('logsumexp', [[[3, 5]]], ([x]) => x!.mul(3).logsumexp(1).add(torch.logsumexp(x!, [0, 1]))),
  C('prod with a zero', [[[3, 4], 'zeros-in']], ([x]) => x!.prod(1).sum().add(x!.prod())),
  C('cumsum', [[[3, 4]]], ([x]) => x!.cumsum(1).add(x!.t().cumsum(0).t())),
  C('norm p = 2, 1, 3, inf', [[[3, 4]]], ([x]) => x!.norm().add(x!.norm(1, 1).sum()).add(x!.norm(3, 0).sum()).add(x!.norm(Infinity, 1).sum())),
  C('softmax / logSoftmax', [[[3, 5]]], ([x]) => torch.softmax(x!, 1).mul(x!.logSoftmax(0))),
  C('cat / stack', [[[2, 3]], [[2, 2]]], ([a, b]) => torch.cat([a!, b!], 1).sum(0).add(torch.stack([a!.narrow(1, 0, 2), b!], 2).sum([0, 2]).sum())),
  C('split / chunk / unbind', [[[5, 3]]], ([x]) =>
    torch.cat(x!.split(2).map((p, i) => p.mul(i + 1)).concat(torch.chunk(x!, 2, 1), x!.unbind(1)).map((p) => p.reshape(-1)))),
  C('repeat / flip / roll', [[[2, 3]]], ([x]) => x!.repeat(2, 2).mul(torch.arange(24).double().reshape(4, 6)).add(x!.flip(0, 1).roll(1, 1).repeat(2, 2))),
  C('tril / triu', [[[3, 4, 4]]], ([x]) => x!.tril().add(torch.triu(x!, 1).mul(2))),
  C('gather / scatter / scatterAdd', [[[3, 4]], [[3, 2]]], ([x, s]) => {
    // scatter's gradient is defined only without repeated indices (PyTorch documents the same).
    const idx = I([0, 3, 1, 1, 2, 0], [3, 2]), distinct = I([0, 3, 1, 2, 2, 0], [3, 2]);
    return x!.gather(1, idx).add(x!.scatter(1, distinct, s!).sum(1, true)).add(x!.scatterAdd(1, idx, s!.mul(3)).sum(1, true));
  }),
  C('indexSelect / index / maskedFill', [[[4, 3]]], ([x]) => torch.indexSelect(x!, 0, I([3, 0, 3])).add(x!.index(I([-1, 1, 1]))).add(x!.maskedFill(x!.gt(0.5), 2).narrow(0, 0, 3))),
  C('sort / topk values', [[[3, 5]]], ([x]) => x!.sort(1).values.mul(torch.arange(5).double()).add(x!.topk(5, 1, { largest: false }).values)),
];

function initial(shape: number[], init: Init | undefined, seed: number): Float64Array {
  torch.manualSeed(seed);
  const r = init === 'positive' ? torch.rand(shape, { dtype: 'float64' }).mul(1.5).add(0.5) : torch.randn(shape, { dtype: 'float64' });
  const v = r.dataSync() as Float64Array;
  if (init === 'zeros-in') v[1] = 0;
  return v;
}

function evaluate(c: Case, values: Float64Array[], upstream: Tensor): { loss: Tensor; leaves: Tensor[] } {
  const leaves = values.map((v, i) => torch.tensor(v, { dtype: 'float64' }).reshape(c.leaves[i]![0]).detach().requiresGrad_());
  return { loss: c.f(leaves).mul(upstream).sum(), leaves };
}

describe('float64 finite-difference gradcheck of the extra ops (cpu)', () => {
  for (const [k, c] of cases.entries()) {
    it(c.name, () => {
      const values = c.leaves.map(([shape, init], i) => initial(shape, init, 1000 + 100 * k + i));
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
    });
  }
});
