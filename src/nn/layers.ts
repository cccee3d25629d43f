/**
 * torch.nn layers: Linear, containers, activations, Flatten, Dropout, Embedding, LayerNorm, Conv2d.
 * Each initializes its parameters as PyTorch does and forwards to torch.nn.functional.
 */
import { empty, type TensorOptions } from '../creation.js';
import { IndexError, RuntimeError, TypeError, ValueError } from '../errors.js';
import { pyFloatRepr } from '../format.js';
import type { Tensor } from '../tensor.js';
import { conv2d, dropout, embedding, layerNorm, linear } from './functional-layers.js';
import * as init from './init.js';
import { Module, Parameter } from './module.js';
import * as F from './functional.js';
import { checkAttr, checkTensor } from '../args.js';

/** A module that maps one tensor to one tensor (what Sequential chains). */
export interface Layer extends Module {
  forward(input: Tensor): Tensor;
}

/** Where and how a layer creates its parameters (PyTorch's factory_kwargs). */
export type FactoryOptions = Pick<TensorOptions, 'device' | 'dtype'>;

const factory = (o: FactoryOptions) => ({ device: o.device, dtype: o.dtype });
const pyBool = (b: boolean) => (b ? 'True' : 'False');
const pyPair = (p: readonly [number, number]) => `(${p[0]}, ${p[1]})`;

/** y = x Wᵀ + b. Weights kaiming_uniform(a=√5), i.e. U(±1/√in_features); bias U(±1/√in_features). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: FactoryOptions & { bias?: boolean } = {}) {
    super();
    this.weight = new Parameter(empty([outFeatures, inFeatures], factory(opts)));
    this.bias = opts.bias === false ? null : new Parameter(empty([outFeatures], factory(opts)));
    this.resetParameters();
  }
  /** PyTorch's reset_parameters. */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }
  forward(input: Tensor): Tensor {
    return linear(input, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** Numbers its children '0', '1', …; integer keys keep ascending order in JS objects, as we need. */
function addNumbered(m: Module, start: number, mods: readonly Module[]): void {
  mods.forEach((c, i) => {
    if (!(c instanceof Module)) throw new TypeError(`${String(c)} is not a Module subclass`);
    m.registerModule(String(start + i), c);
  });
}

/**
 * Chains layers: `new nn.Sequential(new nn.Linear(3, 1), new nn.Flatten(0, 1))`, or named with an
 * object (`{fc: ..., act: ...}`). `seq[0]` is the first layer, as in PyTorch.
 */
export class Sequential extends Module {
  [index: number]: Layer;
  constructor(...layers: Layer[] | [Record<string, Layer>]) {
    super();
    const first = layers[0];
    if (layers.length === 1 && first !== undefined && !(first instanceof Module)) {
      for (const [k, v] of Object.entries(first)) this.registerModule(k, v);
    } else addNumbered(this, 0, layers as Layer[]);
  }
  get length(): number {
    return this.children().length;
  }
  /** Appends a layer; returns this. */
  append(layer: Layer): this {
    addNumbered(this, this.length, [layer]);
    return this;
  }
  forward(input: Tensor): Tensor {
    let x = input;
    for (const m of this.children()) x = (m as Layer).forward(x);
    return x;
  }
}

/** Holds modules in a list so they are registered (a plain array is not). */
export class ModuleList<M extends Module = Module> extends Module {
  [index: number]: M;
  constructor(modules: Iterable<M> = []) {
    super();
    addNumbered(this, 0, [...modules]);
  }
  get length(): number {
    return this.children().length;
  }
  /** The i-th module (negative counts from the end). */
  at(i: number): M {
    const n = this.length;
    if (i < -n || i >= n) throw new IndexError(`index ${i} is out of range`);
    return this.children()[i < 0 ? i + n : i] as M;
  }
  append(m: M): this {
    addNumbered(this, this.length, [m]);
    return this;
  }
  extend(ms: Iterable<M>): this {
    addNumbered(this, this.length, [...ms]);
    return this;
  }
  [Symbol.iterator](): Iterator<M> {
    return (this.children() as M[])[Symbol.iterator]();
  }
  forward(): never {
    throw new RuntimeError('Module [ModuleList] is missing the required "forward" function');
  }
}

/** max(x, 0). */
export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return F.relu(input);
  }
}
/** 1 / (1 + exp(-x)). */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return F.tanh(input);
  }
}
/** x · Φ(x) (exact erf form), or the tanh approximation with {approximate: 'tanh'}. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = opts.approximate ?? 'none';
  }
  forward(input: Tensor): Tensor {
    return F.gelu(input, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}
/** softmax along `dim`. */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.softmax(input, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
/** log(softmax) along `dim`, computed stably. */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.logSoftmax(input, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
/** Flattens dims startDim..endDim (default 1..-1, keeping the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(input: Tensor): Tensor {
    checkAttr(input, 'flatten'); // PyTorch's Flatten calls input.flatten(...)
    return input.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
/** Dropout with probability p while training; the identity after eval(). */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    if (p < 0 || p > 1) throw new ValueError(`dropout probability has to be between 0 and 1, but got ${p}`);
    this.p = p;
  }
  forward(input: Tensor): Tensor {
    return dropout(input, { p: this.p, training: this.training });
  }
  override extraRepr(): string {
    return `p=${pyFloatRepr(this.p)}, inplace=False`;
  }
}

