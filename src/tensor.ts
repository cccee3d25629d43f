import { checkTensor } from './args.js';
import { AccumulateGrad, addHook, isGradEnabled, noGrad, record, runBackward, type BackwardOptions, type GradHook, type GradRule, type HookHandle, type Node } from './autograd.js';
import type { Backend, BufferHandle, Device, View } from './backend.js';
import { canCast, cpuAllocError, fillValue, hostArray, isDTypeName, ITEM_BYTES, isFloating, parseDType, torchName, type DType, type HostArray } from './dtype.js';
import { RuntimeError, TypeError } from './errors.js';
import { backendFor, beginInternal, launch, stepBoundary } from './executor.js';
import { formatTensor } from './format.js';
import * as inplace from './ops/inplace.js';
import * as views from './ops/views.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, denseStridesLike, hasContiguousStrides, isContiguous, numel, fmtShape, sameSizes } from './shape.js';
import { noteRebased, trackTensor, untrackTensor } from './scope.js';
import { Storage, storageFinalizer, type Ticket } from './storage.js';

/** A dimension argument: one dim or several. */
export type Dims = number | readonly number[];
/** PyTorch's keyword form of reduction arguments. */
export interface ReduceOptions {
  dim?: Dims;
  keepdim?: boolean;
}
/** Nested JS arrays of numbers or booleans, as tolist() returns them. */
export type NestedList = number | boolean | NestedList[];

/** Throws PyTorch's error when tensors live on different devices. */
export function sameDevice(ts: readonly Tensor[]): void {
  for (const t of ts) {
    if (t.device !== ts[0]!.device) {
      const name = (d: Device) => (d === 'webgpu' ? 'webgpu:0' : d);
      throw new RuntimeError(
        `Expected all tensors to be on the same device, but found at least two devices, ${name(ts[0]!.device)} and ${name(t.device)}!`,
      );
    }
  }
}

/**
 * A multi-dimensional array on a device, with PyTorch's semantics. Ops return a new Tensor at once;
 * on WebGPU its values may still be pending on the device, so reads are async (`await t.item()`).
 */
