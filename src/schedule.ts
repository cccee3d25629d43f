/**
 * The scheduler: turns a device's recorded launches (program order) into steps — fused elementwise
 * kernels and launches that run as they are. Both devices use it; it knows nothing of either.
 *
 * - Elementwise launches (unary, binary, where, copy, fill) over the same shape join one group; a
 *   value another member produced is used directly (never reloaded), so `a.sub(b).pow(2)` is one
 *   kernel, and an in-place op's "compute, then copy into the target" is one kernel that writes
 *   the target (the temporary is never stored).
 * - A load of a buffer whose last write was a constant fill becomes the constant: `g.zero_()`
 *   followed by `g.add_(x)` writes x, and the fill disappears when nothing else reads it.
 * - A store is kept only when something needs it: a later launch that reads memory, or a buffer
 *   that is still alive when the graph ends (JS cannot tell which tensors the user still holds, so
 *   every tensor not released and not marked internal by autograd is kept).
 * - Every other launch kind (matmul, reduce, random, and kinds this file has never heard of) is a
 *   barrier: it runs as recorded, ordered after the writes it reads and before later writes to what
 *   it reads (write-after-read), so new kinds work without touching the scheduler.
 * - A group is placed at its last member's position; a group that a later launch depends on (or
 *   whose inputs a later launch overwrites) is sealed and takes no more members.
 */
import type { BufferHandle, Launch, Operand, View } from './backend.js';
import type { Epilogue, FusedKernel, KNode } from './kernel.js';
import { numel, sameSizes } from './shape.js';

/** One unit of work: a fused kernel or a launch run as recorded. `recs` index the recorded launches. */
export type Step =
  /**
   * A fused kernel. `deferred`: its outputs are still alive but nothing in the graph reads them,
   * so it is a recipe — the executor keeps it and runs it only when something needs them (and
   * drops it when they are released first). Its inputs are never written later in the graph.
   */
  | { kind: 'fused'; k: FusedKernel; recs: number[]; deferred?: boolean }
  /**
   * A launch as recorded. A matmul may carry an epilogue: a fused kernel over its output's shape,
   * run per element after the matmul wrote it, whose input `acc` is the matmul's output. A
   * reduce may carry a prologue: the kernel whose only output (viewed as the reduce's x) it
   * reduces, computed as the reduce reads it (its inputs share x's strides and offset).
   */
  | { kind: 'launch'; l: Launch; recs: number[]; epilogue?: Epilogue; prologue?: FusedKernel };


export interface ScheduleOptions {
  /** Whether a buffer's contents are unobservable after this graph (released, or an autograd temporary). */
  dead(buf: BufferHandle): boolean;
  /** Most distinct buffers one kernel may bind (WebGPU's maxStorageBuffersPerShaderStage). */
  maxBuffers: number;
}

/** Most nodes a fused kernel holds (a long chain is split, so generated code stays small). */
const MAX_NODES = 96;

type Elementwise = Extract<Launch, { kind: 'unary' | 'binary' | 'where' | 'copy' | 'fill' }>;

interface Store {
  group: Group;
  node: number;
  view: View;
  needed: boolean;
  /** A later launch reads it from memory (else it is needed only because its buffer is alive). */
  read: boolean;
}

interface Group {
  shape: readonly number[];
  inputs: View[];
  nodes: KNode[];
  outputs: Store[];
  names: string[];
  /** Its const nodes (one per value and dtype: every scalar operand of a chain is one node). */
  consts: number[];
  recs: number[];
  reads: Map<BufferHandle, View[]>;
  writes: Map<BufferHandle, View[]>;
  bufs: Set<BufferHandle>;
  open: boolean;
  /** The matmul this group is fused into as an epilogue (it then runs at the matmul's position). */
  host: LaunchEntry | null;
  kind?: undefined;
}

/** The last write to (part of) a buffer: by a group member (its node) or by a barrier. */
interface Writer {
  group: Group | null;
  node: number;
  view: View;
  constant: { value: number; dtype: View['dtype'] } | null;
}

const sameGeom = (a: View, b: View) => a.offset === b.offset && sameSizes(a.shape, b.shape) && sameSizes(a.strides, b.strides);

