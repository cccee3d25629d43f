import type { Backend, BufferHandle, Device, Launch } from './backend.js';
import type { FusedKernel } from './kernel.js';
import { BufferNote } from './buffer-note.js';
import { cpuBackend } from './backends/cpu/index.js';
import { DeviceError, RuntimeError, TorchError } from './errors.js';
import { contiguousStrides } from './shape.js';
import { clearPlans, keyLaunch, newKey, planFor, type KeyTokens, type PlanMemo } from './plans.js';
import { pruned, schedule, type Step } from './schedule.js';

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
  /** Process-unique: a buffer's Note names the graph that uses it by this number. */
  serial: number;
  recs: Launch[];
  sites: (string | null)[];
  /** Whether any launch has a call site (eager or debug mode when it was recorded). */
  sited: boolean;
  /** Buffers the launches use, numbered by first use (a Note's `id`): the plan key's buffer numbers. */
  nbufs: number;
  /** The plan key of the launches so far (plans.ts), extended as each is recorded. */
  key: KeyTokens;
  /** Numbers of the buffers released (or declared dead) while the graph used them. */
  deadIds: number[];
  released: Released[];
  /** Outputs recorded inside an internal region (autograd's backward). */
  internal: Set<BufferHandle> | null;
}

interface Released {
  buf: BufferHandle;
  dtype: Parameters<Backend['release']>[1];
  numel: number;
}

let serials = 0;
const newGraph = (key: KeyTokens): Graph => ({ serial: ++serials, recs: [], sites: [], sited: false, nbufs: 0, key, deadIds: [], released: [], internal: null });

/** A buffer's BufferNote (buffer-note.ts) with the executor's types. */
interface Note extends BufferNote {
  w: Carried | Carried[] | null;
  r: Carried | Carried[] | null;
}

/** A buffer's note: the handle itself, or the note in its `ex` property (typed arrays), or none yet. */
const peek = (b: BufferHandle): Note | undefined => (b instanceof BufferNote ? (b as Note) : (b as { ex?: Note }).ex);
const noteOf = (b: BufferHandle): Note => (b instanceof BufferNote ? (b as Note) : ((b as { ex?: Note }).ex ??= new BufferNote() as Note));
const used = (n: Note, g: Graph): boolean => n.graph === g.serial;

function addTo(list: Carried | Carried[] | null, c: Carried): Carried | Carried[] {
  if (list === null || list === c) return c;
  if (!Array.isArray(list)) return [list, c];
  if (!list.includes(c)) list.push(c);
  return list;
}

function removeFrom(list: Carried | Carried[] | null, c: Carried): Carried | Carried[] | null {
  if (list === c) return null;
  if (!Array.isArray(list)) return list;
  const i = list.indexOf(c);
  if (i >= 0) list.splice(i, 1);
  return list.length === 1 ? list[0]! : list.length === 0 ? null : list;
}

/**
 * A kernel carried out of the graph that recorded it: a recipe for values that are alive but that
 * nothing has read yet (an intermediate the user still holds, a trailing fill). It reads only
 * buffers that were computed before it was carried, and runs when a later graph touches one of
 * its outputs or writes one of its inputs, or when one of its outputs is read; it is dropped when
 * all its outputs are released first. `seq` keeps program order among carried kernels.
 */
interface Carried {
  k: FusedKernel;
  label: string;
  seq: number;
  /** Outputs not released yet: at 0 the kernel is dropped. */
  live: number;
  /** Its plan step's cache slot (the backend replays what it recorded there), or a part's (partSlot). */
  slot?: object;
}

/**
 * The cache slot of the part of a carried kernel that keeps the outputs at `at` (indices into the
 * kernel's outputs), kept in the kernel's slot: a part is pruned from the same template the same
 * way every time (a chain read at its end each step), so its generated program is found again.
 */
const MAX_PARTS = 64;

function partSlot(slot: object | undefined, at: readonly number[]): object | undefined {
  if (!slot) return undefined;
  const parts = ((slot as { parts?: Map<string, object> }).parts ??= new Map());
  const key = at.join(',');
  let part = parts.get(key);
  if (!part) {
    // reads that split a kernel in ever new ways are generated afresh
    if (parts.size >= MAX_PARTS) return undefined;
    parts.set(key, (part = {}));
  }
  return part;
}

