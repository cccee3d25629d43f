/** The matmul family: one batched matmul launch (any strides) and PyTorch's shape rules around it. */
import { checkTensor } from '../args.js';
import { noGrad, record, type GradRule } from '../autograd.js';
import { RuntimeError } from '../errors.js';
import { launch } from '../executor.js';
import { broadcastShapes, contiguousStrides, numel } from '../shape.js';
import { Tensor, sameDevice } from '../tensor.js';

const dtypeName = { float32: 'float', float64: 'double', int32: 'long', bool: 'bool' } as const;


function checkPair(a: Tensor, b: Tensor): void {
  sameDevice([a, b]);
  if (a.dtype !== b.dtype) {
    throw new RuntimeError(`expected m1 and m2 to have the same dtype, but got: ${dtypeName[a.dtype]} != ${dtypeName[b.dtype]}`);
  }
  if (a.dtype === 'bool') throw new RuntimeError('"addmm_impl_cpu_" not implemented for \'Bool\'');
}

/**
 * a [..., M, K] · b [..., K, N] with broadcast batch dims → [...batch, M, N]. Operands are read
 * through their strides (a transposed weight is not copied); batch dims that cannot be flattened
 * into one stride are materialized first.
 */
function batched(a: Tensor, b: Tensor, node: string): Tensor {
  const M = a.shape[a.ndim - 2]!, K = a.shape[a.ndim - 1]!, N = b.shape[b.ndim - 1]!;
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const B = numel(batch);
  const as3 = (t: Tensor, r: number, c: number) => {
    const e = t.ndim === 2 && B === 1 ? t : t.expand([...batch, r, c]).reshape([B, r, c]);
    return e.ndim === 2 ? { ...e.kernelView(), shape: [1, r, c], strides: [0, ...e.strides] } : e.kernelView();
  };
  const out = Tensor.empty([...batch, M, N], a.dtype, a.device);
  launch(a.device, { kind: 'matmul', a: as3(a, M, K), b: as3(b, K, N), out: { ...out.kernelView(), shape: [B, M, N], strides: [M * N, N, 1] } });
  // d(AB) = dA B + A dB: dA = g Bᵀ, dB = Aᵀ g (batch broadcasting is undone by sumToShape).
  return record(out, node, [a, b], [a, b], (g, [sa, sb], needs) => [
    needs[0] ? batched(g, sb!.transpose(-1, -2), 'MmBackward0') : null,
    needs[1] ? batched(sa!.transpose(-1, -2), g, 'MmBackward0') : null,
  ]);
}

function checkInner(a: Tensor, b: Tensor, ka: number, kb: number): void {
  if (ka !== kb) {
    const dims = (t: Tensor) => (t.ndim === 1 ? `1x${t.shape[0]}` : `${t.shape[t.ndim - 2]}x${t.shape[t.ndim - 1]}`);
    throw new RuntimeError(`mat1 and mat2 shapes cannot be multiplied (${a.ndim === 1 ? `1x${a.shape[0]}` : dims(a)} and ${dims(b)})`);
  }
}

export function mm(a: Tensor, b: Tensor): Tensor {
  checkTensor('mm', 'mat2', 1, b);
  if (a.ndim !== 2) throw new RuntimeError('self must be a matrix');
  if (b.ndim !== 2) throw new RuntimeError('mat2 must be a matrix');
  checkPair(a, b);
  checkInner(a, b, a.shape[1]!, b.shape[0]!);
  return batched(a, b, 'MmBackward0');
}

export function bmm(a: Tensor, b: Tensor): Tensor {
  checkTensor('bmm', 'mat2', 1, b);
  if (a.ndim !== 3) throw new RuntimeError('batch1 must be a 3D tensor');
  if (b.ndim !== 3) throw new RuntimeError('batch2 must be a 3D tensor');
  checkPair(a, b);
  if (b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[2]) {
    throw new RuntimeError(`Expected size for first two dimensions of batch2 tensor to be: [${a.shape[0]}, ${a.shape[2]}] but got: [${b.shape[0]}, ${b.shape[1]}].`);
  }
  return batched(a, b, 'BmmBackward0');
}

export function dot(a: Tensor, b: Tensor): Tensor {
  checkTensor('dot', 'tensor', 1, b);
  if (a.ndim !== 1 || b.ndim !== 1) throw new RuntimeError(`1D tensors expected, but got ${a.ndim}D and ${b.ndim}D tensors`);
  checkPair(a, b);
  if (a.shape[0] !== b.shape[0]) {
    throw new RuntimeError(
      `inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements, but got ${a.shape[0]} and ${b.shape[0]} elements respectively`,
    );
  }
  const prod = noGrad(() => batched(a.unsqueeze(0), b.unsqueeze(1), 'DotBackward0'));
  // The 0-dim result is a fresh tensor, not a view of the [1, 1] product (in-place on it is fine);
  // it takes over the product's memory.
  const out = new Tensor(prod.storage, [], [], 0);
  prod.dispose();
  // d(a·b)/da = b, d(a·b)/db = a
  return record(out, 'DotBackward0', [a, b], [a, b], (g, [sa, sb], needs) => [needs[0] ? sb!.mul(g) : null, needs[1] ? sa!.mul(g) : null]);
}

