/**
 * "Learning PyTorch with Examples", PyTorch: optim — the nn version with torch.optim.RMSprop
 * doing the update.
 * Run: npm run example -- polynomial-optim   (STEPS=n for fewer than the tutorial's 2000)
 */
import * as torch from 'wgtorch';
import { lossLine, type ExampleOptions } from './polynomial-tensors.js';

export async function run(opts: ExampleOptions): Promise<void> {
  const print = opts.print ?? console.log;
  if (opts.seed !== undefined) torch.manualSeed(opts.seed);
  const device = opts.device;

  const x = torch.linspace(-Math.PI, Math.PI, 2000, { device });
  const y = torch.sin(x);

  // Prepare the input tensor (x, x^2, x^3).
  const p = torch.tensor([1, 2, 3], { device });
  const xx = x.unsqueeze(-1).pow(p);

  const model = await new torch.nn.Sequential(new torch.nn.Linear(3, 1), new torch.nn.Flatten(0, 1)).to(device);
  const lossFn = new torch.nn.MSELoss({ reduction: 'sum' });

  // RMSprop; the first argument tells the optimizer which tensors it should update.
  const learningRate = 1e-3;
  const optimizer = new torch.optim.RMSprop(model.parameters(), { lr: learningRate });
  for (let t = 0; t < (opts.steps ?? 2000); t++) {
    const yPred = model.forward(xx);

    const loss = lossFn.forward(yPred, y);
    if (t % 100 === 99) print(lossLine(t, await loss.item()));

    // Zero the gradients of the variables the optimizer will update (gradients accumulate).
    optimizer.zeroGrad();
    loss.backward();

    // Calling step on an Optimizer makes an update to its parameters.
    optimizer.step();
  }

  const linearLayer = model[0] as torch.nn.Linear;
  const w = (i: number) => linearLayer.weight.select(1, i).item();
  const [bias, w0, w1, w2] = await Promise.all([linearLayer.bias!.item(), w(0), w(1), w(2)]);
  const r = torch.pyFloatRepr;
  print(`Result: y = ${r(bias!)} + ${r(w0!)} x + ${r(w1!)} x^2 + ${r(w2!)} x^3`);
}

export async function main(): Promise<void> {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  await run({ device, steps: process.env.STEPS ? Number(process.env.STEPS) : undefined });
}
