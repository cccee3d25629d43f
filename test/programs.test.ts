/**
 * Differential test: random programs (test/fixtures/programs.json, written by
 * scripts/fixtures/programs.py from PyTorch 1.13) replayed step by step with wgtorch's API on every
 * device. Each step's value, dtype, shape, requiresGrad, isLeaf, grad_fn name, gradients and errors
 * (class and text) must match PyTorch's. A program stops at its first disagreement (the state
 * diverges after it); the test fails with one line per disagreeing program.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';
import { describeDevices } from './devices.js';
import { fixtureDType, fixtureNumber, fromFixture, type FixtureTensor } from './fixture-ops.js';
import { loadFixture } from './helpers.js';

type Arg = number | boolean | null | { var: number } | { dtype: string } | Arg[];
interface Step {
  kind: 'input' | 'fn' | 'method';
  out: number | null;
  /** Set for a call returning several tensors (split, sort's {values, indices}): one var each. */
  outs?: number[];
  self?: number;
  name?: string;
  args?: Arg[];
  kwargs?: Record<string, Arg | string>;
  value?: FixtureTensor;
  requires_grad?: boolean;
}
interface Desc {
  value: FixtureTensor;
  requires_grad: boolean;
  is_leaf: boolean;
  grad_fn: string | null;
}
interface Result {
  /** A tensor's description, { py } for a call that returns no tensor, null for backward. */
  ok?: Desc | { py: unknown } | { tensors: (FixtureTensor | null)[] } | { outs: Desc[] } | null;
  grads?: Record<string, FixtureTensor | null>;
  error?: { type: string; message: string };
}
interface Program {
  id: number;
  cpu_only: boolean;
  steps: Step[];
  results: Result[];
  final: (Desc & { var: number; grad?: FixtureTensor | null })[];
}

const programs = loadFixture<Program[]>('programs.json');

/**
 * PyTorch error texts wgtorch words differently on purpose: [PyTorch's text starts with, ours
 * starts with, why]. Everything else must match exactly.
 */
const MESSAGE_DIFFERS: [string, string, string][] = [];

/**
 * grad_fn names that depend on how PyTorch 1.13 decomposes an op internally, not on what the op
 * means: PyTorch's name → the name wgtorch records, and why that is fine.
 */
const GRAD_FN_ALIASES: Record<string, [string, string]> = {
  // reshape of a viewable tensor is _reshape_alias in 1.13 and a plain view since 2.0 (same graph).
  ReshapeAliasBackward0: ['ViewBackward0', 'PyTorch 1.13 routes reshape through _reshape_alias; PyTorch 2 records ViewBackward0'],
};


/** Thrown by the replay to stop a program at its first disagreement. */
class Disagreement extends Error {}

const fmt = (a: readonly unknown[]): string => `[${a.join(', ')}]`;
const stepText = (s: Step): string =>
  s.kind === 'input'
    ? `v${s.out} = input(${fmt(s.value!.shape)} ${s.value!.dtype}${s.requires_grad ? ', requiresGrad' : ''})`
    : `${s.outs ? `[${s.outs.map((o) => `v${o}`).join(', ')}] = ` : s.out !== null ? `v${s.out} = ` : ''}${s.kind === 'fn' ? 'torch' : `v${s.self}`}.${s.name}(${[
        ...(s.args ?? []).map((a) => JSON.stringify(a)),
        ...(s.kwargs ? [JSON.stringify(s.kwargs)] : []),
      ].join(', ')})`;

function close(got: number, want: number, float: boolean): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want) || !float) return got === want;
  return Math.abs(got - want) <= 1e-5 + 1e-4 * Math.abs(want);
}

/** Compares a tensor with PyTorch's; returns what differs, or ''. */
async function diffTensor(what: string, t: Tensor, want: FixtureTensor): Promise<string> {
  const dtype = fixtureDType(want);
  if (t.dtype !== dtype) return `${what}: dtype ${t.dtype}, want ${dtype}`;
  if (fmt(t.shape) !== fmt(want.shape)) return `${what}: shape ${fmt(t.shape)}, want ${fmt(want.shape)}`;
  const got = Array.from(await t.data());
  const float = dtype === 'float32' || dtype === 'float64';
  for (let k = 0; k < got.length; k++) {
    const w = fixtureNumber(want.data[k]!);
    if (!close(got[k]!, w, float)) return `${what}: element ${k} is ${got[k]}, want ${w}`;
  }
  return '';
}