/**
 * What the tensor layer sees as a device's backend: the real backend behind a graph. Buffers,
 * reads and writes pass through, ordered against the recorded launches.
 */
class Lazy implements Backend {
  /** Every carried kernel (the Notes of their buffers list them by buffer, see Carried). */
  private readonly carried = new Set<Carried>();
  private seq = 0;
  /** A spare key buffer: the key of a realized graph is reused by the graph after next. */
  private spare: KeyTokens = newKey();
  graph = newGraph(newKey());
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
    const n = peek(buf);
    if (n && (used(n, this.graph) || n.w !== null || n.r !== null)) this.realizeFor(buf, true);
    this.real.write(buf, dtype, data);
  }
  async read(buf: BufferHandle, dtype: Parameters<Backend['read']>[1], offset: number, numel: number): ReturnType<Backend['read']> {
    this.realizeFor(buf);
    return this.real.read(buf, dtype, offset, numel);
  }
  get readSync(): Backend['readSync'] {
    const rs = this.real.readSync;
    if (!rs) return undefined;
    return (buf, dtype, offset, numel) => {
      this.realizeFor(buf);
      return rs.call(this.real, buf, dtype, offset, numel);
    };
  }
  release(buf: BufferHandle, dtype: Parameters<Backend['release']>[1], numel: number): void {
    const n = peek(buf);
    if (n === undefined || (!used(n, this.graph) && n.w === null && n.r === null)) this.real.release(buf, dtype, numel);
    else if (used(n, this.graph)) {
      this.markDead(n, this.graph);
      this.graph.released.push({ buf, dtype, numel });
    } else this.releaseNow(buf, dtype, numel);
  }

  /** Marks a buffer the graph uses as dead in it (released, or an autograd temporary). */
  markDead(n: Note, g: Graph): void {
    if (n.dead === g.serial) return;
    n.dead = g.serial;
    g.deadIds.push(n.id);
  }

  /**
   * Returns a buffer no recorded launch uses any more, unless a carried kernel still names it: a
   * recipe whose outputs are all released is dropped; one still needed keeps its inputs.
   */
  private releaseNow(buf: BufferHandle, dtype: Released['dtype'], numel: number): void {
    const n = peek(buf);
    if (!n || (n.w === null && n.r === null)) {
      this.real.release(buf, dtype, numel);
      return;
    }
    n.held = dtype;
    n.heldNumel = numel;
    const w = n.w;
    if (w === null) return;
    // uncarry() edits the list: a copy when there is more than one writer
    if (!Array.isArray(w)) {
      if (--w.live === 0) this.uncarry(w);
    } else for (const c of [...w]) if (--c.live === 0) this.uncarry(c);
  }

  private carryKernel(k: FusedKernel, label: string, slot?: object): void {
    // outputs released already (a part of a kernel carried again) do not count
    let live = 0;
    for (const o of k.outputs) if (noteOf(o.view.buf).held === null) live++;
    if (live === 0) return;
    const c: Carried = { k, label, seq: this.seq++, live, slot };
    this.carried.add(c);
    for (const o of k.outputs) {
      const n = noteOf(o.view.buf);
      n.w = addTo(n.w, c);
    }
    for (const v of k.inputs) {
      const n = noteOf(v.buf);
      n.r = addTo(n.r, c);
    }
  }

  /** Forgets a carried kernel; buffers released meanwhile that nothing else names are returned. */
  private uncarry(c: Carried): void {
    this.carried.delete(c);
    for (const o of c.k.outputs) {
      const n = peek(o.view.buf)!;
      n.w = removeFrom(n.w, c);
    }
    for (const v of c.k.inputs) {
      const n = peek(v.buf)!;
      n.r = removeFrom(n.r, c);
    }
    // then what c held and nothing else names goes back (a buffer named twice goes once)
    for (const o of c.k.outputs) this.free(o.view.buf);
    for (const v of c.k.inputs) this.free(v.buf);
  }

  private free(b: BufferHandle): void {
    const n = peek(b)!;
    if (n.held !== null && n.w === null && n.r === null) {
      const dtype = n.held;
      n.held = null;
      this.real.release(b, dtype, n.heldNumel);
    }
  }

  /**
   * Runs carried kernel c: whole when `outs` is null, else only for those of its outputs (the
   * rest stays carried, as a kernel of its own).
   */
  private runCarriedKernel(c: Carried, outs: ReadonlySet<BufferHandle> | null): void {
    const k = c.k;
    const nowAt: number[] = [], laterAt: number[] = [];
    k.outputs.forEach((o, i) => (!outs || outs.has(o.view.buf) ? nowAt : laterAt).push(i));
    let now: FusedKernel['outputs'] = nowAt.map((i) => k.outputs[i]!);
    let later = laterAt.length ? pruned(k, laterAt.map((i) => k.outputs[i]!)) : null;
    // a part that writes what the rest reads (an in-place update) cannot run first: all runs
    if (later && now.some((o) => later!.inputs.some((v) => v.buf === o.view.buf))) [now, later] = [k.outputs, null];
    // the rest is carried, and c runs, before c lets go of its buffers (a released input would
    // otherwise be handed back, and could be handed out again, before c read it)
    if (later) this.carryKernel(later, c.label, partSlot(c.slot, laterAt));
    try {
      if (now.length === 0) return;
      launchStats.kernels++;
      launchStats.fused++;
      if (later) this.real.runFused(pruned(k, now), c.label, partSlot(c.slot, nowAt));
      else this.real.runFused(k, c.label, c.slot);
    } finally {
      this.uncarry(c);
    }
  }

  /**
   * Before a graph (or a read or write of `only`) runs: the carried kernels whose outputs it
   * touches run for those outputs, and those whose inputs it writes run whole — all of them when
   * `all` — in the order they were carried.
   */
  private runCarried(recs: readonly Launch[], all: boolean, only?: { buf: BufferHandle; write: boolean }): void {
    if (this.carried.size === 0) return;
    const hits = new Map<Carried, Set<BufferHandle> | null>();
    const touch = (b: BufferHandle, w: Carried | Carried[] | null) => {
      if (w === null) return;
      for (const c of Array.isArray(w) ? w : [w]) {
        const h = hits.get(c);
        if (h !== null) hits.set(c, (h ?? new Set()).add(b));
      }
    };
    const write = (r: Carried | Carried[] | null) => {
      if (r === null) return;
      for (const c of Array.isArray(r) ? r : [r]) hits.set(c, null);
    };
    if (all) for (const c of this.carried) hits.set(c, null);
    const visit = (b: BufferHandle, written: boolean) => {
      const n = peek(b);
      if (!n) return;
      touch(b, n.w);
      if (written) write(n.r);
    };
    for (const l of recs) eachAccess(l, visit);
    if (only) visit(only.buf, only.write);
    if (hits.size === 0) return;
    for (const [c, outs] of [...hits].sort((x, y) => x[0].seq - y[0].seq)) this.runCarriedKernel(c, outs);
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
    this.push(l, eager || debug ? callSite() : null);
    const out = (l as { out?: { buf: BufferHandle } }).out;
    if (this.graph.internal && out && userDepth === 0) this.graph.internal.add(out.buf);
    if (eager || this.graph.recs.length >= bound) this.realize();
  }

  private push(l: Launch, site: string | null): void {
    const g = this.graph;
    g.recs.push(l);
    g.sites.push(site);
    if (site !== null) g.sited = true;
    // the key names every buffer of the launch: numbering them marks them used by the graph
    keyLaunch(g.key, l, this.bufId);
  }

  /**
   * A buffer's number in the graph, given on its first use there (which marks it used; a field:
   * push() passes it per launch, allocating nothing).
   */
  private readonly bufId = (b: BufferHandle): number => {
    const n = noteOf(b), g = this.graph;
    if (n.graph !== g.serial) {
      n.graph = g.serial;
      n.id = g.nbufs++;
    }
    return n.id;
  };

  /** Realizes what a read (or a write) of `buf` depends on (carried kernels included). */
  realizeFor(buf: BufferHandle, write = false): void {
    this.realize(false, buf);
    const n = peek(buf);
    if (n && used(n, this.graph)) this.realize(true);
    this.runCarried([], false, { buf, write });
  }

  /**
   * Schedules and runs the recorded graph, then returns the buffers released meanwhile. Unless
   * `all`, trailing fills of live buffers (a step's `grad.zero_()`) move to the next graph instead,
   * where the next write usually makes them free (zero_() then add_() writes once). `want`: a
   * buffer about to be read (a kernel that writes only it is not carried).
   */
  realize(all = false, want?: BufferHandle): void {
    const g = this.graph;
    if (g.recs.length === 0 && (this.carried.size === 0 || !(all || eager))) return;
    const internal = g.internal;
    const spare = this.spare;
    this.spare = g.key;
    this.graph = newGraph(spare);
    spare.n = 0;
    // An internal region still open continues in the next graph.
    if (internal) this.graph.internal = new Set();
    launchStats.realizations++;
    let steps: Step[];
    try {
      this.runCarried(g.recs, all || eager);
      const serial = g.serial;
      const dead = (b: BufferHandle) => peek(b)?.dead === serial;
      let slots: object[];
      let memo: PlanMemo;
      let planSlot: object;
      ({ steps, slots, memo, slot: planSlot } = planFor(this.device, g.recs, g.key, g.deadIds, () => schedule(g.recs, { dead, maxBuffers: this.real.limits.maxKernelBuffers })));
      if (trace) console.log(steps.map((s) => (s.kind === 'fused' ? `[${s.k.names.join(' ')}] ${s.k.shape.join('x')} out=${s.k.outputs.length} in=${s.k.inputs.length}` : (s.prologue ? `[${s.prologue.names.join(' ')}] + ` : '') + launchName(s.l) + (s.epilogue ? ` + [${s.epilogue.k.names.join(' ')}] out=${s.epilogue.k.outputs.length}` : ''))).join('\n'));
      const later = all || eager;
      // trailing() depends only on what the plan's key holds (steps, buffer sharing, dead buffers)
      if (!later && memo.trailingLimit !== bound / 4) {
        memo.trailing = [...trailing(steps, g.recs, bound / 4)];
        memo.trailingLimit = bound / 4;
      }
      const carried = new Set<number>(later ? [] : memo.trailing);
      steps.forEach((s, i) => {
        // a kernel whose only output is about to be read runs now: carrying it would run it next
        if (want !== undefined && s.kind === 'fused' && onlyWrites(s.k, want)) carried.delete(i);
        else if (s.kind === 'fused' && s.deferred && !later) carried.add(i);
      });
      this.real.planBegin?.(planSlot, steps.length - carried.size);
      try {
        steps.forEach((s, i) => {
          if (!carried.has(i)) this.run(s, g, slots[i]!);
        });
      } finally {
        this.real.planEnd?.();
      }
      this.carry([...carried].sort((a, b) => a - b).map((i) => ({ s: steps[i] as Extract<Step, { kind: 'fused' }>, slot: slots[i]! })), g);
    } finally {
      for (const r of g.released) this.releaseNow(r.buf, r.dtype, r.numel);
    }
  }

  /**
   * Carries trailing and deferred kernels out of the graph instead of running them: a fill becomes
   * a fill launch in the next graph (so the next write makes it free); another kernel is kept as
   * it is (its recipe). If nothing needs its outputs before they are released, it never runs.
   */
  private carry(steps: readonly { s: Extract<Step, { kind: 'fused' }>; slot: object }[], g: Graph): void {
    for (const { s, slot } of steps) {
      const k = s.k;
      if (k.inputs.length === 0 && k.outputs.every((o) => k.nodes[o.node]!.op === 'const')) {
        for (const o of k.outputs) this.push({ kind: 'fill', out: o.view, value: (k.nodes[o.node] as { value: number }).value }, null);
      } else this.carryKernel(k, labelOf(slot, () => k.names), slot);
    }
    // a buffer released in g that a carried fill still writes is released after the next graph
    const next = this.graph;
    g.released = g.released.filter((r) => {
      const n = peek(r.buf);
      if (!n || !used(n, next)) return true;
      this.markDead(n, next);
      next.released.push(r);
      return false;
    });
  }

  private run(s: Step, g: Graph, slot: object): void {
    launchStats.kernels++;
    const site = g.sited ? (s.recs.map((r) => g.sites[r]).find((x) => x) ?? null) : null;
    const names = labelOf(slot, () => (s.kind === 'fused' ? s.k.names : [...(s.prologue?.names ?? []), launchName(s.l), ...(s.epilogue?.k.names ?? [])]));
    const label = site ? `${names} at ${site}` : names;
    try {
      if (s.kind === 'fused') {
        launchStats.fused++;
        this.real.runFused(s.k, label, slot);
      } else if (s.prologue && !this.real.prologues) {
        // Computed into a scratch buffer, then reduced: one pass each, as the CPU reference does.
        const x = (s.l as Extract<Launch, { kind: 'reduce' }>).x;
        const n = x.shape.reduce((a, b) => a * b, 1);
        const buf = this.real.alloc(n, x.dtype);
        const tmp = { buf, dtype: x.dtype, shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 };
        try {
          this.real.runFused({ ...s.prologue, outputs: [{ view: tmp, node: s.prologue.outputs[0]!.node }] }, label, slot);
          this.real.launch({ ...s.l, x: tmp } as Launch, label);
        } finally {
          g.released.push({ buf, dtype: x.dtype, numel: n });
        }
      } else if (s.prologue) {
        this.real.launch(s.l, label, undefined, s.prologue, slot);
      } else if (s.epilogue && !this.real.epilogues) {
        this.real.launch(s.l, label);
        this.real.runFused(s.epilogue.k, label, slot);
      } else this.real.launch(s.l, label, s.epilogue, undefined, slot);
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
const trace = env('WGTORCH_TRACE') === '1';

/** A step's label (its launches' names), kept in its plan slot: a replay does not join them again. */
function labelOf(slot: object | undefined, names: () => readonly string[]): string {
  if (!slot) return names().join('+');
  return ((slot as { label?: string }).label ??= names().join('+'));
}

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

/**
 * Runs every device's recorded graph now (the graph of `device` only, when given), fills held
 * back for the next graph included. synchronize() runs the graph too, but keeps trailing fills
 * for the next graph (they are invisible until a read, which runs them).
 */
export function realize(device?: Device, all = true): void {
  for (const [d, b] of Object.entries(lazies) as [Device, Lazy][]) if (!device || d === device) b.realize(all);
}

/**
 * A natural step boundary (the start of backward()): the graph is realized here once it holds
 * half the bound, so a loop that never reads cuts its graphs at the same place every time and
 * replays one plan (plans.ts).
 */
export function stepBoundary(device: Device): void {
  const b = lazies[device];
  if (b && b.graph.recs.length >= bound / 2) b.realize();
}

/**
 * torch.compile(fn): fn's ops form one graph of their own, realized when fn returns, so every call
 * with the same structure replays one cached plan (see plans.ts for what makes a plan rebuilt).
 * Reads inside fn realize early and split the graph; shapes may change from call to call (a new
 * plan is built for each new structure). The result is a function with fn's signature.
 *
 * @example
 * const step = torch.compile(() => { const loss = net(x).sub(y).pow(2).sum(); loss.backward(); ...; return loss; });
 * for (let t = 0; t < 500; t++) step();
 */
export function compile<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    realize(undefined, false);
    const r = fn(...args);
    realize(undefined, false);
    return r;
  };
}