/** Element offsets a view touches, as [first, last] (strides are never negative here). */
function span(v: View): [number, number] {
  let hi = v.offset;
  for (let d = 0; d < v.shape.length; d++) {
    if (v.shape[d] === 0) return [v.offset, v.offset - 1];
    hi += (v.shape[d]! - 1) * v.strides[d]!;
  }
  return [v.offset, hi];
}

function isDense(v: View): boolean {
  let e = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== e) return false;
    e *= v.shape[d]!;
  }
  return true;
}

/** Whether writing `w` overwrites every element `r` touches (w dense and r inside its range). */
function covers(w: View, r: View): boolean {
  if (sameGeom(w, r)) return true;
  if (!isDense(w)) return false;
  const [a, b] = span(r);
  return a >= w.offset && b < w.offset + numel(w.shape);
}

const isView = (v: unknown): v is View => typeof v === 'object' && v !== null && 'buf' in v && 'strides' in v;

/** The views a launch reads and writes. Unknown kinds: every view is both read and written. */
function accesses(l: Launch): { reads: View[]; writes: View[] } {
  const all: View[] = [];
  for (const v of Object.values(l)) {
    if (isView(v)) all.push(v);
    else if (Array.isArray(v)) for (const x of v) if (isView(x)) all.push(x);
  }
  switch (l.kind) {
    case 'unary': case 'binary': case 'where': case 'copy': case 'fill': case 'random': case 'reduce': case 'matmul':
      return { reads: all.filter((v) => v !== l.out), writes: [l.out] };
    default:
      return { reads: all, writes: all };
  }
}

const fusable = (l: Launch): l is Elementwise => l.kind === 'unary' || l.kind === 'binary' || l.kind === 'where' || l.kind === 'copy' || l.kind === 'fill';

function operands(l: Elementwise): Operand[] {
  switch (l.kind) {
    case 'unary': case 'copy': return [l.x];
    case 'binary': return [l.a, l.b];
    case 'where': return [l.cond, l.a, l.b];
    case 'fill': return [];
  }
}

function launchName(l: Launch): string {
  const op = (l as { op?: unknown }).op;
  return typeof op === 'string' ? `${l.kind}:${op}` : l.kind;
}

/** A launch run as recorded, with the group fused into it as an epilogue (a matmul's). */
interface LaunchEntry {
  kind: 'launch';
  l: Launch;
  recs: number[];
  reads: Set<BufferHandle>;
  writes: Set<BufferHandle>;
  epi: Group | null;
  pro: FusedKernel | null;
}
type Entry = LaunchEntry | Group;

/** Schedules recorded launches into steps; see the file comment for the rules. */
export function schedule(recs: readonly Launch[], opts: ScheduleOptions): Step[] {
  const steps = scheduleWith(recs, opts, true);
  return steps.every((s) => bindings(s) <= opts.maxBuffers) ? steps : scheduleWith(recs, opts, false);
}

/** Distinct buffers a step's kernel binds. */
function bindings(s: Step): number {
  const set = new Set<BufferHandle>();
  const add = (k: FusedKernel) => {
    k.inputs.forEach((v) => set.add(v.buf));
    k.outputs.forEach((o) => set.add(o.view.buf));
  };
  if (s.kind === 'fused') add(s.k);
  else if (s.prologue) return s.prologue.inputs.length + 2;
  else if (s.epilogue) {
    add(s.epilogue.k);
    const l = s.l as Extract<Launch, { kind: 'matmul' }>;
    set.delete(l.out.buf);
    return set.size + 3;
  }
  return set.size;
}

