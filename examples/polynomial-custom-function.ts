/**
 * "Learning PyTorch with Examples", PyTorch: Defining new autograd Functions — y = a + b·P3(c + d·x)
 * with the Legendre polynomial P3 as a custom torch.autograd.Function.
 * Run: npm run example -- polynomial-custom-function   (STEPS=n for fewer than the tutorial's 2000)
 */
import * as torch from 'wgtorch';
import { lossLine, type ExampleOptions } from './polynomial-tensors.js';

/**
 * A custom autograd Function: a subclass of torch.autograd.Function with static forward and
 * backward methods operating on Tensors.
 */
export class LegendrePolynomial3 extends torch.autograd.Function {
  /**
   * In the forward pass we receive a Tensor containing the input and return a Tensor containing
   * the output. ctx is a context object that saves information for backward.
   */
  static override forward(ctx: torch.autograd.FunctionCtx, input: torch.Tensor): torch.Tensor {
    ctx.saveForBackward(input);
    return input.pow(3).mul(5).sub(input.mul(3)).mul(0.5);
  }

  /** The gradient of the loss with respect to the input, from the gradient w.r.t. the output. */
  static override backward(ctx: torch.autograd.FunctionCtx, gradOutput: torch.Tensor): torch.Tensor {
    const [input] = ctx.savedTensors;
    return gradOutput.mul(input!.pow(2).mul(5).sub(1).mul(1.5));
  }
}

export async function run(opts: ExampleOptions): Promise<void> {
  const print = opts.print ?? console.log;
  if (opts.seed !== undefined) torch.manualSeed(opts.seed);
  const dtype = torch.float;
  const device = opts.device;

  const x = torch.linspace(-Math.PI, Math.PI, 2000, { device, dtype });
  const y = torch.sin(x);

  // Weights initialized not too far from the correct result, so the fit converges.
  const a = torch.full([], 0.0, { device, dtype, requiresGrad: true });
  const b = torch.full([], -1.0, { device, dtype, requiresGrad: true });
  const c = torch.full([], 0.0, { device, dtype, requiresGrad: true });
  const d = torch.full([], 0.3, { device, dtype, requiresGrad: true });

  const learningRate = 5e-6;
  for (let t = 0; t < (opts.steps ?? 2000); t++) {
    // To apply our Function, we use Function.apply; we alias this as 'P3'.
    const P3 = (v: torch.Tensor) => LegendrePolynomial3.apply(v);

    // Forward pass: P3 runs our custom autograd operation.
    const yPred = a.add(b.mul(P3(c.add(d.mul(x)))));

    const loss = yPred.sub(y).pow(2).sum();
    if (t % 100 === 99) print(lossLine(t, await loss.item()));

    loss.backward();

    torch.noGrad(() => {
      a.sub_(a.grad!.mul(learningRate));
      b.sub_(b.grad!.mul(learningRate));
      c.sub_(c.grad!.mul(learningRate));
      d.sub_(d.grad!.mul(learningRate));
      a.grad = null;
      b.grad = null;
      c.grad = null;
      d.grad = null;
    });
  }
  const [av, bv, cv, dv] = await Promise.all([a, b, c, d].map((p) => p.item()));
  print(`Result: y = ${torch.pyFloatRepr(av!)} + ${torch.pyFloatRepr(bv!)} * P3(${torch.pyFloatRepr(cv!)} + ${torch.pyFloatRepr(dv!)} x)`);
}

export async function main(): Promise<void> {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  await run({ device, steps: process.env.STEPS ? Number(process.env.STEPS) : undefined });
}
