/**
 * torch.optim.lrScheduler: StepLR, CosineAnnealingLR, LambdaLR, with PyTorch 1.13's recursive
 * (chainable) formulas, so the sequence of rates matches PyTorch's step for step.
 */
import { TypeError, ValueError } from '../errors.js';
import { Optimizer } from './optimizer.js';

/** Any optimizer whose param groups have a learning rate (what a scheduler adjusts). */
export type AnyOptimizer = Optimizer<{ lr: number }>;

/** Base class: sets initialLr on each group and takes the first step (epoch 0) at construction. */
export abstract class LRScheduler {
  lastEpoch: number;
  readonly baseLrs: number[];
  protected stepCount = 0;
  private lastLr: number[] = [];

  constructor(readonly optimizer: AnyOptimizer, lastEpoch = -1) {
    if (!(optimizer instanceof Optimizer)) {
      const name = optimizer === null || optimizer === undefined ? 'NoneType' : ((optimizer as object).constructor?.name ?? typeof optimizer);
      throw new TypeError(`${name} is not an Optimizer`);
    }
    if (lastEpoch === -1) for (const g of optimizer.paramGroups) g.initialLr = g.lr;
    else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new ValueError(`param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** Rates for the current lastEpoch, from the groups' current rates. */
  protected abstract getLr(): number[];

  /** Advances one epoch and writes the new rates into the optimizer's groups. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = lrs;
  }
  /** The rates the last step set. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }
  /** lastEpoch and the step count (what PyTorch's state_dict holds besides the constructor's arguments). */
  stateDict(): { lastEpoch: number; stepCount: number; baseLrs: number[]; lastLr: number[] } {
    return { lastEpoch: this.lastEpoch, stepCount: this.stepCount, baseLrs: this.baseLrs.slice(), lastLr: this.lastLr.slice() };
  }
  /** Restores what stateDict() saved; the base rates too, as PyTorch does (LambdaLR scales them). */
  loadStateDict(sd: { lastEpoch: number; stepCount: number; lastLr: number[]; baseLrs?: number[] }): void {
    if (sd.baseLrs) this.baseLrs.splice(0, this.baseLrs.length, ...sd.baseLrs);
    this.lastEpoch = sd.lastEpoch;
    this.stepCount = sd.stepCount;
    this.lastLr = sd.lastLr.slice();
  }
  protected currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** Multiplies the rate by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, opts: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super(optimizer, opts.lastEpoch);
    this.stepSize = opts.stepSize;
    this.gamma = opts.gamma ?? 0.1;
    this.step();
  }
  protected getLr(): number[] {
    const lrs = this.currentLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }
}

/** Cosine annealing from the base rate to etaMin over tMax epochs (SGDR without restarts). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: AnyOptimizer, opts: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    super(optimizer, opts.lastEpoch);
    this.tMax = opts.tMax;
    this.etaMin = opts.etaMin ?? 0;
    this.step();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const lrs = this.currentLrs();
    if (e === 0) return lrs;
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if ((e - 1 - T) % (2 * T) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return lrs.map((lr) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) + etaMin);
  }
}

/** The base rate times fn(epoch), one function for all groups or one per group. */
export class LambdaLR extends LRScheduler {
  private readonly fns: ((epoch: number) => number)[];
  constructor(optimizer: AnyOptimizer, lrLambda: ((epoch: number) => number) | readonly ((epoch: number) => number)[], opts: { lastEpoch?: number } = {}) {
    super(optimizer, opts.lastEpoch);
    const n = optimizer.paramGroups.length;
    if (typeof lrLambda === 'function') this.fns = Array.from({ length: n }, () => lrLambda);
    else {
      if (lrLambda.length !== n) throw new ValueError(`Expected ${n} lr_lambdas, but got ${lrLambda.length}`);
      this.fns = lrLambda.slice();
    }
    this.step();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.fns[i]!(this.lastEpoch));
  }
}
