/**
 * "Learning PyTorch with Examples", PyTorch: Custom nn Modules — the polynomial as a Module
 * subclass with four Parameters, trained with torch.optim.SGD.
 * Run: npm run example -- polynomial-module   (STEPS=n for fewer than the tutorial's 2000)
 */
import * as torch from 'wgtorch';
import { lossLine, type ExampleOptions } from './polynomial-tensors.js';

const r = torch.pyFloatRepr;

export class Polynomial3 extends torch.nn.Module {
  // Four parameters; assigned as fields, they are registered as the module's parameters.
  a = new torch.nn.Parameter(torch.randn([]));
  b = new torch.nn.Parameter(torch.randn([]));
  c = new torch.nn.Parameter(torch.randn([]));
  d = new torch.nn.Parameter(torch.randn([]));

  /** Accepts a Tensor of input data and returns a Tensor of output data. */
  forward(x: torch.Tensor): torch.Tensor {
    return this.a.add(this.b.mul(x)).add(this.c.mul(x.pow(2))).add(this.d.mul(x.pow(3)));
  }

  /** Like any class, a Module can have methods; reading values is async on every device. */
  async string(): Promise<string> {
    const [a, b, c, d] = await Promise.all([this.a, this.b, this.c, this.d].map((p) => p.item()));
    return `y = ${r(a!)} + ${r(b!)} x + ${r(c!)} x^2 + ${r(d!)} x^3`;
  }
}

export async function run(opts: ExampleOptions): Promise<void> {
  const print = opts.print ?? console.log;
  if (opts.seed !== undefined) torch.manualSeed(opts.seed);
  const device = opts.device;

  const x = torch.linspace(-Math.PI, Math.PI, 2000, { device });
  const y = torch.sin(x);

  // Construct our model by instantiating the class defined above
  const model = await new Polynomial3().to(device);

  // The loss function and an optimizer: SGD updates the members of model.parameters().
  const criterion = new torch.nn.MSELoss({ reduction: 'sum' });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 1e-6 });
  for (let t = 0; t < (opts.steps ?? 2000); t++) {
    // Forward pass: Compute predicted y by passing x to the model
    const yPred = model.forward(x);

    const loss = criterion.forward(yPred, y);
    if (t % 100 === 99) print(lossLine(t, await loss.item()));

    // Zero gradients, perform a backward pass, and update the weights.
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
