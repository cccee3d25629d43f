/**
 * `npm run bench -- --peers [--quick]`: wgtorch next to its peers on the same inputs — matmul 512
 * and the seed's net — with every result checked against the float64 references the bench uses
 * for wgtorch itself (a wrong answer is reported as a failure, whatever its speed).
 *
 * Both cases run on every backend, WebGPU included (the executor issue's target is the net on
 * WebGPU against jax-js `jit` on the same adapter).
 * Peers: TensorFlow.js 4.22 (cpu, wasm = XNNPACK, webgpu), jax-js 0.1.25 (wasm, webgpu; the net's
 * whole step under `jit`), both installed in bench/peers/ apart from the package
 * (`cd bench/peers && npm install`), each run in its own Node process (bench/peers/peers.mjs);
 * PyTorch on one thread through /usr/bin/python3 when it has torch (bench/peers/torch_peer.py).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from 'wgtorch';
import { cpuKernels } from '../src/backends/cpu/index.js';
import { trainTwoLayerNet } from '../examples/two-layer-net.js';
import { NET, netLossTolerance } from './cases.js';
import { median } from './measure.js';
import { checkMatmul, twoLayerNetF64, type HostMatrix } from './reference.js';

const N = 512;

/** One line of the comparison. */
interface Row {
  peer: string;
  backend: string;
  case: 'matmul' | 'net';
  samples?: number[];
  /** [step, loss] pairs: the reference step's and the last step's. */
  losses?: [number, number][];
  skipped?: string;
  status: 'ok' | 'failed' | 'skipped';
  message?: string;
  note?: string;
}

function writeF32(dir: string, name: string, data: ArrayLike<number>): void {
  const a = Float32Array.from(data);
  fs.writeFileSync(path.join(dir, `${name}.f32`), new Uint8Array(a.buffer));
}

/** JSON result lines of a child process (other output is passed through as notes). */
function runChild(cmd: string, args: string[], cwd: string, timeoutMs: number): { rows: Record<string, unknown>[]; error: string | null } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  const rows: Record<string, unknown>[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      rows.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a log line that happens to start with a brace
    }
  }
  const error = r.error
    ? r.error.message
    : r.status !== 0
      ? `exit ${r.status}: ${errorLines(r.stderr ?? '')}`
      : null;
  return { rows, error };
}

/** The lines of a child's stderr that say what failed (its error, not its warnings). */
function errorLines(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l) && !l.startsWith('at '));
  return (errors.length ? errors : lines.slice(-3)).slice(0, 3).join(' | ');
}

function hasTorch(): string | null {
  if (!fs.existsSync('/usr/bin/python3')) return 'PyTorch: /usr/bin/python3 is not installed';
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'PyTorch: /usr/bin/python3 has no torch module (apt-get install python3-torch)';
  }
}

