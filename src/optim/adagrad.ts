/** torch.optim.Adagrad, as PyTorch 1.13's _single_tensor_adagrad. */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bumpStep, decayedGrad, Optimizer, ownState, type ParamGroup, type ParamsInput, type ParamState, zerosState } from './optimizer.js';

/** Adagrad's hyperparameters. */
export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

/** Adagrad (Duchi et al.): divides by the root of the summed squared gradients. */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsInput<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...opts });
    // PyTorch creates the sum at construction, filled with the initial accumulator value.
    for (const grp of this.paramGroups) {
      for (const p of grp.params) this.state.set(p, { step: 0, sum: ownState(p.fullLike(grp.initialAccumulatorValue)) });
    }
  }
  protected override checkGroup(g: ParamGroup<AdagradOptions>): void {
    super.checkGroup(g);
    if (!(g.lrDecay >= 0)) throw new ValueError(`Invalid lr_decay value: ${g.lrDecay}`);
    if (!(g.weightDecay >= 0)) throw new ValueError(`Invalid weight_decay value: ${g.weightDecay}`);
    if (!(g.initialAccumulatorValue >= 0)) throw new ValueError(`Invalid initial_accumulator_value value: ${g.initialAccumulatorValue}`);
    if (!(g.eps >= 0)) throw new ValueError(`Invalid epsilon value: ${g.eps}`);
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdagradOptions>): void {
    const step = bumpStep(state);
    const d = decayedGrad(p, grad, g);
    const clr = g.lr / (1 + (step - 1) * g.lrDecay);
    const sum = zerosState(state, 'sum', p);
    sum.add_(d.mul(d));
    p.add_(d.div(sum.sqrt().add(g.eps)), { alpha: -clr });
  }
}
