/**
 * torch.optim against PyTorch 1.13 (test/fixtures/nn.json): four steps of each optimizer from the
 * same parameters and gradients, learning-rate schedules, state dicts, and literal cases.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device } from '../src/index.js';
import { devices } from './devices.js';
import { expectClose, fixtureValues, fromFixture, loadFixture, type FixtureTensor } from './helpers.js';

interface OptimCase {
  opt: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
  kwargs: Record<string, unknown>;
  group1?: Record<string, unknown>;
  params: FixtureTensor[];
  grads: FixtureTensor[][];
  after: FixtureTensor[][];
}
interface SchedCase {
  sched: 'StepLR' | 'CosineAnnealingLR' | 'LambdaLR';
  kwargs: Record<string, unknown>;
  lrs: number[];
}
const fx = loadFixture<{ optim: OptimCase[]; sched: SchedCase[] }>('nn.json');

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const camelKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function makeOptimizer(name: OptimCase['opt'], params: any, opts: any): torch.optim.Optimizer<{ lr: number }> {
  const O = torch.optim[name] as unknown as new (p: unknown, o: unknown) => torch.optim.Optimizer<{ lr: number }>;
  return new O(params, opts);
}

describe.each(devices)('torch.optim on %s', (device: Device) => {
  describe('four steps match PyTorch', () => {
    fx.optim.forEach((c, i) => {
      it(`${i}: ${c.opt} ${JSON.stringify(c.kwargs)}${c.group1 ? ` group1 ${JSON.stringify(c.group1)}` : ''}`, async () => {
        const ps = c.params.map((p) => fromFixture(p, device, true));
        const opts = camelKeys(c.kwargs);
        const groups = c.group1 ? [{ params: [ps[0]!] }, { params: [ps[1]!], ...camelKeys(c.group1) }] : ps;
        const opt = makeOptimizer(c.opt, groups, opts);
        for (let s = 0; s < c.grads.length; s++) {
          ps.forEach((p, k) => (p.grad = fromFixture(c.grads[s]![k]!, device)));
          opt.step();
          for (let k = 0; k < ps.length; k++) {
            const want = c.after[s]![k]!;
            await expectClose(ps[k]!, want.shape, fixtureValues(want), 1e-4, 1e-5);
          }
        }
      });
    });
  });

  describe('learning-rate schedules match PyTorch', () => {
    fx.sched.forEach((c) => {
      it(`${c.sched} ${JSON.stringify(c.kwargs)}`, () => {
        const p = torch.zeros(1, { device, requiresGrad: true });
        const opt = new torch.optim.SGD([p], { lr: 0.1 });
        const k = camelKeys(c.kwargs);
        const S = torch.optim.lrScheduler;
        const s =
          c.sched === 'StepLR' ? new S.StepLR(opt, k as { stepSize: number })
          : c.sched === 'CosineAnnealingLR' ? new S.CosineAnnealingLR(opt, { tMax: k.TMax as number, etaMin: k.etaMin as number | undefined })
          : new S.LambdaLR(opt, (e) => 0.95 ** e);
        const lrs = [opt.paramGroups[0]!.lr];
        for (let i = 1; i < c.lrs.length; i++) {
          opt.step();
          s.step();
          lrs.push(opt.paramGroups[0]!.lr);
        }
        lrs.forEach((lr, i) => expect(lr, `epoch ${i}`).toBeCloseTo(c.lrs[i]!, 12));
        expect(s.getLastLr()).toEqual([lrs[lrs.length - 1]]);
      });
    });
  });

  describe('literal cases', () => {
    it('SGD: p ← p - lr·g; momentum buffer starts as the first gradient', async () => {
      const p = torch.tensor([1, 2], { device, requiresGrad: true });
      const opt = new torch.optim.SGD([p], { lr: 0.1, momentum: 0.5 });
      p.grad = torch.tensor([1, -1], { device });
      opt.step(); // buf = g = [1, -1] → p = [0.9, 2.1]
      p.grad = torch.tensor([1, -1], { device });
      opt.step(); // buf = 0.5·[1,-1] + [1,-1] = [1.5,-1.5] → p = [0.75, 2.25]
      await expectClose(p, [2], [0.75, 2.25]);
      expect(p.requiresGrad && p.isLeaf).toBe(true);
    });
    it('Adam: the first step moves each coordinate by lr·sign(g) (bias-corrected m/√v = ±1)', async () => {
      const p = torch.tensor([1, 2, 3], { device, requiresGrad: true });
      const opt = new torch.optim.Adam([p], { lr: 0.1 });
      p.grad = torch.tensor([3, -0.5, 0], { device });
      opt.step();
      await expectClose(p, [3], [0.9, 2.1, 3], 1e-6, 1e-6);
    });
    it('zeroGrad zeroes by default (PyTorch 1.13) and sets null with setToNone', async () => {
      const p = torch.tensor([1, 2], { device, requiresGrad: true });
      const opt = new torch.optim.SGD([p], { lr: 0.1 });
      p.mul(3).sum().backward();
      opt.zeroGrad();
      expect(Array.from(await p.grad!.data())).toEqual([0, 0]);
      opt.zeroGrad({ setToNone: true });
      expect(p.grad).toBeNull();
      opt.step(); // a parameter without grad is skipped
      expect(Array.from(await p.data())).toEqual([1, 2]);
    });
    it('stateDict/loadStateDict resume Adam exactly', async () => {
      const run = async (split: boolean) => {
        const p = torch.tensor([0.5, -1.5], { device, requiresGrad: true });
        let opt = new torch.optim.Adam([p], { lr: 0.05 });
        for (let s = 0; s < 4; s++) {
          if (split && s === 2) {
            const sd = opt.stateDict();
            opt = new torch.optim.Adam([p], { lr: 999 });
            opt.loadStateDict(sd);
          }
          p.grad = torch.tensor([s + 1, -s], { device });
          opt.step();
        }
        return Array.from(await p.data());
      };
      expect(await run(true)).toEqual(await run(false));
    });
    it('a step inside torch.scope keeps the optimizer state (like a leaf\'s .grad)', async () => {
      const p = torch.tensor([1, 2], { device, requiresGrad: true });
      const opt = new torch.optim.Adam([p], { lr: 0.1 });
      const sgd = new torch.optim.SGD([p], { lr: 0.1, momentum: 0.9 });
      for (let i = 0; i < 2; i++) {
        torch.scope(() => {
          p.mul(p).sum().backward();
          opt.step();
          sgd.step();
          opt.zeroGrad();
        });
      }
      const st = opt.state.get(p)!;
      expect(st.step).toBe(2);
      expect((await (st.expAvg as torch.Tensor).data()).length).toBe(2);
      expect((await (sgd.state.get(p)!.momentumBuffer as torch.Tensor).data()).length).toBe(2);
    });
    it('param groups keep their own hyperparameters; schedulers set every group', () => {
      const a = torch.zeros(1, { requiresGrad: true }), b = torch.zeros(1, { requiresGrad: true });
      const opt = new torch.optim.SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1, momentum: 0.9 });
      expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.1, 0.9], [1, 0.9]]);
      const s = new torch.optim.lrScheduler.StepLR(opt, { stepSize: 1, gamma: 0.5 });
      s.step();
      expect(s.getLastLr()).toEqual([0.05, 0.5]);
    });
    it('a scheduler resumed from its state dict keeps the base rates it was saved with', () => {
      // PyTorch: LambdaLR(SGD(lr=1), 0.9**e) stepped 3 times, saved, loaded into a scheduler of an
      // SGD(lr=0.5) whose state was loaded too; the next step sets lr = 1 · 0.9⁴ = 0.6561.
      const make = (lr: number) => {
        const opt = new torch.optim.SGD([torch.zeros(1, { requiresGrad: true })], { lr });
        return { opt, s: new torch.optim.lrScheduler.LambdaLR(opt, (e) => 0.9 ** e) };
      };
      const a = make(1);
      for (let i = 0; i < 3; i++) a.s.step();
      const b = make(0.5);
      b.opt.loadStateDict(a.opt.stateDict());
      b.s.loadStateDict(a.s.stateDict());
      expect(b.s.baseLrs).toEqual([1]);
      b.s.step();
      expect(b.s.getLastLr()[0]).toBeCloseTo(0.6561, 12);
    });
    it('bad hyperparameters get PyTorch errors', () => {
      const p = torch.zeros(1, { requiresGrad: true });
      expect(() => new torch.optim.SGD([p], { lr: -1 })).toThrow('Invalid learning rate: -1');
      expect(() => new torch.optim.SGD([], { lr: 1 })).toThrow('optimizer got an empty parameter list');
      expect(() => new torch.optim.SGD([p], { lr: 1, nesterov: true })).toThrow('Nesterov momentum requires a momentum and zero dampening');
      expect(() => new torch.optim.Adam([p], { betas: [1, 0.9] })).toThrow('Invalid beta parameter at index 0: 1');
      expect(() => new torch.optim.SGD([p], {} as { lr: number })).toThrow("parameter group didn't specify a value of required optimization parameter lr");
      expect(() => new torch.optim.Adam(p as unknown as torch.Tensor[])).toThrow(
        new torch.TypeError('params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.FloatTensor'),
      );
      // A state dict without its groups or state: PyTorch's KeyError naming the missing key.
      const opt = new torch.optim.SGD([p], { lr: 1 });
      expect(() => opt.loadStateDict({} as never)).toThrow(new torch.KeyError("'paramGroups'"));
      expect(() => opt.loadStateDict({ paramGroups: opt.stateDict().paramGroups } as never)).toThrow(new torch.KeyError("'state'"));
      // A scheduler given something else than an optimizer: PyTorch's TypeError, not a raw JS one.
      const S = torch.optim.lrScheduler;
      expect(() => new S.StepLR(null as never, { stepSize: 1 })).toThrow(new torch.TypeError('NoneType is not an Optimizer'));
      expect(() => new S.StepLR(new torch.nn.Linear(1, 1) as never, { stepSize: 1 })).toThrow(new torch.TypeError('Linear is not an Optimizer'));
    });
    it('the model-level loop: zeroGrad, backward, step lowers an MSE loss', async () => {
      torch.manualSeed(0);
      const model = new torch.nn.Linear(2, 1, { device });
      const opt = new torch.optim.SGD(model.parameters(), { lr: 0.02 });
      const x = torch.tensor([[1, 2], [3, 4], [-1, 0]], { device });
      const y = torch.tensor([[1], [2], [0]], { device });
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const loss = torch.nn.functional.mseLoss(model.forward(x), y);
        losses.push(await loss.item());
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
      expect(losses[4]!).toBeLessThan(losses[0]!);
    });
  });
});

describe('optimizer repr', () => {
  it("prints PyTorch's layout: the class, then each group's hyperparameters in snake_case, sorted", () => {
    // PyTorch 1.13: repr(torch.optim.SGD(p, lr=0.1, momentum=0.9)) lists dampening, lr, maximize,
    // momentum, nesterov and weight_decay like this (plus differentiable and foreach, which wgtorch
    // has no switch for); integers print without ".0", floats as Python's repr (1e-08); groups are
    // separated by a blank line, as there.
    const p = new torch.nn.Linear(2, 2).parameters();
    const sgd = new torch.optim.SGD(p, { lr: 0.1, momentum: 0.9 });
    expect(String(sgd)).toBe(
      'SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.1\n    maximize: False\n    momentum: 0.9\n    nesterov: False\n    weight_decay: 0\n)',
    );
    const [w, b] = new torch.nn.Linear(2, 2).parameters();
    const adam = new torch.optim.Adam([{ params: [w!] }, { params: [b!], lr: 1e-2 }], { weightDecay: 1e-2 });
    expect(String(adam)).toBe(
      'Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n    eps: 1e-08\n    lr: 0.001\n    maximize: False\n    weight_decay: 0.01\n\n' +
        'Parameter Group 1\n    amsgrad: False\n    betas: (0.9, 0.999)\n    eps: 1e-08\n    lr: 0.01\n    maximize: False\n    weight_decay: 0.01\n)',
    );
  });
});
