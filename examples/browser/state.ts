import type { KernelChoice } from 'wgtorch';
import type { EpochStats } from '../classifier.js';

/**
 * What the browser pages publish on `window` for tests and for anyone poking at the console:
 * `window.__wgtorch` (the demo, index.html) and `window.__conformance` (conformance.html).
 */

/** One cpu-vs-webgpu timing: milliseconds per run on each device (null when the device is absent). */
export interface CompareRow {
  name: string;
  cpuMs: number | null;
  webgpuMs: number | null;
  /** Extra text under the row, e.g. GFLOP/s or the final losses. */
  note: string;
}

export interface DemoState {
  /** The device the page chose: 'webgpu' when an adapter was found, else 'cpu'. */
  device: 'webgpu' | 'cpu' | null;
  /** Adapter description (vendor, architecture, description), or null on the CPU. */
  adapter: string | null;
  /** Why WebGPU is not used (null on WebGPU). */
  fallbackReason: string | null;
  /** The seed's tensor section as printed, one line per print, ending with a newline. */
  tensorText: string | null;
  /** Steps the page trains for (?steps=, default 500). */
  steps: number;
  /** The loss of every training step, in order. */
  losses: number[];
  /** The seed's "Iteration: ... Loss: ..." lines. */
  iterationLines: string[];
  /** Milliseconds the training took (set when it ends). */
  trainMs: number | null;
  /** Times the loss curve was redrawn during training (more than once: it is live). */
  curveDraws: number;
  /** A 50 ms timer's runs during training: at most one per step's yield; a page that never yields runs none. */
  heartbeats: number;
  /** The iris classifier, trained beside the seed's net (examples/classifier.ts). */
  classifier: ClassifierState;
  /** The cpu-vs-webgpu comparison, once run (?compare=1 or the button). */
  compare: { rows: CompareRow[]; done: boolean } | null;
  /** Training (and the comparison, when ?compare=1) finished. */
  done: boolean;
  /** The first error the page hit, as shown on it. */
  error: string | null;
}

/** The classifier panel: examples/classifier.ts's MLP on the iris flowers, on the page's device. */
export interface ClassifierState {
  /** Epochs the page trains for (?epochs=, default 30, as `npm run example -- classifier`). */
  epochs: number;
  /** Loss and train/test accuracy after every epoch, in order. */
  history: EpochStats[];
  /** The example's "Epoch  n: loss …, train accuracy …%, test accuracy …%" lines. */
  lines: string[];
  /** Milliseconds the training took (set when it ends). */
  ms: number | null;
  /** Times its chart was redrawn during training. */
  chartDraws: number;
  /** A 50 ms timer's runs while it trained (0 if the page never yielded). */
  heartbeats: number;
  /** Training finished. */
  done: boolean;
}

/** Result of one ops.json case: forward value, and gradients when the fixture has them. */
export interface CaseResult {
  index: number;
  label: string;
  /** The WebGPU kernel choice the case ran under (null on the CPU). */
  kernels: KernelChoice | null;
  ok: boolean;
  /** What failed (empty when ok). */
  message: string;
  /** Whether gradients were checked too. */
  grads: boolean;
  /** Milliseconds the case took. */
  ms: number;
}

export interface ConformanceState {
  device: 'webgpu' | 'cpu' | null;
  adapter: string | null;
  fallbackReason: string | null;
  /** The kernel choices the cases run under, in order (?kernels=auto,gpu; [null] on the CPU). */
  kernels: (KernelChoice | null)[];
  /** Number of cases to run: ops.json's, once per kernel choice. */
  total: number;
  results: CaseResult[];
  ms: number | null;
  done: boolean;
  error: string | null;
}

declare global {
  interface Window {
    __wgtorch?: DemoState;
    __conformance?: ConformanceState;
    /** The library, on the demo page, for the devtools console. */
    torch?: typeof import('wgtorch');
  }
}
