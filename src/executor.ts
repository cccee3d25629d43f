import type { Backend, BufferHandle, Device, Launch } from './backend.js';
import { cpuBackend } from './backends/cpu/index.js';
import { DeviceError, RuntimeError, TorchError } from './errors.js';
import { clearPlans, planFor } from './plans.js';
import { schedule, type Step } from './schedule.js';

/**
 * The graph executor. Ops hand their launches to `launch(device, l)`, which records them in the
 * device's graph (or, in eager mode, runs them at once). The graph is realized — scheduled into
 * fused kernels (schedule.ts), then run by the backend — when values are read, on
 * synchronize(), and when it passes a size bound. Buffers a recorded launch still uses are
 * released only after the graph ran; a buffer released before that is dead, so the scheduler
 * need not store into it.
 *
 * Path of an op: record → schedule (fusion groups) → plan cache (plans.ts) → encode → submit.
 */

const env = (k: string): string | undefined => (typeof process !== 'undefined' ? process.env?.[k] : undefined);

let eager = env('WGTORCH_EAGER') === '1';
/** Launches a graph holds before it is realized without a read (memory stays bounded). */
let bound = 256;

/**
 * Counts for tests and the bench: `total` recorded launches (the ops' kernels before fusion, by
 * kind in `byKind`), `kernels` the kernels that ran after fusion (one dispatch each on the CPU; a
 * WebGPU reduction may take several dispatches, counted in torch.webgpu.stats()), `fused` how many
 * of those were fused elementwise kernels, and `realizations` how many graphs were realized.
 */
export const launchStats = {
  total: 0,
  byKind: {} as Partial<Record<Launch['kind'], number>>,
  kernels: 0,
  fused: 0,
  realizations: 0,
};
export { planStats } from './plans.js';

interface Graph {
  recs: Launch[];
  sites: (string | null)[];
  touched: Set<BufferHandle>;
  /** Buffers released (or declared dead) while the graph used them. */
  dead: Set<BufferHandle>;
  released: { buf: BufferHandle; dtype: Parameters<Backend['release']>[1]; numel: number }[];
  /** Outputs recorded inside an internal region (autograd's backward). */
  internal: Set<BufferHandle> | null;
}

const newGraph = (): Graph => ({ recs: [], sites: [], touched: new Set(), dead: new Set(), released: [], internal: null });

/**
 * What the tensor layer sees as a device's backend: the real backend behind a graph. Buffers,
 * reads and writes pass through, ordered against the recorded launches.
 */
class Lazy implements Backend {
  graph = newGraph();
  constructor(readonly real: Backend) {}
  get device(): Device {
    return this.real.device;
  }
  get limits(): Backend['limits'] {
    return this.real.limits;
  }
  alloc(numel: number, dtype: Parameters<Backend['alloc']>[1]): BufferHandle {
    return this.real.alloc(numel, dtype);
  }
  write(buf: BufferHandle, dtype: Parameters<Backend['write']>[1], data: Parameters<Backend['write']>[2]): void {
    if (this.graph.touched.has(buf)) this.realize();
    this.real.write(buf, dtype, data);
  }
  async read(buf: BufferHandle, dtype: Parameters<Backend['read']>[1], offset: number, numel: number): ReturnType<Backend['read']> {
    this.realize();
    return this.real.read(buf, dtype, offset, numel);
  }
  get readSync(): Backend['readSync'] {
    const rs = this.real.readSync;
    if (!rs) return undefined;
    return (buf, dtype, offset, numel) => {
      this.realize();
      return rs.call(this.real, buf, dtype, offset, numel);
    };
  }
  release(buf: BufferHandle, dtype: Parameters<Backend['release']>[1], numel: number): void {
    if (this.graph.touched.has(buf)) {
      this.graph.dead.add(buf);
      this.graph.released.push({ buf, dtype, numel });
    } else this.real.release(buf, dtype, numel);
  }
  launch(l: Launch): void {
    this.record(l);
  }
  runFused(): void {
    throw new RuntimeError('runFused is called by the executor on the real backend');
  }
  async synchronize(): Promise<void> {
    this.realize();
    await this.real.synchronize();
  }

  record(l: Launch): void {
    const g = this.graph;
    g.recs.push(l);
    g.sites.push(eager || debug ? callSite() : null);
    for (const v of Object.values(l)) if (typeof v === 'object' && v !== null && 'buf' in v) g.touched.add((v as { buf: BufferHandle }).buf);
    const out = (l as { out?: { buf: BufferHandle } }).out;
    if (g.internal && out) g.internal.add(out.buf);
    if (eager || g.recs.length >= bound) this.realize();
  }

