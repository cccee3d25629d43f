/** torch.optim.SGD, as PyTorch 1.13's _single_tensor_sgd. */
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { decayedGrad, Optimizer, ownState, type ParamGroup, type ParamsInput, type ParamState } from './optimizer.js';

/** SGD's hyperparameters. */
export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/**
 * Stochastic gradient descent with optional momentum (heavy ball or Nesterov), dampening and
 * weight decay. `lr` is required, as in PyTorch.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...opts });
  }
  protected override checkGroup(g: ParamGroup<SGDOptions>): void {
    if (g.lr === undefined) throw new ValueError("parameter group didn't specify a value of required optimization parameter lr");
    super.checkGroup(g);
    if (g.momentum < 0) throw new ValueError(`Invalid momentum value: ${g.momentum}`);
    if (g.weightDecay < 0) throw new ValueError(`Invalid weight_decay value: ${g.weightDecay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new ValueError('Nesterov momentum requires a momentum and zero dampening');
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<SGDOptions>): void {
    let d = decayedGrad(p, grad, g);
    if (g.momentum !== 0) {
      let buf = state.momentumBuffer;
      if (!(buf instanceof Tensor)) state.momentumBuffer = buf = ownState(d.clone().detach());
      else buf.mul_(g.momentum).add_(d, { alpha: 1 - g.dampening });
      d = g.nesterov ? d.add(buf, { alpha: g.momentum }) : buf;
    }
    p.add_(d, { alpha: -g.lr });
  }
}
