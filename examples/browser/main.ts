/**
 * The browser demo: the device in use, the seed's tensor section as PyTorch prints it, the seed's
 * two-layer net trained with a live loss curve and, beside it at the same time, examples/classifier.ts's
 * iris MLP (torch.nn, CrossEntropyLoss, Adam) with its loss and train/test accuracy per epoch, then
 * a cpu-vs-webgpu comparison.
 *
 * Query: ?steps=500 (training steps), ?epochs=30 (classifier epochs), ?device=cpu, ?nogpu=1 (hide
 * navigator.gpu), ?compare=1 (run the comparison after training), ?compareSteps=100,
 * ?sizes=128,256,512 (matmul sizes).
 * State for tests: window.__wgtorch (see state.ts).
 */
import * as torch from 'wgtorch';
import { tensorBasics } from '../tensor-basics.js';
import { trainClassifier } from '../classifier.js';
import { trainTwoLayerNet } from '../two-layer-net.js';
import { drawClassifierChart, drawLossCurve, renderBars } from './charts.js';
import { errorText, pickDevice, tick } from './device.js';
import type { CompareRow, DemoState } from './state.js';

const params = new URLSearchParams(location.search);
const intParam = (k: string, d: number) => {
  const v = Number(params.get(k));
  return Number.isInteger(v) && v > 0 ? v : d;
};
const $ = <T extends Element = HTMLElement>(sel: string) => document.querySelector(sel) as T;

const state: DemoState = {
  device: null, adapter: null, fallbackReason: null, tensorText: null, steps: intParam('steps', 500),
  losses: [], iterationLines: [], trainMs: null, curveDraws: 0, heartbeats: 0,
  classifier: { epochs: intParam('epochs', 30), history: [], lines: [], ms: null, chartDraws: 0, heartbeats: 0, done: false },
  compare: null, done: false, error: null,
};
window.__wgtorch = state;
// For poking at from the devtools console: torch.randn(3, 3, {device: 'webgpu'}).format().then(console.log)
window.torch = torch;

