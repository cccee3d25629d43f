/**
 * torch.nn.functional forms of the layers: linear, dropout, layerNorm, embedding, conv2d. Each is a
 * composite of table ops, so it runs and differentiates on every device.
 */
import { rand, tensor } from '../creation.js';
import { RuntimeError, ValueError } from '../errors.js';
import { isFloating } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { oneHot } from './pending-ops.js';

/** y = x Wᵀ + b, with weight (out, in) as nn.Linear stores it. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = input.matmul(weight.t());
  return bias ? y.add(bias) : y;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p) while training; the
 * identity otherwise. The mask comes from torch.rand, so manualSeed makes it reproducible.
 */
export function dropout(input: Tensor, opts: { p?: number; training?: boolean } = {}): Tensor {
  const p = opts.p ?? 0.5;
  if (p < 0 || p > 1) throw new ValueError(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (!(opts.training ?? true) || p === 0) return input;
  if (p === 1) return input.mul(0);
  const keep = rand(input.shape.slice(), { device: input.device, dtype: input.dtype }).ge(p);
  return input.mul(keep.type(input.dtype).div(1 - p));
}

/** Normalizes over the trailing `normalizedShape` dims (biased variance), then scales and shifts. */
export function layerNorm(input: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const k = normalizedShape.length;
  const tail = input.shape.slice(input.ndim - k);
  if (k === 0 || input.ndim < k || tail.some((s, i) => s !== normalizedShape[i])) {
    throw new RuntimeError(
      `Given normalized_shape=[${normalizedShape.join(', ')}], expected input with shape [*, ${normalizedShape.join(', ')}], but got input of size[${input.shape.join(', ')}]`,
    );
  }
  const dims = Array.from({ length: k }, (_, i) => input.ndim - k + i);
  const centered = input.sub(input.mean(dims, true));
  const variance = centered.pow(2).mean(dims, true);
  let y = centered.div(variance.add(eps).sqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/**
 * Rows of `weight` picked by integer `input` (any shape): a one-hot product, so the gradient lands
 * on the picked rows. Rows at paddingIdx get no gradient.
 */
export function embedding(input: Tensor, weight: Tensor, opts: { paddingIdx?: number | null } = {}): Tensor {
  if (isFloating(input.dtype)) {
    throw new RuntimeError(`Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got torch.${input.typeName().replace('torch.', '').replace('Tensor', '')}Tensor instead (while checking arguments for embedding)`);
  }
  const n = weight.shape[0]!;
  const oh = oneHot(input, n).type(weight.dtype);
  const pad = opts.paddingIdx;
  if (pad === null || pad === undefined) return oh.matmul(weight);
  const p = pad < 0 ? pad + n : pad;
  const isPad = oneHot(input.mul(0).add(p), n).type(weight.dtype).mul(oh);
  // The padding row is read through a detached weight, so its gradient stays zero.
  return oh.sub(isPad).matmul(weight).add(isPad.matmul(weight.detach()));
}

/** Options of conv2d: PyTorch's stride, padding, dilation and groups, as a number or [h, w]. */
export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
}

const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** A (rows, cols) matrix with ones at (i + offset, i): multiplying by it places a block. */
function placement(rows: number, cols: number, offset: number, opts: { device: Tensor['device']; dtype: Tensor['dtype'] }): Tensor {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < cols; i++) m[(i + offset) * cols + i] = 1;
  return tensor(m, opts).reshape(rows, cols);
}

/** Zero padding of the last two dims by selection matrices (two matmuls; exact, and differentiable). */
function pad2d(x: Tensor, ph: number, pw: number): Tensor {
  if (ph === 0 && pw === 0) return x;
  const [H, W] = x.shape.slice(-2) as [number, number];
  const opts = { device: x.device, dtype: x.dtype };
  const rows = placement(H + 2 * ph, H, ph, opts);
  const cols = placement(W + 2 * pw, W, pw, opts).t();
  return rows.matmul(x).matmul(cols);
}

/**
 * 2-D convolution of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, kH, kW): for each
 * kernel tap a strided view of the padded input times that tap's weights, summed (im2col done
 * tap by tap, so every product is one matmul and the gradient flows through view rules).
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const unbatched = input.ndim === 3;
  const x = unbatched ? input.unsqueeze(0) : input;
  if (x.ndim !== 4) {
    throw new RuntimeError(`Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [${input.shape.join(', ')}]`);
  }
  const [sh, sw] = pair(opts.stride, 1), [ph, pw] = pair(opts.padding, 0), [dh, dw] = pair(opts.dilation, 1);
  const groups = opts.groups ?? 1;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = weight.shape as [number, number, number, number];
  if (Cg * groups !== C) {
    throw new RuntimeError(
      `Given groups=${groups}, weight of size [${weight.shape.join(', ')}], expected input[${x.shape.join(', ')}] to have ${Cg * groups} channels, but got ${C} channels instead`,
    );
  }
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (Ho <= 0 || Wo <= 0) {
    throw new RuntimeError(
      `Calculated padded input size per channel: (${H + 2 * ph} x ${W + 2 * pw}). Kernel size: (${dh * (kh - 1) + 1} x ${dw * (kw - 1) + 1}). Kernel size can't be greater than actual input size`,
    );
  }
  const xp = pad2d(x, ph, pw);
  const Og = O / groups;
  const outs: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    const xg = groups === 1 ? xp : xp.narrow(1, g * Cg, Cg);
    const wg = groups === 1 ? weight : weight.narrow(0, g * Og, Og);
    let acc: Tensor | null = null;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const patch = xg.slice(2, i * dh, i * dh + sh * (Ho - 1) + 1, sh).slice(3, j * dw, j * dw + sw * (Wo - 1) + 1, sw);
        const term = wg.select(3, j).select(2, i).matmul(patch.reshape(N, Cg, Ho * Wo));
        acc = acc ? acc.add(term) : term;
      }
    }
    outs.push(acc!);
  }
  let y = outs.length === 1 ? outs[0]! : concatChannels(outs);
  y = y.reshape(N, O, Ho, Wo);
  if (bias) y = y.add(bias.reshape(1, O, 1, 1));
  return unbatched ? y.squeeze(0) : y;
}

/** Joins per-group outputs (N, Og, L) along dim 1 by placement matrices (until torch.cat lands here). */
function concatChannels(parts: Tensor[]): Tensor {
  const Og = parts[0]!.shape[1]!, O = Og * parts.length;
  const opts = { device: parts[0]!.device, dtype: parts[0]!.dtype };
  let out: Tensor | null = null;
  parts.forEach((p, g) => {
    const place = placement(O, Og, g * Og, opts);
    const t = place.matmul(p);
    out = out ? out.add(t) : t;
  });
  return out!;
}