async function diffDesc(what: string, t: Tensor | undefined, d: Desc): Promise<string> {
  if (!t) return `${what}: undefined`;
  const v = await diffTensor(what, t, d.value);
  if (v) return v;
  if (t.requiresGrad !== d.requires_grad) return `${what}: requiresGrad ${t.requiresGrad}, want ${d.requires_grad}`;
  if (t.isLeaf !== d.is_leaf) return `${what}: isLeaf ${t.isLeaf}, want ${d.is_leaf}`;
  const fn = t.gradFn?.name ?? null;
  const sameName =
    fn === d.grad_fn ||
    (d.grad_fn !== null && (GRAD_FN_ALIASES[d.grad_fn]?.[0] === fn));
  if (!sameName) return `${what}: gradFn ${fn}, want ${d.grad_fn}`;
  return '';
}

async function diffGrad(what: string, t: Tensor, want: FixtureTensor | null): Promise<string> {
  if (want === null) return t.grad ? `${what}.grad is set, want null` : '';
  if (!t.grad) return `${what}.grad is null, want ${fmt(want.shape)}`;
  return diffTensor(`${what}.grad`, t.grad, want);
}

/**
 * Error class and text against PyTorch's; '' when they agree. The fixtures come from PyTorch's CPU,
 * whose kernel names end in _cpu ("abs_cpu" not implemented for 'Bool'); on WebGPU ours end in
 * _webgpu, as PyTorch's CUDA kernels end in _cuda.
 */
function diffError(e: unknown, wanted: { type: string; message: string }, device: string): string {
  const want = device === 'webgpu' ? { ...wanted, message: wanted.message.replace(/"(\w+)_cpu"/g, '"$1_webgpu"') } : wanted;
  if (!(e instanceof torch.TorchError)) {
    return `raised a non-torch ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? String(e)}; want ${want.type}: ${want.message}`;
  }
  const got = `${e.constructor.name}: ${e.message}`;
  if (e.constructor.name !== want.type) return `raised ${got}; want ${want.type}: ${want.message}`;
  if (e.message === want.message) return '';
  for (const [theirs, ours] of MESSAGE_DIFFERS) {
    if (want.message.startsWith(theirs) && e.message.startsWith(ours)) return '';
  }
  return `raised ${got}; want ${want.type}: ${want.message}`;
}

function call(step: Step, vars: (Tensor | undefined)[], device: Device): unknown {
  const arg = (a: Arg | string): unknown => {
    if (Array.isArray(a)) return a.map(arg);
    if (a !== null && typeof a === 'object' && 'dtype' in a) return fixtureDType(a as FixtureTensor);
    if (a !== null && typeof a === 'object') {
      const t = vars[a.var];
      if (!t) throw new Disagreement(`uses v${a.var}, which is undefined`);
      return t;
    }
    return a;
  };
  const args = (step.args ?? []).map(arg);
  let kw: Record<string, unknown> | undefined;
  if (step.kwargs) {
    kw = {};
    for (const [k, v] of Object.entries(step.kwargs)) kw[k] = k === 'dtype' ? fixtureDType({ dtype: v } as FixtureTensor) : arg(v);
  }
  if (step.kind === 'fn') {
    if (['zeros', 'ones', 'full', 'linspace'].includes(step.name!)) kw = { ...kw, device };
    // A dotted name (autograd.backward) is a function of a torch namespace.
    const path = step.name!.split('.');
    let owner: Record<string, unknown> = torch as unknown as Record<string, unknown>;
    for (const part of path.slice(0, -1)) owner = owner[part] as Record<string, unknown>;
    const f = owner[path[path.length - 1]!] as (...a: unknown[]) => unknown;
    return f.call(owner, ...args, ...(kw ? [kw] : []));
  }
  const self = vars[step.self!];
  if (!self) throw new Disagreement(`uses v${step.self}, which is undefined`);
  const m = (self as unknown as Record<string, (...a: unknown[]) => unknown>)[step.name!];
  if (typeof m !== 'function') throw new Disagreement(`Tensor has no method ${step.name}`);
  return m.call(self, ...args, ...(kw ? [kw] : []));
}