function scheduleWith(recs: readonly Launch[], opts: ScheduleOptions, optimistic: boolean): Step[] {
  const steps: Entry[] = [];
  /** Groups still open (only these can be sealed). */
  const openGroups = new Set<Group>();
  const lastWriter = new Map<BufferHandle, Writer>();
  /** The barrier that last wrote a buffer (when a barrier did). */
  const barrierOf = new Map<BufferHandle, LaunchEntry>();
  /** Stores to a buffer since the last write that covered them: a memory read needs them all. */
  const pendingStores = new Map<BufferHandle, Store[]>();
  let lastOpen: Group | null = null;

  /**
   * Buffers a kernel will bind. Optimistically, a dead buffer the group only writes is not
   * counted: its store is usually dropped (schedule() checks the result and retries without).
   */
  const bound = (bufs: Set<BufferHandle>, g: Group, loads: readonly View[]) => {
    if (!optimistic) return bufs.size;
    let n = 0;
    for (const b of bufs) if (!opts.dead(b) || g.reads.has(b) || loads.some((v) => v.buf === b)) n++;
    return n;
  };
  const memoryRead = (v: View) => {
    for (const s of pendingStores.get(v.buf) ?? []) s.needed = s.read = true;
  };
  const noteWrite = (v: View, store: Store | null) => {
    const list = (pendingStores.get(v.buf) ?? []).filter((s) => !covers(v, s.view));
    if (store) list.push(store);
    pendingStores.set(v.buf, list);
  };
  /** Later work touching what an open group writes, or writing what it reads, seals it there. */
  const seal = (reads: readonly View[], writes: readonly View[], except: Group | null) => {
    for (const g of openGroups) {
      if (!g.open) openGroups.delete(g);
      else if (g !== except && (reads.some((v) => g.writes.has(v.buf)) || writes.some((v) => g.writes.has(v.buf) || g.reads.has(v.buf)))) {
        g.open = false;
        openGroups.delete(g);
      }
    }
  };
  const constantFor = (v: View): Writer['constant'] => {
    const w = lastWriter.get(v.buf);
    return w?.constant && covers(w.view, v) ? w.constant : null;
  };
  const touches = (e: Entry): { reads: Iterable<BufferHandle>; writes: Iterable<BufferHandle> }[] =>
    e.kind === 'launch' ? [e, ...(e.epi ? [{ reads: e.epi.reads.keys(), writes: e.epi.writes.keys() }] : [])] : [{ reads: e.reads.keys(), writes: e.writes.keys() }];
  /**
   * Whether work that reads `reads` and writes `writes` can run at position `pos` instead of the
   * end: nothing after it writes what it reads, or reads or writes what it writes.
   */
  const clearAfter = (pos: number, reads: ReadonlySet<BufferHandle>, writes: ReadonlySet<BufferHandle>, self: Entry): boolean => {
    for (let i = pos + 1; i < steps.length; i++) {
      const e = steps[i]!;
      if (e === self) continue;
      for (const t of touches(e)) {
        for (const b of t.writes) if (reads.has(b) || writes.has(b)) return false;
        for (const b of t.reads) if (writes.has(b)) return false;
      }
    }
    return true;
  };
  /** A load of a matmul's output in its own layout: what an epilogue gets as the accumulator. */
  const accView = (host: LaunchEntry, v: View) => {
    const out = (host.l as Extract<Launch, { kind: 'matmul' }>).out;
    return v.buf === out.buf && v.offset === out.offset && isDense(v) && numel(v.shape) === numel(out.shape);
  };

  /** The memory loads l would add to g (operands that are neither constants nor g's own values). */
  const memoryLoads = (g: Group, l: Elementwise): View[] | null => {
    const loads: View[] = [];
    for (const o of operands(l)) {
      if (typeof o === 'number' || constantFor(o)) continue;
      const w = lastWriter.get(o.buf);
      if (w?.group === g) {
        if (!sameGeom(w.view, o)) return null;
      } else if (g.writes.has(o.buf)) return null;
      else loads.push(o);
    }
    return loads;
  };

  const canJoin = (g: Group, l: Elementwise): boolean => {
    if (!sameSizes(g.shape, l.out.shape) || g.nodes.length + 8 > MAX_NODES) return false;
    const loads = memoryLoads(g, l);
    if (!loads) return false;
    const out = l.out;
    if (g.reads.get(out.buf)?.some((v) => !sameGeom(v, out))) return false;
    if (g.writes.get(out.buf)?.some((v) => !sameGeom(v, out))) return false;
    const host = g.host;
    if (host) {
      // An epilogue reads the matmul's output only as its accumulator and writes nothing the matmul uses.
      if (host.reads.has(out.buf) || host.writes.has(out.buf)) return false;
      if (loads.some((v) => host.writes.has(v.buf) && !accView(host, v))) return false;
    }
    const all = new Set(g.bufs);
    for (const v of loads) all.add(v.buf);
    all.add(out.buf);
    // An epilogue binds its buffers but the accumulator's next to the matmul's three.
    if (host) all.delete((host.l as Extract<Launch, { kind: 'matmul' }>).out.buf);
    if (bound(all, g, loads) + (host ? 3 : 0) > opts.maxBuffers) return false;
    if (g.open) return true;
    // A sealed (or attached) group takes l where it stands when nothing after it conflicts.
    const self: Entry = host ?? g;
    return clearAfter(steps.indexOf(self), new Set(loads.map((v) => v.buf)), new Set([out.buf]), self);
  };

  /** Moves g into the matmul that produces `v` as its epilogue, when nothing in between conflicts. */
  const tryAttach = (g: Group, v: View) => {
    const host = barrierOf.get(v.buf);
    if (!host || host.l.kind !== 'matmul' || host.epi || lastWriter.get(v.buf)?.group !== null || !accView(host, v)) return;
    const out = host.l.out;
    if ([...g.writes.keys()].some((b) => host.reads.has(b) || host.writes.has(b))) return;
    if (g.reads.get(out.buf)?.some((r) => !accView(host, r))) return;
    const all = new Set(g.bufs);
    all.delete(out.buf);
    if (bound(all, g, []) + 3 > opts.maxBuffers) return;
    if (!clearAfter(steps.indexOf(host), new Set(g.reads.keys()), new Set(g.writes.keys()), g)) return;
    steps.splice(steps.indexOf(g), 1);
    host.epi = g;
    g.host = host;
    g.open = false;
  };

  /**
   * A reduction's prologue: the elementwise value it reduces, recomputed as it is read, when its
   * group's inputs share x's strides and offset and nothing since overwrote them.
   */
  const prologueOf = (x: View): FusedKernel | null => {
    const w = lastWriter.get(x.buf);
    const g = w?.group;
    if (!g || !w || !sameGeom(w.view, x) || g.nodes[w.node]!.op === 'const') return null;
    const k = kernelOf(g, [{ view: x, node: w.node }]);
    if (k.inputs.some((v) => v.offset !== x.offset || !sameSizes(v.strides, x.strides) || g.writes.has(v.buf))) return null;
    const self: Entry = g.host ?? g;
    if (!clearAfter(steps.indexOf(self), new Set(k.inputs.map((v) => v.buf)), new Set(), self)) return null;
    return k.inputs.length + 2 <= opts.maxBuffers ? k : null;
  };

  const addNode = (g: Group, n: KNode): number => g.nodes.push(n) - 1;
  const constNode = (g: Group, value: number, dtype: View['dtype']): number => {
    for (const k of g.consts) {
      const n = g.nodes[k] as Extract<KNode, { op: 'const' }>;
      if (n.dtype === dtype && Object.is(n.value, value)) return k;
    }
    const k = addNode(g, { op: 'const', value, dtype });
    g.consts.push(k);
    return k;
  };
  const operandNode = (g: Group, o: Operand, dtype: View['dtype']): number => {
    if (typeof o === 'number') return constNode(g, o, dtype);
    const c = constantFor(o);
    if (c) return constNode(g, c.value, c.dtype);
    const w = lastWriter.get(o.buf);
    if (w?.group === g) return w.node;
    let k = g.inputs.findIndex((v) => v.buf === o.buf && sameGeom(v, o));
    if (k < 0) {
      k = g.inputs.push(o) - 1;
      const list = g.reads.get(o.buf) ?? [];
      list.push(o);
      g.reads.set(o.buf, list);
      g.bufs.add(o.buf);
      memoryRead(o);
    }
    return addNode(g, { op: 'load', input: k, dtype: o.dtype });
  };

  /** The node computing l in g (simplified: x + 0 and same-dtype copies are their operand). */
  const launchNode = (g: Group, l: Elementwise): number => {
    switch (l.kind) {
      case 'fill':
        return constNode(g, l.value, l.out.dtype);
      case 'copy': {
        const x = operandNode(g, l.x, l.x.dtype);
        return g.nodes[x]!.dtype === l.out.dtype ? x : addNode(g, { op: 'copy', x, dtype: l.out.dtype });
      }
      case 'unary':
        return addNode(g, { op: 'unary', f: l.op, x: operandNode(g, l.x, l.compute), params: l.params, compute: l.compute, dtype: l.out.dtype });
      case 'binary': {
        const a = operandNode(g, l.a, l.compute), b = operandNode(g, l.b, l.compute);
        // NOTE: 0 + x is x except for x = -0 (0 + -0 = +0): accepted, so that a zeroed gradient
        // accumulating its first value is a plain write of that value.
        if (l.op === 'add') {
          const zero = (k: number) => { const n = g.nodes[k]!; return n.op === 'const' && n.value === 0; };
          const same = (k: number) => g.nodes[k]!.dtype === l.out.dtype && l.compute === l.out.dtype;
          if (zero(a) && same(b)) return b;
          if (zero(b) && same(a)) return a;
        }
        return addNode(g, { op: 'binary', f: l.op, a, b, compute: l.compute, dtype: l.out.dtype });
      }
      case 'where':
        return addNode(g, { op: 'where', c: operandNode(g, l.cond, 'bool'), a: operandNode(g, l.a, l.out.dtype), b: operandNode(g, l.b, l.out.dtype), dtype: l.out.dtype });
    }
  };

  recs.forEach((l, r) => {
    const acc = accesses(l);
    // An output that overlaps an input in another layout (t.copy_(t.t())) is fine: renderers
    // read such inputs from a copy first, and no other launch joins across it (canJoin).
    if (fusable(l)) {
      const cands: Group[] = [];
      for (const o of operands(l)) {
        const g = typeof o === 'number' ? null : lastWriter.get(o.buf)?.group;
        if (g && !cands.includes(g)) cands.push(g);
      }
      if (lastOpen && !cands.includes(lastOpen)) cands.push(lastOpen);
      let g = cands.reverse().find((c) => canJoin(c, l));
      if (!g) {
        g = { shape: l.out.shape, inputs: [], nodes: [], outputs: [], names: [], consts: [], recs: [], reads: new Map(), writes: new Map(), bufs: new Set(), open: true, host: null };
        openGroups.add(g);
        steps.push(g);
      }
      const loads = memoryLoads(g, l) ?? [];
      const node = launchNode(g, l);
      const store: Store = { group: g, node, view: l.out, needed: false, read: false };
      g.outputs.push(store);
      g.names.push(launchName(l));
      g.recs.push(r);
      const ws = g.writes.get(l.out.buf) ?? [];
      ws.push(l.out);
      g.writes.set(l.out.buf, ws);
      g.bufs.add(l.out.buf);
      noteWrite(l.out, store);
      const n = g.nodes[node]!;
      lastWriter.set(l.out.buf, { group: g, node, view: l.out, constant: n.op === 'const' ? { value: n.value, dtype: n.dtype } : null });
      seal(acc.reads, acc.writes, g);
      if (g.open) {
        steps.splice(steps.indexOf(g), 1);
        steps.push(g);
        for (const v of loads) if (!g.host) tryAttach(g, v);
      }
      lastOpen = g.open ? g : null;
      return;
    }
    const pro = l.kind === 'reduce' ? prologueOf(l.x) : null;
    for (const v of acc.reads) if (!pro || v !== (l as { x?: View }).x) memoryRead(v);
    pro?.inputs.forEach(memoryRead);
    // with a prologue, x is computed as it is read, not read from memory
    const reads = new Set(acc.reads.filter((v) => !pro || v !== (l as { x?: View }).x).map((v) => v.buf));
    pro?.inputs.forEach((v) => reads.add(v.buf));
    const e: LaunchEntry = { kind: 'launch', l, recs: [r], reads, writes: new Set(acc.writes.map((v) => v.buf)), epi: null, pro };
    for (const v of acc.writes) {
      noteWrite(v, null);
      lastWriter.set(v.buf, { group: null, node: -1, view: v, constant: null });
      barrierOf.set(v.buf, e);
    }
    seal(acc.reads, acc.writes, null);
    steps.push(e);
  });

  // What is still alive after the graph must hold its last values.
  for (const [buf, list] of pendingStores) if (!opts.dead(buf)) for (const s of list) s.needed = true;

  /**
   * Stores of g that only keep an alive buffer's value (nothing in the graph reads it) become a
   * recipe, run later if ever, when that is safe: nothing after g touches those buffers or
   * writes the recipe's inputs, and g does not write them itself (an in-place update is never
   * deferred: its input would be gone).
   */
  const recipe = (g: Group): FusedKernel | null => {
    if (g.host) return null;
    const pos = steps.indexOf(g);
    const lazy = g.outputs.filter((s) => s.needed && !s.read && clearAfter(pos, new Set(), new Set([s.view.buf]), g));
    if (lazy.length === 0) return null;
    const k = kernelOf(g, lazy);
    const ins = new Set(k.inputs.map((v) => v.buf));
    if ([...ins].some((b) => g.writes.has(b)) || !clearAfter(pos, ins, new Set(), g)) return null;
    for (const s of lazy) s.needed = false;
    return k;
  };

  const out: Step[] = [];
  for (const s of steps) {
    if (s.kind === 'launch') {
      const k = s.epi && finish(s.epi);
      if (s.pro) out.push({ kind: 'launch', l: s.l, recs: s.recs, prologue: s.pro });
      else if (!k) out.push({ kind: 'launch', l: s.l, recs: s.recs });
      else {
        const o = (s.l as Extract<Launch, { kind: 'matmul' }>).out;
        out.push({ kind: 'launch', l: s.l, recs: [...s.recs, ...s.epi!.recs], epilogue: { k, acc: k.inputs.findIndex((v) => v.buf === o.buf) } });
      }
    } else {
      const later = recipe(s);
      const k = finish(s);
      if (k) out.push({ kind: 'fused', k, recs: s.recs });
      if (later) out.push({ kind: 'fused', k: later, recs: k ? [] : s.recs, deferred: true });
    }
  }
  return out;
}