function showError(e: unknown): void {
  const text = errorText(e);
  state.error ??= text;
  const box = $('#error');
  box.hidden = false;
  box.textContent += (box.textContent ? '\n\n' : '') + text;
}
window.addEventListener('error', (ev) => showError(ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => showError(ev.reason));

const setStatus = (sel: string, text: string) => { $(sel).textContent = text; };
const fmtLoss = (v: number) => (v >= 1e5 || v < 1e-2 ? v.toExponential(3) : v.toFixed(3));

let device: torch.Device = 'cpu';

async function showDevice(): Promise<void> {
  const picked = await pickDevice(params);
  device = picked.device;
  Object.assign(state, { device, adapter: picked.adapter, fallbackReason: picked.fallbackReason });
  const badge = $('#device');
  badge.className = `badge ${device}`;
  badge.textContent = device;
  $('#device-detail').textContent = device === 'webgpu' ? `WebGPU adapter: ${picked.adapter}` : `CPU fallback: ${picked.fallbackReason}`;
  $('#device-hint').hidden = device === 'webgpu';
}

function runTensorSection(): void {
  const lines: string[] = [];
  tensorBasics((l) => lines.push(l));
  state.tensorText = lines.join('\n') + '\n';
  $('#tensor-out').textContent = state.tensorText;
}

/** Counts a 50 ms timer's runs until the returned function is called: it runs only while the page yields. */
function heartbeat(beat: () => void): () => void {
  const id = setInterval(beat, 50);
  return () => clearInterval(id);
}

async function train(): Promise<void> {
  const canvas = $<HTMLCanvasElement>('#loss');
  const log = $('#train-log');
  state.losses = [];
  state.iterationLines = [];
  // The seed prints its "Iteration: …" line every 100 steps.
  log.textContent = state.steps < 100 ? `(the seed prints a line every 100 steps; this run has ${state.steps})` : '';
  log.classList.toggle('muted', state.steps < 100);
  let lastDraw = 0;
  const t0 = performance.now();
  // A heartbeat: it beats only while training yields to the event loop.
  const stopHeartbeat = heartbeat(() => { state.heartbeats++; });
  try {
    await trainTwoLayerNet({
      device,
      seed: 0,
      steps: state.steps,
      print: (line) => {
        state.iterationLines.push(line);
        log.textContent += line + '\n';
      },
      onStep: async (t, loss) => {
        // One read per step for the live curve; on WebGPU it also submits the step's launches.
        state.losses.push(await loss.item());
        const now = performance.now();
        if (now - lastDraw > 50 || t === state.steps) {
          lastDraw = now;
          drawLossCurve(canvas, state.losses, state.steps);
          state.curveDraws++;
          const v = state.losses[state.losses.length - 1]!;
          setStatus('#train-status', `step ${t}/${state.steps} · loss ${fmtLoss(v)} · ${((now - t0) / t).toFixed(0)} ms/step on ${device}`);
        }
        await tick(); // stay responsive: let the page paint and handle input between steps
      },
    });
  } catch (e) {
    setStatus('#train-status', `stopped at step ${state.losses.length} by an error (see above)`);
    throw e;
  } finally {
    stopHeartbeat();
  }
  state.trainMs = performance.now() - t0;
  drawLossCurve(canvas, state.losses, state.steps);
  const first = state.losses[0]!, last = state.losses[state.losses.length - 1]!;
  setStatus('#train-status', `${state.steps} steps on ${device} in ${(state.trainMs / 1000).toFixed(1)} s · loss ${fmtLoss(first)} → ${fmtLoss(last)}`);
}

/** examples/classifier.ts's training, drawn after every epoch (the data is bundled with the page). */
async function trainIris(): Promise<void> {
  const c = state.classifier;
  const canvas = $<HTMLCanvasElement>('#iris-chart');
  const rows = $<HTMLTableSectionElement>('#iris-log tbody');
  const scroller = $('#iris-log');
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  drawClassifierChart(canvas, c.history, c.epochs);
  const t0 = performance.now();
  const stop = heartbeat(() => { c.heartbeats++; });
  try {
    await trainClassifier({
      device,
      seed: 0,
      epochs: c.epochs,
      // The example's printed lines go to the state; the page shows the same numbers as a table.
      print: (line) => { c.lines.push(line); },
      onEpoch: async (epoch, stats) => {
        c.history.push(stats);
        const tr = rows.insertRow();
        for (const text of [String(epoch), stats.loss.toFixed(4), pct(stats.trainAccuracy), pct(stats.testAccuracy)]) tr.insertCell().textContent = text;
        scroller.scrollTop = scroller.scrollHeight;
        drawClassifierChart(canvas, c.history, c.epochs);
        c.chartDraws++;
        setStatus('#iris-status', `epoch ${epoch}/${c.epochs} · loss ${stats.loss.toFixed(4)} · test accuracy ${pct(stats.testAccuracy)} on ${device}`);
        await tick(); // let the page paint and the seed's net run between epochs
      },
    });
  } catch (e) {
    setStatus('#iris-status', `stopped at epoch ${c.history.length + 1} by an error (see above)`);
    throw e;
  } finally {
    stop();
  }
  c.ms = performance.now() - t0;
  c.done = true;
  const last = c.history[c.history.length - 1]!;
  setStatus('#iris-status', `${c.epochs} epochs on ${device} in ${(c.ms / 1000).toFixed(1)} s · loss ${c.history[0]!.loss.toFixed(4)} → ${last.loss.toFixed(4)} · ` +
    `test accuracy ${pct(last.testAccuracy)} on 30 held-out flowers`);
}

// ---- cpu vs webgpu -----------------------------------------------------------------------------

const devicesToCompare = (): torch.Device[] => (device === 'webgpu' ? ['cpu', 'webgpu'] : ['cpu']);

/** Median milliseconds of one n×n matmul, the result made ready on the device (≥3 runs, ~0.3 s). */
async function timeMatmul(dev: torch.Device, n: number): Promise<number> {
  const a = torch.randn(n, n, { device: dev }), b = torch.randn(n, n, { device: dev });
  const ready = async (c: torch.Tensor) => {
    if (dev === 'webgpu') await torch.webgpu.synchronize();
    else c.dataSync();
  };
  const warm = a.matmul(b); // compiles the pipeline and uploads a and b
  await ready(warm);
  warm.dispose();
  const times: number[] = [];
  let spent = 0;
  while (times.length < 3 || (spent < 300 && times.length < 15)) {
    const t = performance.now();
    const c = a.matmul(b);
    await ready(c);
    const dt = performance.now() - t;
    c.dispose();
    times.push(dt);
    spent += dt;
    await tick();
  }
  a.dispose();
  b.dispose();
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)]!;
}

