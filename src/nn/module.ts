/**
 * torch.nn.Module and Parameter. A module's parameters, buffers and children are found in its own
 * fields, in assignment order — `this.fc1 = new nn.Linear(...)` registers fc1 as PyTorch's
 * __setattr__ does — so `parameters()` lists them in PyTorch's registration order.
 */
import { pyType } from '../args.js';
import { noGrad } from '../autograd.js';
import type { Device } from '../backend.js';
import { KeyError, RuntimeError, TypeError } from '../errors.js';
import { Tensor, parseDevice } from '../tensor.js';

/**
 * A tensor that a Module registers as a parameter: a leaf that requires grad by default.
 * `new nn.Parameter(torch.randn(3, 4))` shares the data's memory.
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) throw new TypeError(`Parameter(): argument 'data' (position 1) must be Tensor, not ${pyType(data)}`);
    super(data.storage, data.shape, data.strides, data.offset, null);
    // Integer data with requiresGrad gets PyTorch's "only Tensors of floating point dtype" error.
    if (requiresGrad) this.requiresGrad = true;
  }
  /** PyTorch prints `Parameter containing:` above the tensor. */
  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
  override async format(): Promise<string> {
    return `Parameter containing:\n${await super.format()}`;
  }
}

/** What `stateDict()` returns: names to tensors, in registration order (PyTorch's OrderedDict). */
export type StateDict = Record<string, Tensor>;

/** The result of a non-strict `loadStateDict`: keys that did not line up. */
export interface IncompatibleKeys {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Base class of every layer and model. Subclasses assign Parameters, Modules and (through
 * registerBuffer) buffers to fields, and implement `forward`. Call it as `model.forward(x)`.
 *
 * @example
 * class Net extends torch.nn.Module {
 *   fc = new torch.nn.Linear(4, 2);
 *   forward(x: torch.Tensor) { return this.fc.forward(x).relu(); }
 * }
 */
export abstract class Module {
  /** Training mode (dropout active); `eval()` turns it off. */
  training = true;
  private readonly bufferNames = new Set<string>();
  private readonly nonPersistent = new Set<string>();

  /** The module's computation. */
  abstract forward(...args: never[]): unknown;

