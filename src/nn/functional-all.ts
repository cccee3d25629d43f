/** torch.nn.functional: activations, losses and layer functions under one name. */
export * from './functional-losses.js';
export * from './functional-layers.js';
export { softmax, logSoftmax, gelu, oneHot } from './pending-ops.js';
