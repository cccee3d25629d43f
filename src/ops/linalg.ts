/** The matmul family: one batched matmul launch (any strides) and PyTorch's shape rules around it. */
import { noGrad, record } from '../autograd.js';
import { RuntimeError, TypeError } from '../errors.js';
import { launch } from '../executor.js';
import { broadcastShapes, numel } from '../shape.js';
import { Tensor, sameDevice } from '../tensor.js';

const dtypeName = { float32: 'float', float64: 'double', int32: 'long', bool: 'bool' } as const;

/** PyTorch's TypeError when the second operand is not a tensor. */
function checkTensorArg(fn: string, name: string, b: unknown): void {
  if (!(b instanceof Tensor)) {
    const t = b === null || b === undefined ? 'NoneType' : typeof b === 'number' ? (Number.isInteger(b) ? 'int' : 'float') : typeof b;
    throw new TypeError(`${fn}(): argument '${name}' (position 1) must be Tensor, not ${t}`);
  }
}

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
  checkTensorArg('mm', 'mat2', b);
  if (a.ndim !== 2) throw new RuntimeError('self must be a matrix');
  if (b.ndim !== 2) throw new RuntimeError('mat2 must be a matrix');
  checkPair(a, b);
  checkInner(a, b, a.shape[1]!, b.shape[0]!);
  return batched(a, b, 'MmBackward0');
}

export function bmm(a: Tensor, b: Tensor): Tensor {
  checkTensorArg('bmm', 'mat2', b);
  if (a.ndim !== 3) throw new RuntimeError('batch1 must be a 3D tensor');
  if (b.ndim !== 3) throw new RuntimeError('batch2 must be a 3D tensor');
  checkPair(a, b);
  if (b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[2]) {
    throw new RuntimeError(`Expected size for first two dimensions of batch2 tensor to be: [${a.shape[0]}, ${a.shape[2]}] but got: [${b.shape[0]}, ${b.shape[1]}].`);
  }
  return batched(a, b, 'BmmBackward0');
}

export function dot(a: Tensor, b: Tensor): Tensor {
  checkTensorArg('dot', 'tensor', b);
  if (a.ndim !== 1 || b.ndim !== 1) throw new RuntimeError(`1D tensors expected, but got ${a.ndim}D and ${b.ndim}D tensors`);
  checkPair(a, b);
  if (a.shape[0] !== b.shape[0]) {
    throw new RuntimeError(
      `inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements, but got ${a.shape[0]} and ${b.shape[0]} elements respectively`,
    );
  }
  const out = noGrad(() => batched(a.unsqueeze(0), b.unsqueeze(1), 'DotBackward0').reshape([]));
  // d(a·b)/da = b, d(a·b)/db = a
  return record(out, 'DotBackward0', [a, b], [a, b], (g, [sa, sb], needs) => [needs[0] ? sb!.mul(g) : null, needs[1] ? sa!.mul(g) : null]);
}

/** torch.matmul: every case of PyTorch's rules (1-D·1-D, 1-D·2-D, 2-D·1-D, batched N-D). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensorArg('matmul', 'other', b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RuntimeError(`both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`);
  }
  if (a.ndim === 1 && b.ndim === 1) return dot(a, b);
  checkPair(a, b);
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  checkInner(a2, b2, a2.shape[a2.ndim - 1]!, b2.shape[b2.ndim - 2]!);
  let r = batched(a2, b2, a2.ndim <= 2 && b2.ndim <= 2 ? 'MmBackward0' : 'BmmBackward0');
  if (a.ndim === 1) r = r.squeeze(-2);
  if (b.ndim === 1) r = r.squeeze(-1);
  return r;
}
