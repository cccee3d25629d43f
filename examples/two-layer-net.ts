/**
 * The seed tutorial's autograd section, line for line: a two-layer net trained for 500 steps with
 * mm, clamp(min=0), pow, sum, backward, in-place updates under noGrad and grad.zero_().
 * Run: npm start   (WGTORCH_DEVICE=cpu to force the CPU; SEED=n for other initial values)
 */
import * as torch from 'wgtorch';

export interface TrainOptions {
  device: torch.Device;
  seed?: number;
  steps?: number;
  /** Receives each "Iteration: ..." line. */
  print?: (line: string) => void;
  /** Called after every step (the browser demo draws its curve and yields here). */
  onStep?: (t: number, loss: torch.Tensor) => void | Promise<void>;
  /** Called once with the initial tensors, before the first step (tests read them here). */
  onInit?: (init: { x: torch.Tensor; y: torch.Tensor; w1: torch.Tensor; w2: torch.Tensor }) => void | Promise<void>;
}

/** Trains the seed's net and returns the loss of every 100th iteration. */
export async function trainTwoLayerNet(opts: TrainOptions): Promise<number[]> {
  const DEVICE = opts.device;
  const print = opts.print ?? console.log;
  torch.manualSeed(opts.seed ?? 0);

  const BATCH_SIZE = 64; // 파라미터를 업데이트할 때 계산되는 데이터의 개수
  const INPUT_SIZE = 1000; // 입력층의 노드 수
  const HIDDEN_SIZE = 100; // 은닉층의 노드 수
  const OUTPUT_SIZE = 10; // 출력 벡터의 크기

  const x = torch.randn(BATCH_SIZE, INPUT_SIZE, { device: DEVICE, dtype: torch.float, requiresGrad: false });
  const y = torch.randn(BATCH_SIZE, OUTPUT_SIZE, { device: DEVICE, dtype: torch.float, requiresGrad: false });
  const w1 = torch.randn(INPUT_SIZE, HIDDEN_SIZE, { device: DEVICE, dtype: torch.float, requiresGrad: true });
  const w2 = torch.randn(HIDDEN_SIZE, OUTPUT_SIZE, { device: DEVICE, dtype: torch.float, requiresGrad: true });

  await opts.onInit?.({ x, y, w1, w2 });

  const learningRate = 1e-6;
  const losses: number[] = [];
  for (let t = 1; t < (opts.steps ?? 500) + 1; t++) {
    const yPred = x.mm(w1).clamp({ min: 0 }).mm(w2);

    const loss = yPred.sub(y).pow(2).sum();
    if (t % 100 === 0) {
      // Python prints loss.item() as a float repr: 362.14410400390625
      const value = await loss.item();
      losses.push(value);
      print(['Iteration: ', t, '\t', 'Loss: ', torch.pyFloatRepr(value)].join(' '));
    }
    loss.backward();

    torch.noGrad(() => {
      w1.sub_(w1.grad!.mul(learningRate)); // w1 -= learning_rate * w1.grad
      w2.sub_(w2.grad!.mul(learningRate));
      w1.grad!.zero_();
      w2.grad!.zero_();
    });
    await opts.onStep?.(t, loss);
  }
  return losses;
}

/** Entry point of `npm start` / `npm run example -- two-layer-net`. */
export async function main(): Promise<void> {
  // 파이썬 실행환경에 맞게끔 장비를 설정 (torch.cuda.is_available() → torch.webgpu.isAvailable())
  const DEVICE = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  const info = DEVICE === 'webgpu' ? torch.webgpu.adapterInfo() : null;
  console.log(`Device: ${DEVICE}${info ? ` (${[info.vendor, info.architecture, info.description].filter(Boolean).join(' ')})` : ''}`);
  await trainTwoLayerNet({ device: DEVICE, seed: Number(process.env.SEED ?? 0) });
}
