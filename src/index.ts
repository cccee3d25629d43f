/**
 * wgtorch: PyTorch's tensors for TypeScript, on WebGPU with a CPU fallback.
 *
 * @example
 * import * as torch from 'wgtorch';
 * const a = torch.tensor([[1, 2], [3, 4]]);
 * console.log(String(a.matmul(a)));   // tensor([[ 7., 10.], [15., 22.]])
 */
export { Tensor, type Dims, type ReduceOptions, type NestedList } from './tensor.js';
export type { Device } from './backend.js';
export type { DType } from './dtype.js';
export * from './creation.js';
export * from './functional.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export { TorchError, RuntimeError, IndexError, TypeError, ValueError, DeviceError, DeviceLostError } from './errors.js';
export { pyFloatRepr } from './format.js';
export { launchStats, planStats, realize, setEager, isEager, setDebug, setGraphBound, compile } from './executor.js';
export { webgpu } from './webgpu.js';
export { scope } from './scope.js';

/** dtype names, usable as `{dtype: torch.float32}` as well as `{dtype: 'float32'}`. */
export const float32 = 'float32', float = 'float32', float64 = 'float64', double = 'float64';
export const int32 = 'int32', int64 = 'int32', long = 'int32', bool = 'bool';
