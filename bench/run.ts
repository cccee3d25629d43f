/**
 * `npm run bench`: cpu and webgpu on the seed's work and the core kernels, with tables, a JSON
 * record and an SVG chart in bench/results/. See bench/NOTES.md for what the figures mean.
 *
 *   npm run bench                         everything, on every device there is
 *   npm run bench -- --quick              small sizes, seconds (what CI runs)
 *   npm run bench -- --only matmul,seed   some sections (matmul, elementwise, reduce, seed, launch)
 *   npm run bench -- --device webgpu      one device (fails when it is not there)
 *   npm run bench -- --peers [--quick]    next to TensorFlow.js, jax-js and PyTorch (bench/peers.ts)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from 'wgtorch';
import { allCases, SECTION_ALIASES, SECTIONS, type Case, type Device, type Section } from './cases.js';
import { FULL, QUICK, fmtSeconds, fmtTime, measure, Progress, type Budget } from './measure.js';
import { runPeers } from './peers.js';
import { chartSvg, figure, fmtFigure, sectionTable, type Result } from './report.js';

const USAGE = `usage: npm run bench -- [--quick] [--only ${SECTIONS.join(',')}] [--device cpu|webgpu]
       npm run bench -- --peers [--quick]   (peers installed by: cd bench/peers && npm install)
       npm run bench -- --redraw bench/results/<name>.json   (the chart again, from a record)`;

interface Options {
  redraw: string | null;
  quick: boolean;
  peers: boolean;
  only: Section[] | null;
  devices: Device[] | null;
}

function parseArgs(args: string[]): Options | string {
  const o: Options = { redraw: null, quick: false, peers: false, only: null, devices: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? args[++i] ?? '';
    if (flag === '--quick') o.quick = true;
    else if (flag === '--peers') o.peers = true;
    else if (flag === '--redraw') o.redraw = value();
    else if (flag === '--only') {
      const names = value().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !(n in SECTION_ALIASES));
      if (bad.length || !names.length) return `unknown section ${bad.join(', ') || '(none)'}; sections: ${SECTIONS.join(', ')}`;
      o.only = [...new Set(names.map((n) => SECTION_ALIASES[n]!))];
    } else if (flag === '--device') {
      const d = value().split(',').map((s) => s.trim());
      if (!d.length || d.some((x) => x !== 'cpu' && x !== 'webgpu')) return `--device takes cpu or webgpu, got '${d.join(',')}'`;
      o.devices = d as Device[];
    } else if (flag === '--help' || flag === '-h') return '';
    else return `unknown argument ${a}`;
  }
  return o;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'webgpu';
}

function machine() {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
  };
}

function gitCommit(root: string): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${head} (modified)` : head;
  } catch {
    return null;
  }
}

/** Finds which devices to run; a device asked for by --device that is missing is an error. */
async function pickDevices(o: Options): Promise<{ devices: Device[]; adapter: ReturnType<typeof torch.webgpu.adapterInfo>; why: string | null } | string> {
  const want = o.devices ?? ['cpu', 'webgpu'];
  if (!want.includes('webgpu')) return { devices: want, adapter: null, why: null };
  if (await torch.webgpu.isAvailable()) return { devices: want, adapter: torch.webgpu.adapterInfo(), why: null };
  let why = 'no adapter';
  try {
    await torch.webgpu.init();
  } catch (e) {
    why = (e as Error).message.replace(/^WebGPU is not available: /, '');
  }
  if (o.devices?.includes('webgpu')) return `--device webgpu: WebGPU is not available (${why})`;
  return { devices: ['cpu'], adapter: null, why };
}

type BenchRecord = {
  date: string;
  quick: boolean;
  machine: ReturnType<typeof machine> & { load: { start: number[]; end: number[] } };
  adapter: { vendor?: string; architecture?: string; description?: string; none?: string };
  results: Result[];
};