/**
 * torch.matmul: every case of PyTorch 1.13's rules, with the grad_fn names and error texts its
 * composite implementation gives (mv, folding a batch into mm, the transposed fold for a matrix
 * times a batch, bmm over broadcast batches).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', 'other', 1, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RuntimeError(`both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`);
  }
  if (a.ndim === 1 && b.ndim === 1) return dot(a, b);
  checkPair(a, b);
  const ka = a.shape[a.ndim - 1]!, kb = b.shape[b.ndim === 1 ? 0 : b.ndim - 2]!;
  const rows = (t: Tensor) => numel(t.shape) / t.shape[t.ndim - 1]!; // rows of t folded into a matrix
  const mvMismatch = (m: number, k1: number, k2: number) => new RuntimeError(`size mismatch, got ${m}, ${m}x${k1},${k2}`);
  if (b.ndim === 1) {
    // mv, or a batch folded into mv: [..., M, K] · [K]
    if (ka !== kb) throw mvMismatch(rows(a), ka, kb);
    const r = batched(a, b.unsqueeze(1), 'MvBackward0');
    return reshaped(r, r.shape.slice(0, -1), a.ndim === 2 ? 'MvBackward0' : 'UnsafeViewBackward0');
  }
  if (a.ndim === 1) {
    if (b.ndim === 2) {
      checkInner(a, b, ka, kb); // "(1xK and K'xN)"
      const r = batched(a.unsqueeze(0), b, 'MmBackward0');
      return reshaped(r, [b.shape[1]!], 'SqueezeBackward3');
    }
    // a vector times a batch: PyTorch computes bᵀ · a, an mv over the folded batch
    if (ka !== kb) throw mvMismatch(numel(b.shape.slice(0, -2)) * b.shape[b.ndim - 1]!, kb, ka);
    const r = batched(a.unsqueeze(0), b, 'UnsafeViewBackward0');
    return reshaped(r, [...b.shape.slice(0, -2), b.shape[b.ndim - 1]!], 'UnsafeViewBackward0');
  }
  if (b.ndim === 2 && a.ndim >= 2) {
    // mm, or a batch folded into one mm: "mat1 and mat2 shapes cannot be multiplied (B·MxK and K'xN)"
    if (ka !== kb) throw new RuntimeError(`mat1 and mat2 shapes cannot be multiplied (${rows(a)}x${ka} and ${kb}x${b.shape[1]})`);
    return batched(a, b, a.ndim === 2 ? 'MmBackward0' : 'UnsafeViewBackward0');
  }
  if (a.ndim === 2) {
    // a matrix times a batch: PyTorch folds bᵀ and multiplies by aᵀ, then makes the result contiguous
    const foldedRows = numel(b.shape.slice(0, -2)) * b.shape[b.ndim - 1]!;
    if (ka !== kb) throw new RuntimeError(`mat1 and mat2 shapes cannot be multiplied (${foldedRows}x${kb} and ${ka}x${a.shape[0]})`);
    // (its transposed result is already contiguous when M or N is 1: no clone, TransposeBackward0)
    const name = a.shape[0] === 1 || b.shape[b.ndim - 1] === 1 ? 'TransposeBackward0' : 'CloneBackward0';
    return reshaped(batched(a, b, name), null, name);
  }
  // batch times batch: bmm over the broadcast batch
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (ka !== kb) {
    throw new RuntimeError(`Expected size for first two dimensions of batch2 tensor to be: [${numel(batch)}, ${ka}] but got: [${numel(batch)}, ${kb}].`);
  }
  return batched(a, b, 'UnsafeViewBackward0');
}

/**
 * r (a fresh contiguous result) as a new tensor of `shape` over the same memory, recorded as
 * `name`: PyTorch's matmul results are not views, so in-place ops on them rebase plainly.
 */
function reshaped(r: Tensor, shape: readonly number[] | null, name: string): Tensor {
  const s = shape ?? r.shape;
  const out = new Tensor(r.storage, s.slice(), contiguousStrides(s), r.offset);
  return record(out, name, [r], [], reshapeBack(r.shape.slice()));
}

const reshapeBack = (from: number[]): GradRule => (g) => [g.reshape(from)];
