/**
 * "Learning PyTorch with Examples", PyTorch: nn — the polynomial as nn.Sequential(Linear(3, 1),
 * Flatten(0, 1)) with MSELoss(reduction: 'sum'), updated by hand under torch.noGrad.
 * Run: npm run example -- polynomial-nn   (STEPS=n for fewer than the tutorial's 2000)
 */
import * as torch from 'wgtorch';
import { lossLine, type ExampleOptions } from './polynomial-tensors.js';

export async function run(opts: ExampleOptions): Promise<void> {
  const print = opts.print ?? console.log;
  if (opts.seed !== undefined) torch.manualSeed(opts.seed);
  const device = opts.device;

  const x = torch.linspace(-Math.PI, Math.PI, 2000, { device });
  const y = torch.sin(x);

  // The output y is a linear function of (x, x^2, x^3): a linear layer over those features.
  // x.unsqueeze(-1) has shape (2000, 1) and p shape (3,), so xx broadcasts to (2000, 3).
  const p = torch.tensor([1, 2, 3], { device });
  const xx = x.unsqueeze(-1).pow(p);

  // The Flatten layer flattens the output of the linear layer to a 1D tensor to match y's shape.
  // model.to(device) returns the module ('webgpu') or a Promise of it ('cpu'): await covers both.
  const model = await new torch.nn.Sequential(new torch.nn.Linear(3, 1), new torch.nn.Flatten(0, 1)).to(device);

  // Mean Squared Error as the loss function.
  const lossFn = new torch.nn.MSELoss({ reduction: 'sum' });

  const learningRate = 1e-6;
  for (let t = 0; t < (opts.steps ?? 2000); t++) {
    // Forward pass: compute predicted y by passing x to the model (model.forward(xx) is model(xx)).
    const yPred = model.forward(xx);

    const loss = lossFn.forward(yPred, y);
    if (t % 100 === 99) print(lossLine(t, await loss.item()));

    // Zero the gradients before running the backward pass.
    model.zeroGrad();
    loss.backward();

    // Update the weights using gradient descent; each parameter is a Tensor.
    torch.noGrad(() => {
      for (const param of model.parameters()) param.sub_(param.grad!.mul(learningRate));
    });
  }

  // You can access the first layer of `model` like accessing the first item of a list
  const linearLayer = model[0] as torch.nn.Linear;
  const w = (i: number) => linearLayer.weight.select(1, i).item(); // weight[:, i].item()
  const [bias, w0, w1, w2] = await Promise.all([linearLayer.bias!.item(), w(0), w(1), w(2)]);
  const r = torch.pyFloatRepr;
  print(`Result: y = ${r(bias!)} + ${r(w0!)} x + ${r(w1!)} x^2 + ${r(w2!)} x^3`);
}

export async function main(): Promise<void> {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  await run({ device, steps: process.env.STEPS ? Number(process.env.STEPS) : undefined });
}