/** Whether every output of k is stored in `buf`. */
function onlyWrites(k: FusedKernel, buf: BufferHandle): boolean {
  for (const o of k.outputs) if (o.view.buf !== buf) return false;
  return true;
}

/** Launch kinds that write only their `out` (any other kind may write every buffer it names). */
const WRITE_OUT = new Set<Launch['kind']>(['unary', 'binary', 'where', 'copy', 'fill', 'random', 'reduce', 'matmul']);

/**
 * Calls fn with every buffer a launch reads (written: false) and writes (true): a known kind writes
 * its `out` and reads the rest; a kind this file does not know reads and writes all it names.
 */
function eachAccess(l: Launch, fn: (b: BufferHandle, written: boolean) => void): void {
  // the common kinds without a walk over their fields
  switch (l.kind) {
    case 'unary': case 'copy': fn(l.x.buf, false); fn(l.out.buf, true); return;
    case 'binary':
      if (typeof l.a === 'object') fn(l.a.buf, false);
      if (typeof l.b === 'object') fn(l.b.buf, false);
      fn(l.out.buf, true);
      return;
    case 'fill': fn(l.out.buf, true); return;
    default: {
      const out = (l as { out?: { buf: BufferHandle } }).out?.buf;
      const known = out !== undefined && WRITE_OUT.has(l.kind);
      for (const v of Object.values(l)) {
        if (typeof v !== 'object' || v === null || !('buf' in v)) continue;
        const b = (v as { buf: BufferHandle }).buf;
        if (!known) {
          fn(b, false);
          fn(b, true);
        } else if (b !== out) fn(b, false);
      }
      if (known) fn(out, true);
    }
  }
}

