/**
 * Each op of test/fixtures/ops-extra.json (scripts/fixtures/ops_extra.py) as wgtorch spells the
 * call. `_flat` ops return several tensors in PyTorch; the fixture holds them flattened and
 * concatenated (indices as float), and so does the mapping here.
 */
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { fixtureNumber, type FixtureOp } from './fixture-ops.js';

const F = torch.nn.functional;
/** Several outputs as one flat float tensor, as the generator's flat() builds it. */
const flat = (outs: readonly Tensor[]): Tensor => torch.cat(outs.map((o) => o.reshape(-1).float()));
/** A kwargs value as a number ('inf' and friends are spelled out in the JSON). */
const n = (v: unknown): number => fixtureNumber(v as number | string);

type Unary = 'sin' | 'cos' | 'tan' | 'floor' | 'ceil' | 'round' | 'trunc' | 'frac' | 'erf' | 'expm1' | 'exp2' | 'square' | 'sign' | 'reciprocal' | 'rsqrt' | 'log1p' | 'log2' | 'log10';
const unary: Unary[] = ['sin', 'cos', 'tan', 'floor', 'ceil', 'round', 'trunc', 'frac', 'erf', 'expm1', 'exp2', 'square', 'sign', 'reciprocal', 'rsqrt', 'log1p', 'log2', 'log10'];

/** Only async ops (the result's size depends on values) return a Promise. */
export type FixtureOpExtra = (x: Tensor[], kw: Parameters<FixtureOp>[1]) => Tensor | Promise<Tensor>;

export const extraOps: Record<string, FixtureOpExtra> = {
  // Strided inputs: transposes and stepped slices.
  t_sort_flat: ([a]) => {
    const { values, indices } = a!.t().sort(1);
    return flat([values, indices]);
  },
  t_cumsum: ([a]) => a!.t().cumsum(0),
  t_prod: ([a]) => a!.t().prod(1),
  t_gather: ([a, i]) => a!.t().gather(1, i!),
  t_scatter_add: ([a, i, s]) => a!.scatterAdd(0, i!.t(), s!.t()),
  step_index_select: ([a, i]) => a!.slice(1, null, null, 2).indexSelect(1, i!),
  step_softmax: ([a]) => torch.softmax(a!.slice(0, null, null, 2), 1),
  t_cat: ([a, b]) => torch.cat([a!.t(), b!], 0),
  t_topk_flat: ([a]) => {
    const { values, indices } = a!.t().topk(2, 1);
    return flat([values, indices]);
  },
  // Composed programs.
  prog_classifier: ([x, w, y]) => torch.logSoftmax(x!.mm(w!), 1).gather(1, y!.unsqueeze(1)).mean().neg(),
  prog_attention: ([q, k, v]) =>
    torch.softmax(q!.mm(k!.t()).tril().maskedFill(torch.ones(4, 4, { device: q!.device }).triu(1).gt(0), -Infinity), 1).mm(v!),
  prog_norm_stats: ([x]) =>
    torch.cat([x!.var(0, { keepdim: true }), x!.std(0, { keepdim: true }), x!.norm(null, 0, true), x!.logsumexp(0, true)], 0).flip(0).roll(1, 1),
  prog_embed: ([w, i]) => F.gelu(w!.index(i!)).sum(1).cumsum(0),
  ...Object.fromEntries(unary.map((name) => [name, ([a]: Tensor[]) => torch[name](a!)])),
  relu: ([a]) => F.relu(a!),
  silu: ([a]) => F.silu(a!),
  gelu: ([a], kw) => F.gelu(a!, { approximate: kw.approximate }),
  leaky_relu: ([a], kw) => F.leakyRelu(a!, kw.negative_slope),
  elu: ([a], kw) => F.elu(a!, kw.alpha),
  hardtanh: ([a], kw) => F.hardtanh(a!, kw.min_val, kw.max_val),
  softplus: ([a], kw) => F.softplus(a!, { beta: kw.beta, threshold: kw.threshold }),
  atan2: ([a, b]) => torch.atan2(a!, b!),
  fmod: ([a, b]) => torch.fmod(a!, b!),
  remainder: ([a, b]) => a!.remainder(b!),
  pow_tensor: ([a, b]) => a!.pow(b!),
  lerp: ([a, b], kw) => torch.lerp(a!, b!, kw.weight),
  lerp_tensor: ([a, b, w]) => a!.lerp(b!, w!),
  var: ([a], kw) => a!.var(kw.dim, { correction: kw.correction, unbiased: kw.unbiased, keepdim: kw.keepdim }),
  std: ([a], kw) => torch.std(a!, kw.dim, { correction: kw.correction, keepdim: kw.keepdim }),
  logsumexp: ([a], kw) => a!.logsumexp(kw.dim, kw.keepdim),
  prod: ([a], kw) => (kw.dim === undefined ? a!.prod() : torch.prod(a!, kw.dim, kw.keepdim)),
  cumsum: ([a], kw) => a!.cumsum(kw.dim),
  norm: ([a], kw) => a!.norm(kw.p === undefined ? undefined : kw.p === 'fro' ? 'fro' : n(kw.p), kw.dim, kw.keepdim),
  softmax: ([a], kw) => torch.softmax(a!, kw.dim),
  log_softmax: ([a], kw) => a!.logSoftmax(kw.dim),
  cat: ([a, b], kw) => torch.cat([a!, b!], kw.dim),
  stack: ([a, b], kw) => torch.stack([a!, b!], kw.dim),
  split_flat: ([a], kw) => flat(a!.split(kw.size, kw.dim)),
  chunk_flat: ([a], kw) => flat(torch.chunk(a!, kw.chunks, kw.dim)),
  unbind_flat: ([a], kw) => flat(a!.unbind(kw.dim).map((o, i) => o.mul(i + 1))),
  repeat: ([a], kw) => a!.repeat(...(kw.sizes as number[])),
  flip: ([a], kw) => torch.flip(a!, kw.dims),
  roll: ([a], kw) => a!.roll(kw.shifts, kw.dims),
  tril: ([a], kw) => a!.tril(kw.diagonal),
  triu: ([a], kw) => torch.triu(a!, kw.diagonal),
  gather: ([a, i], kw) => a!.gather(kw.dim, i!),
  index_select: ([a, i], kw) => torch.indexSelect(a!, kw.dim, i!),
  scatter: ([a, i, s], kw) => a!.scatter(kw.dim, i!, s!),
  scatter_add: ([a, i, s], kw) => torch.scatterAdd(a!, kw.dim, i!, s!),
  masked_fill: ([a, m], kw) => a!.maskedFill(m!, n(kw.value)),
  masked_select: ([a, m]) => torch.maskedSelect(a!, m!),
  index: ([a, i]) => a!.index(i!),
  index_mask: ([a, m]) => a!.indexMask(m!),
  one_hot: ([i], kw) => F.oneHot(i!, kw.num_classes),
  sort_flat: ([a], kw) => {
    const { values, indices } = a!.sort(kw.dim, kw.descending);
    return flat([values, indices]);
  },
  argsort: ([a], kw) => torch.argsort(a!, kw.dim, kw.descending),
  topk_flat: ([a], kw) => {
    const { values, indices } = a!.topk(kw.k, kw.dim, { largest: kw.largest });
    return flat([values, indices]);
  },
};
