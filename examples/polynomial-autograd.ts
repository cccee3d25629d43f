/**
 * "Learning PyTorch with Examples", PyTorch: Tensors and autograd — the same fit, with the
 * backward pass done by autograd and the update under torch.noGrad.
 * Run: npm run example -- polynomial-autograd   (STEPS=n for fewer than the tutorial's 2000)
 */
import * as torch from 'wgtorch';
import { lossLine, type ExampleOptions } from './polynomial-tensors.js';

export async function run(opts: ExampleOptions): Promise<void> {
  const print = opts.print ?? console.log;
  if (opts.seed !== undefined) torch.manualSeed(opts.seed);
  const dtype = torch.float;
  const device = opts.device;

  // Create Tensors to hold input and outputs. By default, requiresGrad is false.
  const x = torch.linspace(-Math.PI, Math.PI, 2000, { dtype, device });
  const y = torch.sin(x);

  // Create random Tensors for weights; requiresGrad: true asks for their gradients.
  const a = torch.randn([], { dtype, device, requiresGrad: true });
  const b = torch.randn([], { dtype, device, requiresGrad: true });
  const c = torch.randn([], { dtype, device, requiresGrad: true });
  const d = torch.randn([], { dtype, device, requiresGrad: true });

  const learningRate = 1e-6;
  for (let t = 0; t < (opts.steps ?? 2000); t++) {
    // Forward pass: compute predicted y using operations on Tensors.
    const yPred = a.add(b.mul(x)).add(c.mul(x.pow(2))).add(d.mul(x.pow(3)));

    // Compute and print loss: a Tensor of shape () whose value `await loss.item()` reads.
    const loss = yPred.sub(y).pow(2).sum();
    if (t % 100 === 99) print(lossLine(t, await loss.item()));

    // Autograd computes the gradient of loss with respect to every tensor with requiresGrad.
    loss.backward();

    // Manually update weights using gradient descent, without recording it.
    torch.noGrad(() => {
      a.sub_(a.grad!.mul(learningRate));
      b.sub_(b.grad!.mul(learningRate));
      c.sub_(c.grad!.mul(learningRate));
      d.sub_(d.grad!.mul(learningRate));

      // Manually zero the gradients after updating weights
      a.grad = null;
      b.grad = null;
      c.grad = null;
      d.grad = null;
    });
  }
  const [av, bv, cv, dv] = await Promise.all([a, b, c, d].map((p) => p.item()));
  print(`Result: y = ${torch.pyFloatRepr(av!)} + ${torch.pyFloatRepr(bv!)} x + ${torch.pyFloatRepr(cv!)} x^2 + ${torch.pyFloatRepr(dv!)} x^3`);
}

export async function main(): Promise<void> {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  await run({ device, steps: process.env.STEPS ? Number(process.env.STEPS) : undefined });
}
