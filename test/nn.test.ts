/**
 * torch.nn against PyTorch 1.13 (test/fixtures/nn.json from scripts/fixtures/nn.py): module
 * forwards and gradients with the same weights loaded into both, every loss with its gradient, and
 * initializer statistics; plus small literal cases for registration, state dicts and errors.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import { devices } from './devices.js';
import { expectClose, fixtureValues, fromFixture, loadFixture, type FixtureTensor } from './helpers.js';

const nn = torch.nn;
const F = torch.nn.functional;

interface ModuleCase {
  kind: string;
  args: unknown[];
  note: string;
  params: Record<string, FixtureTensor>;
  input: FixtureTensor;
  upstream: FixtureTensor;
  out: FixtureTensor;
  grads: Record<string, FixtureTensor>;
}
interface LossCase {
  fn: string;
  kwargs: Record<string, unknown>;
  input: FixtureTensor;
  target: FixtureTensor;
  weight?: FixtureTensor;
  pos_weight?: FixtureTensor;
  out: FixtureTensor;
  grad: FixtureTensor;
}
interface InitCase {
  case: string;
  shape: number[];
  mean: number;
  std: number;
  min: number;
  max: number;
  bound?: number;
}
const fx = loadFixture<{ modules: ModuleCase[]; losses: LossCase[]; init: InitCase[]; gains: Record<string, number> }>('nn.json');

/** The fixture's module, built the way a wgtorch user writes it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function build(kind: string, args: any[]): torch.nn.Module & { forward(x: Tensor): Tensor } {
  switch (kind) {
    case 'MLP':
      return new nn.Sequential(new nn.Linear(4, 5), new nn.ReLU(), new nn.Linear(5, 3), new nn.Tanh());
    case 'Linear': return new nn.Linear(args[0], args[1], args[2]);
    case 'ReLU': return new nn.ReLU();
    case 'Sigmoid': return new nn.Sigmoid();
    case 'Tanh': return new nn.Tanh();
    case 'GELU': return new nn.GELU(args[0]);
    case 'Softmax': return new nn.Softmax(args[0]);
    case 'LogSoftmax': return new nn.LogSoftmax(args[0]);
    case 'Flatten': return new nn.Flatten(args[0], args[1]);
    case 'LayerNorm': return new nn.LayerNorm(args[0], args[1]);
    case 'Embedding': return new nn.Embedding(args[0], args[1], args[2]);
    case 'Conv2d': return new nn.Conv2d(args[0], args[1], args[2], args[3]);
  }
  throw new Error(`no builder for ${kind}`);
}

const LOSSES: Record<string, (x: Tensor, t: Tensor, o: Record<string, unknown>) => Tensor> = {
  mse_loss: (x, t, o) => F.mseLoss(x, t, o),
  l1_loss: (x, t, o) => F.l1Loss(x, t, o),
  cross_entropy: (x, t, o) => F.crossEntropy(x, t, o),
  nll_loss: (x, t, o) => F.nllLoss(x, t, o),
  binary_cross_entropy: (x, t, o) => F.binaryCrossEntropy(x, t, o),
  binary_cross_entropy_with_logits: (x, t, o) => F.binaryCrossEntropyWithLogits(x, t, o),
};
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const near = (got: number, want: number, tol: number) => expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(tol);

describe.each(devices)('torch.nn on %s', (device: Device) => {
  describe('module forwards and gradients match PyTorch', () => {
    fx.modules.forEach((c, i) => {
      it(`${i}: ${c.kind}(${JSON.stringify(c.args)}) ${c.note}`, async () => {
        torch.manualSeed(i);
        const m = await build(c.kind, c.args).to(device);
        const sd: Record<string, Tensor> = {};
        for (const [k, v] of Object.entries(c.params)) sd[k] = fromFixture(v, device);
        m.loadStateDict(sd);
        const x = fromFixture(c.input, device, c.input.dtype === 'float32');
        const out = m.forward(x);
        await expectClose(out, c.out.shape, fixtureValues(c.out));
        out.mul(fromFixture(c.upstream, device)).sum().backward();
        const params = Object.fromEntries(m.namedParameters());
        for (const [k, g] of Object.entries(c.grads)) {
          const got = k === 'input' ? x.grad : params[k]!.grad;
          expect(got, `grad of ${k}`).not.toBeNull();
          await expectClose(got!, g.shape, fixtureValues(g));
        }
      });
    });
  });

  describe('losses and their gradients match PyTorch', () => {
    fx.losses.forEach((c, i) => {
      it(`${i}: ${c.fn} ${JSON.stringify(c.kwargs)}${c.weight ? ' weight' : ''}${c.pos_weight ? ' pos_weight' : ''} target ${c.target.dtype}`, async () => {
        const opts: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(c.kwargs)) opts[camel(k)] = v;
        if (c.weight) opts.weight = fromFixture(c.weight, device);
        if (c.pos_weight) opts.posWeight = fromFixture(c.pos_weight, device);
        const x = fromFixture(c.input, device, true);
        const out = LOSSES[c.fn]!(x, fromFixture(c.target, device), opts);
        await expectClose(out, c.out.shape, fixtureValues(c.out));
        out.sum().backward();
        await expectClose(x.grad!, c.grad.shape, fixtureValues(c.grad));
      });
    });
  });

  describe('loss modules call the functional forms', () => {
    it('CrossEntropyLoss({labelSmoothing, ignoreIndex}) equals F.crossEntropy', async () => {
      const x = torch.tensor([[1, 2, 3], [0, -1, 2]], { device });
      const t = torch.tensor(new Int32Array([2, 0]), { device });
      const a = await new nn.CrossEntropyLoss({ labelSmoothing: 0.1, ignoreIndex: 0 }).forward(x, t).item();
      const b = await F.crossEntropy(x, t, { labelSmoothing: 0.1, ignoreIndex: 0 }).item();
      expect(a).toBe(b);
      // Only row 0 counts: -log softmax([1,2,3])[2] = log(e+e²+e³) - 3 = 0.40760596; smoothing
      // adds 0.1·(mean over classes of -logp - nll) = 0.1·(1.40760596 - 0.40760596) → 0.50760596.
      expect(a).toBeCloseTo(0.9 * 0.40760596 + 0.1 * (3 * 0.40760596 + 3) / 3, 5);
    });
    it('MSELoss, L1Loss, NLLLoss, BCELoss, BCEWithLogitsLoss', async () => {
      const x = torch.tensor([0.25, 0.5], { device });
      const y = torch.tensor([0, 1], { device });
      // (0.25² + 0.5²)/2 = 0.15625; (0.25 + 0.5)/2 = 0.375
      expect(await new nn.MSELoss().forward(x, y).item()).toBeCloseTo(0.15625, 6);
      expect(await new nn.L1Loss({ reduction: 'sum' }).forward(x, y).item()).toBeCloseTo(0.75, 6);
      // -(log 0.75 + log 0.5)/2 = 0.4904146
      expect(await new nn.BCELoss().forward(x, y).item()).toBeCloseTo(0.4904146, 5);
      // BCE of sigmoid(0) = 0.5 is log 2 either way
      expect(await new nn.BCEWithLogitsLoss().forward(torch.zeros(2, { device }), y).item()).toBeCloseTo(Math.LN2, 6);
      const lp = torch.tensor([[-1, -2], [-3, -4]], { device });
      // picks -(-2) and -(-3): mean 2.5
      expect(await new nn.NLLLoss().forward(lp, torch.tensor(new Int32Array([1, 0]), { device })).item()).toBeCloseTo(2.5, 6);
    });
    it('bad targets get PyTorch errors', () => {
      const x = torch.zeros(3, 4, { device });
      expect(() => F.crossEntropy(x, torch.tensor(new Int32Array([1, 2])))).toThrow('Expected input batch_size (3) to match target batch_size (2).');
      expect(() => F.binaryCrossEntropy(torch.zeros(2, { device }), torch.zeros(2, 1, { device }))).toThrow(
        'Using a target size (torch.Size([2, 1])) that is different to the input size (torch.Size([2])) is deprecated. Please ensure they have the same size.',
      );
      expect(() => F.mseLoss(x, x, { reduction: 'avg' as 'mean' })).toThrow('avg is not a valid value for reduction');
      if (device === 'cpu') {
        // The bounds checks read the targets: on the CPU only (free there).
        expect(() => F.crossEntropy(x, torch.tensor(new Int32Array([0, 5, -100])))).toThrow(new torch.IndexError('Target 5 is out of bounds.'));
        expect(() => new nn.Embedding(3, 2).forward(torch.tensor(new Int32Array([0, 7])))).toThrow(new torch.IndexError('index out of range in self'));
      }
      expect(() => new nn.Linear(2, 2).loadStateDict(null as unknown as Record<string, Tensor>)).toThrow(new torch.TypeError('Expected state_dict to be dict-like, got NoneType.'));
    });
  });

  describe('initializers match PyTorch statistics', () => {
    const makers: Record<string, (s: number[]) => Tensor> = {
      'Linear.weight': () => new nn.Linear(400, 300, { device }).weight,
      'Linear.bias': () => new nn.Linear(400, 300, { device }).bias!,
      'Conv2d.weight': () => new nn.Conv2d(16, 32, 3, { device }).weight,
      'Embedding.weight': () => new nn.Embedding(500, 64, { device }).weight,
      kaimingUniform_: (s) => nn.init.kaimingUniform_(torch.empty(s, { device })),
      kaimingUniform_relu_fanout: (s) => nn.init.kaimingUniform_(torch.empty(s, { device }), { mode: 'fan_out', nonlinearity: 'relu' }),
      kaimingNormal_: (s) => nn.init.kaimingNormal_(torch.empty(s, { device })),
      xavierUniform_: (s) => nn.init.xavierUniform_(torch.empty(s, { device })),
      xavierNormal_gain2: (s) => nn.init.xavierNormal_(torch.empty(s, { device }), 2),
      normal_: (s) => nn.init.normal_(torch.empty(s, { device }), 2, 3),
      uniform_: (s) => nn.init.uniform_(torch.empty(s, { device }), -1, 3),
      zeros_: (s) => nn.init.zeros_(torch.ones(s, { device })),
    };
    fx.init.forEach((c) => {
      it(`${c.case} ${JSON.stringify(c.shape)}`, async () => {
        torch.manualSeed(7);
        const t = makers[c.case]!(c.shape);
        expect(t.shape).toEqual(c.shape);
        const v = Array.from(await t.data());
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
        // Different random streams: the same distribution within sampling error (std of the
        // sample mean is std/√n, of the sample std about std/√(2n); 5 of those), uniform bounds never passed.
        near(mean, c.mean, 5 * (c.std / Math.sqrt(v.length)) + 1e-7);
        near(std, c.std, 5 * (c.std / Math.sqrt(2 * v.length)) + 1e-7);
        if (c.bound !== undefined) {
          expect(Math.max(...v)).toBeLessThanOrEqual(c.bound);
          expect(Math.min(...v)).toBeGreaterThanOrEqual(-c.bound);
          near(Math.max(...v), c.max, 0.02 * c.bound);
        }
      });
    });
    it('calculateGain matches PyTorch', () => {
      for (const [k, g] of Object.entries(fx.gains)) expect(nn.init.calculateGain(k as torch.nn.init.Nonlinearity)).toBeCloseTo(g, 12);
    });
  });

  describe('Module', () => {
    class Net extends nn.Module {
      fc1 = new nn.Linear(3, 4, { device });
      act = new nn.ReLU();
      blocks = new nn.ModuleList([new nn.Linear(4, 4, { device }), new nn.Linear(4, 2, { device, bias: false })]);
      scale = new nn.Parameter(torch.ones(1, { device }));
      constructor() {
        super();
        this.registerBuffer('runningMean', torch.zeros(2, { device }));
        this.registerBuffer('scratch', torch.zeros(1, { device }), { persistent: false });
      }
      forward(x: Tensor): Tensor {
        let h = this.act.forward(this.fc1.forward(x));
        for (const b of this.blocks) h = (b as torch.nn.Linear).forward(h);
        return h.mul(this.scale);
      }
    }
    it('registers parameters, children and buffers in assignment order, own members first (as PyTorch)', () => {
      const net = new Net();
      expect(net.namedParameters().map(([k]) => k)).toEqual(['scale', 'fc1.weight', 'fc1.bias', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight']);
      expect(net.parameters()).toHaveLength(6);
      expect(net.parameters()[1]).toBe(net.fc1.weight);
      expect(net.children()).toEqual([net.fc1, net.act, net.blocks]);
      expect(net.modules()).toHaveLength(6); // net, fc1, act, blocks, blocks.0, blocks.1
      expect(Object.keys(net.stateDict())).toEqual([
        'scale', 'runningMean', 'fc1.weight', 'fc1.bias', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight',
      ]);
      expect(net.buffers()).toHaveLength(2);
    });
    it('train()/eval() reach every descendant; apply visits children first', () => {
      const net = new Net();
      net.eval();
      expect(net.modules().every((m) => !m.training)).toBe(true);
      net.train();
      expect(net.blocks.at(1).training).toBe(true);
      const seen: string[] = [];
      net.apply((m) => seen.push(m.constructor.name));
      expect(seen).toEqual(['Linear', 'ReLU', 'Linear', 'Linear', 'ModuleList', 'Net']);
    });
    it('zeroGrad zeroes (1.13 default) or sets to null; p.grad = null is allowed', async () => {
      const net = new Net();
      net.forward(torch.ones(2, 3, { device })).sum().backward();
      net.zeroGrad();
      expect(await net.fc1.weight.grad!.abs().sum().item()).toBe(0);
      net.zeroGrad({ setToNone: true });
      expect(net.fc1.weight.grad).toBeNull();
      net.scale.grad = null;
    });
    it('stateDict round-trips through loadStateDict; mismatches leave the module intact', async () => {
      const a = new Net(), b = new Net();
      b.loadStateDict(a.stateDict());
      const x = torch.randn(5, 3, { device });
      expect(Array.from(await b.forward(x).data())).toEqual(Array.from(await a.forward(x).data()));
      const before = Array.from(await b.fc1.bias!.data());
      const bad = { ...a.stateDict(), 'fc1.bias': torch.zeros(7, { device }), extra: torch.zeros(1, { device }) };
      expect(() => b.loadStateDict(bad)).toThrow(
        'Error(s) in loading state_dict for Net:\n\tUnexpected key(s) in state_dict: "extra". \n\tsize mismatch for fc1.bias: copying a param with shape torch.Size([7]) from checkpoint, the shape in current model is torch.Size([4]).',
      );
      expect(Array.from(await b.fc1.bias!.data())).toEqual(before);
      const { 'fc1.bias': _, ...missing } = a.stateDict();
      expect(b.loadStateDict(missing, { strict: false })).toEqual({ missingKeys: ['fc1.bias'], unexpectedKeys: [] });
      expect(() => b.loadStateDict(missing)).toThrow('Missing key(s) in state_dict: "fc1.bias".');
    });
    it('Sequential indexes its layers; repr is PyTorch\'s', () => {
      const seq = new nn.Sequential(new nn.Linear(3, 1), new nn.Flatten(0, 1));
      expect(seq[0]).toBeInstanceOf(nn.Linear);
      expect(seq.length).toBe(2);
      expect(String(seq)).toBe('Sequential(\n  (0): Linear(in_features=3, out_features=1, bias=True)\n  (1): Flatten(start_dim=0, end_dim=1)\n)');
      expect(String(new nn.Conv2d(3, 8, 3, { padding: 1 }))).toBe('Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))');
      expect(String(new nn.LayerNorm(4))).toBe('LayerNorm((4,), eps=1e-05, elementwise_affine=True)');
      expect(String(new nn.Dropout())).toBe('Dropout(p=0.5, inplace=False)');
    });
    it('to(device) moves parameters and buffers and gives back the module (at once for webgpu)', async () => {
      const m = new nn.Linear(2, 3);
      m.registerBuffer('count', torch.zeros(1));
      const r = m.to(device);
      if (device === 'webgpu') expect(r).toBe(m); // no read needed: the module itself
      expect(await r).toBe(m);
      expect([...m.parameters(), ...m.buffers()].map((t) => t.device)).toEqual([device, device, device]);
      expect(m.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad && p.isLeaf)).toBe(true);
      const back = await m.to('cpu');
      expect(back).toBe(m);
      expect(m.weight.device).toBe('cpu');
    });
    it('Sequential takes named layers; ModuleList indexes and iterates', () => {
      const seq = new nn.Sequential({ fc: new nn.Linear(2, 2), act: new nn.ReLU() });
      expect(seq.namedParameters().map(([k]) => k)).toEqual(['fc.weight', 'fc.bias']);
      const list = new nn.ModuleList([new nn.ReLU(), new nn.Tanh()]).append(new nn.Sigmoid());
      expect(list.length).toBe(3);
      expect(list.at(-1)).toBeInstanceOf(nn.Sigmoid);
      expect([...list].map((m) => m.constructor.name)).toEqual(['ReLU', 'Tanh', 'Sigmoid']);
      expect(() => list.at(3)).toThrow(new torch.IndexError('index 3 is out of range'));
    });
    it('Parameter requires grad and prints as PyTorch does', () => {
      const p = new nn.Parameter(torch.tensor([1, 2]));
      expect(p.requiresGrad).toBe(true);
      expect(p.isLeaf).toBe(true);
      expect(String(p)).toBe(device === 'cpu' ? 'Parameter containing:\ntensor([1., 2.], requires_grad=True)' : String(p));
      expect(() => new nn.Parameter(torch.tensor(new Int32Array([1])))).toThrow('only Tensors of floating point dtype can require gradients');
    });
  });

  describe('Dropout', () => {
    it('zeroes about p of the elements, scales the rest by 1/(1-p), and is the identity in eval', async () => {
      torch.manualSeed(3);
      const d = new nn.Dropout(0.25);
      const y = Array.from(await d.forward(torch.ones(4000, { device })).data());
      const kept = y.filter((v) => v !== 0);
      kept.forEach((v) => expect(v).toBeCloseTo(1 / 0.75, 6));
      // 1000 expected zeros, binomial std √(4000·.25·.75) ≈ 27: 5 std is 137
      expect(Math.abs(y.length - kept.length - 1000)).toBeLessThan(137);
      d.eval();
      const x = torch.randn(3, { device });
      expect(d.forward(x)).toBe(x);
      expect(() => new nn.Dropout(1.5)).toThrow('dropout probability has to be between 0 and 1, but got 1.5');
    });
  });
});

describe('torch.nn argument errors', () => {
  const F = torch.nn.functional;
  const nn = torch.nn;
  // PyTorch 1.13: F.relu(None) → TypeError "relu(): argument 'input' (position 1) must be Tensor, not NoneType"
  it.each([
    ['F.relu(undefined)', () => F.relu(undefined as unknown as Tensor), "relu(): argument 'input' (position 1) must be Tensor, not NoneType"],
    ['F.gelu("x")', () => F.gelu('x' as unknown as Tensor), "gelu(): argument 'input' (position 1) must be Tensor, not str"],
    ['F.softmax(3, 0)', () => F.softmax(3 as unknown as Tensor, 0), "softmax(): argument 'input' (position 1) must be Tensor, not int"],
    ['F.linear(x, [1])', () => F.linear(torch.ones(1, 1), [1] as unknown as Tensor), "linear(): argument 'weight' (position 2) must be Tensor, not list"],
    ['Linear.forward(undefined)', () => new nn.Linear(1, 1).forward(undefined as unknown as Tensor), "linear(): argument 'input' (position 1) must be Tensor, not NoneType"],
    ['ReLU.forward("x")', () => new nn.ReLU().forward('x' as unknown as Tensor), "relu(): argument 'input' (position 1) must be Tensor, not str"],
    ['Sequential.forward(3)', () => new nn.Sequential(new nn.Linear(1, 1), new nn.ReLU()).forward(3 as unknown as Tensor), "linear(): argument 'input' (position 1) must be Tensor, not int"],
    // PyTorch 1.13 names these by the ops it dispatches to, in their order
    ['F.embedding(3, w)', () => F.embedding(3 as unknown as Tensor, torch.ones(3, 2)), "embedding(): argument 'indices' (position 2) must be Tensor, not int"],
    ['F.embedding(i, 3)', () => F.embedding(torch.tensor([0]).int(), 3 as unknown as Tensor), "embedding(): argument 'weight' (position 1) must be Tensor, not int"],
    ['F.nllLoss(3, t)', () => F.nllLoss(3 as unknown as Tensor, torch.tensor([0]).int()), "nll_loss_nd(): argument 'input' (position 1) must be Tensor, not int"],
    ['F.crossEntropy(x, 3)', () => F.crossEntropy(torch.ones(1, 3), 3 as unknown as Tensor), "cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not int"],
  ])('%s raises PyTorch\'s TypeError', (_, f, message) => {
    expect(f).toThrow(torch.TypeError);
    expect(f).toThrow(message);
  });
  // Functions PyTorch writes in Python fail at their first attribute of the argument (1.13):
  // F.mse_loss(t, None) → AttributeError "'NoneType' object has no attribute 'size'"
  const t = torch.ones(2);
  it.each([
    ['F.mseLoss(x, null)', () => F.mseLoss(t, null as unknown as Tensor), "'NoneType' object has no attribute 'size'"],
    ['F.mseLoss(3, x)', () => F.mseLoss(3 as unknown as Tensor, t), "'int' object has no attribute 'size'"],
    ['F.l1Loss(2.5, x)', () => F.l1Loss(2.5 as unknown as Tensor, t), "'float' object has no attribute 'size'"],
    ['F.binaryCrossEntropy(x, 3)', () => F.binaryCrossEntropy(t, 3 as unknown as Tensor), "'int' object has no attribute 'size'"],
    ['F.binaryCrossEntropyWithLogits(3, x)', () => F.binaryCrossEntropyWithLogits(3 as unknown as Tensor, t), "'int' object has no attribute 'size'"],
    ['MSELoss.forward("a", 3)', () => new nn.MSELoss().forward('a' as unknown as Tensor, 3 as unknown as Tensor), "'int' object has no attribute 'size'"],
    ['Flatten.forward(2.5)', () => new nn.Flatten().forward(2.5 as unknown as Tensor), "'float' object has no attribute 'flatten'"],
    ['Flatten.forward(null)', () => new nn.Flatten().forward(null as unknown as Tensor), "'NoneType' object has no attribute 'flatten'"],
  ])('%s raises PyTorch\'s AttributeError', (_, f, message) => {
    expect(f).toThrow(torch.AttributeError);
    expect(f).toThrow(message);
  });
});