/** Replays one program; returns its first disagreement, or '' when every step agrees. */
async function replay(p: Program, device: Device): Promise<string> {
  const vars: (Tensor | undefined)[] = [];
  for (const [k, step] of p.steps.entries()) {
    const want = p.results[k]!;
    const where = `step ${k} \`${stepText(step)}\``;
    try {
      if (step.kind === 'input') {
        vars[step.out!] = fromFixture(torch, step.value!, device, step.requires_grad);
        continue;
      }
      let r: unknown;
      try {
        r = call(step, vars, device);
        // t.cpu() is async in wgtorch (a WebGPU read); its result is the tensor.
        if (r instanceof Promise) r = await r;
      } catch (e) {
        if (e instanceof Disagreement) throw e;
        if (!want.error) {
          const kind = e instanceof torch.TorchError ? '' : 'a non-torch ';
          throw new Disagreement(`raised ${kind}${(e as Error).constructor.name}: ${(e as Error).message}; PyTorch gives a result`);
        }
        const d = diffError(e, want.error, device);
        if (d) throw new Disagreement(d);
        continue;
      }
      if (want.error) throw new Disagreement(`gave a result; PyTorch raised ${want.error.type}: ${want.error.message}`);
      if (step.outs) {
        // An array (split, chunk, unbind) or {values, indices} (sort, topk, max(dim)), in PyTorch's order.
        const got = Array.isArray(r) ? (r as Tensor[]) : [(r as { values: Tensor }).values, (r as { indices: Tensor }).indices];
        const wantOuts = (want.ok as { outs: Desc[] }).outs;
        if (got.length !== wantOuts.length) throw new Disagreement(`gave ${got.length} tensors, want ${wantOuts.length}`);
        for (const [k, o] of step.outs.entries()) vars[o] = got[k];
        for (const [k, d] of wantOuts.entries()) {
          const e = await diffDesc(`result ${k}`, got[k], d);
          if (e) throw new Disagreement(e);
        }
        continue;
      }
      if (step.out !== null) vars[step.out] = r as Tensor;
      if (want.ok && 'py' in want.ok) {
        if (JSON.stringify(r) !== JSON.stringify(want.ok.py)) throw new Disagreement(`gave ${JSON.stringify(r)}, want ${JSON.stringify(want.ok.py)}`);
        continue;
      }
      if (want.ok && 'tensors' in want.ok) {
        const got = r as (Tensor | null)[];
        if (got.length !== want.ok.tensors.length) throw new Disagreement(`gave ${got.length} gradients, want ${want.ok.tensors.length}`);
        for (const [k, g] of want.ok.tensors.entries()) {
          const t = got[k] ?? null;
          const d = g === null ? (t ? `gradient ${k} is set, want null` : '') : t ? await diffTensor(`gradient ${k}`, t, g) : `gradient ${k} is null`;
          if (d) throw new Disagreement(d);
        }
        continue;
      }
      if (want.grads) {
        for (const [i, g] of Object.entries(want.grads)) {
          const d = await diffGrad(`v${i}`, vars[+i]!, g);
          if (d) throw new Disagreement(d);
        }
      } else {
        const d = await diffDesc('result', step.out !== null ? vars[step.out] : vars[step.self!], want.ok as Desc);
        if (d) throw new Disagreement(d);
      }
    } catch (e) {
      return `${where}: ${e instanceof Disagreement ? e.message : `replay failed: ${(e as Error).constructor.name}: ${(e as Error).message}`}`;
    }
  }
  for (const f of p.final) {
    const t = vars[f.var];
    let d = await diffDesc(`final v${f.var}`, t, f);
    if (!d && f.grad !== undefined) d = await diffGrad(`final v${f.var}`, t!, f.grad);
    if (d) return d;
  }
  return '';
}

describeDevices('random programs agree with PyTorch on %s', (device) => {
  it('every step: values, dtypes, shapes, autograd state, gradients and errors', async () => {
    const run = programs.filter((p) => device === 'cpu' || !p.cpu_only);
    expect(run.length).toBeGreaterThan(300);
    const lines: string[] = [];
    for (const p of run) {
      let d: string;
      try {
        d = await replay(p, device);
      } catch (e) {
        d = `replay failed: ${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
      if (d) lines.push(`program ${p.id}: ${d}`);
    }
    console.log(`programs on ${device}: ${run.length - lines.length} of ${run.length} agree with PyTorch`);
    expect(lines, `\n${lines.join('\n')}\n`).toEqual([]);
  }, 120_000);
});