export class Tensor {
  private _gradFn: Node | null = null;
  /** Accumulated gradient of a leaf (or of a tensor that called retainGrad()). */
  grad: Tensor | null = null;
  private _requiresGrad = false;
  /** The tensor this one is a view of (for in-place checks and history rewrites), or null. */
  readonly base: Tensor | null;
  /** A view made in noGrad mode (PyTorch's CreationMeta::NO_GRAD_MODE): in-place on it under grad is refused. */
  readonly viewInNoGrad: boolean;
  /**
   * Output `index` of an op that returns several views (split, chunk, unbind) of a tensor that
   * requires grad (PyTorch's CreationMeta::MULTI_OUTPUT_NODE): in-place on it under grad is refused.
   */
  multiOutput: { readonly index: number; readonly name: string } | null = null;
  /** The storage version this view's gradFn was made for; a newer one regenerates it (PyTorch's attr_version). */
  private viewVersion: number;
  private accumulator: AccumulateGrad | null = null;
  /** Its reference to the storage, for dispose() and the finalizer (storage.ts). */
  private readonly ticket: Ticket;
  private kview: View | null = null;

  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
    base: Tensor | null = null,
  ) {
    this.base = base;
    this.viewInNoGrad = base !== null && !isGradEnabled();
    this.viewVersion = storage.version;
    storage.retain();
    this.ticket = { storage, done: false };
    storageFinalizer.register(this, this.ticket);
    trackTensor(this);
  }

  /** A new contiguous tensor with uninitialized (zeroed) memory. */
  static empty(shape: readonly number[], dtype: DType, device: Device): Tensor {
    return Tensor.made(shape.slice(), contiguousStrides(shape), dtype, device);
  }
  /**
   * A new contiguous tensor of `shape`, which may be t's own shape array (an elementwise op's
   * output): when t's strides are exactly contiguous ones the two share their shape and strides
   * arrays (a tensor never changes them; a size-1 dim's odd stride is not passed on).
   */
  static emptyAs(t: Tensor, shape: readonly number[], dtype: DType, device: Device): Tensor {
    return shape === t.shape && hasContiguousStrides(t.shape, t.strides) ? Tensor.made(t.shape, t.strides, dtype, device) : Tensor.empty(shape, dtype, device);
  }
  /** A new tensor laid out with `strides`, which must be dense (a permutation of contiguous ones). */
  static emptyStrided(shape: readonly number[], strides: readonly number[], dtype: DType, device: Device): Tensor {
    return Tensor.made(shape.slice(), strides.slice(), dtype, device);
  }
  /** A new tensor of `shape` and `strides` (arrays nobody changes: tensors may share them). */
  private static made(shape: readonly number[], strides: readonly number[], dtype: DType, device: Device): Tensor {
    const b = backendFor(device);
    if (!b.limits.dtypes.includes(dtype)) {
      throw new TypeError(`dtype ${torchName(dtype)} is not supported on device '${device}' (supported: ${b.limits.dtypes.join(', ')})`);
    }
    const n = numel(shape);
    return new Tensor(new Storage(b, allocate(b, n, dtype), dtype, n), shape, strides, 0);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): Device {
    return this.storage.backend.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of dims (PyTorch's t.dim()). */
  dim(): number {
    return this.shape.length;
  }
  numel(): number {
    return numel(this.shape);
  }
  /** t.size() is the shape; t.size(d) one dim of it. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    return dim === undefined ? this.shape.slice() : this.shape[views.sizeDim(this, dim)]!;
  }
  stride(): number[] {
    return this.strides.slice();
  }
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  /** The recorded op that produced this tensor, or null for a leaf. */
  get gradFn(): Node | null {
    if (this.base && this.viewVersion !== this.storage.version) {
      // The storage was written in place since this view's history was made: read it from the base.
      this.viewVersion = this.storage.version;
      this._gradFn = inplace.regeneratedViewGrad(this, this.base);
    }
    return this._gradFn;
  }
  set gradFn(node: Node | null) {
    this._gradFn = node;
    this.viewVersion = this.storage.version;
  }
  /** A leaf's own flag, or it has a history, or it is a view of a tensor that requires grad (as in PyTorch). */
  get requiresGrad(): boolean {
    return this._requiresGrad || (this.base !== null && this.base.requiresGrad) || this.gradFn !== null;
  }
  set requiresGrad(v: boolean) {
    if (v && !isFloating(this.dtype)) throw new RuntimeError('only Tensors of floating point dtype can require gradients');
    if (!v && this.gradFn) {
      throw new RuntimeError(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
      );
    }
    this._requiresGrad = v && this.gradFn === null;
  }
  /** Sets requiresGrad in place and returns this. */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  /** What the kernels see: buffer, dtype, shape, strides, offset (one object per tensor: none of it changes). */
  kernelView(): View {
    const buf = this.storage.buf;
    if (buf === null) throw new RuntimeError('Tensor was disposed: its storage has been released');
    return (this.kview ??= { buf, dtype: this.dtype, shape: this.shape, strides: this.strides, offset: this.offset });
  }
  /** This tensor read as if expanded to `shape` (stride 0 along broadcast dims). */
  broadcastView(shape: readonly number[]): View {
    const v = this.kernelView();
    return { ...v, shape, strides: broadcastStrides(this.shape, this.strides, shape) };
  }

  // Elementwise ops, reductions, linear algebra, indexing and joining are generated from the op
  // tables onto this class's prototype (src/ops/methods.ts), typed by interface merging.

  // ---- views -------------------------------------------------------------------------------
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return views.reshape(this, flatArgs(shape), false);
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    return views.reshape(this, flatArgs(shape), true);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return views.flatten(this, startDim, endDim);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return views.transpose(this, dim0, dim1);
  }
  /** Transpose of a tensor of at most 2 dims. */
  t(): Tensor {
    return views.t(this);
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return views.permute(this, flatArgs(dims));
  }
  unsqueeze(dim: number): Tensor {
    return views.unsqueeze(this, dim);
  }
  squeeze(dim?: number): Tensor {
    return views.squeeze(this, dim);
  }
  expand(...sizes: (number | readonly number[])[]): Tensor {
    return views.expand(this, flatArgs(sizes));
  }
  expandAs(other: Tensor): Tensor {
    checkTensor('expand_as', 'other', 1, other);
    return views.expand(this, other.shape.slice());
  }
  contiguous(): Tensor {
    return views.contiguous(this);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return views.slice(this, dim, start, start + length, 1, true);
  }
  select(dim: number, index: number): Tensor {
    return views.select(this, dim, index);
  }
  /** Python's t[:, start:end:step] along one dim (negative and omitted bounds as in Python). */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return views.slice(this, dim, start ?? null, end ?? null, step, false);
  }
  /** A copy in new memory, still in the graph (CloneBackward0). */
  clone(): Tensor {
    return views.clone(this);
  }
  /**
   * A tensor sharing storage and its version counter, cut from the graph. It is not a view for the
   * in-place rules: `w.detach().zero_()` writes through to a leaf's data, as in PyTorch.
   */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  // ---- dtype and device --------------------------------------------------------------------
  /** A copy converted to `dtype` (the same tensor when it already has it). */
  type(dtype: DType | string): Tensor {
    const d = parseDType(dtype);
    if (d === this.dtype) return this;
    const out = Tensor.emptyStrided(this.shape, denseStridesLike(this.shape, this.strides), d, this.device);
    launch(this.device, { kind: 'copy', x: this.kernelView(), out: out.kernelView() });
    if (!isFloating(d)) return out;
    const from = this.dtype;
    return record(out, 'ToCopyBackward0', [this], [], (g) => [isFloating(from) ? g.type(from) : null]);
  }
  float(): Tensor {
    return this.type('float32');
  }
  double(): Tensor {
    return this.type('float64');
  }
  int(): Tensor {
    return this.type('int32');
  }
  long(): Tensor {
    return this.type('int32');
  }
  bool(): Tensor {
    return this.type('bool');
  }
  /**
   * PyTorch's to(): a dtype, a device, both, another tensor's, or `{dtype, device}`. A dtype change
   * alone returns the tensor at once (recorded by autograd as ToCopyBackward0); `to('webgpu')` returns
   * the new tensor at once; a target of 'cpu' gives a Promise (`await t.to('cpu')` reads the values
   * back). Device copies are new leaves (not recorded by autograd).
   */
  to(dtype: DType): Tensor;
  to(device: 'webgpu', dtype?: DType | string): Tensor;
  to(device: Device | string, dtype?: DType | string): Tensor | Promise<Tensor>;
  to(other: Tensor): Tensor | Promise<Tensor>;
  to(opts: { dtype?: DType | string; device?: Device | string }): Tensor | Promise<Tensor>;
  to(target: Device | DType | string | Tensor | { dtype?: DType | string; device?: Device | string }, dtype?: DType | string): Tensor | Promise<Tensor> {
    let device: Device | undefined, d: DType | undefined;
    if (target instanceof Tensor) [device, d] = [target.device, target.dtype];
    else if (target !== null && typeof target === 'object') {
      device = target.device === undefined ? undefined : parseDevice(target.device);
      d = target.dtype === undefined ? undefined : parseDType(target.dtype);
    } else if (isDTypeName(target)) d = parseDType(target);
    else {
      device = parseDevice(target);
      if (dtype !== undefined) d = parseDType(dtype);
    }
    if (device === undefined || device === this.device) {
      const out = d === undefined ? this : this.type(d);
      return device === 'cpu' ? Promise.resolve(out) : out;
    }
    // Convert where the dtype exists: float64 lives on the CPU only.
    if (device === 'cpu') return this.moveTo('cpu').then((t) => (d === undefined ? t : t.type(d)));
    return (d === undefined ? this : this.type(d)).moveTo(device);
  }
  /** A copy on another device: a new leaf that requires grad when this is a leaf that does. */
  private moveTo(d: 'cpu'): Promise<Tensor>;
  private moveTo(d: Device): Tensor | Promise<Tensor>;
  private moveTo(d: Device): Tensor | Promise<Tensor> {
    const strides = denseStridesLike(this.shape, this.strides);
    const make = (data: HostArray) => {
      let out = Tensor.empty(this.shape, this.dtype, d);
      backendFor(d).write(out.storage.buf, this.dtype, data);
      out.storage.hostCache = data;
      if (!sameSizes(strides, out.strides)) {
        // keep the source's layout, as PyTorch's to() does (a transposed tensor stays transposed)
        const laid = Tensor.emptyStrided(this.shape, strides, this.dtype, d);
        launch(d, { kind: 'copy', x: out.kernelView(), out: laid.kernelView() });
        out.dispose();
        out = laid;
      }
      if (this.requiresGrad && this.isLeaf) out.requiresGrad = true;
      return out;
    };
    if (this.device === 'cpu') return make(this.dataSync());
    return this.data().then(make);
  }
  /** `await t.cpu()`: the values on the CPU device. */
  cpu(): Promise<Tensor> {
    return Promise.resolve(this.to('cpu'));
  }

  // ---- in-place ----------------------------------------------------------------------------
  /**
   * Runs an out-of-place op on this tensor and writes its result into this tensor's memory, with
   * PyTorch's checks first (leaf and view rules, memory overlap with the tensor `operands`). With
   * grad on, the op's node becomes this tensor's history, or its base's through CopySlices when this
   * is a view; its edges were captured before, so earlier consumers keep the old history.
   */
  private inplace(f: (self: Tensor) => Tensor, operands: readonly unknown[], checkSelfOverlap = true, castName = (d: DType) => typeLabel(d)): this {
    const inputs = operands.filter((o): o is Tensor => o instanceof Tensor);
    if (isGradEnabled() && (this.requiresGrad || inputs.some((t) => t.requiresGrad))) inplace.checkInplace(this);
    if (checkSelfOverlap) inplace.checkInternalOverlap(this);
    for (const t of inputs) inplace.checkPartialOverlap(this, t);
    // `old` stands for the value before the write: a rule that saved it gets a snapshot below,
    // while `this` passed as another operand (y.add_(y)) stays the tensor that is overwritten.
    const old = new Tensor(this.storage, this.shape, this.strides, this.offset, this.base);
    old._gradFn = this.gradFn;
    old._requiresGrad = this._requiresGrad;
    old.accumulator = this.accumulator;
    const result = f(old);
    if (result.shape.length !== this.shape.length || result.shape.some((s, i) => s !== this.shape[i])) {
      throw new RuntimeError(`output with shape ${fmtShape(this.shape)} doesn't match the broadcast shape ${fmtShape(result.shape)}`);
    }
    if (!canCast(result.dtype, this.dtype)) {
      throw new RuntimeError(`result type ${result.typeLabel()} can't be cast to the desired output type ${castName(this.dtype)}`);
    }
    const node = isGradEnabled() ? result.gradFn : null;
    const saved = node?.saved;
    // A rule that saved the pre-update value needs it after the overwrite: snapshot it first.
    const snap = saved?.includes(old) ? noGrad(() => views.clone(old)) : null;
    // x.copy_(x) and the like: the same elements already hold the result (PyTorch's is_same_data).
    const same = result.storage === this.storage && result.offset === this.offset && sameSizes(result.strides, this.strides);
    if (!same) launch(this.device, { kind: 'copy', x: result.kernelView(), out: this.kernelView() });
    // A result nobody else holds is this op's temporary: released now, so the executor never stores
    // it (the op becomes one kernel writing this tensor). A saved result is replaced by `this` below.
    if (result.storage.refs === 1 && result.storage !== this.storage && !inputs.includes(result)) result.dispose();
    this.storage.bump();
    if (node && saved) {
      // A saved output is this tensor now, at its new version: a later in-place change is caught.
      node.saved = saved.map((t) => (t === old ? snap! : t === result ? this : t));
      node.savedVersions = node.saved.map((t, i) => (saved[i] === old || saved[i] === result ? t.storage.version : node.savedVersions[i]!));
    }
    if (node) this.rebase(node);
    return this;
  }
  /** Makes `node` this tensor's history after an in-place op (PyTorch's rebase_history). */
  private rebase(node: Node): void {
    if (this.base) {
      this.base.gradFn = inplace.copySlices(this.base, inplace.geometry(this), node);
      this.viewVersion = -1; // regenerate from the base on next access
      noteRebased(this.base);
    } else {
      const prev = this._gradFn;
      this.gradFn = node;
      // retainGrad() follows the tensor to its new history (PyTorch moves the retains_grad hook).
      if (prev?.retained === this) {
        prev.retained = null;
        node.retained = this;
      }
    }
    noteRebased(this);
  }
  add_(other: Tensor | number, opts?: { alpha?: number }): this {
    return this.inplace((s) => s.add(other, opts), [other]);
  }
  sub_(other: Tensor | number, opts?: { alpha?: number }): this {
    return this.inplace((s) => s.sub(other, opts), [other]);
  }
  mul_(other: Tensor | number): this {
    return this.inplace((s) => s.mul(other), [other]);
  }
  div_(other: Tensor | number): this {
    return this.inplace((s) => s.div(other), [other]);
  }
  clamp_(min?: number | null | { min?: number | null; max?: number | null }, max?: number | null): this {
    // PyTorch names the output type the C++ way in clamp_'s cast error ("long int", "bool").
    return this.inplace((s) => s.clamp(min, max), [], true, (d) => ({ float32: 'float', float64: 'double', int32: 'long int', bool: 'bool' })[d]);
  }
  /** Copies src (broadcast, converted) into this tensor (CopyBackwards: no gradient reaches the old value). */
  copy_(src: Tensor): this {
    sameDeviceOrThrow(this, src);
    return this.inplace((old) => {
      // PyTorch broadcasts src against this and then requires this's shape.
      const shape = broadcastShapes(this.shape, src.shape);
      if (!sameSizes(shape, this.shape)) throw new RuntimeError(`output with shape ${fmtShape(this.shape)} doesn't match the broadcast shape ${fmtShape(shape)}`);
      const out = noGrad(() => views.expand(src, this.shape.slice()).type(this.dtype));
      return record(out, 'CopyBackwards', [old, src], [], copyRule(src.dtype));
    }, [src]);
  }
  fill_(value: number | boolean): this {
    if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`fill_(): argument 'value' (position 1) must be Number, not ${value === null ? 'NoneType' : typeof value}`);
    return this.inplace((s) => this.filled(s, value, 'FillBackward2'), [], false);
  }
  zero_(): this {
    return this.inplace((s) => this.filled(s, 0, 'ZeroBackward0'), [], false);
  }
  /** A tensor like self filled with value; its gradient to self is zero. */
  private filled(self: Tensor, value: number | boolean, node: string): Tensor {
    const v = fillValue(+value, this.dtype);
    const out = Tensor.empty(this.shape, this.dtype, this.device);
    launch(this.device, { kind: 'fill', out: out.kernelView(), value: v });
    return record(out, node, [self], [], (g) => [g.zerosLike()]);
  }

  // ---- autograd ----------------------------------------------------------------------------
  /** Computes gradients of this tensor with respect to graph leaves, accumulating into .grad. */
  backward(gradient?: Tensor | null, opts: BackwardOptions = {}): void {
    if (!this.requiresGrad) {
      throw new RuntimeError('element 0 of tensors does not require grad and does not have a grad_fn');
    }
    stepBoundary(this.device);
    let g = gradient ?? null;
    if (g !== null) checkTensor('backward', 'gradient', 1, g);
    if (g === null) {
      if (this.numel() !== 1) throw new RuntimeError('grad can be implicitly created only for scalar outputs');
      g = this.onesLike();
      beginInternal(this.device, [g.storage.buf]); // the implicit ones are backward's temporary (runBackward ends the region)
    } else if (g.shape.length !== this.shape.length || g.shape.some((s, i) => s !== this.shape[i])) {
      throw new RuntimeError(`Mismatch in shape: grad_output[0] has a shape of ${sizeText(g.shape)} and output[0] has a shape of ${sizeText(this.shape)}.`);
    }
    runBackward([this], [g], opts?.retainGraph ?? false, null);
  }
  /** Keeps .grad of a non-leaf tensor after backward. */
  retainGrad(): void {
    if (this.gradFn) this.gradFn.retained = this;
  }
  /**
   * Registers fn on the gradient of this tensor (PyTorch's register_hook): fn sees the gradient when
   * backward computes it and may return a replacement. Works on leaves and non-leaves.
   * @example const h = x.registerHook((g) => g.mul(2)); ...; h.remove();
   */
  registerHook(fn: GradHook): HookHandle {
    if (!this.requiresGrad) throw new RuntimeError("cannot register a hook on a tensor that doesn't require gradient");
    return addHook(this.gradFn ?? this.gradAccumulator(), fn);
  }
  /**
   * The node backward delivers this leaf's gradient to (PyTorch's AccumulateGrad).
   * @internal
   */
  gradAccumulator(): AccumulateGrad {
    return (this.accumulator ??= new AccumulateGrad(this));
  }
  /** Adds a gradient into .grad (in place once it exists, as PyTorch's AccumulateGrad). */
  accumulateGrad(g: Tensor): void {
    noGrad(() => {
      if (this.grad) this.grad.add_(g);
      else untrackTensor((this.grad = views.clone(g).detach()));
    });
  }

  // ---- reading -----------------------------------------------------------------------------
  /** Values as a typed array in row-major order (bool as Uint8Array), on every device. */
  async data(): Promise<HostArray> {
    const c = this.contiguous();
    const v = c.kernelView();
    return c.storage.backend.read(v.buf, this.dtype, v.offset, this.numel());
  }
  /** Synchronous data(); CPU tensors only. */
  dataSync(): HostArray {
    const c = this.contiguous();
    const b = c.storage.backend;
    if (!b.readSync) throw new RuntimeError(`dataSync() needs a CPU tensor; use \`await t.data()\` on device '${this.device}'`);
    const v = c.kernelView();
    return b.readSync(v.buf, this.dtype, v.offset, this.numel());
  }
  /** The single value of a one-element tensor. bool gives 1 or 0. */
  async item(): Promise<number> {
    this.checkItem();
    return (await this.data())[0]!;
  }
  itemSync(): number {
    this.checkItem();
    return this.dataSync()[0]!;
  }
  private checkItem(): void {
    const n = this.numel();
    if (n !== 1) throw new RuntimeError(`a Tensor with ${n} elements cannot be converted to Scalar`);
  }
  /** Values as nested arrays (a number for a 0-dim tensor), booleans for bool. */
  async tolist(): Promise<NestedList> {
    return nest(await this.data(), this.shape, this.dtype);
  }
  tolistSync(): NestedList {
    return nest(this.dataSync(), this.shape, this.dtype);
  }
  private suffixes(): string[] {
    const s: string[] = [];
    if (this.device === 'webgpu') s.push("device='webgpu:0'");
    if (this.gradFn) s.push(`grad_fn=<${this.gradFn.name}>`);
    else if (this.requiresGrad) s.push('requires_grad=True');
    return s;
  }
  /** PyTorch's str(t), on every device. */
  async format(): Promise<string> {
    return formatTensor(await this.data(), this.shape, this.dtype, this.suffixes());
  }
  /**
   * PyTorch's str(t) for CPU tensors. Never blocks: a WebGPU tensor whose values are not on the
   * host prints as `tensor(<pending>, device='webgpu:0', size=(2, 2))`; use `await t.format()`.
   */
  toString(): string {
    if (this.storage.buf === null) return 'tensor(<disposed>)';
    if (this.device === 'cpu') return formatTensor(this.dataSync(), this.shape, this.dtype, this.suffixes());
    const cache = this.storage.hostCache;
    if (cache && this.isContiguous() && this.offset === 0) {
      return formatTensor(Array.prototype.slice.call(cache, 0, this.numel()) as number[], this.shape, this.dtype, this.suffixes());
    }
    return `tensor(<pending>, ${[...this.suffixes(), `size=${sizeText(this.shape)}`].join(', ')})`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
  /** PyTorch's legacy type name, e.g. torch.FloatTensor (used in autograd messages). */
  typeName(): string {
    const n = { float32: 'Float', float64: 'Double', int32: 'Long', bool: 'Bool' }[this.dtype];
    return this.device === 'webgpu' ? `torch.webgpu.${n}Tensor` : `torch.${n}Tensor`;
  }
  /** Short dtype name as PyTorch's errors print it (Float, Long, Bool, Double). */
  typeLabel(): string {
    return typeLabel(this.dtype);
  }

  // ---- memory ------------------------------------------------------------------------------
  /** Releases this tensor's reference to its storage now; the tensor is unusable afterwards. */
  dispose(): void {
    if (this.ticket.done) return;
    this.ticket.done = true;
    this.storage.releaseRef();
  }

  // ---- like-creation (used by gradient rules) ----------------------------------------------
  zerosLike(): Tensor {
    return this.fullLike(0);
  }
  onesLike(): Tensor {
    return this.fullLike(1);
  }
  fullLike(value: number): Tensor {
    const v = fillValue(value, this.dtype);
    const out = Tensor.empty(this.shape, this.dtype, this.device);
    launch(this.device, { kind: 'fill', out: out.kernelView(), value: v });
    return out;
  }
}