/** Runs the comparison; returns the exit code (1 when a result is wrong or a peer fails). */
export async function runPeers(root: string, quick: boolean): Promise<number> {
  const steps = quick ? 20 : 500, warmSteps = quick ? 2 : 20, reps = quick ? 3 : 10;
  const refStep = Math.min(steps, 100);
  const peersDir = path.join(root, 'bench/peers');
  if (!fs.existsSync(path.join(peersDir, 'node_modules/@tensorflow/tfjs')) || !fs.existsSync(path.join(peersDir, 'node_modules/@jax-js/jax'))) {
    console.error('--peers: the peers are not installed; run `cd bench/peers && npm install` first');
    return 2;
  }

  // Inputs: the net's initial values as trainTwoLayerNet draws them; matmul operands from seed 512.
  torch.manualSeed(NET.seed);
  const init = {
    x: torch.randn(NET.B, NET.I).dataSync(), y: torch.randn(NET.B, NET.O).dataSync(),
    w1: torch.randn(NET.I, NET.H).dataSync(), w2: torch.randn(NET.H, NET.O).dataSync(),
  };
  torch.manualSeed(N);
  const a = torch.randn(N, N), b = torch.randn(N, N);
  const A: HostMatrix = { data: a.dataSync(), rows: N, cols: N, rs: N, cs: 1 };
  const B: HostMatrix = { data: b.dataSync(), rows: N, cols: N, rs: N, cs: 1 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgtorch-peers-'));
  const gpu = await torch.webgpu.isAvailable();
  try {
    writeF32(dir, 'a', A.data);
    writeF32(dir, 'b', B.data);
    for (const [k, v] of Object.entries(init)) writeF32(dir, k, v);
    const dims = { B: NET.B, I: NET.I, H: NET.H, O: NET.O };
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ n: N, steps, warmSteps, reps, lr: NET.lr, dims, webgpu: gpu }));
    const ref = twoLayerNetF64(init, dims, refStep, NET.lr);

    const rows: Row[] = [];
    const check = (r: Row, product?: ArrayLike<number>): Row => {
      if (r.status !== 'ok') return r;
      let problem: string | null = null;
      if (r.case === 'matmul') problem = product ? checkMatmul(product, A, B) : 'no product';
      else {
        const at = new Map(r.losses ?? []);
        const mine = at.get(refStep), want = ref[refStep - 1]!;
        if (mine === undefined || !Number.isFinite(mine)) problem = `no finite loss at step ${refStep}: ${JSON.stringify(r.losses)}`;
        else if (Math.abs(mine - want) > netLossTolerance(mine, want)) problem = `loss at step ${refStep} ${mine}, float64 net ${want}`;
        else r.note = `loss at step ${steps}: ${at.get(steps)?.toPrecision(4)}`;
      }
      if (problem) Object.assign(r, { status: 'failed', message: `wrong result: ${problem}` });
      return r;
    };

    // wgtorch, in this process
    const devices: torch.Device[] = gpu ? ['cpu', 'webgpu'] : ['cpu'];
    for (const device of devices) {
      const da = device === 'cpu' ? a : (a.to(device) as torch.Tensor), db = device === 'cpu' ? b : (b.to(device) as torch.Tensor);
      let c: torch.Tensor | null = null;
      const samples: number[] = [];
      for (let i = 0; i < reps + 2; i++) {
        c?.dispose();
        const t0 = performance.now();
        c = da.mm(db);
        await c.reshape(-1).narrow(0, N * N - 1, 1).data();
        if (i >= 2) samples.push(performance.now() - t0);
      }
      rows.push(check({ peer: 'wgtorch', backend: device === 'cpu' ? `cpu (${cpuKernels})` : device, case: 'matmul', samples, status: 'ok' }, await c!.data()));
      const losses: [number, number][] = [];
      await trainTwoLayerNet({ device, seed: NET.seed, steps: warmSteps, print: () => {} });
      const t0 = performance.now();
      await trainTwoLayerNet({
        device, seed: NET.seed, steps, print: () => {},
        onStep: async (t, loss) => {
          if (t === refStep || t === steps) losses.push([t, await loss.item()]);
        },
      });
      rows.push(check({ peer: 'wgtorch', backend: device === 'cpu' ? `cpu (${cpuKernels})` : device, case: 'net', samples: [performance.now() - t0], losses, status: 'ok' }));
    }

    // the JS peers, each in its own process
    for (const peer of ['tfjs', 'jax']) {
      console.log(`running ${peer} ...`);
      const { rows: out, error } = runChild(process.execPath, [path.join(peersDir, 'peers.mjs'), dir, peer], peersDir, quick ? 300_000 : 1_800_000);
      for (const o of out) rows.push(fromChild(o, dir, check));
      if (error) rows.push({ peer, backend: '-', case: 'matmul', status: 'failed', message: error });
    }
    const why = hasTorch();
    if (why) rows.push({ peer: 'torch', backend: 'cpu', case: 'matmul', status: 'skipped', skipped: why });
    else {
      console.log('running PyTorch ...');
      const { rows: out, error } = runChild('/usr/bin/python3', [path.join(peersDir, 'torch_peer.py'), dir], peersDir, quick ? 300_000 : 1_800_000);
      for (const o of out) rows.push(fromChild(o, dir, check));
      if (error) rows.push({ peer: 'torch', backend: 'cpu', case: 'matmul', status: 'failed', message: error });
    }

    printTable(rows, steps);
    return rows.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    // WGTORCH_BENCH_KEEP=1 keeps the inputs, to run a peer by hand: node bench/peers/peers.mjs <dir> jax
    if (process.env.WGTORCH_BENCH_KEEP === '1') console.log(`inputs kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

function fromChild(o: Record<string, unknown>, dir: string, check: (r: Row, product?: ArrayLike<number>) => Row): Row {
  const peer = String(o.peer), backend = String(o.backend);
  const kind = o.case === 'net' ? 'net' : 'matmul';
  const label = o.version ? `${peer} ${o.version}` : peer;
  const note = typeof o.threads === 'string' || typeof o.threads === 'number' ? `threads: ${o.threads}` : undefined;
  if (typeof o.skipped === 'string') return { peer: label, backend, case: kind, status: 'skipped', skipped: o.skipped };
  const r: Row = { peer: label, backend, case: kind, samples: o.samples as number[], losses: o.losses as [number, number][] | undefined, status: 'ok' };
  let product: Float32Array | undefined;
  if (kind === 'matmul') {
    const file = path.join(dir, `${peer}-${backend}-matmul.f32`);
    if (fs.existsSync(file)) {
      const bytes = fs.readFileSync(file);
      product = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  const out = check(r, product);
  if (note) out.note = [out.note, note].filter(Boolean).join('; ');
  return out;
}

function printTable(rows: Row[], steps: number): void {
  const lines = [['case', 'runtime', 'backend', 'median', 'figure', 'check'].join(' | ')];
  for (const r of rows) {
    const caseName = r.case === 'matmul' ? `matmul ${N}` : `seed net ${steps} steps`;
    if (r.status === 'skipped') {
      lines.push([caseName, r.peer, r.backend, '-', '-', `skipped: ${r.skipped}`].join(' | '));
      continue;
    }
    const ms = r.samples?.length ? median(r.samples) : NaN;
    const figure = r.case === 'matmul' ? `${((2 * N ** 3) / ms / 1e6).toFixed(2)} GFLOP/s` : `${(ms / steps).toFixed(2)} ms/step`;
    const status = r.status === 'ok' ? `ok${r.note ? ` (${r.note})` : ''}` : `FAILED ${r.message}`;
    lines.push([caseName, r.peer, r.backend, Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : '-', Number.isFinite(ms) ? figure : '-', status].join(' | '));
  }
  console.log(`\n${lines.join('\n')}`);
}
