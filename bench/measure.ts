/** Timing: warm-up, an adaptive number of samples, medians, and the caps that keep slow cases short. */

/** How long a case may take; --quick and the full run differ only here. */
export interface Budget {
  /** Aim for about this much sampling time per case and device (ms). */
  readonly targetMs: number;
  readonly minSamples: number;
  readonly maxSamples: number;
  /** At most this much sampling time per case and device (ms), fewer samples when runs are slow. */
  readonly caseMaxMs: number;
  /** A size whose single run is predicted (or found) to take longer than this is not repeated / skipped. */
  readonly runCapMs: number;
}

// (Up to session 6 at most 25 samples: a 10 µs case's median then came from a quarter of a
// millisecond of samples, at the machine's noise level; the time target bounds a case either way.)
export const FULL: Budget = { targetMs: 1500, minSamples: 5, maxSamples: 400, caseMaxMs: 30_000, runCapMs: 60_000 };
export const QUICK: Budget = { targetMs: 150, minSamples: 3, maxSamples: 40, caseMaxMs: 3_000, runCapMs: 3_000 };

export interface Timing {
  /** Warm-up runs (first compiles pipelines and fills pools), ms: the first WARMUPS_KEPT of them. */
  warmup: number[];
  /** How many warm-up runs there were. */
  warmupRuns: number;
  /** Timed runs, ms, in order. */
  samples: number[];
  median: number;
  min: number;
  max: number;
  /** Set when the case took fewer samples than the budget asks, with the reason. */
  note?: string;
}

/** Warm-up times kept in a record (a fast case warms up for thousands of runs). */
const WARMUPS_KEPT = 50;

export function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times `run` (which must end with a read of its result, so the device's work is inside the time):
 * a warm-up run (`warm` when given, for long runs; when runs are fast, more for a fifth of the
 * target time, at least two), then samples
 * until the budget is spent. `onRun` hears about every finished run, for the progress line.
 */
export async function measure(
  run: () => Promise<void>,
  b: Budget,
  onRun: (done: number, planned: number, ms: number) => void,
  warm?: () => Promise<void>,
): Promise<Timing> {
  const time = async (f: () => Promise<void>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const warmup = [await time(warm ?? run)];
  let warmupRuns = 1, est = warmup[0]!;
  onRun(0, 1, warmup[0]!);
  const samples: number[] = [];
  if (warm) samples.push(await time(run));
  else {
    // Fast runs warm up for a fifth of the target (at least two runs): the engine compiles hot
    // code after some runs, and a short case (the launch chain) would otherwise be timed while
    // it still runs unoptimized code (its median then says more about the JIT than the case).
    // (Until session 6 the warm-up also stopped after 50 runs: a 30 µs case was timed after
    // 1.5 ms of warm-up, half compiled.) The record keeps the first WARMUPS_KEPT warm-up times.
    let spent = est;
    while (est < b.targetMs / 10 && (warmupRuns < 2 || spent < b.targetMs / 5)) {
      est = await time(run);
      if (warmup.length < WARMUPS_KEPT) warmup.push(est);
      warmupRuns++;
      spent += est;
    }
  }
  if (warm) est = samples[0]!;
  if (est > b.runCapMs) {
    // One run already took longer than a run may: it is the only figure we take.
    const only = samples.length ? samples : warmup.splice(0);
    return { warmup, warmupRuns, samples: only, median: only[0]!, min: only[0]!, max: only[0]!, note: `1 run (> ${fmtSeconds(b.runCapMs)} cap)` };
  }
  let planned = Math.min(b.maxSamples, Math.max(b.minSamples, Math.ceil(b.targetMs / Math.max(est, 1e-3))));
  planned = Math.max(1, Math.min(planned, Math.floor(b.caseMaxMs / Math.max(est, 1e-3))));
  if (samples.length) onRun(1, planned, samples[0]!);
  while (samples.length < planned) {
    samples.push(await time(run));
    onRun(samples.length, planned, samples[samples.length - 1]!);
  }
  const t: Timing = { warmup, warmupRuns, samples, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
  if (samples.length < b.minSamples) t.note = `${samples.length} run${samples.length > 1 ? 's' : ''} (slow)`;
  return t;
}

export function fmtSeconds(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${+ms.toFixed(ms >= 10 ? 0 : 2)} ms`;
}

/** A time with a unit that keeps 3 significant digits: 12.3 µs, 4.56 ms, 7.89 s. */
export function fmtTime(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

/** The progress line: `\r`-rewritten on a terminal, one plain line per finished case otherwise. */
export class Progress {
  private readonly tty = !!process.stderr.isTTY;
  private shown = false;
  private readonly started = performance.now();

  /** Transient status (TTY only): what runs now. Slow runs also print plain lines off a TTY. */
  status(text: string, slow = false): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${this.stamp()} ${text.slice(0, (process.stderr.columns ?? 120) - 10)}`);
      this.shown = true;
    } else if (slow) {
      process.stderr.write(`${this.stamp()} ${text}\n`);
    }
  }

  /** A finished case: a plain line off a TTY; on a TTY the status line just moves on. */
  done(text: string): void {
    if (!this.tty) process.stderr.write(`${this.stamp()} ${text}\n`);
    else this.status(text);
  }

  /** Clears the status line before regular output. */
  clear(): void {
    if (this.tty && this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }

  private stamp(): string {
    return `[${((performance.now() - this.started) / 1000).toFixed(0).padStart(4)} s]`;
  }
}