/** The buffers a launch reads and writes, as eachAccess() visits them. */
function launchBufs(l: Launch): { reads: BufferHandle[]; writes: BufferHandle[] } {
  const reads: BufferHandle[] = [], writes: BufferHandle[] = [];
  eachAccess(l, (b, written) => (written ? writes : reads).push(b));
  return { reads, writes };
}

/**
 * Trailing fused kernels: no later step touches what their launches write or writes what they
 * read, so they may run in the next graph instead (fills always; other kernels while their
 * launches stay under `limit`, so a graph never fills up with carried work).
 */
function trailing(steps: readonly Step[], recs: readonly Launch[], limit: number): Set<number> {
  const out = new Set<number>();
  const touched = new Set<BufferHandle>(), written = new Set<BufferHandle>();
  let budget = limit;
  const note = (reads: Iterable<BufferHandle>, writes: Iterable<BufferHandle>) => {
    for (const b of reads) touched.add(b);
    for (const b of writes) {
      touched.add(b);
      written.add(b);
    }
  };
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (s.kind === 'fused' && s.deferred) {
      // carried anyway; what it reads must not be carried (carried kernels never read each other)
      note(s.k.inputs.map((v) => v.buf), s.k.outputs.map((o) => o.view.buf));
      continue;
    }
    const reads: BufferHandle[] = [], writes: BufferHandle[] = [];
    for (const r of s.recs) {
      const l = recs[r]!;
      const a = launchBufs(l);
      // A reduction with a prologue reads the prologue's inputs, not its x.
      const pro = s.kind === 'launch' && l === s.l ? s.prologue : undefined;
      reads.push(...(pro ? pro.inputs.map((v) => v.buf) : a.reads));
      writes.push(...a.writes);
    }
    if (s.kind === 'fused') {
      const consts = s.k.inputs.length === 0 && s.k.outputs.every((o) => s.k.nodes[o.node]!.op === 'const');
      const free = writes.every((b) => !touched.has(b)) && reads.every((b) => !written.has(b));
      if (free && (consts || s.recs.length <= budget)) {
        if (!consts) budget -= s.recs.length;
        out.add(i);
        // What a carried kernel reads must be computed now: it never depends on another carried one.
        // What it writes is noted too: an earlier step writing or reading that buffer runs now, so
        // carried work (run first in the next graph) never jumps ahead of it (fill, then a partial
        // copy_ into the same buffer).
        note(reads, writes);
        continue;
      }
    }
    note(reads, writes);
  }
  return out;
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
export function beginInternal(device: Device, bufs: readonly BufferHandle[] = []): void {
  const b = lazies[device];
  if (!b) return;
  const set = (b.graph.internal ??= new Set());
  for (const x of bufs) set.add(x);
}

let userDepth = 0;
let userRuns = 0;

/** How many times user code ran inside autograd (hooks, custom Functions) since the process began. */
export function userCodeRuns(): number {
  return userRuns;
}

/**
 * Runs user code that autograd calls inside an internal region (a custom Function's backward, a
 * gradient hook): the user may keep what it computes or the tensors `seen` it is given, so those
 * are not the region's temporaries.
 */
export function userCode<R>(device: Device, seen: readonly BufferHandle[], fn: () => R): R {
  const set = lazies[device]?.graph.internal;
  if (set) for (const b of seen) set.delete(b);
  userDepth++;
  userRuns++;
  try {
    return fn();
  } finally {
    userDepth--;
  }
}

/** Ends an internal region (see beginInternal); `keep` are the buffers that stay observable. */
export function endInternal(device: Device, keep: readonly BufferHandle[]): void {
  const b = lazies[device];
  const g = b?.graph;
  if (!b || !g?.internal) return;
  const set = g.internal;
  g.internal = null;
  for (const k of keep) set.delete(k);
  for (const buf of set) {
    const n = peek(buf);
    if (n && used(n, g)) b.markDead(n, g);
  }
}
