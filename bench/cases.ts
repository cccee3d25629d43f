/**
 * What the bench measures. Every case makes its inputs once on the CPU (so both devices get the
 * same values), runs on each device, and checks the last run's result against a float64
 * reference. Each run ends with a read of one element of its output, so the device's work is
 * inside the time but the transfer of a large result is not.
 */
import * as torch from 'wgtorch';
import { trainTwoLayerNet } from '../examples/two-layer-net.js';
import { checkElementwise, checkMatmul, checkSums, twoLayerNetF64, type HostMatrix } from './reference.js';

export type Device = torch.Device;
export const SECTIONS = ['matmul', 'elementwise', 'reduce', 'seed', 'launch'] as const;
export type Section = (typeof SECTIONS)[number];

/** Names --only accepts for each section. */
export const SECTION_ALIASES: Record<string, Section> = {
  matmul: 'matmul', mm: 'matmul',
  elementwise: 'elementwise', ew: 'elementwise', add: 'elementwise', clamp: 'elementwise',
  reduce: 'reduce', sum: 'reduce',
  seed: 'seed', net: 'seed',
  launch: 'launch', overhead: 'launch',
};

/** How a case's figure is computed from its median time (ms). */
export type Unit = 'GFLOP/s' | 'GB/s' | 'ms/step' | 'µs/op';

/** One case on one device: run it (timed), then check its last result. */
export interface Instance {
  run(): Promise<void>;
  /** A shorter run for warm-up, when the timed run is long (the net). */
  warm?(): Promise<void>;
  /** null when the result is right, else what is wrong. */
  check(): Promise<string | null>;
  /** What the cross-device comparison needs (the net's losses). */
  value?(): number[];
  /** More figures for the JSON record (the net's losses and launches per step). */
  extra?(): Record<string, number | number[]>;
  dispose(): void;
}

export interface Prepared {
  on(device: Device): Instance;
  close(): void;
}

export interface Case {
  section: Section;
  /** A line in the chart (one per op), e.g. 'square', 'add', 'sum all'. */
  series: string;
  /** The row's name in the table: '1024', '64×1000·1000×100', '16M'. */
  label: string;
  /** The chart's x value (matrix size, element count); 0 keeps the case out of the line chart. */
  x: number;
  unit: Unit;
  /** FLOPs or bytes per run (GFLOP/s, GB/s), steps (ms/step) or ops (µs/op). */
  work: number;
  /** Makes the inputs (once, on the CPU) for the devices to share. */
  prepare(): Promise<Prepared>;
  /** Compares the devices' values (the net's losses); null when they agree. */
  agree?(a: number[], b: number[]): string | null;
}

/** Awaits one element of t: the device has finished the work that produced t. */
async function readOne(t: torch.Tensor): Promise<void> {
  const flat = t.reshape(-1);
  await flat.narrow(0, flat.numel() - 1, 1).data();
}

export function sizeLabel(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20}M`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n >> 10}K`;
  return String(n);
}

const toDevice = (t: torch.Tensor, d: Device): torch.Tensor => (d === 'cpu' ? t : (t.to(d) as torch.Tensor));

/** A case whose run is one op on prepared inputs, producing one output tensor. */
function opInstance(device: Device, op: () => torch.Tensor, check: (out: ArrayLike<number>) => string | null, inputs: torch.Tensor[]): Instance {
  let last: torch.Tensor | null = null;
  return {
    async run() {
      last?.dispose();
      last = op();
      await readOne(last);
    },
    async check() {
      if (!last) return 'no result';
      return check(await last.data());
    },
    dispose() {
      last?.dispose();
      last = null;
      if (device !== 'cpu') for (const t of inputs) t.dispose();
    },
  };
}

// ---- matmul ----------------------------------------------------------------------------------

interface MatmulShape {
  label: string;
  series: string;
  M: number;
  K: number;
  N: number;
  /** A is made as a contiguous K×M tensor and used through .t(), as the net's backward does. */
  transposeA?: boolean;
}

function matmulCase(s: MatmulShape, seed: number): Case {
  const { M, K, N } = s;
  return {
    section: 'matmul', series: s.series, label: s.label, x: s.series === 'square' ? M : 0,
    unit: 'GFLOP/s', work: 2 * M * K * N,
    async prepare() {
      torch.manualSeed(seed);
      const a0 = s.transposeA ? torch.randn(K, M) : torch.randn(M, K);
      const b = torch.randn(K, N);
      const A: HostMatrix = s.transposeA
        ? { data: a0.dataSync(), rows: M, cols: K, rs: 1, cs: M }
        : { data: a0.dataSync(), rows: M, cols: K, rs: K, cs: 1 };
      const B: HostMatrix = { data: b.dataSync(), rows: K, cols: N, rs: N, cs: 1 };
      return {
        on(device) {
          const da = toDevice(a0, device), db = toDevice(b, device);
          const a = s.transposeA ? da.t() : da;
          return opInstance(device, () => a.mm(db), (c) => checkMatmul(c, A, B), [da, db]);
        },
        close() {},
      };
    },
  };
}