function heading(r: BenchRecord): string {
  const a = r.adapter;
  const gpu = a.none ? `none (${a.none})` : [a.vendor, a.architecture, a.description].filter(Boolean).join(' ');
  const m = r.machine;
  return `wgtorch bench ${r.date.slice(0, 10)}${r.quick ? ' (--quick)' : ''}: cpu and webgpu throughput against size (log-log)\n` +
    `cpu: ${m.cpu} ×${m.cores}, Node ${m.node}, load ${m.load.start[0]!.toFixed(1)}–${m.load.end[0]!.toFixed(1)}; webgpu: ${gpu}`;
}

/** --redraw: the SVG of a JSON record again (after a change to the chart). */
function redraw(file: string): number {
  const record = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchRecord;
  const out = file.replace(/\.json$/, '') + '.svg';
  fs.writeFileSync(out, chartSvg(record.results, heading(record)));
  console.log(`wrote ${out}`);
  return 0;
}

/** Runs the bench; `root` is the checkout (bench/bench.mjs passes it). Returns the exit code. */
export async function main(args: string[], root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    if (opts) console.error(opts);
    console.error(USAGE);
    return opts ? 2 : 0;
  }
  if (opts.redraw) return redraw(opts.redraw);
  if (opts.peers) return runPeers(root, opts.quick);
  const started = new Date();
  const t0 = performance.now();
  const picked = await pickDevices(opts);
  if (typeof picked === 'string') {
    console.error(picked);
    return 1;
  }
  const { devices, adapter, why } = picked;
  const budget: Budget = opts.quick ? QUICK : FULL;
  const m = machine();
  const load0 = os.loadavg();
  const adapterText = adapter ? [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ') : null;
  console.log(`wgtorch bench${opts.quick ? ' --quick' : ''}: ${m.cpu} ×${m.cores}, ${m.os}, Node ${m.node}, load ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    adapterText ? `webgpu: ${adapterText}` : why ? `webgpu: not available (${why}): running on cpu only` : `webgpu: not asked for (--device ${devices.join(',')})`,
  );
  if (load0[0]! > m.cores) console.log(`note: load ${load0[0]!.toFixed(1)} on ${m.cores} cores: other work shares the machine, times are noisy; compare ratios`);
  console.log('');

  const cases = allCases(opts.quick).filter((c) => !opts.only || opts.only.includes(c.section));
  const results: Result[] = [];
  const progress = new Progress();
  /** The last size each device/series ran, to predict (and skip) runs that would take too long. */
  const last = new Map<string, { work: number; ms: number; capped: boolean }>();
  const total = cases.length * devices.length;
  let n = 0;
  let section: Section | null = null;
  const flushTable = () => {
    if (!section) return;
    progress.clear();
    console.log(sectionTable(section, results));
  };

  for (const c of cases) {
    if (c.section !== section) {
      flushTable();
      section = c.section;
    }
    let prepared: Awaited<ReturnType<Case['prepare']>> | null = null;
    let prepError: string | null = null;
    try {
      prepared = await c.prepare();
    } catch (e) {
      prepError = `preparing inputs: ${(e as Error).message}`;
    }
    const values = new Map<Device, number[]>();
    for (const device of devices) {
      n++;
      const base: Result = { section: c.section, series: c.series, label: c.label, x: c.x, unit: c.unit, work: c.work, device, status: 'ok' };
      const tag = `[${n}/${total}] ${c.section} ${c.series} ${c.label} · ${device}`;
      const key = `${device}|${c.section}|${c.series}`;
      const prev = last.get(key);
      const predicted = prev && c.unit !== 'ms/step' && c.unit !== 'µs/op' ? (prev.ms * c.work) / prev.work : 0;
      if (prev?.capped || predicted > budget.runCapMs) {
        const r = { ...base, status: 'skipped' as const, message: prev?.capped ? 'skipped: a smaller size hit the cap' : `skipped: ~${fmtSeconds(predicted)}/run predicted (cap ${fmtSeconds(budget.runCapMs)})` };
        results.push(r);
        last.set(key, { work: c.work, ms: predicted, capped: true });
        progress.done(`${tag}: ${r.message}`);
        continue;
      }
      if (prepError || !prepared) {
        results.push({ ...base, status: 'failed', message: prepError ?? 'no inputs' });
        progress.done(`${tag}: FAILED ${prepError}`);
        continue;
      }
      progress.status(`${tag}: warm-up`);
      let inst = null;
      try {
        inst = prepared.on(device);
        const timing = await measure(
          () => inst!.run(),
          budget,
          (done, planned, ms) => progress.status(`${tag}: ${done ? `run ${done}/${planned}` : 'warm-up'} ${fmtTime(ms)}`, ms > 5000),
          inst.warm ? () => inst!.warm!() : undefined,
        );
        const problem = await inst.check();
        const r: Result = { ...base, timing, value: figure(c.unit, c.work, timing.median) };
        if (timing.note) r.note = timing.note;
        if (problem) {
          r.status = 'failed';
          r.message = `wrong result: ${problem}`;
        }
        const v = inst.value?.();
        if (v) values.set(device, v);
        const extra = inst.extra?.();
        if (extra) r.extra = extra;
        if (c.section === 'seed' && v) r.note = [r.note, `final loss ${v[v.length - 1]!.toPrecision(4)}`, `${fmtTime(timing.median)} total`].filter(Boolean).join('; ');
        results.push(r);
        last.set(key, { work: c.work, ms: timing.median, capped: !!timing.note?.includes('cap') });
        progress.done(`${tag}: ${r.status === 'failed' ? r.message : `${fmtTime(timing.median)}  ${fmtFigure(r.value!)} ${c.unit}`}`);
      } catch (e) {
        const msg = (e as Error).message?.split('\n')[0] ?? String(e);
        results.push({ ...base, status: 'failed', message: `error: ${msg}` });
        progress.done(`${tag}: FAILED error: ${msg}`);
      } finally {
        try {
          inst?.dispose();
        } catch {
          // a lost device cannot take its buffers back; nothing to do
        }
      }
    }
    prepared?.close();
    // Cross-device agreement (the net's losses) is a check like any other.
    const [a, b] = devices.map((d) => values.get(d));
    if (c.agree && a && b) {
      const problem = c.agree(a, b);
      if (problem) {
        for (const r of results.filter((r) => r.section === c.section && r.label === c.label && r.status === 'ok')) {
          r.status = 'failed';
          r.message = `devices disagree: ${problem}`;
        }
      }
    }
  }
  flushTable();

  const failed = results.filter((r) => r.status === 'failed');
  const seconds = (performance.now() - t0) / 1000;
  const load1 = os.loadavg();
  const dir = path.join(root, 'bench/results');
  const day = started.toISOString().slice(0, 10);
  const suffix = [opts.quick ? 'quick' : '', opts.only || opts.devices ? 'partial' : ''].filter(Boolean).join('-');
  const name = `${day}-${adapter ? slug(adapter.description.split(':')[0] || adapter.device || adapter.vendor) : 'cpu-only'}${suffix ? `-${suffix}` : ''}`;
  const record = {
    date: started.toISOString(),
    args,
    quick: opts.quick,
    devices,
    commit: gitCommit(root),
    machine: { ...m, load: { start: load0, end: load1 } },
    adapter: adapter ?? { none: why ?? 'webgpu not asked for' },
    budget,
    seconds: +seconds.toFixed(1),
    failures: failed.length,
    results,
  };
  fs.mkdirSync(dir, { recursive: true });
  const write = (file: string, text: string) => {
    // Written whole, then renamed: a killed run leaves a .tmp (git-ignored), never half a file.
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
  };
  write(path.join(dir, `${name}.json`), `${JSON.stringify(record, null, 1)}\n`);
  write(path.join(dir, `${name}.svg`), chartSvg(results, heading(record)));
  progress.clear();
  console.log(`results: bench/results/${name}.json, bench/results/${name}.svg (${seconds.toFixed(0)} s, load ${load1.map((l) => l.toFixed(2)).join(' ')})`);
  if (failed.length) {
    console.log(`\n${failed.length} FAILED:`);
    for (const r of failed) console.log(`  ${r.section} ${r.series} ${r.label} on ${r.device}: ${r.message}`);
    return 1;
  }
  return 0;
}