  /** Registers (or replaces) a parameter under `name`; null registers an absent one (like bias=False). */
  registerParameter(name: string, param: Parameter | null): void {
    checkName(this, name, 'parameter');
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError(`cannot assign '${describe(param)}' object to parameter '${name}' (torch.nn.Parameter or None required)`);
    }
    (this as unknown as Record<string, unknown>)[name] = param;
  }
  /** Registers a child module under `name`. */
  registerModule(name: string, module: Module | null): void {
    checkName(this, name, 'module');
    if (module !== null && !(module instanceof Module)) throw new TypeError(`${describe(module)} is not a Module subclass`);
    (this as unknown as Record<string, unknown>)[name] = module;
  }
  /** Alias of registerModule (PyTorch's add_module). */
  addModule(name: string, module: Module | null): void {
    this.registerModule(name, module);
  }
  /** Registers a tensor that is state but not a parameter (saved in stateDict unless not persistent). */
  registerBuffer(name: string, tensor: Tensor | null, opts: { persistent?: boolean } = {}): void {
    checkName(this, name, 'buffer');
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new TypeError(`cannot assign '${describe(tensor)}' object to buffer '${name}' (torch Tensor or None required)`);
    }
    (this as unknown as Record<string, unknown>)[name] = tensor;
    this.bufferNames.add(name);
    if (opts.persistent === false) this.nonPersistent.add(name);
    else this.nonPersistent.delete(name);
  }

  /** Own fields in assignment order, with what each one is. */
  private *ownEntries(): Generator<[string, 'param' | 'buffer' | 'module', Tensor | Module]> {
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Parameter) yield [k, 'param', v];
      else if (v instanceof Module) yield [k, 'module', v];
      else if (v instanceof Tensor && this.bufferNames.has(k)) yield [k, 'buffer', v];
    }
  }

  /** Direct children with their names. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [k, kind, v] of this.ownEntries()) if (kind === 'module') yield [k, v as Module];
  }
  /** Direct children. */
  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }
  /** This module and every descendant, depth first, each once, with dotted names ('' for this one). */
  *namedModules(prefix = '', seen = new Set<Module>()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k, seen);
  }
  /** This module and every descendant. */
  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }
  /** Parameters with dotted names, in registration order; a shared parameter appears once. */
  namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): [string, Parameter][] {
    return this.namedMembers('param', opts.prefix ?? '', opts.recurse ?? true) as [string, Parameter][];
  }
  /** Parameters in registration order (what an optimizer takes). */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters({ recurse }).map(([, p]) => p);
  }
  /** Buffers with dotted names. */
  namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    return this.namedMembers('buffer', opts.prefix ?? '', opts.recurse ?? true) as [string, Tensor][];
  }
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, b]) => b);
  }
  private namedMembers(kind: 'param' | 'buffer', prefix: string, recurse: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] = recurse ? [...this.namedModules(prefix)] : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, kd, v] of m.ownEntries()) {
        if (kd !== kind || seen.has(v as Tensor)) continue;
        seen.add(v as Tensor);
        out.push([mp ? `${mp}.${k}` : k, v as Tensor]);
      }
    }
    return out;
  }

  /** Sets every parameter's grad to zero (PyTorch 1.13's default) or, with setToNone, to null. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (opts.setToNone) p.grad = null;
      else noGrad(() => p.grad!.zero_());
    }
  }
  /** Sets training mode on this module and every descendant; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  /** train(false). */
  eval(): this {
    return this.train(false);
  }
  /** Calls fn on every descendant and then on this module (children first, as PyTorch); returns this. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }
  /** Sets requiresGrad on every parameter; returns this. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /**
   * Moves parameters and buffers to a device. To 'webgpu' it returns this module at once; to 'cpu'
   * the values are read back, so it returns a Promise of this module (as `t.to('cpu')` does).
   * Parameters are replaced by new Parameter objects: build optimizers after moving, as PyTorch advises.
   */
  to(device: 'webgpu'): this;
  to(device: Device | string): this | Promise<this>;
  to(device: Device | string): this | Promise<this> {
    const d = parseDevice(device);
    const moves: Promise<void>[] = [];
    for (const m of this.modules()) {
      for (const [k, kind, v] of [...m.ownEntries()]) {
        if (kind === 'module') continue;
        const t = v as Tensor;
        if (t.device === d) continue;
        const place = (moved: Tensor) => {
          const rec = m as unknown as Record<string, unknown>;
          rec[k] = kind === 'param' ? new Parameter(moved.detach(), t.requiresGrad) : moved;
        };
        const r = t.detach().to(d);
        if (r instanceof Promise) moves.push(r.then(place));
        else place(r);
      }
    }
    if (d === 'cpu') return Promise.all(moves).then(() => this);
    return this;
  }

  /** Parameters and persistent buffers by dotted name, detached (they share memory with the module). */
  stateDict(): StateDict {
    const out: StateDict = {};
    // Per module: its parameters, then its buffers, then its children's (PyTorch's order).
    for (const [mp, m] of this.namedModules()) {
      const own = [...m.ownEntries()];
      for (const want of ['param', 'buffer'] as const) {
        for (const [k, kind, v] of own) {
          if (kind !== want || (kind === 'buffer' && m.nonPersistent.has(k))) continue;
          out[mp ? `${mp}.${k}` : k] = (v as Tensor).detach();
        }
      }
    }
    return out;
  }

  /**
   * Copies values from a state dict into this module's parameters and buffers (in place, so
   * optimizers keep working). strict (default) requires exactly the same keys.
   */
  loadStateDict(stateDict: StateDict, opts: { strict?: boolean } = {}): IncompatibleKeys {
    if (stateDict === null || typeof stateDict !== 'object') {
      throw new TypeError(`Expected state_dict to be dict-like, got ${describe(stateDict)}.`);
    }
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !(k in own));
    const errors: string[] = [];
    if (strict) {
      if (unexpectedKeys.length) errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}. `);
      if (missingKeys.length) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}. `);
    }
    const copies: [Tensor, Tensor][] = [];
    for (const [k, dst] of Object.entries(own)) {
      const src = stateDict[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) {
        errors.push(`While copying the parameter named "${k}", expected torch.Tensor or Tensor-like object from checkpoint but received ${describe(src)}`);
      } else if (src.shape.length !== dst.shape.length || src.shape.some((s, i) => s !== dst.shape[i])) {
        errors.push(
          `size mismatch for ${k}: copying a param with shape ${sizeName(src.shape)} from checkpoint, the shape in current model is ${sizeName(dst.shape)}.`,
        );
      } else copies.push([dst, src]);
    }
    if (errors.length) {
      // Nothing is copied when any key fails, so a failed load leaves the module intact.
      throw new RuntimeError(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errors.join('\n\t')}`);
    }
    noGrad(() => {
      for (const [dst, src] of copies) dst.copy_(src.device === dst.device ? src : moveSync(src, dst.device));
    });
    return { missingKeys, unexpectedKeys };
  }

  /** PyTorch's repr: the module tree with each layer's extraRepr. */
  toString(): string {
    const kids = [...this.namedChildren()];
    const extra = this.extraRepr();
    if (!kids.length) return `${this.constructor.name}(${extra})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${String(m).split('\n').join('\n  ')}`);
    if (extra) lines.unshift(`  ${extra}`);
    return `${this.constructor.name}(\n${lines.join('\n')}\n)`;
  }
  /** The text inside a leaf module's parentheses, e.g. `in_features=3, out_features=1, bias=True`. */
  extraRepr(): string {
    return '';
  }
}

function moveSync(t: Tensor, device: Device): Tensor {
  const r = t.to(device);
  if (r instanceof Promise) {
    throw new RuntimeError(`loadStateDict: tensors on '${t.device}' must be moved with \`await t.to('${device}')\` before loading into a '${device}' module`);
  }
  return r;
}

function sizeName(shape: readonly number[]): string {
  return `torch.Size([${shape.join(', ')}])`;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'string' ? 'str' : typeof v;
}

function checkName(m: Module, name: string, what: string): void {
  if (typeof name !== 'string') throw new TypeError(`${what} name should be a string. Got ${describe(name)}`);
  if (name.includes('.')) throw new KeyError(`${what} name can't contain "."`);
  if (name === '') throw new KeyError(`${what} name can't be empty string ""`);
  const existing = (m as unknown as Record<string, unknown>)[name];
  if (existing !== undefined && typeof existing === 'function') throw new KeyError(`attribute '${name}' already exists`);
}
