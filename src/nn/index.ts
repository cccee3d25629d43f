/**
 * torch.nn: modules, layers, losses, init and functional.
 *
 * @example
 * const model = new torch.nn.Sequential(new torch.nn.Linear(4, 16), new torch.nn.ReLU(), new torch.nn.Linear(16, 3));
 * const loss = new torch.nn.CrossEntropyLoss().forward(model.forward(x), y);
 */
export { Module, Parameter, type StateDict, type IncompatibleKeys } from './module.js';
export * from './layers.js';
export * from './losses.js';
export * as init from './init.js';
export * as functional from './functional-all.js';
