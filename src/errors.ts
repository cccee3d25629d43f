/** Base class of every error wgtorch throws on bad input; messages follow PyTorch's wording. */
export class TorchError extends Error {
  override name = 'TorchError';
}
/** PyTorch's RuntimeError: shapes that do not broadcast, matmul mismatches, autograd misuse. */
export class RuntimeError extends TorchError {
  override name = 'RuntimeError';
}
/** PyTorch's IndexError: a dim or index out of range. */
export class IndexError extends TorchError {
  override name = 'IndexError';
}
/** PyTorch's TypeError: an unknown dtype or an argument of the wrong kind. */
export class TypeError extends TorchError {
  override name = 'TypeError';
}
/** PyTorch's ValueError: ragged nested data and similar malformed input. */
export class ValueError extends TorchError {
  override name = 'ValueError';
}
/** The WebGPU device reported a validation or out-of-memory error for an op or a read. */
export class DeviceError extends TorchError {
  override name = 'DeviceError';
}
/** The WebGPU device was lost; re-initialize with `torch.webgpu.init()`. */
export class DeviceLostError extends TorchError {
  override name = 'DeviceLostError';
}
/**
 * Python's AttributeError, as PyTorch's Python-level functions raise it for an argument that is not a
 * tensor: F.mse_loss(1, t) → "'int' object has no attribute 'size'".
 */
export class AttributeError extends TorchError {
  override name = 'AttributeError';
}
/** PyTorch's KeyError: a bad or duplicate name (module registration, state dicts). */
export class KeyError extends TorchError {
  override name = 'KeyError';
}
