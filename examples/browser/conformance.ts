/**
 * The ops.json conformance checks of test/conformance.test.ts, run inside the page on the page's
 * device: each case's forward value, and the gradients of (out * upstream).sum() where the fixture
 * has them, against real PyTorch. Results go to window.__conformance for test/browser.test.ts.
 *
 * Query: ?device=cpu forces the CPU. The op-name → call table is test/fixture-ops.ts, the one
 * test/conformance.test.ts uses.
 */
import * as torch from 'wgtorch';
import type { Tensor } from 'wgtorch';
import cases from '../../test/fixtures/ops.json';
import { caseLabel, fixtureNumber, fixtureOps, fromFixture as fromFixtureWith, type FixtureTensor, type OpCase } from '../../test/fixture-ops.js';
import { errorText, pickDevice, tick } from './device.js';
import type { CaseResult, ConformanceState } from './state.js';

const OPS = fixtureOps(torch);
const num = fixtureNumber;
const fromFixture = (f: FixtureTensor, device: torch.Device, requiresGrad = false): Tensor => fromFixtureWith(torch, f, device, requiresGrad);

/** As test/helpers.ts's expectClose: |a - b| <= atol + rtol |b|, NaN matches NaN. Returns the failure or ''. */
async function close(what: string, t: Tensor, want: FixtureTensor, rtol = 1e-4, atol = 1e-5): Promise<string> {
  if (t.shape.join(',') !== want.shape.join(',')) return `${what}: shape [${t.shape}] != [${want.shape}]`;
  const got = Array.from(await t.data(), Number);
  const w = want.data.map(num);
  if (got.length !== w.length) return `${what}: ${got.length} values, want ${w.length}`;
  for (let i = 0; i < w.length; i++) {
    const g = got[i]!, e = w[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(g) : !Number.isFinite(e) ? g === e : Math.abs(g - e) <= atol + rtol * Math.abs(e);
    if (!ok) return `${what} element ${i}: got ${g}, want ${e} (shape [${want.shape.join(', ')}])`;
  }
  return '';
}

const label = caseLabel;

async function runCase(c: OpCase, i: number, device: torch.Device): Promise<CaseResult> {
  const r: CaseResult = { index: i, label: label(c, i), ok: false, message: '', grads: !!(c.grads && c.upstream), ms: 0 };
  const t0 = performance.now();
  try {
    const f = OPS[c.op];
    if (!f) throw new Error(`no mapping for fixture op ${c.op}`);
    const problems: string[] = [];
    problems.push(await close('forward', f(c.inputs.map((t) => fromFixture(t, device)), c.kwargs), c.out));
    if (c.grads && c.upstream) {
      const inputs = c.inputs.map((t) => fromFixture(t, device, t.dtype === 'float32'));
      f(inputs, c.kwargs).mul(fromFixture(c.upstream, device)).sum().backward();
      const floats = inputs.filter((t) => t.dtype === 'float32');
      if (floats.length !== c.grads.length) problems.push(`${floats.length} float inputs, ${c.grads.length} fixture grads`);
      for (const [k, g] of c.grads.entries()) {
        const grad = floats[k]?.grad;
        if (g === null) problems.push(grad ? `grad of input ${k} should be null` : '');
        else problems.push(grad ? await close(`grad of input ${k}`, grad, g, 1e-4, 1e-5) : `grad of input ${k} is null`);
      }
    }
    r.message = problems.filter(Boolean).join('; ');
    r.ok = r.message === '';
  } catch (e) {
    r.message = errorText(e);
  }
  r.ms = performance.now() - t0;
  return r;
}

async function main(state: ConformanceState): Promise<void> {
  const params = new URLSearchParams(location.search);
  const picked = await pickDevice(params);
  Object.assign(state, { device: picked.device, adapter: picked.adapter, fallbackReason: picked.fallbackReason });
  document.querySelector('#device')!.textContent =
    picked.device === 'webgpu' ? `webgpu: ${picked.adapter}` : `cpu (fallback: ${picked.fallbackReason})`;
  const body = document.querySelector('#cases tbody')!;
  const summary = document.querySelector('#summary')!;
  const t0 = performance.now();
  for (const [i, c] of (cases as unknown as OpCase[]).entries()) {
    const r = await runCase(c, i, picked.device);
    state.results.push(r);
    const tr = document.createElement('tr');
    tr.innerHTML = `<td class="${r.ok ? 'ok' : 'fail'}">${r.ok ? 'pass' : 'FAIL'}</td><td></td><td></td><td class="ms">${r.ms.toFixed(0)} ms</td>`;
    tr.children[1]!.textContent = r.label + (r.grads ? ' +grad' : '');
    tr.children[2]!.textContent = r.message;
    body.append(tr);
    const failed = state.results.filter((x) => !x.ok).length;
    summary.textContent = `${state.results.length}/${state.total} cases, ${failed} failed`;
    if (i % 8 === 7) await tick();
  }
  state.ms = performance.now() - t0;
  summary.textContent += ` · ${(state.ms / 1000).toFixed(1)} s on ${picked.device}`;
}

const state: ConformanceState = {
  device: null, adapter: null, fallbackReason: null, total: (cases as unknown as OpCase[]).length, results: [], ms: null, done: false, error: null,
};
window.__conformance = state;
window.torch = torch;
main(state)
  .catch((e: unknown) => {
    state.error = errorText(e);
    const box = document.querySelector<HTMLElement>('#error')!;
    box.hidden = false;
    box.textContent = state.error;
  })
  .finally(() => { state.done = true; });
