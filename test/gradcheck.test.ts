/**
 * Float64 finite-difference gradient checks on the CPU backend, for every differentiable op,
 * on random shapes with broadcasting and non-contiguous views (transposes, stepped slices).
 */
import { describe, it } from 'vitest';
import * as torch from '../src/index.js';
import { C, expectGradientsMatchFiniteDifferences, initial, type GradCase } from './finite-difference.js';

// Inputs are random draws, so values sit well away from the kinks of relu/abs/clamp/max.
const cases: GradCase[] = [
  C('neg of a transpose', [[[3, 4]]], ([x]) => x!.t().neg()),
  C('abs', [[[3, 4]]], ([x]) => x!.abs()),
  C('exp of a stepped slice', [[[4, 6]]], ([x]) => x!.slice(1, 0, 6, 2).exp()),
  C('log', [[[3, 4], 'positive']], ([x]) => x!.log()),
  C('sqrt of a transpose', [[[3, 4], 'positive']], ([x]) => x!.t().sqrt()),
  C('relu', [[[5, 4]]], ([x]) => x!.relu()),
  C('sigmoid', [[[3, 4]]], ([x]) => x!.sigmoid()),
  C('tanh', [[[3, 4]]], ([x]) => x!.tanh()),
  C('clamp min', [[[4, 5]]], ([x]) => x!.clamp({ min: 0 })),
  C('clamp max', [[[4, 5]]], ([x]) => x!.clamp({ max: 0.3 })),
  C('clamp both on a view', [[[4, 5]]], ([x]) => x!.t().clamp(-0.5, 0.5)),
  C('add broadcast [2,3] + [3]', [[[2, 3]], [[3]]], ([a, b]) => a!.add(b!)),
  C('add alpha', [[[2, 3]], [[2, 3]]], ([a, b]) => a!.add(b!, { alpha: 2.5 })),
  C('sub broadcast [4,1] - [1,5]', [[[4, 1]], [[1, 5]]], ([a, b]) => a!.sub(b!)),
  C('mul broadcast with a transposed operand', [[[3, 2]], [[3]]], ([a, b]) => a!.t().mul(b!)),
  C('div broadcast', [[[2, 3]], [[2, 1], 'positive']], ([a, b]) => a!.div(b!)),
  C('scalar on the left: 2 - x, 3 / x', [[[3], 'positive']], ([x]) => torch.sub(2, x!).mul(torch.div(3, x!))),
  C('pow scalar exponents', [[[2, 3], 'positive']], ([x]) => x!.pow(2).add(x!.pow(-1.5)).add(x!.pow(0.5))),
  C('pow tensor exponent', [[[2, 3], 'positive'], [[3]]], ([a, b]) => a!.pow(b!)),
  C('pow scalar base', [[[4]]], ([b]) => torch.pow(2, b!)),
  C('maximum / minimum broadcast', [[[3, 4]], [[4]]], ([a, b]) => a!.maximum(b!).add(torch.minimum(a!, b!).mul(3))),
  C('where broadcast', [[[3, 4]], [[4]]], ([a, b]) => torch.where(a!.gt(0), a!, b!)),
  C('mm with transposed operands', [[[4, 3]], [[5, 4]]], ([a, b]) => a!.t().mm(b!.t())),
  C('bmm', [[[2, 3, 4]], [[2, 4, 5]]], ([a, b]) => a!.bmm(b!)),
  C('matmul 1-D · 2-D', [[[3]], [[3, 4]]], ([a, b]) => a!.matmul(b!)),
  C('matmul 2-D · 1-D', [[[3, 4]], [[4]]], ([a, b]) => a!.matmul(b!)),
  C('matmul broadcast batch', [[[2, 1, 3, 4]], [[3, 4, 2]]], ([a, b]) => a!.matmul(b!)),
  C('dot', [[[5]], [[5]]], ([a, b]) => a!.dot(b!)),
  C('sum all / dim / dims keepdim', [[[2, 3, 4]]], ([x]) => x!.sum().add(x!.sum(1).sum()).add(x!.sum([0, 2], true).mul(x!.sum([0, 2], true)).sum())),
  C('mean dims', [[[2, 3, 4]]], ([x]) => x!.mean(-1).sum().mul(x!.mean([0, 1], true))),
  C('amax / amin', [[[3, 4]]], ([x]) => x!.amax(1).add(x!.amin(0).sum())),
  C('max() / min()', [[[3, 4]]], ([x]) => x!.max().mul(x!.min())),
  C('max(dim) / min(dim) values', [[[3, 4]]], ([x]) => x!.max(1).values.add(x!.min(1, true).values.squeeze(1))),
  C('reshape / view / flatten', [[[2, 6]]], ([x]) => x!.reshape(3, 4).mul(x!.view(3, 4)).flatten()),
  C('reshape of a transpose copies', [[[3, 4]]], ([x]) => x!.t().reshape(12).mul(torch.arange(12).double())),
  C('permute / transpose / unsqueeze / squeeze', [[[2, 3, 4]]], ([x]) => x!.permute(2, 0, 1).transpose(0, 1).unsqueeze(1).squeeze(1).pow(2)),
  C('expand / contiguous', [[[3, 1]]], ([x]) => x!.expand(3, 4).contiguous().mul(torch.arange(12).double().reshape(3, 4))),
  C('narrow / select / slice with step', [[[4, 5]]], ([x]) => x!.narrow(0, 1, 2).sum().add(x!.select(1, -1).pow(2).sum()).add(x!.slice(1, 1, null, 2).exp().sum())),
  C('clone', [[[3]]], ([x]) => x!.clone().pow(3)),
  C('in-place ops on a non-leaf', [[[3, 4]]], ([x]) => x!.mul(1).mul_(2).add_(x!).clamp_({ min: -0.2 }).div_(3)),
  C('seed loss', [[[8, 20]], [[20, 6]], [[6, 3]]], ([x, w1, w2]) => x!.mm(w1!).clamp({ min: 0 }).mm(w2!).sub(1).pow(2).sum()),
];

describe('float64 finite-difference gradcheck (cpu)', () => {
  for (const [k, c] of cases.entries()) {
    it(c.name, () => {
      expectGradientsMatchFiniteDifferences(c, c.leaves.map(([shape, init], i) => initial(shape, init, 100 * k + i)));
    });
  }
});