// ---- elementwise and reductions --------------------------------------------------------------

function elementwiseCase(op: 'add' | 'clamp', n: number, seed: number): Case {
  return {
    section: 'elementwise', series: op, label: sizeLabel(n), x: n, unit: 'GB/s',
    // add reads two float32 inputs and writes one; clamp reads one and writes one.
    work: (op === 'add' ? 3 : 2) * 4 * n,
    async prepare() {
      torch.manualSeed(seed);
      const a = torch.randn(n), b = op === 'add' ? torch.randn(n) : null;
      const ah = a.dataSync(), bh = b?.dataSync();
      return {
        on(device) {
          const da = toDevice(a, device), db = b && toDevice(b, device);
          return op === 'add'
            ? opInstance(device, () => da.add(db!), (o) => checkElementwise(o, (i) => ah[i]! + bh![i]!), [da, db!])
            : opInstance(device, () => da.clamp(-0.5, 0.5), (o) => checkElementwise(o, (i) => Math.min(Math.max(ah[i]!, -0.5), 0.5)), [da]);
        },
        close() {},
      };
    },
  };
}

/** Rows × cols for n elements: as square as powers of two allow (1K → 32×32, 16M → 4096×4096). */
function squareish(n: number): [number, number] {
  const rows = 2 ** Math.floor(Math.log2(n) / 2);
  return [rows, n / rows];
}

function reduceCase(which: 'all' | 'rows', n: number, seed: number): Case {
  const [rows, cols] = squareish(n);
  return {
    section: 'reduce', series: which === 'all' ? 'sum all' : 'sum dim=1', label: which === 'all' ? sizeLabel(n) : `${sizeLabel(n)} (${rows}×${cols})`,
    x: n, unit: 'GB/s', work: 4 * n + 4 * (which === 'all' ? 1 : rows),
    async prepare() {
      torch.manualSeed(seed);
      // Integer values (|x| ≤ ~15) in float32: their sums are exact in any order, so checkable exactly.
      const x = torch.randn(rows, cols).mul(3).int().float();
      const xh = x.dataSync();
      return {
        on(device) {
          const dx = toDevice(x, device);
          const op = which === 'all' ? () => dx.sum() : () => dx.sum(1);
          return opInstance(device, op, (o) => checkSums(o, xh, rows, cols, which), [dx]);
        },
        close() {},
      };
    },
  };
}

// ---- the seed's net --------------------------------------------------------------------------

/** The seed's net: sizes, learning rate and manualSeed. */
export const NET = { B: 64, I: 1000, H: 100, O: 10, lr: 1e-6, seed: 0 };

/**
 * How far two float32 runs of the net may differ in loss L: relative 1e-3, or 1e-3·√L once the
 * loss is small. Why the second term: L = Σ r_i² over the 640 outputs, and float32 rounding moves
 * each y_pred by some δ (sums of 100 terms of size ~30: δ ≈ 1e-4), which moves L by about 2δ·√L.
 * That is a 3% difference at step 500 (L ≈ 4.6e-5, measured: cpu 4.601e-5, webgpu 4.462e-5),
 * so "relative 1e-3" alone fails there for any two different summation orders; 1e-3·√L is 5×
 * the noise. While L > 1 (steps 1–200 of 500) the relative term binds, and a wrong gradient or
 * update shows there by orders of magnitude.
 */
export function netLossTolerance(a: number, b: number): number {
  const L = Math.max(Math.abs(a), Math.abs(b));
  return Math.max(1e-3 * L, 1e-3 * Math.sqrt(L));
}

function compareLoss(what: string, a: number, b: number): string | null {
  const tol = netLossTolerance(a, b);
  return Math.abs(a - b) <= tol ? null : `${what}: ${a} vs ${b} (|difference| ${Math.abs(a - b).toExponential(2)} > ${tol.toExponential(2)})`;
}

/** The float64 net runs this many steps at most (26 MFLOP a step in plain JS). */
const REF_STEPS = 100;

/**
 * trainTwoLayerNet as the seed runs it. Each run ends by reading the last step's loss after that
 * step's update was launched, so all the device's work is inside the time. The loss of step
 * min(steps, 100) is checked against the float64 net; every 100th and the last step's loss are
 * compared across devices (see netLossTolerance).
 */