  /** Schedules and runs the recorded graph, then returns the buffers released meanwhile. */
  realize(): void {
    const g = this.graph;
    if (g.recs.length === 0) return;
    const internal = g.internal;
    this.graph = newGraph();
    // An internal region still open continues in the next graph.
    if (internal) this.graph.internal = new Set();
    launchStats.realizations++;
    let steps: Step[];
    try {
      const dead = (b: BufferHandle) => g.dead.has(b);
      let slots: object[];
      ({ steps, slots } = planFor(this.device, g.recs, dead, () => schedule(g.recs, { dead, maxBuffers: this.real.limits.maxKernelBuffers })));
      if (env('WGTORCH_TRACE') === '1') console.log(steps.map((s) => (s.kind === 'fused' ? `[${s.k.names.join(' ')}] ${s.k.shape.join('x')} out=${s.k.outputs.length} in=${s.k.inputs.length}` : launchName(s.l) + (s.epilogue ? ` + [${s.epilogue.k.names.join(' ')}] out=${s.epilogue.k.outputs.length}` : ''))).join('\n'));
      steps.forEach((s, i) => this.run(s, g, slots[i]!));
    } finally {
      for (const r of g.released) this.real.release(r.buf, r.dtype, r.numel);
    }
  }

  private run(s: Step, g: Graph, slot: object): void {
    launchStats.kernels++;
    const names = s.kind === 'fused' ? s.k.names : [launchName(s.l), ...(s.epilogue?.k.names ?? [])];
    const site = s.recs.map((r) => g.sites[r]).find((x) => x) ?? null;
    const label = `${names.join('+')}${site ? ` at ${site}` : ''}`;
    try {
      if (s.kind === 'fused') {
        launchStats.fused++;
        this.real.runFused(s.k, label, slot);
      } else if (s.epilogue && !this.real.epilogues) {
        this.real.launch(s.l, label);
        this.real.runFused(s.epilogue.k, label, slot);
      } else this.real.launch(s.l, label, s.epilogue);
    } catch (e) {
      if (e instanceof TorchError && !(e instanceof DeviceError)) throw e;
      const msg = (e as Error)?.message ?? String(e);
      throw new DeviceError(
        `${msg} (while running ${label}${site ? '' : '; run with WGTORCH_EAGER=1 to see where it was called'})`,
      );
    }
  }
}

let debug = env('WGTORCH_DEBUG') === '1';

/** Where the user called the op: the first stack frame outside wgtorch (eager or debug mode only). */
const here = (() => {
  try {
    return decodeURIComponent(new URL('.', import.meta.url).pathname);
  } catch {
    return '\0';
  }
})();
function callSite(): string | null {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  const frame = stack.find((f) => !f.includes(here) && !/node_modules|node:internal|\(native\)/.test(f));
  return frame ? frame.trim().replace(/^at /, '') : null;
}

function launchName(l: Launch): string {
  const op = (l as { op?: unknown }).op;
  return typeof op === 'string' ? `${l.kind}:${op}` : l.kind;
}

const lazies: Partial<Record<Device, Lazy>> = { cpu: new Lazy(cpuBackend) };

/** Installs (or, with null, removes) the backend of a device; its pending graph is dropped. */
export function registerBackend(device: Device, b: Backend | null): void {
  clearPlans();
  if (b) lazies[device] = new Lazy(b);
  else delete lazies[device];
}

/** The backend of a device (behind its graph), with PyTorch's wording when it is not there. */
export function backendFor(device: Device): Backend {
  const b = lazies[device];
  if (!b) {
    throw new RuntimeError(
      device === 'webgpu'
        ? "WebGPU backend is not initialized: no adapter found. Call `await torch.webgpu.isAvailable()` first, or use device 'cpu'"
        : `unknown device ${String(device)}`,
    );
  }
  return b;
}

/** Records one launch in its device's graph (runs it at once in eager mode). */
export function launch(device: Device, l: Launch): void {
  const b = backendFor(device) as Lazy;
  launchStats.total++;
  launchStats.byKind[l.kind] = (launchStats.byKind[l.kind] ?? 0) + 1;
  b.real.validate?.(l);
  b.record(l);
}

/** Runs every device's recorded graph now (the graph of `device` only, when given). */
export function realize(device?: Device): void {
  for (const [d, b] of Object.entries(lazies) as [Device, Lazy][]) if (!device || d === device) b.realize();
}

/**
 * Eager mode runs each op when it is called (for debugging: a device error then names the op and
 * the line that called it). Also set by WGTORCH_EAGER=1.
 */
export function setEager(on: boolean): void {
  realize();
  eager = on;
}

/** Whether ops run when called (eager) or are recorded and realized later (the default). */
export function isEager(): boolean {
  return eager;
}

/** Records call sites of ops in lazy mode too (WGTORCH_DEBUG=1), so device errors name the line. */
export function setDebug(on: boolean): void {
  debug = on;
}

/** Launches a graph may hold before it is realized without a read (default 256). */
export function setGraphBound(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RuntimeError(`graph bound must be a positive integer, got ${n}`);
  bound = n;
}

/**
 * Autograd's backward runs inside an internal region: the buffers its launches write are
 * temporaries nobody can read afterwards, except the gradients it delivers (`keep`). At the end of
 * the region they are dead, so fused kernels need not store them.
 */
export function beginInternal(device: Device): void {
  const b = lazies[device];
  if (b) b.graph.internal ??= new Set();
}

/** Ends an internal region (see beginInternal); `keep` are the buffers that stay observable. */
export function endInternal(device: Device, keep: readonly BufferHandle[]): void {
  const b = lazies[device];
  const g = b?.graph;
  if (!g?.internal) return;
  const set = g.internal;
  g.internal = null;
  for (const k of keep) set.delete(k);
  for (const buf of set) if (g.touched.has(buf)) g.dead.add(buf);
}
