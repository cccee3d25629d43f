/**
 * torch.optim.Optimizer: parameter groups, per-parameter state, zeroGrad and state dicts. Subclasses
 * implement `update` for one parameter; step() runs it under noGrad with in-place tensor ops, so
 * the update runs on the parameter's device.
 */
import { pyName } from '../args.js';
import { noGrad } from '../autograd.js';
import { KeyError, TypeError, ValueError } from '../errors.js';
import { pyFloatRepr } from '../format.js';
import { untrackTensor } from '../scope.js';
import { Tensor } from '../tensor.js';

/** Per-parameter state: tensors (moment buffers) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** A parameter group: its parameters and its hyperparameters (lr and the optimizer's own). */
export type ParamGroup<H> = H & { params: Tensor[]; initialLr?: number };

/** What the constructor takes: parameters, or groups with their own hyperparameters. */
export type ParamsInput<H> = Iterable<Tensor> | readonly (Partial<H> & { params: Iterable<Tensor> })[];

/** A serializable optimizer state: state by parameter index, groups with parameter indices. */
export interface OptimizerStateDict<H> {
  state: Record<number, ParamState>;
  paramGroups: (H & { params: number[]; initialLr?: number })[];
}

/** Base class of the optimizers. `H` is the hyperparameter record (e.g. {lr, momentum, ...}). */
export abstract class Optimizer<H extends { lr: number }> {
  readonly defaults: H;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** State of each parameter that has been stepped. */
  state = new Map<Tensor, ParamState>();

  constructor(params: ParamsInput<H>, defaults: H) {
    this.defaults = defaults;
    if (params instanceof Tensor || params === null || typeof (params as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
      throw new TypeError(
        `params argument given to the optimizer should be an iterable of Tensors or dicts, but got ${params instanceof Tensor ? params.typeName() : params === null ? 'None' : typeof params}`,
      );
    }
    const list = [...(params as Iterable<Tensor | (Partial<H> & { params: Iterable<Tensor> })>)];
    if (list.length === 0) throw new ValueError('optimizer got an empty parameter list');
    if (list[0] instanceof Tensor) this.addParamGroup({ params: list as Tensor[] } as Partial<H> & { params: Tensor[] });
    else for (const g of list as (Partial<H> & { params: Iterable<Tensor> })[]) this.addParamGroup(g);
  }

  /**
   * PyTorch's repr: the class name, then each group's hyperparameters (snake_case names, sorted)
   * with Python's spelling of their values.
   */
  toString(): string {
    let out = `${this.constructor.name} (`;
    this.paramGroups.forEach((g, i) => {
      out += `\nParameter Group ${i}\n`;
      const rows = Object.entries(g)
        .filter(([k, v]) => k !== 'params' && v !== undefined)
        .map(([k, v]) => [pyName(k), pyValue(v)] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [k, v] of rows) out += `    ${k}: ${v}\n`;
    });
    return `${out})`;
  }

  /** Adds a group; unspecified hyperparameters come from the defaults. */
  addParamGroup(group: Partial<H> & { params: Iterable<Tensor> }): void {
    const params = group.params instanceof Tensor ? [group.params] : [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new ValueError(`optimizer can only optimize Tensors, but one of the params is ${typeof p}`);
      if (!p.isLeaf) throw new ValueError("can't optimize a non-leaf Tensor");
      if (seen.has(p)) throw new ValueError('some parameters appear in more than one parameter group');
    }
    const full = { ...this.defaults, ...group, params } as ParamGroup<H>;
    this.checkGroup(full);
    this.paramGroups.push(full);
  }

  /** Validates a group's hyperparameters with PyTorch's messages. */
  protected checkGroup(g: ParamGroup<H>): void {
    if (!(g.lr >= 0)) throw new ValueError(`Invalid learning rate: ${g.lr}`);
  }

  /** Sets every parameter's grad to zero (PyTorch 1.13's default) or, with setToNone, to null. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (opts.setToNone) p.grad = null;
        else noGrad(() => p.grad!.zero_());
      }
    }
  }

  /** One optimization step over every parameter that has a grad. A closure re-evaluates the loss. */
  step(closure?: () => Tensor): Tensor | null {
    const loss = closure ? closure() : null;
    noGrad(() => {
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          if (p.grad === null) continue;
          let st = this.state.get(p);
          if (!st) this.state.set(p, (st = {}));
          this.update(p, p.grad, st, g);
        }
      }
    });
    return loss;
  }

  /** Updates one parameter in place from its gradient and its state. */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /** State and groups with parameters replaced by their index (PyTorch's layout). */
  stateDict(): OptimizerStateDict<H> {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return { ...(hyper as unknown as H), params: params.map((p) => (index.has(p) ? index.get(p)! : (index.set(p, index.size), index.size - 1))) };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  /** Loads a state dict made by stateDict(); state tensors are copied to each parameter's device. */
  loadStateDict(sd: OptimizerStateDict<H>): void {
    // PyTorch reads param_groups first, then state: a missing one is a KeyError naming it.
    for (const k of ['paramGroups', 'state'] as const) {
      if (typeof sd !== 'object' || sd === null || !(k in sd)) throw new KeyError(`'${k}'`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new ValueError('loaded state dict has a different number of parameter groups');
    }
    sd.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i]!.params.length) {
        throw new ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
    });
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, i) => g.params.forEach((id, k) => byIndex.set(id, this.paramGroups[i]!.params[k]!)));
    const state = new Map<Tensor, ParamState>();
    for (const [id, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(id));
      if (!p) continue;
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        if (typeof v === 'number') copy[k] = v;
        else {
          const moved = v.device === p.device ? v : v.to(p.device);
          if (moved instanceof Promise) throw new ValueError(`loadStateDict: move state tensors to '${p.device}' first (await t.to('${p.device}'))`);
          copy[k] = ownState(noGrad(() => moved.clone()).detach());
        }
      }
      state.set(p, copy);
    }
    this.state = state;
    sd.paramGroups.forEach((g, i) => {
      const { params: _ids, ...hyper } = g;
      Object.assign(this.paramGroups[i]!, hyper);
    });
  }
}

/** A state tensor created on first use: zeros shaped like the parameter. */
export function zerosState(state: ParamState, key: string, like: Tensor): Tensor {
  let t = state[key];
  if (!(t instanceof Tensor)) state[key] = t = ownState(like.zerosLike());
  return t;
}

/** Marks a tensor as the optimizer's (like a leaf's .grad): a torch.scope around a step keeps it. */
export function ownState(t: Tensor): Tensor {
  untrackTensor(t);
  return t;
}

/** A numeric state entry, incremented (PyTorch's state['step']). */
export function bumpStep(state: ParamState): number {
  const s = ((state.step as number | undefined) ?? 0) + 1;
  state.step = s;
  return s;
}

/** The gradient an update follows: negated under `maximize`, plus weightDecay·p (L2 penalty) when set. */
export function decayedGrad(p: Tensor, grad: Tensor, g: { maximize: boolean; weightDecay: number }): Tensor {
  const d = g.maximize ? grad.neg() : grad;
  return g.weightDecay !== 0 ? d.add(p, { alpha: g.weightDecay }) : d;
}

/** A hyperparameter as Python prints it: True/False, None, integers without ".0", tuples. */
function pyValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (Array.isArray(v)) return `(${v.map(pyValue).join(', ')}${v.length === 1 ? ',' : ''})`;
  if (v === null) return 'None';
  return String(v);
}
