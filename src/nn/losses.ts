/** torch.nn loss modules: each holds its options (weights as buffers) and calls the functional form. */
import type { Tensor } from '../tensor.js';
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  l1Loss,
  mseLoss,
  nllLoss,
  type CrossEntropyOptions,
  type NLLOptions,
  type Reduction,
} from './functional-losses.js';
import { Module } from './module.js';

/** Common base: the reduction, and an optional per-class weight registered as a buffer. */
abstract class Loss extends Module {
  readonly reduction: Reduction;
  weight: Tensor | null = null;
  constructor(opts: { reduction?: Reduction; weight?: Tensor | null }) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    if (opts.weight !== undefined) this.registerBuffer('weight', opts.weight);
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

/** Mean squared error. */
export class MSELoss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}
/** Mean absolute error. */
export class L1Loss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}
/** Negative log likelihood of class indices under log-probabilities. */
export class NLLLoss extends Loss {
  readonly ignoreIndex: number;
  constructor(opts: NLLOptions = {}) {
    super(opts);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}
/** logSoftmax + NLLLoss, for class indices or class probabilities, with label smoothing. */
export class CrossEntropyLoss extends Loss {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(opts: CrossEntropyOptions = {}) {
    super(opts);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}
/** Binary cross entropy of probabilities. */
export class BCELoss extends Loss {
  constructor(opts: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    super(opts);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}
/** Sigmoid + binary cross entropy, computed stably from logits. */
export class BCEWithLogitsLoss extends Loss {
  posWeight: Tensor | null = null;
  constructor(opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    super(opts);
    if (opts.posWeight !== undefined) this.registerBuffer('posWeight', opts.posWeight);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}