/** The kernel of a group: needed stores only, and only the nodes and inputs they use. */
function finish(g: Group): FusedKernel | null {
  const stores = g.outputs.filter((s) => s.needed);
  return stores.length === 0 ? null : kernelOf(g, stores);
}

/** The kernel computing `stores` (views and the nodes stored there) from g's nodes. */
function kernelOf(g: Group, stores: readonly { view: View; node: number }[]): FusedKernel {
  // plain outputs: a Store would keep its whole group alive in cached plans and recipes
  const outputs = stores.map((s) => ({ view: s.view, node: s.node }));
  return prune({ shape: g.shape, inputs: g.inputs, nodes: g.nodes, outputs, names: g.names });
}

/** Kernel k storing only `outputs` (some of its own): the other stores, and what only they used, go. */
export function pruned(k: FusedKernel, outputs: FusedKernel['outputs']): FusedKernel {
  return prune({ ...k, outputs });
}

/** k with only the nodes and inputs its outputs use, renumbered. */
function prune(k: FusedKernel): FusedKernel {
  const n = k.nodes.length;
  const used = new Uint8Array(n);
  for (const s of k.outputs) used[s.node] = 1;
  for (let j = n - 1; j >= 0; j--) {
    if (!used[j]) continue;
    const node = k.nodes[j]!;
    switch (node.op) {
      case 'load': case 'const': break;
      case 'unary': case 'copy': used[node.x] = 1; break;
      case 'binary': used[node.a] = used[node.b] = 1; break;
      case 'where': used[node.c] = used[node.a] = used[node.b] = 1; break;
    }
  }
  // new index of each kept node, and of each input (-1: not kept yet)
  const remap = new Int32Array(n);
  const inputMap = new Int32Array(k.inputs.length).fill(-1);
  const nodes: KNode[] = [];
  const inputs: View[] = [];
  const at = (j: number) => remap[j]!;
  for (let j = 0; j < n; j++) {
    if (!used[j]) continue;
    const node = k.nodes[j]!;
    let m: KNode;
    switch (node.op) {
      case 'load': {
        let i = inputMap[node.input]!;
        if (i < 0) inputMap[node.input] = i = inputs.push(k.inputs[node.input]!) - 1;
        m = i === node.input ? node : { ...node, input: i };
        break;
      }
      case 'const': m = node; break;
      case 'unary': case 'copy': m = at(node.x) === node.x ? node : { ...node, x: at(node.x) }; break;
      case 'binary': m = at(node.a) === node.a && at(node.b) === node.b ? node : { ...node, a: at(node.a), b: at(node.b) }; break;
      case 'where': m = at(node.c) === node.c && at(node.a) === node.a && at(node.b) === node.b ? node : { ...node, c: at(node.c), a: at(node.a), b: at(node.b) }; break;
    }
    remap[j] = nodes.push(m) - 1;
  }
  const outputs = k.outputs.map((s) => (at(s.node) === s.node ? s : { view: s.view, node: at(s.node) }));
  return { shape: k.shape, inputs, nodes, outputs, names: k.names };
}