async function compare(): Promise<void> {
  const button = $<HTMLButtonElement>('#compare-btn');
  button.disabled = true;
  const steps = intParam('compareSteps', 100);
  const sizes = (params.get('sizes') ?? '128,256,512').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const rows: CompareRow[] = [];
  state.compare = { rows, done: false };
  const svg = $<SVGSVGElement>('#bars');
  const show = () => renderBars(svg, rows);
  try {
    const net: CompareRow = { name: `two-layer net, ${steps} steps`, cpuMs: null, webgpuMs: null, note: '' };
    rows.push(net);
    const finalLoss: Partial<Record<torch.Device, number>> = {};
    for (const dev of devicesToCompare()) {
      setStatus('#compare-status', `training ${steps} steps on ${dev}…`);
      const t = performance.now();
      let last: torch.Tensor | null = null;
      await trainTwoLayerNet({ device: dev, seed: 0, steps, print: () => {}, onStep: (_, loss) => { last = loss; return tick(); } });
      // WebGPU work is queued, not done, when the loop ends: reading the last loss waits for it.
      finalLoss[dev] = await (last as torch.Tensor | null)?.item() ?? NaN;
      net[dev === 'cpu' ? 'cpuMs' : 'webgpuMs'] = performance.now() - t;
      show();
    }
    net.note = `final loss: ${Object.entries(finalLoss).map(([d, v]) => `${d} ${fmtLoss(v)}`).join(', ')}`;
    for (const n of sizes) {
      const row: CompareRow = { name: `matmul ${n}×${n}`, cpuMs: null, webgpuMs: null, note: '' };
      rows.push(row);
      for (const dev of devicesToCompare()) {
        setStatus('#compare-status', `matmul ${n}×${n} on ${dev}…`);
        row[dev === 'cpu' ? 'cpuMs' : 'webgpuMs'] = await timeMatmul(dev, n);
        show();
      }
      const gflops = (ms: number | null) => (ms ? ((2 * n ** 3) / (ms * 1e6)).toFixed(2) : '—');
      row.note = `GFLOP/s: cpu ${gflops(row.cpuMs)}${device === 'webgpu' ? `, webgpu ${gflops(row.webgpuMs)}` : ''}`;
      show();
    }
    setStatus('#compare-status', device === 'webgpu' ? 'median time per run; shorter is faster' : 'WebGPU is unavailable: CPU times only');
  } catch (e) {
    setStatus('#compare-status', 'stopped by an error (see above)');
    throw e;
  } finally {
    state.compare.done = true;
    button.disabled = false;
  }
}

async function main(): Promise<void> {
  $('#steps').textContent = String(state.steps);
  $('#epochs').textContent = String(state.classifier.epochs);
  await showDevice();
  runTensorSection();
  await tick();
  // Both train at once, each yielding between its steps or epochs. Each seeds the generator and
  // draws its initial values before its first await, so both start from the values they draw alone.
  await Promise.all([train(), trainIris()]);
  const button = $<HTMLButtonElement>('#compare-btn');
  button.disabled = false;
  setStatus('#compare-status', device === 'webgpu'
    ? 'trains the net and times matmuls on both devices'
    : 'WebGPU is unavailable here: it times the CPU only');
  button.addEventListener('click', () => void compare().catch(showError));
  if (params.get('compare') === '1') await compare();
}

main()
  .catch(showError)
  .finally(() => { state.done = true; });
