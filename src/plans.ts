/**
 * The plan cache: a graph whose structure was seen before replays its cached schedule instead of
 * being scheduled again, and each step keeps a cache slot the backend fills on first use (WebGPU:
 * the dispatches the step's first encode made — pipelines, parameter words, which of the step's
 * buffers each binding is; wasm: the compiled kernel), so a repeated training step costs little
 * more than encoding its dispatches.
 *
 * The key is the graph's structure, with buffers numbered by first use (tinygrad's trick for
 * schedule-cache keys): per launch its kind, op, dtypes, shapes, strides, offsets, the scalars of
 * elementwise launches (they are baked into fused kernels), and which buffers are dead at the end.
 * A plan is rebuilt when any of these differ — another shape, a view with other strides, another
 * pattern of buffer reuse, a tensor released (or kept) where it was kept (or released), another
 * scalar or fill value (WebGPU's replay of recorded dispatches relies on these being in the key).
 * Numbers of barrier launches (a random seed, a gather's dim) are not part of the key: replay takes
 * them from the new launches. Buffers are never part of a plan: replay binds the new
 * launches' buffers, so outputs of one replay never share memory with another's.
 */
import type { BufferHandle, Launch, View } from './backend.js';
import type { FusedKernel } from './kernel.js';
import type { Step } from './schedule.js';
import type { DType } from './dtype.js';

/** Where a view sits in the recorded launches: launch index, field, array index (-1: none). */
type Ref = readonly [number, string, number];

interface Template {
  k: FusedKernel;
  inputs: Ref[];
  outputs: Ref[];
}

type TemplateStep =
  | { kind: 'fused'; t: Template; recs: number[]; deferred: boolean; slot: object }
  | { kind: 'launch'; rec: number; recs: number[]; epi: { t: Template; acc: number } | null; pro: Template | null; slot: object };

interface Plan {
  device: string;
  key: number[];
  steps: TemplateStep[];
  memo: PlanMemo;
  /** The plan's cache slot for the backend (as each step has one). */
  slot: object;
}

/** What the executor derives from a plan's steps alone, kept with the plan (a new object for a plan not kept). */
export interface PlanMemo {
  /** The steps that may move to the next graph (executor.ts trailing()), for a limit of `trailingLimit` launches. */
  trailing?: readonly number[];
  trailingLimit?: number;
}

/** Plans kept (least recently used dropped first). */
const MAX_PLANS = 128;
/** Plans by key hash (equal hashes are told apart by their keys), least recently used first. */
const cache = new Map<number, Plan[]>();
let cached = 0;

/** How many graphs were scheduled (plan built) and replayed from a cached plan. */
export const planStats = { built: 0, replayed: 0 };

const isView = (v: unknown): v is View => typeof v === 'object' && v !== null && 'buf' in v && 'strides' in v;
const fusable = (k: Launch['kind']) => k === 'unary' || k === 'binary' || k === 'where' || k === 'copy' || k === 'fill';

/** Interned strings of keys (kinds, fields, ops, dtypes): a key holds numbers only. */
const names = new Map<string, number>();
const nameId = (x: string): number => {
  let i = names.get(x);
  if (i === undefined) names.set(x, (i = names.size));
  return i;
};

/**
 * Value tags: every value of a key starts with one, so a key reads back one way only (two graphs
 * have equal keys exactly when their structures are equal).
 */
const VIEW = -1, ARRAY = -2, NUMBER = -3, NAME = -4, SKIPPED = -5, LAUNCH = -6;
/** Kind ids of the kinds keyLaunch() encodes without walking their fields. */
const BINARY = nameId('binary'), UNARY = nameId('unary');
/** Dtypes in keys (in their fixed places: a table, not the names map). */
const DTYPE_ID: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** A plan key being built: its tokens (numbers only) and how many of them are used. */
export interface KeyTokens {
  toks: number[];
  n: number;
}
export const newKey = (): KeyTokens => ({ toks: [], n: 0 });

const DEAD = -7;

function push(key: KeyTokens, x: number): void {
  key.toks[key.n++] = x;
}

