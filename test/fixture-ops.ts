/**
 * The ops.json fixture format and each fixture op as wgtorch spells the call. Shared by
 * test/conformance.test.ts (Node) and examples/browser/conformance.ts (the page), so it imports
 * nothing at run time: the caller passes its wgtorch module (the page may use the built package).
 */
import type * as Wgtorch from '../src/index.js';
import type { Device, DType, Tensor } from '../src/index.js';

export interface FixtureTensor {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
  data: (number | string | boolean)[];
}

export interface OpCase {
  op: string;
  kwargs: Record<string, unknown>;
  inputs: FixtureTensor[];
  out: FixtureTensor;
  upstream?: FixtureTensor;
  /** null: that input's .grad stays null (the gradient does not reach it). */
  grads?: (FixtureTensor | null)[];
}

/** A fixture value as a number: 'nan', 'inf', '-inf' and booleans are spelled out in the JSON. */
export const fixtureNumber = (v: number | string | boolean): number =>
  v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : typeof v === 'boolean' ? +v : (v as number);

/** A fixture tensor's dtype as wgtorch's (PyTorch's int64 is wgtorch's int32). */
export const fixtureDType = (f: FixtureTensor): DType => (f.dtype === 'int64' ? 'int32' : f.dtype);

/** A fixture tensor as a wgtorch tensor on `device` (PyTorch's int64 becomes int32). */
export function fromFixture(torch: typeof Wgtorch, f: FixtureTensor, device: Device, requiresGrad = false): Tensor {
  const dtype = fixtureDType(f);
  return torch.tensor(f.data.map(fixtureNumber), { dtype, device }).reshape(f.shape).detach().requiresGrad_(requiresGrad);
}

export const caseLabel = (c: OpCase, i: number): string =>
  `${i}: ${c.op}(${c.inputs.map((t) => `[${t.shape.join(',')}]`).join(', ')}) ${JSON.stringify(c.kwargs)}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Kw = Record<string, any>;
export type FixtureOp = (x: Tensor[], kw: Kw) => Tensor;

/** Each fixture op name, as wgtorch spells the call. */
export function fixtureOps(torch: typeof Wgtorch): Record<string, FixtureOp> {
  return {
    add: ([a, b]) => torch.add(a!, b!),
    sub: ([a, b]) => torch.sub(a!, b!),
    mul: ([a, b]) => a!.mul(b!),
    div: ([a, b]) => a!.div(b!),
    add_scalar: ([a], kw) => a!.add(kw.scalar),
    mul_scalar: ([a], kw) => a!.mul(kw.scalar),
    rsub_scalar: ([a], kw) => torch.sub(kw.scalar, a!),
    rdiv_scalar: ([a], kw) => torch.div(kw.scalar, a!),
    pow: ([a], kw) => a!.pow(kw.exponent),
    neg: ([a]) => a!.neg(),
    exp: ([a]) => a!.exp(),
    log: ([a]) => a!.log(),
    sqrt: ([a]) => a!.sqrt(),
    abs: ([a]) => a!.abs(),
    relu: ([a]) => a!.relu(),
    sigmoid: ([a]) => a!.sigmoid(),
    tanh: ([a]) => a!.tanh(),
    clamp: ([a], kw) => a!.clamp({ min: kw.min, max: kw.max }),
    matmul: ([a, b]) => torch.matmul(a!, b!),
    mm: ([a, b]) => a!.mm(b!),
    bmm: ([a, b]) => a!.bmm(b!),
    dot: ([a, b]) => torch.dot(a!, b!),
    sum: ([a], kw) => a!.sum({ dim: kw.dim, keepdim: kw.keepdim }),
    mean: ([a], kw) => a!.mean({ dim: kw.dim, keepdim: kw.keepdim }),
    amax: ([a], kw) => a!.amax({ dim: kw.dim, keepdim: kw.keepdim }),
    amin: ([a], kw) => a!.amin({ dim: kw.dim, keepdim: kw.keepdim }),
    max: ([a]) => a!.max(),
    min: ([a]) => a!.min(),
    reshape: ([a], kw) => a!.reshape(kw.shape),
    transpose: ([a], kw) => a!.transpose(kw.dim0, kw.dim1),
    t: ([a]) => a!.t(),
    permute: ([a], kw) => a!.permute(kw.dims),
    unsqueeze: ([a], kw) => a!.unsqueeze(kw.dim),
    squeeze: ([a], kw) => a!.squeeze(kw.dim),
    expand: ([a], kw) => a!.expand(kw.size),
    rsub: ([a, b]) => a!.rsub(b!),
    sign: ([a]) => a!.sign(),
    maximum: ([a, b]) => torch.maximum(a!, b!),
    minimum: ([a, b]) => a!.minimum(b!),
    max_other: ([a, b]) => a!.max(b!),
    min_other: ([a, b]) => torch.min(a!, b!),
    eq: ([a, b], kw) => a!.eq(b ?? kw.scalar),
    ne: ([a, b], kw) => torch.ne(a!, b ?? kw.scalar),
    lt: ([a, b], kw) => a!.lt(b ?? kw.scalar),
    le: ([a, b], kw) => torch.le(a!, b ?? kw.scalar),
    gt: ([a, b], kw) => a!.gt(b ?? kw.scalar),
    ge: ([a, b], kw) => torch.ge(a!, b ?? kw.scalar),
    logical_not: ([a]) => a!.logicalNot(),
    where: ([c, a, b]) => torch.where(c!, a!, b!),
    narrow: ([a], kw) => a!.narrow(kw.dim, kw.start, kw.length),
    select: ([a], kw) => torch.select(a!, kw.dim, kw.index),
    slice: ([a], kw) => a!.slice(kw.dim, kw.start, kw.end, kw.step),
    expand_as: ([a, b]) => a!.expandAs(b!),
    seed_loss: ([x, y, w1, w2]) => x!.mm(w1!).clamp({ min: 0 }).mm(w2!).sub(y!).pow(2).sum(),
  };
}
