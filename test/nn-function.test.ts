/** torch.autograd.Function: custom forward/backward recorded like built-in ops. */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import { devices } from './devices.js';
import { expectClose } from './helpers.js';

/** The tutorial's P3(x) = (5x³ - 3x)/2 with its hand-written derivative 1.5(5x² - 1). */
class LegendrePolynomial3 extends torch.autograd.Function {
  static override forward(ctx: torch.autograd.FunctionCtx, input: Tensor): Tensor {
    ctx.saveForBackward(input);
    return input.pow(3).mul(5).sub(input.mul(3)).mul(0.5);
  }
  static override backward(ctx: torch.autograd.FunctionCtx, gradOutput: Tensor): Tensor {
    const [input] = ctx.savedTensors;
    return gradOutput.mul(input!.pow(2).mul(5).sub(1).mul(1.5));
  }
}

/** Two inputs, one of them a number: backward returns one gradient per forward argument. */
class ScaledMul extends torch.autograd.Function {
  static override forward(ctx: torch.autograd.FunctionCtx, a: Tensor, b: Tensor, k: number): Tensor {
    ctx.saveForBackward(a, b);
    (ctx as unknown as { k: number }).k = k;
    return a.mul(b).mul(k);
  }
  static override backward(ctx: torch.autograd.FunctionCtx, g: Tensor): (Tensor | null)[] {
    const [a, b] = ctx.savedTensors;
    const k = (ctx as unknown as { k: number }).k;
    return [ctx.needsInputGrad[0] ? g.mul(b!).mul(k) : null, ctx.needsInputGrad[1] ? g.mul(a!).mul(k) : null, null];
  }
}

describe.each(devices)('autograd.Function on %s', (device: Device) => {
  it('forward value and the hand-written gradient', async () => {
    const x = torch.tensor([0, 0.5, 2], { device, requiresGrad: true });
    const y = LegendrePolynomial3.apply(x);
    // P3(0) = 0, P3(0.5) = (0.625 - 1.5)/2 = -0.4375, P3(2) = (40 - 6)/2 = 17
    await expectClose(y, [3], [0, -0.4375, 17]);
    expect(y.gradFn!.name).toBe('LegendrePolynomial3Backward');
    y.sum().backward();
    // 1.5(5x² - 1): -1.5, 0.375, 28.5
    await expectClose(x.grad!, [3], [-1.5, 0.375, 28.5]);
  });
  it('needsInputGrad, several inputs, non-tensor arguments', async () => {
    const a = torch.tensor([1, 2], { device, requiresGrad: true });
    const b = torch.tensor([3, 4], { device });
    const y = ScaledMul.apply(a, b, 2);
    y.sum().backward();
    await expectClose(a.grad!, [2], [6, 8]); // d(2ab)/da = 2b
    expect(b.grad).toBeNull();
  });
  it('forward runs without recording; nothing is recorded when no input requires grad', () => {
    const x = torch.tensor([1, 2], { device });
    const y = LegendrePolynomial3.apply(x);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
  });
  it('an in-place change to a saved input fails backward with PyTorch\'s message', () => {
    const w = torch.tensor([1, 2], { device, requiresGrad: true });
    const x = w.mul(1);
    const y = LegendrePolynomial3.apply(x);
    x.add_(1);
    expect(() => y.sum().backward()).toThrow('one of the variables needed for gradient computation has been modified by an inplace operation');
  });
  it('saved tensors are freed after backward', () => {
    const x = torch.tensor([1], { device, requiresGrad: true });
    let ctxSeen: torch.autograd.FunctionCtx | null = null;
    class Keep extends torch.autograd.Function {
      static override forward(ctx: torch.autograd.FunctionCtx, t: Tensor): Tensor {
        ctx.saveForBackward(t);
        ctxSeen = ctx;
        return t.mul(2);
      }
      static override backward(_ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor {
        return g.mul(2);
      }
    }
    Keep.apply(x).sum().backward();
    expect(() => ctxSeen!.savedTensors).toThrow('Trying to backward through the graph a second time');
  });
  it('a wrong number of gradients is an error', () => {
    class Bad extends torch.autograd.Function {
      static override forward(_ctx: torch.autograd.FunctionCtx, a: Tensor, b: Tensor): Tensor {
        return a.add(b);
      }
      static override backward(_ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor {
        return g;
      }
    }
    const a = torch.tensor([1], { device, requiresGrad: true });
    expect(() => Bad.apply(a, a).sum().backward()).toThrow('function BadBackward returned an incorrect number of gradients (expected 2, got 1)');
  });
  it('tensors a backward or a hook makes and keeps hold their values after backward()', async () => {
    // PyTorch: what user code computes during backward is an ordinary tensor. x = [1, 2, 3]:
    // Cube's backward sees g = 2 (from the mul by 2) and keeps 3x² and 10g; a hook on z = y·y
    // sees g = 1 and keeps 5g.
    const kept: Tensor[] = [];
    class Cube extends torch.autograd.Function {
      static override forward(ctx: torch.autograd.FunctionCtx, x: Tensor): Tensor {
        ctx.saveForBackward(x);
        return x.pow(3);
      }
      static override backward(ctx: torch.autograd.FunctionCtx, g: Tensor): Tensor {
        const local = ctx.savedTensors[0]!.pow(2).mul(3);
        kept.push(local, g.mul(10));
        return g.mul(local);
      }
    }
    const x = torch.tensor([1, 2, 3], { device, requiresGrad: true });
    Cube.apply(x).mul(2).sum().backward();
    const y = torch.tensor([1, 2, 3], { device, requiresGrad: true });
    const z = y.mul(y);
    z.registerHook((g) => void kept.push(g.mul(5)));
    z.sum().backward();
    await expectClose(x.grad!, [3], [6, 24, 54]);
    await expectClose(kept[0]!, [3], [3, 12, 27]);
    await expectClose(kept[1]!, [3], [20, 20, 20]);
    await expectClose(kept[2]!, [3], [5, 5, 5]);
  });
});