function view(key: KeyTokens, v: View, id: (b: BufferHandle) => number): void {
  const t = key.toks;
  let n = key.n;
  t[n++] = VIEW;
  t[n++] = id(v.buf);
  t[n++] = DTYPE_ID[v.dtype];
  const shape = v.shape, strides = v.strides, d = shape.length;
  t[n++] = d;
  for (let i = 0; i < d; i++) t[n++] = shape[i]!;
  for (let i = 0; i < d; i++) t[n++] = strides[i]!;
  t[n++] = v.offset;
  key.n = n;
}

function operand(key: KeyTokens, v: View | number, id: (b: BufferHandle) => number): void {
  if (typeof v === 'number') {
    push(key, NUMBER);
    push(key, v);
  } else view(key, v, id);
}

function value(key: KeyTokens, v: unknown, numbers: boolean, id: (b: BufferHandle) => number): void {
  if (isView(v)) view(key, v, id);
  else if (typeof v === 'number') {
    if (numbers) {
      push(key, NUMBER);
      push(key, v);
    } else push(key, SKIPPED);
  } else if (Array.isArray(v)) {
    push(key, ARRAY);
    push(key, v.length);
    for (const x of v) value(key, x, true, id);
  } else {
    push(key, NAME);
    push(key, nameId(String(v)));
  }
}

/** The start of an elementwise launch of the fixed-order encodings: kind, op and compute dtype. */
function head(key: KeyTokens, kind: number, op: string, compute: DType): void {
  push(key, LAUNCH);
  push(key, kind);
  push(key, nameId(op));
  push(key, DTYPE_ID[compute]);
}

/**
 * Extends a graph's structural key (see the file comment) with one recorded launch, as numbers: no
 * strings are built per launch. `id` numbers buffers by first use in the graph (the executor
 * numbers them as launches are recorded). Which buffers are dead is added when the graph is
 * realized (planFor).
 */
export function keyLaunch(key: KeyTokens, l: Launch, id: (b: BufferHandle) => number): void {
  // the commonest kinds in a fixed order, without walking their fields (a kind is encoded one
  // way only, so keys stay equal exactly when structures are)
  if (l.kind === 'binary') {
    head(key, BINARY, l.op, l.compute);
    operand(key, l.a, id);
    operand(key, l.b, id);
    view(key, l.out, id);
    return;
  }
  if (l.kind === 'unary') {
    head(key, UNARY, l.op, l.compute);
    view(key, l.x, id);
    view(key, l.out, id);
    push(key, l.params.length);
    for (const x of l.params) push(key, x);
    return;
  }
  const fus = fusable(l.kind);
  push(key, LAUNCH);
  push(key, nameId(l.kind));
  for (const f in l) {
    if (f === 'kind') continue;
    push(key, nameId(f));
    value(key, (l as unknown as Record<string, unknown>)[f], fus, id);
  }
}

/** A hash of the key being built (FNV-1a; small integers as they are, other numbers by their float64 bytes). */
const hashWords = new Float64Array(1);
const hashBytes = new Uint32Array(hashWords.buffer);
function hashOf(device: string, key: KeyTokens): number {
  const toks = key.toks, ntok = key.n;
  let h = 0x811c9dc5 ^ nameId(device);
  for (let i = 0; i < ntok; i++) {
    const x = toks[i]!;
    if ((x | 0) === x && !Object.is(x, -0)) h = Math.imul(h ^ x, 0x01000193);
    else {
      hashWords[0] = x;
      h = Math.imul(h ^ hashBytes[0]!, 0x01000193);
      h = Math.imul(h ^ hashBytes[1]!, 0x01000193);
    }
  }
  return h >>> 0;
}

/** Whether a stored key equals the key being built (Object.is: NaN equals NaN, -0 is not 0). */
function sameKey(key: readonly number[], built: KeyTokens): boolean {
  const toks = built.toks, ntok = built.n;
  if (key.length !== ntok) return false;
  for (let i = 0; i < ntok; i++) if (!Object.is(key[i], toks[i])) return false;
  return true;
}

/** Refs of every view of the recorded launches, by view object. */
function refsOf(recs: readonly Launch[]): Map<View, Ref> {
  const m = new Map<View, Ref>();
  recs.forEach((l, r) => {
    for (const [f, v] of Object.entries(l)) {
      if (isView(v)) m.set(v, [r, f, -1]);
      else if (Array.isArray(v)) v.forEach((x, i) => isView(x) && m.set(x, [r, f, i]));
    }
  });
  return m;
}

