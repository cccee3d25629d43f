/** torch.optim.Adam and AdamW, as PyTorch 1.13's _single_tensor_adam(w). */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bumpStep, decayedGrad, Optimizer, type ParamGroup, type ParamsInput, type ParamState, zerosState } from './optimizer.js';

/** Adam's (and AdamW's) hyperparameters. */
export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

function checkAdam(g: ParamGroup<AdamOptions>): void {
  if (!(g.eps >= 0)) throw new ValueError(`Invalid epsilon value: ${g.eps}`);
  if (!(g.betas[0] >= 0 && g.betas[0] < 1)) throw new ValueError(`Invalid beta parameter at index 0: ${g.betas[0]}`);
  if (!(g.betas[1] >= 0 && g.betas[1] < 1)) throw new ValueError(`Invalid beta parameter at index 1: ${g.betas[1]}`);
  if (!(g.weightDecay >= 0)) throw new ValueError(`Invalid weight_decay value: ${g.weightDecay}`);
}

/** The shared moment update; returns nothing, moves p by -lr · m̂ / (√v̂ + eps). */
function adamUpdate(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdamOptions>): void {
  const [b1, b2] = g.betas;
  const step = bumpStep(state);
  const m = zerosState(state, 'expAvg', p);
  const v = zerosState(state, 'expAvgSq', p);
  m.mul_(b1).add_(grad, { alpha: 1 - b1 });
  v.mul_(b2).add_(grad.mul(grad), { alpha: 1 - b2 });
  const stepSize = g.lr / (1 - b1 ** step);
  const bc2Sqrt = Math.sqrt(1 - b2 ** step);
  let second = v;
  if (g.amsgrad) {
    const vmax = zerosState(state, 'maxExpAvgSq', p);
    vmax.copy_(vmax.maximum(v));
    second = vmax;
  }
  const denom = second.sqrt().div(bc2Sqrt).add(g.eps);
  p.add_(m.div(denom), { alpha: -stepSize });
}

/** Adam (Kingma & Ba); weightDecay adds wd·p to the gradient (L2), as PyTorch's Adam. */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...opts });
  }
  protected override checkGroup(g: ParamGroup<AdamOptions>): void {
    super.checkGroup(g);
    checkAdam(g);
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdamOptions>): void {
    const d = decayedGrad(p, grad, g);
    adamUpdate(p, d, state, g);
  }
}

/** AdamW (Loshchilov & Hutter): decoupled weight decay p ← p·(1 - lr·wd), default wd 1e-2. */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...opts });
  }
  protected override checkGroup(g: ParamGroup<AdamOptions>): void {
    super.checkGroup(g);
    checkAdam(g);
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdamOptions>): void {
    p.mul_(1 - g.lr * g.weightDecay);
    adamUpdate(p, g.maximize ? grad.neg() : grad, state, g);
  }
}