/** A lookup table of numEmbeddings vectors; weights N(0, 1), the padding row zero. */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: FactoryOptions & { paddingIdx?: number | null } = {}) {
    super();
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (pad >= numEmbeddings || pad < -numEmbeddings) throw new RuntimeError('Padding_idx must be within num_embeddings');
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.weight = new Parameter(empty([numEmbeddings, embeddingDim], factory(opts)));
    init.normal_(this.weight);
    if (pad !== null) init.zeros_(this.weight.select(0, pad));
  }
  forward(input: Tensor): Tensor {
    return embedding(input, this.weight, { paddingIdx: this.paddingIdx });
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}

/** Layer normalization over the trailing dims; weight ones, bias zeros. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  constructor(normalizedShape: number | readonly number[], opts: FactoryOptions & { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(init.ones_(empty(this.normalizedShape, factory(opts)))) : null;
    this.bias = affine ? new Parameter(init.zeros_(empty(this.normalizedShape, factory(opts)))) : null;
  }
  forward(input: Tensor): Tensor {
    return layerNorm(input, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    const shape = this.normalizedShape.length === 1 ? `(${this.normalizedShape[0]},)` : `(${this.normalizedShape.join(', ')})`;
    return `${shape}, eps=${pyFloatRepr(this.eps)}, elementwise_affine=${pyBool(this.weight !== null)}`;
  }
}

/** A size given as one number or an (h, w) pair, as PyTorch's Conv2d takes it. */
export type Pair = number | readonly [number, number];
const toPair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** 2-D convolution; weight kaiming_uniform(a=√5), bias U(±1/√fan_in) as PyTorch's _ConvNd. */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: FactoryOptions & { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number; bias?: boolean } = {},
  ) {
    super();
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups !== 0) throw new RuntimeError('in_channels must be divisible by groups');
    if (outChannels % this.groups !== 0) throw new RuntimeError('out_channels must be divisible by groups');
    this.kernelSize = toPair(kernelSize);
    this.stride = toPair(opts.stride ?? 1);
    this.padding = toPair(opts.padding ?? 0);
    this.dilation = toPair(opts.dilation ?? 1);
    this.weight = new Parameter(empty([outChannels, inChannels / this.groups, ...this.kernelSize], factory(opts)));
    this.bias = opts.bias === false ? null : new Parameter(empty([outChannels], factory(opts)));
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }
  forward(input: Tensor): Tensor {
    return conv2d(input, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyPair(this.kernelSize)}, stride=${pyPair(this.stride)}`;
    if (this.padding[0] || this.padding[1]) s += `, padding=${pyPair(this.padding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${pyPair(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