function template(k: FusedKernel, refs: Map<View, Ref>): Template | null {
  const inputs = k.inputs.map((v) => refs.get(v));
  const outputs = k.outputs.map((o) => refs.get(o.view));
  if (inputs.some((r) => !r) || outputs.some((r) => !r)) return null;
  return { k, inputs: inputs as Ref[], outputs: outputs as Ref[] };
}

function instantiate(t: Template, recs: readonly Launch[]): FusedKernel {
  const get = ([r, f, i]: Ref): View => {
    const v = (recs[r] as unknown as Record<string, unknown>)[f];
    return (i < 0 ? v : (v as unknown[])[i]) as View;
  };
  return { ...t.k, inputs: t.inputs.map(get), outputs: t.k.outputs.map((o, j) => ({ view: get(t.outputs[j]!), node: o.node })) };
}

/**
 * The steps of a graph: from its cached plan when its structure was seen before, else from
 * `build()` (the scheduler), cached for next time. `slots[i]` is step i's cache slot for the backend,
 * `slot` the whole plan's (both the same objects at every replay; new ones for a plan not kept).
 */
export function planFor(
  device: string, recs: readonly Launch[], key: KeyTokens, deadIds: number[], build: () => Step[],
): { steps: Step[]; slots: object[]; memo: PlanMemo; slot: object } {
  // the key of the launches, then which of their buffers (by number) are dead
  push(key, DEAD);
  push(key, deadIds.length);
  deadIds.sort((a, b) => a - b);
  for (const i of deadIds) push(key, i);
  const hash = hashOf(device, key);
  const bucket = cache.get(hash);
  const plan = bucket?.find((p) => p.device === device && sameKey(p.key, key));
  if (plan) {
    cache.delete(hash);
    cache.set(hash, bucket!);
    planStats.replayed++;
    const steps: Step[] = plan.steps.map((s) =>
      s.kind === 'fused'
        ? { kind: 'fused', k: instantiate(s.t, recs), recs: s.recs, deferred: s.deferred }
        : {
            kind: 'launch', l: recs[s.rec]!, recs: s.recs,
            ...(s.epi ? { epilogue: { k: instantiate(s.epi.t, recs), acc: s.epi.acc } } : {}),
            ...(s.pro ? { prologue: instantiate(s.pro, recs) } : {}),
          },
    );
    return { steps, slots: plan.steps.map((s) => s.slot), memo: plan.memo, slot: plan.slot };
  }
  planStats.built++;
  const steps = build();
  const refs = refsOf(recs);
  const tsteps: TemplateStep[] = [];
  for (const s of steps) {
    if (s.kind === 'fused') {
      const t = template(s.k, refs);
      if (!t) return { steps, slots: steps.map(() => ({})), memo: {}, slot: {} };
      tsteps.push({ kind: 'fused', t, recs: s.recs, deferred: s.deferred ?? false, slot: {} });
    } else {
      const t = s.epilogue ? template(s.epilogue.k, refs) : null;
      const pro = s.prologue ? template(s.prologue, refs) : null;
      if ((s.epilogue && !t) || (s.prologue && !pro)) return { steps, slots: steps.map(() => ({})), memo: {}, slot: {} };
      tsteps.push({ kind: 'launch', rec: recs.indexOf(s.l), recs: s.recs, epi: t && s.epilogue ? { t, acc: s.epilogue.acc } : null, pro, slot: {} });
    }
  }
  const list = cache.get(hash) ?? [];
  const memo: PlanMemo = {};
  const slot = {};
  list.push({ device, key: key.toks.slice(0, key.n), steps: tsteps, memo, slot });
  cache.delete(hash);
  cache.set(hash, list);
  if (++cached > MAX_PLANS) {
    const [h, oldest] = cache.entries().next().value!;
    cached -= oldest.length;
    cache.delete(h);
  }
  return { steps, slots: tsteps.map((s) => s.slot), memo, slot };
}

/** Forgets every plan (a device was replaced: cached pipelines belong to the old one). */
export function clearPlans(): void {
  cache.clear();
  cached = 0;
}
