/** torch.optim.RMSprop, as PyTorch 1.13's _single_tensor_rmsprop. */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bumpStep, decayedGrad, Optimizer, type ParamGroup, type ParamsInput, type ParamState, zerosState } from './optimizer.js';

/** RMSprop's hyperparameters. */
export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/** RMSprop (Hinton): divides by a running RMS of gradients; optional centering and momentum. */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...opts });
  }
  protected override checkGroup(g: ParamGroup<RMSpropOptions>): void {
    super.checkGroup(g);
    if (!(g.eps >= 0)) throw new ValueError(`Invalid epsilon value: ${g.eps}`);
    if (!(g.momentum >= 0)) throw new ValueError(`Invalid momentum value: ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new ValueError(`Invalid weight_decay value: ${g.weightDecay}`);
    if (!(g.alpha >= 0)) throw new ValueError(`Invalid alpha value: ${g.alpha}`);
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<RMSpropOptions>): void {
    bumpStep(state);
    const d = decayedGrad(p, grad, g);
    const sq = zerosState(state, 'squareAvg', p);
    sq.mul_(g.alpha).add_(d.mul(d), { alpha: 1 - g.alpha });
    let avg: Tensor;
    if (g.centered) {
      const ga = zerosState(state, 'gradAvg', p);
      ga.mul_(g.alpha).add_(d, { alpha: 1 - g.alpha });
      avg = sq.sub(ga.mul(ga)).sqrt().add(g.eps);
    } else avg = sq.sqrt().add(g.eps);
    if (g.momentum > 0) {
      const buf = zerosState(state, 'momentumBuffer', p);
      buf.mul_(g.momentum).add_(d.div(avg));
      p.add_(buf, { alpha: -g.lr });
    } else p.add_(d.div(avg), { alpha: -g.lr });
  }
}