/** A buffer for n elements, with PyTorch's out-of-memory RuntimeError instead of a raw RangeError. */
function allocate(b: Backend, n: number, dtype: DType): BufferHandle {
  const bytes = n * (b.device === 'webgpu' ? 4 : ITEM_BYTES[dtype]);
  if (b.device === 'webgpu' && bytes > b.limits.maxBufferSize) {
    throw new RuntimeError(
      `WebGPU: can't allocate memory: you tried to allocate ${bytes} bytes for a ${torchName(dtype)} tensor of ${n} elements, ` +
        `more than this adapter's per-buffer binding limit of ${b.limits.maxBufferSize} bytes (the adapter's maxStorageBufferBindingSize / maxBufferSize; real GPUs allow more)`,
    );
  }
  try {
    return b.alloc(n, dtype);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new RuntimeError(cpuAllocError(bytes));
  }
}

function sameDeviceOrThrow(a: Tensor, b: Tensor): void {
  checkTensor('copy_', 'src', 1, b);
  sameDevice([a, b]);
}

/** copy_'s gradient: none to the overwritten value, g (converted back) to the source. Top-level so it captures no tensor. */
function copyRule(from: DType): GradRule {
  return (g, _s, needs) => [needs[0] ? g.zerosLike() : null, needs[1] && isFloating(from) ? g.type(from) : null];
}

const typeLabel = (d: DType): string => ({ float32: 'Float', float64: 'Double', int32: 'Long', bool: 'Bool' })[d];

function sizeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function flatArgs(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return (args[0] as number[]).slice();
  return args as number[];
}

/** Validates a device name ('cpu', 'webgpu', 'webgpu:0'). */
export function parseDevice(d: unknown): Device {
  if (d === 'cpu') return 'cpu';
  if (d === 'webgpu' || d === 'webgpu:0') return 'webgpu';
  throw new RuntimeError(`Expected one of cpu, webgpu device type at start of device string: ${String(d)}`);
}

function nest(data: HostArray, shape: readonly number[], dtype: DType): NestedList {
  const conv = dtype === 'bool' ? (x: number) => x !== 0 : (x: number) => x;
  if (shape.length === 0) return conv(data[0]!);
  let i = 0;
  const build = (d: number): NestedList[] => {
    const out: NestedList[] = [];
    for (let k = 0; k < shape[d]!; k++) out.push(d === shape.length - 1 ? conv(data[i++]!) : build(d + 1));
    return out;
  };
  return build(0);
}