function netCase(steps: number, warmSteps: number): Case {
  const refStep = Math.min(steps, REF_STEPS);
  return {
    section: 'seed', series: 'two-layer net', label: `${steps} steps`, x: 0, unit: 'ms/step', work: steps,
    async prepare() {
      // The initial values trainTwoLayerNet draws (manualSeed, then randn x, y, w1, w2 in order).
      torch.manualSeed(NET.seed);
      const init = {
        x: torch.randn(NET.B, NET.I).dataSync(),
        y: torch.randn(NET.B, NET.O).dataSync(),
        w1: torch.randn(NET.I, NET.H).dataSync(),
        w2: torch.randn(NET.H, NET.O).dataSync(),
      };
      let ref: number[] | null = null; // computed on first use
      return {
        on(device) {
          const at = new Map<number, number>(); // step → loss read back
          let printed: number[] = [];
          let launchesPerStep = 0;
          const train = (n: number, keep: boolean) =>
            trainTwoLayerNet({
              device, seed: NET.seed, steps: n, print: () => {},
              onStep: async (t, loss) => {
                if (keep && (t === refStep || t === n)) at.set(t, await loss.item());
              },
            });
          return {
            async run() {
              const l0 = torch.launchStats.total;
              at.clear();
              printed = await train(steps, true);
              launchesPerStep = (torch.launchStats.total - l0) / steps;
            },
            async warm() {
              await train(warmSteps, false);
            },
            async check() {
              const mine = at.get(refStep), last = at.get(steps);
              if (mine === undefined || last === undefined || !Number.isFinite(mine) || !Number.isFinite(last)) return `losses ${JSON.stringify([...at])}`;
              ref ??= twoLayerNetF64(init, NET, refStep, NET.lr);
              return compareLoss(`loss at step ${refStep} against the float64 net`, mine, ref[refStep - 1]!);
            },
            // Losses of steps 100, 200, ... and of the last step.
            value: () => [...printed, at.get(steps)!],
            extra: () => ({ printedLosses: printed, finalLoss: at.get(steps)!, launchesPerStep }),
            dispose() {},
          };
        },
        close() {},
      };
    },
    agree(a, b) {
      for (let i = 0; i < a.length; i++) {
        const step = i < a.length - 1 ? (i + 1) * 100 : steps;
        const problem = compareLoss(`losses at step ${step}`, a[i]!, b[i]!);
        if (problem) return problem;
      }
      return null;
    },
  };
}

// ---- launch overhead -------------------------------------------------------------------------

function launchCase(ops: number): Case {
  return {
    section: 'launch', series: 'add chain', label: `${ops} ops × 16 elements`, x: 0, unit: 'µs/op', work: ops,
    async prepare() {
      return {
        on(device) {
          const x0 = torch.zeros(16, { device });
          let chain: torch.Tensor[] = [];
          const drop = () => {
            for (const t of chain) t.dispose();
            chain = [];
          };
          return {
            async run() {
              drop();
              let x = x0;
              for (let i = 0; i < ops; i++) chain.push((x = x.add(1)));
              await readOne(x);
            },
            async check() {
              const v = await chain[chain.length - 1]!.data();
              const bad = Array.from(v).findIndex((e) => e !== ops);
              return bad < 0 ? null : `x[${bad}] = ${v[bad]} after ${ops} additions of 1`;
            },
            dispose() {
              drop();
              x0.dispose();
            },
          };
        },
        close() {},
      };
    },
  };
}

/** Every case, in run order, for the full run or --quick. */
export function allCases(quick: boolean): Case[] {
  const cases: Case[] = [];
  const squares = quick ? [64, 256] : [64, 128, 256, 512, 1024, 2048];
  for (const n of squares) cases.push(matmulCase({ label: String(n), series: 'square', M: n, K: n, N: n }, n));
  cases.push(matmulCase({ label: '64×1000·1000×100', series: 'seed', M: 64, K: 1000, N: 100 }, 1));
  cases.push(matmulCase({ label: '1000×64·64×100 (Aᵀ view)', series: 'seed', M: 1000, K: 64, N: 100, transposeA: true }, 2));
  cases.push(matmulCase({ label: '64×100·100×10', series: 'seed', M: 64, K: 100, N: 10 }, 3));
  const sizes = quick ? [1 << 10, 1 << 16] : [1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24];
  for (const op of ['add', 'clamp'] as const) for (const n of sizes) cases.push(elementwiseCase(op, n, n + 7));
  for (const w of ['all', 'rows'] as const) for (const n of sizes) cases.push(reduceCase(w, n, n + 11));
  cases.push(quick ? netCase(5, 1) : netCase(500, 20));
  cases.push(launchCase(1000));
  return cases;
}
