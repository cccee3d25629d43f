/** torch.nn.functional: activations and oneHot (src/nn/functional.ts), losses and layer functions. */
export * from './functional.js';
export * from './functional-losses.js';
export * from './functional-layers.js';
