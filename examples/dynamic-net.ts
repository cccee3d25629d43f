/**
 * "Learning PyTorch with Examples", PyTorch: Control Flow + Weight Sharing — a third-to-fifth
 * order polynomial that picks its order at random on each forward pass, reusing one parameter
 * for the 4th and 5th order terms. SGD with momentum; the tutorial's 30000 iterations.
 * Run: npm run example -- dynamic-net   (STEPS=n for fewer)
 */
import * as torch from 'wgtorch';
import { lossLine, type ExampleOptions } from './polynomial-tensors.js';

const r = torch.pyFloatRepr;

/** Python's random.randint(lo, hi): an integer in [lo, hi], both ends included. */
const randint = (lo: number, hi: number, random: () => number) => lo + Math.floor(random() * (hi - lo + 1));

export class DynamicNet extends torch.nn.Module {
  // Five parameters, assigned as fields.
  a = new torch.nn.Parameter(torch.randn([]));
  b = new torch.nn.Parameter(torch.randn([]));
  c = new torch.nn.Parameter(torch.randn([]));
  d = new torch.nn.Parameter(torch.randn([]));
  e = new torch.nn.Parameter(torch.randn([]));

  constructor(private readonly random: () => number = Math.random) {
    super();
  }

  /**
   * Randomly chooses 4 or 5 (or none: randint(4, 6) may give 4) extra orders, reusing parameter e
   * for each. Ordinary control flow builds a different graph on each pass; reusing a parameter
   * several times in one graph is safe.
   */
  forward(x: torch.Tensor): torch.Tensor {
    let y = this.a.add(this.b.mul(x)).add(this.c.mul(x.pow(2))).add(this.d.mul(x.pow(3)));
    for (let exp = 4; exp < randint(4, 6, this.random); exp++) y = y.add(this.e.mul(x.pow(exp)));
    return y;
  }

  async string(): Promise<string> {
    const [a, b, c, d, e] = await Promise.all([this.a, this.b, this.c, this.d, this.e].map((p) => p.item()));
    return `y = ${r(a!)} + ${r(b!)} x + ${r(c!)} x^2 + ${r(d!)} x^3 + ${r(e!)} x^4 ? + ${r(e!)} x^5 ?`;
  }
}

/** A seeded uniform generator (mulberry32), for reproducible runs when a seed is given. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function run(opts: ExampleOptions): Promise<void> {
  const print = opts.print ?? console.log;
  if (opts.seed !== undefined) torch.manualSeed(opts.seed);
  const device = opts.device;

  const x = torch.linspace(-Math.PI, Math.PI, 2000, { device });
  const y = torch.sin(x);

  const model = await new DynamicNet(opts.seed !== undefined ? seeded(opts.seed) : Math.random).to(device);

  // Training this strange model with vanilla SGD is hard to converge: momentum helps.
  const criterion = new torch.nn.MSELoss({ reduction: 'sum' });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 1e-8, momentum: 0.9 });
  const steps = opts.steps ?? 30000;
  for (let t = 0; t < steps; t++) {
    const yPred = model.forward(x);

    const loss = criterion.forward(yPred, y);
    // The loss is read every 100 steps (printed every 2000): a read lets the GPU queue drain and
    // the garbage collector return buffers; a loop that never awaits keeps everything alive.
    if (t % 100 === 99) {
      const value = await loss.item();
      if (t % 2000 === 1999) print(lossLine(t, value));
    }

    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  print(`Result: ${await model.string()}`);
}

export async function main(): Promise<void> {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  await run({ device, steps: process.env.STEPS ? Number(process.env.STEPS) : undefined });
}
