/**
 * torch.optim: SGD, Adam, AdamW, RMSprop, Adagrad and lrScheduler.
 *
 * @example
 * const opt = new torch.optim.Adam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export { Optimizer, type ParamGroup, type ParamState, type ParamsInput, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export * as lrScheduler from './lr-scheduler.js';
