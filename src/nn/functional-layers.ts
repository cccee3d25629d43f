/**
 * torch.nn.functional forms of the layers: linear, dropout, layerNorm, embedding, conv2d. Each is a
 * composite of table ops, so it runs and differentiates on every device.
 */
import { checkTensor } from '../args.js';
import { rand, zeros } from '../creation.js';
import { cat, stack } from '../ops/composite.js';
import { IndexError, RuntimeError, ValueError } from '../errors.js';
import { isFloating } from '../dtype.js';
import type { Tensor } from '../tensor.js';

/** y = x Wᵀ + b, with weight (out, in) as nn.Linear stores it. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor('linear', 'input', 1, input);
  checkTensor('linear', 'weight', 2, weight);
  const y = input.matmul(weight.t());
  return bias ? y.add(bias) : y;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p) while training; the
 * identity otherwise. The mask comes from torch.rand, so manualSeed makes it reproducible.
 */
export function dropout(input: Tensor, opts: { p?: number; training?: boolean } = {}): Tensor {
  checkTensor('dropout', 'input', 1, input);
  const p = opts.p ?? 0.5;
  if (p < 0 || p > 1) throw new ValueError(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (!(opts.training ?? true) || p === 0) return input;
  if (p === 1) return input.mul(0);
  const keep = rand(input.shape.slice(), { device: input.device, dtype: input.dtype }).ge(p);
  return input.mul(keep.type(input.dtype).div(1 - p));
}

/** Normalizes over the trailing `normalizedShape` dims (biased variance), then scales and shifts. */
export function layerNorm(input: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkTensor('layer_norm', 'input', 1, input);
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
 * Rows of `weight` picked by integer `input` (any shape) with indexSelect, so the gradient
 * scatter-adds into the picked rows. Rows at paddingIdx get no gradient.
 */
export function embedding(input: Tensor, weight: Tensor, opts: { paddingIdx?: number | null } = {}): Tensor {
  // PyTorch's embedding(weight, indices) names them in that order
  checkTensor('embedding', 'weight', 1, weight);
  checkTensor('embedding', 'indices', 2, input);
  if (isFloating(input.dtype)) {
    throw new RuntimeError(
      `Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got torch.${input.typeLabel()}Tensor instead (while checking arguments for embedding)`,
    );
  }
  const flat = input.flatten();
  if (flat.device === 'cpu') {
    const n = weight.shape[0]!;
    for (const v of flat.dataSync()) if (v < 0 || v >= n) throw new IndexError('index out of range in self');
  }
  const shape = [...input.shape, weight.shape[1]!];
  const rows = weight.indexSelect(0, flat);
  const pad = opts.paddingIdx;
  if (pad === null || pad === undefined) return rows.reshape(shape);
  const p = pad < 0 ? pad + weight.shape[0]! : pad;
  // The padding row is read through a detached weight, so its gradient stays zero.
  return rows.where(flat.ne(p).unsqueeze(-1), weight.detach().indexSelect(0, flat)).reshape(shape);
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

/** Zero padding of the last two dims (torch.cat with zero blocks, so the gradient slices back). */
function pad2d(x: Tensor, ph: number, pw: number): Tensor {
  if (ph === 0 && pw === 0) return x;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const opts = { device: x.device, dtype: x.dtype };
  let y = x;
  if (ph) y = cat([zeros([N, C, ph, W], opts), y, zeros([N, C, ph, W], opts)], 2);
  if (pw) y = cat([zeros([N, C, H + 2 * ph, pw], opts), y, zeros([N, C, H + 2 * ph, pw], opts)], 3);
  return y;
}

/**
 * 2-D convolution of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, kH, kW) by im2col:
 * each kernel tap is a strided view of the padded input, stacked into columns (one contiguous
 * copy) and multiplied by the flattened weight in one matmul per group.
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkTensor('conv2d', 'input', 1, input);
  checkTensor('conv2d', 'weight', 2, weight);
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
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(xp.slice(2, i * dh, i * dh + sh * (Ho - 1) + 1, sh).slice(3, j * dw, j * dw + sw * (Wo - 1) + 1, sw));
    }
  }
  // (N, C, kh·kw, Ho, Wo) → (N, C·kh·kw, Ho·Wo): channel-major, then tap, as weight.reshape(O, -1) orders it.
  const cols = stack(taps, 2).reshape(N, C * kh * kw, Ho * Wo);
  const Og = O / groups, K = Cg * kh * kw;
  const w2 = weight.reshape(O, K);
  const outs: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    const wg = groups === 1 ? w2 : w2.narrow(0, g * Og, Og);
    const cg = groups === 1 ? cols : cols.narrow(1, g * K, K);
    outs.push(wg.matmul(cg));
  }
  let y = (outs.length === 1 ? outs[0]! : cat(outs, 1)).reshape(N, O, Ho, Wo);
  if (bias) y = y.add(bias.reshape(1, O, 1, 1));
  return unbatched ? y.squeeze(0) : y;
}
