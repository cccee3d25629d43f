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
export type { DType, HostArray } from './dtype.js';
export * from './creation.js';
export * from './functional.js';
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions, type GradHook, type HookHandle } from './autograd.js';
export type { ClampBounds } from './ops/methods.js';
export type { VarOptions } from './ops/composite.js';
export type { FunctionCtx, AutogradFunction } from './autograd-function.js';
export { TorchError, RuntimeError, IndexError, TypeError, ValueError, DeviceError, DeviceLostError, KeyError, AttributeError } from './errors.js';
export { pyFloatRepr } from './format.js';
export { launchStats, planStats, realize, setEager, isEager, setDebug, setGraphBound, compile } from './executor.js';
export { webgpu, type KernelChoice, type KernelConfig, type InitOptions } from './webgpu.js';
export type { MatmulKernel, MatmulTile, MatmulDirect, MatmulSubgroup, ReduceKernel } from './backends/webgpu/kernels.js';
export type { AdapterInfo } from './backends/webgpu/device.js';
export type { PoolStats } from './backends/webgpu/pool.js';
export { scope } from './scope.js';

/** dtype names, usable as `{dtype: torch.float32}` as well as `{dtype: 'float32'}`. */
export const float32 = 'float32', float = 'float32', float64 = 'float64', double = 'float64';
export const int32 = 'int32', int64 = 'int32', long = 'int32', bool = 'bool';
// Models (issue 14): torch.nn, torch.optim, torch.autograd.Function, safetensors.
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
import { autograd as autogradCore } from './functional.js';
import { AutogradFunction, FunctionCtx } from './autograd-function.js';
/** torch.autograd: grad(), backward(), and Function for custom ops (class F extends torch.autograd.Function). */
export const autograd = { ...autogradCore, Function: AutogradFunction, FunctionCtx };
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace autograd {
  /** The ctx of a custom Function's forward and backward. */
  type FunctionCtx = import('./autograd-function.js').FunctionCtx;
}
export { saveSafetensors, loadSafetensors } from './serialization.js';
