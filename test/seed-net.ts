/** The seed's two-layer net (N, D_in, H, D_out = 64, 1000, 100, 10) and one SGD step of it. */
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';

export function seedNet(device: Device, seed = 0) {
  torch.manualSeed(seed);
  const x = torch.randn([64, 1000], { device });
  const y = torch.randn([64, 10], { device });
  const w1 = torch.randn([1000, 100], { device, requiresGrad: true });
  const w2 = torch.randn([100, 10], { device, requiresGrad: true });
  const lr = 1e-6;
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
