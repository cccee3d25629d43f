/**
 * The seed's two-layer net (N, D_in, H, D_out = 64, 1000, 100, 10 by default) and one SGD step of
 * it, as the seed program writes it.
 */
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';

/** Sizes and learning rate of {@link seedNet}; the defaults are the seed program's. */
export interface SeedNetOptions {
  n?: number;
  dIn?: number;
  h?: number;
  dOut?: number;
  lr?: number;
}

/** Seeds the generator with `seed`, draws x, y, w1, w2 on `device`, and returns them with `step()`. */
export function seedNet(device: Device, seed = 0, { n = 64, dIn = 1000, h = 100, dOut = 10, lr = 1e-6 }: SeedNetOptions = {}) {
  torch.manualSeed(seed);
  const x = torch.randn([n, dIn], { device });
  const y = torch.randn([n, dOut], { device });
  const w1 = torch.randn([dIn, h], { device, requiresGrad: true });
  const w2 = torch.randn([h, dOut], { device, requiresGrad: true });
  /** One forward, backward and SGD update; returns the loss. */
  const step = (): Tensor => {
    const yPred = x.mm(w1).clamp({ min: 0 }).mm(w2);
    const loss = yPred.sub(y).pow(2).sum();
    loss.backward();
    torch.noGrad(() => {
      w1.sub_(w1.grad!.mul(lr));
      w2.sub_(w2.grad!.mul(lr));
      w1.grad!.zero_();
      w2.grad!.zero_();
    });
    return loss;
  };
  return { x, y, w1, w2, step };
}
