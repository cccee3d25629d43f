/**
 * Float64 finite-difference gradcheck on the CPU backend for every differentiable op of issue 13
 * (math, activations, reductions, joining, indexing), on shapes with broadcasting and views.
 */
import { describe, it } from 'vitest';
import * as torch from '../src/index.js';
import { C, expectGradientsMatchFiniteDifferences, initial, type GradCase } from './finite-difference.js';

const F = torch.nn.functional;
const I = (v: number[], shape?: number[]) => torch.tensor(new Int32Array(v)).reshape(shape ?? [v.length]);

const cases: GradCase[] = [
  C('sin / cos / tan of a transpose', [[[3, 4]]], ([x]) => x!.t().sin().add(x!.t().cos()).add(x!.t().mul(0.3).tan())),
  C('sinh / cosh / atan / asin / acos', [[[3, 4]]], ([x]) => x!.sinh().add(x!.cosh()).add(x!.atan()).add(x!.mul(0.4).asin()).add(x!.mul(0.4).acos())),
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

describe('float64 finite-difference gradcheck of the extra ops (cpu)', () => {
  for (const [k, c] of cases.entries()) {
    it(c.name, () => {
      expectGradientsMatchFiniteDifferences(c, c.leaves.map(([shape, init], i) => initial(shape, init, 1000 + 100 * k + i)));
    });
  }
});
