/**
 * "Learning PyTorch with Examples", PyTorch: Tensors — fits y = sin(x) with a third-order
 * polynomial, computing the forward pass, the loss and the backward pass by hand.
 * Run: npm run example -- polynomial-tensors   (STEPS=n for fewer than the tutorial's 2000)
 */
import * as torch from 'wgtorch';

/** Options every polynomial example takes. */
export interface ExampleOptions {
  device: torch.Device;
  /** Iterations (the tutorial's count by default). */
  steps?: number;
  /** Seeds torch's generator (the tutorial does not seed). */
  seed?: number;
  /** Receives each printed line (console.log by default). */
  print?: (line: string) => void;
}

/** Python's print(t, loss): the int, a space, the float's repr. */
export const lossLine = (t: number, loss: number): string => `${t} ${torch.pyFloatRepr(loss)}`;

export async function run(opts: ExampleOptions): Promise<void> {
  const print = opts.print ?? console.log;
  if (opts.seed !== undefined) torch.manualSeed(opts.seed);
  const dtype = torch.float;
  const device = opts.device;

  // Create random input and output data
  const x = torch.linspace(-Math.PI, Math.PI, 2000, { device, dtype });
  const y = torch.sin(x);

  // Randomly initialize weights
  const a = torch.randn([], { device, dtype });
  const b = torch.randn([], { device, dtype });
  const c = torch.randn([], { device, dtype });
  const d = torch.randn([], { device, dtype });

  const learningRate = 1e-6;
  for (let t = 0; t < (opts.steps ?? 2000); t++) {
    // Forward pass: compute predicted y
    const yPred = a.add(b.mul(x)).add(c.mul(x.pow(2))).add(d.mul(x.pow(3)));

    // Compute and print loss
    const loss = await yPred.sub(y).pow(2).sum().item();
    if (t % 100 === 99) print(lossLine(t, loss));

    // Backprop to compute gradients of a, b, c, d with respect to loss
    const gradYPred = yPred.sub(y).mul(2.0);
    const gradA = gradYPred.sum();
    const gradB = gradYPred.mul(x).sum();
    const gradC = gradYPred.mul(x.pow(2)).sum();
    const gradD = gradYPred.mul(x.pow(3)).sum();

    // Update weights using gradient descent
    a.sub_(gradA.mul(learningRate));
    b.sub_(gradB.mul(learningRate));
    c.sub_(gradC.mul(learningRate));
    d.sub_(gradD.mul(learningRate));
  }
  const [av, bv, cv, dv] = await Promise.all([a, b, c, d].map((p) => p.item()));
  print(`Result: y = ${torch.pyFloatRepr(av!)} + ${torch.pyFloatRepr(bv!)} x + ${torch.pyFloatRepr(cv!)} x^2 + ${torch.pyFloatRepr(dv!)} x^3`);
}

export async function main(): Promise<void> {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  await run({ device, steps: process.env.STEPS ? Number(process.env.STEPS) : undefined });
}
