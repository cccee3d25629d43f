/**
 * wgtorch as a user gets it. `npm pack` (its prepack builds dist/) makes the tarball, and
 * `npm install --offline` puts it into a fresh project outside this checkout; the optional `webgpu`
 * package and @webgpu/types are this checkout's copies, declared as local packages, so nothing is
 * downloaded. Then the project uses it as a user would:
 *  - Node: trains the seed's net a few steps on the CPU and on Dawn, and prints nothing on stderr;
 *  - a browser: a one-file app, bundled by esbuild through the package's "exports" map and served
 *    on 127.0.0.1, runs in headless Chromium on WebGPU and with WebGPU missing, on the page and in a
 *    Web Worker (one browser launch for all four);
 *  - TypeScript: a strict consumer type-checks against the shipped declarations.
 * WGTORCH_REQUIRE_WEBGPU=1 (CI) makes a missing Dawn adapter or Chromium fail instead of skip.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const REQUIRE = process.env.WGTORCH_REQUIRE_WEBGPU === '1';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STEPS = 3;

/** The seed's two-layer net (examples/two-layer-net.ts) as a consumer writes it, in plain JS. */
const TRAIN = `
async function train(torch, device) {
  torch.manualSeed(0);
  const x = torch.randn(64, 1000, { device });
  const y = torch.randn(64, 10, { device });
  const w1 = torch.randn(1000, 100, { device, requiresGrad: true });
  const w2 = torch.randn(100, 10, { device, requiresGrad: true });
  const losses = [];
  for (let t = 0; t < ${STEPS}; t++) {
    const loss = x.mm(w1).clamp({ min: 0 }).mm(w2).sub(y).pow(2).sum();
    losses.push(await loss.item());
    loss.backward();
    torch.noGrad(() => {
      w1.sub_(w1.grad.mul(1e-6));
      w2.sub_(w2.grad.mul(1e-6));
      w1.grad.zero_();
      w2.grad.zero_();
    });
  }
  const a = torch.tensor([[1, 2], [3, 4]], { device });
  return { device, losses, text: await a.matmul(a).format() };
}`;

const NODE_APP = `import * as torch from 'wgtorch';
${TRAIN}
if (process.argv[2] === 'probe') {
  console.log(JSON.stringify({ webgpu: await torch.webgpu.isAvailable(), adapter: torch.webgpu.adapterInfo() }));
} else {
  const runs = [await train(torch, 'cpu')];
  if (await torch.webgpu.isAvailable()) runs.push(await train(torch, 'webgpu'));
  console.log(JSON.stringify(runs));
}
`;

/** One file for the page and its worker; ?gpu=0 takes navigator.gpu away, as in a browser without WebGPU. */
const BROWSER_APP = `import * as torch from 'wgtorch';
${TRAIN}
if (new URLSearchParams(self.location.search).get('gpu') === '0') {
  Object.defineProperty(self.navigator, 'gpu', { value: undefined });
}
const run = () => train(torch, 'cpu').then(async (cpu) => {
  const device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
  return { hasGpu: 'gpu' in self.navigator && !!self.navigator.gpu, runs: device === 'cpu' ? [cpu] : [cpu, await train(torch, device)] };
}).catch((e) => ({ error: String(e && e.stack || e) }));
if (typeof window === 'undefined') {
  run().then((r) => self.postMessage(r));
} else {
  const worker = new Worker('./app.js' + self.location.search, { type: 'module' });
  const fromWorker = new Promise((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => resolve({ error: 'worker: ' + e.message });
  });
  const page = await run();
  window.__result = { page, worker: await fromWorker };
}
`;

/** A strict TypeScript consumer: what must compile, and what must not (@ts-expect-error). */
const TS_APP = `import * as torch from 'wgtorch';
import { tensor as tensorMin } from 'wgtorch/min';

const device: torch.Device = (await torch.webgpu.isAvailable()) ? 'webgpu' : 'cpu';
const w: torch.Tensor = torch.randn(3, 2, { device, requiresGrad: true });
const loss = w.mm(torch.ones([2, 1], { device })).pow(2).sum();
const opts: torch.BackwardOptions = { retainGraph: false };
loss.backward(null, opts);
export const value: number = await loss.item();
export const grad: torch.Tensor | null = w.grad;
export const gpu: GPUDevice | null = torch.webgpu.device();
export const info: torch.AdapterInfo | null = torch.webgpu.adapterInfo();
export const min: torch.Tensor = tensorMin([1, 2]);
export let caught: torch.TorchError | undefined;
try { torch.ones(2).add(torch.ones(3)); } catch (e) { if (e instanceof torch.RuntimeError) caught = e; }

// @ts-expect-error requiresGrad is a boolean
torch.zeros([2], { requiresGrad: 'yes' });
// @ts-expect-error item() is asynchronous: it gives a Promise, not a number
export const notYet: number = loss.item();
`;

const TS_CONFIG = {
  compilerOptions: {
    strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true,
    target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'],
    // No ambient @types: the declarations must bring what they name. Library files are checked too.
    types: [], skipLibCheck: false, noEmit: true,
  },
  files: ['consumer.ts'],
};

let work: string;
let app: string;
let packed: { filename: string; size: number; files: { path: string }[] };

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wgtorch-package-'));
  app = path.join(work, 'app');
  // The build's report comes first on stdout (prepack), then npm's JSON.
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: root, encoding: 'utf8' });
  packed = JSON.parse(out.slice(out.search(/^\[/m)))[0];
  const local = (name: string) => {
    const dir = path.join(root, 'node_modules', name);
    return fs.existsSync(dir) ? { [name]: `file:${dir}` } : {};
  };
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'wgtorch-consumer', private: true, type: 'module',
    dependencies: { wgtorch: `file:${path.join(work, packed.filename)}`, ...local('webgpu'), ...local('@webgpu/types') },
  }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe' });
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds the builds, their source maps, the declarations, README, LICENSE and package.json: nothing else', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toContain('LICENSE');
    const unexpected = files.filter((f) => !/^(README\.md|LICENSE|package\.json|dist\/wgtorch\.(node|browser|browser\.min)\.js(\.map)?|dist\/types\/.+\.d\.ts)$/.test(f));
    expect(unexpected).toEqual([]);
    for (const f of ['dist/wgtorch.node.js', 'dist/wgtorch.browser.js', 'dist/wgtorch.browser.min.js', 'dist/types/index.d.ts']) {
      expect(files).toContain(f);
      expect(files).toContain(f.endsWith('.js') ? `${f}.map` : f);
    }
    expect(fs.existsSync(path.join(app, 'node_modules/wgtorch/dist/wgtorch.node.js'))).toBe(true);
    console.log(`wgtorch package: ${packed.filename}, ${(packed.size / 1024).toFixed(1)} KiB, ${files.length} files`);
  });
});

describe('a Node project that installed the tarball', () => {
  /** Runs app/<file> with stderr through a pipe (as a terminal or `| tee` has it): [stdout, stderr]. */
  function runNode(file: string, arg = '', env: Record<string, string> = {}): [string, string] {
    const [out, err] = ['stdout', 'stderr'].map((s) => path.join(work, `${file}-${arg}-${env.WGTORCH_DEBUG ?? ''}.${s}`));
    execFileSync('bash', ['-c', `set -o pipefail; "${process.execPath}" ${file} ${arg} 2>&1 >"${out}" | cat >"${err}"`], {
      cwd: app, env: { ...process.env, ...env }, stdio: 'inherit',
    });
    return [fs.readFileSync(out!, 'utf8'), fs.readFileSync(err!, 'utf8')];
  }

  it('trains the seed net on the CPU and on Dawn, and prints nothing on stderr', () => {
    fs.writeFileSync(path.join(app, 'train.mjs'), NODE_APP);
    const [stdout, stderr] = runNode('train.mjs');
    expect(stderr).toBe('');
    const runs = JSON.parse(stdout) as { device: string; losses: number[]; text: string }[];
    if (REQUIRE) expect(runs.map((r) => r.device)).toEqual(['cpu', 'webgpu']);
    else if (runs.length === 1) console.warn('wgtorch: no Dawn adapter; the package was used on the CPU only');
    for (const r of runs) {
      // a @ a for a = [[1, 2], [3, 4]]: [[1+6, 2+8], [3+12, 6+16]]
      const suffix = r.device === 'webgpu' ? ", device='webgpu:0'" : '';
      expect(r.text).toBe(`tensor([[ 7., 10.],\n        [15., 22.]]${suffix})`);
      expect(r.losses).toHaveLength(STEPS);
      r.losses.slice(1).forEach((l, i) => expect(l, `${r.device} losses ${r.losses}`).toBeLessThan(r.losses[i]!));
      r.losses.forEach((l, i) => expect(Math.abs(l - runs[0]!.losses[i]!) / runs[0]!.losses[i]!).toBeLessThan(1e-3));
    }
  });

  it('WGTORCH_DEBUG=1 shows what Dawn prints (lavapipe: its two limit notices)', () => {
    const [quiet, quietErr] = runNode('train.mjs', 'probe');
    const probe = JSON.parse(quiet) as { webgpu: boolean; adapter: { description: string } | null };
    expect(quietErr).toBe('');
    if (!probe.webgpu || !/llvmpipe/i.test(probe.adapter!.description)) {
      expect(REQUIRE, 'CI runs Dawn on lavapipe').toBe(false);
      return;
    }
    const [, debugErr] = runNode('train.mjs', 'probe', { WGTORCH_DEBUG: '1' });
    expect(debugErr).toMatch(/^Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced/m);
    expect(debugErr).toMatch(/^Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced/m);
  });
});

describe('a strict TypeScript project that installed the tarball', () => {
  it('type-checks against the shipped declarations (and rejects what it must)', () => {
    fs.writeFileSync(path.join(app, 'consumer.ts'), TS_APP);
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(TS_CONFIG));
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe('');
  });
});

const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && !REQUIRE) console.warn(`wgtorch: ${CHROMIUM} not found; the package's browser test is skipped`);

describe.skipIf(!haveChromium && !REQUIRE)('a web app that bundled the package with esbuild', () => {
  let browser: Browser | undefined;
  let server: http.Server | undefined;
  let origin = '';
  let inputs: string[] = [];

  beforeAll(async () => {
    fs.writeFileSync(path.join(app, 'app.js'), BROWSER_APP);
    const www = path.join(app, 'www');
    const result = await build({
      entryPoints: [path.join(app, 'app.js')], outfile: path.join(www, 'app.js'), absWorkingDir: app,
      bundle: true, format: 'esm', platform: 'browser', target: 'es2022', metafile: true, logLevel: 'warning',
    });
    inputs = Object.keys(result.metafile.inputs);
    fs.writeFileSync(path.join(www, 'index.html'), '<!doctype html><title>wgtorch consumer</title><script type="module" src="./app.js"></script>\n');
    server = http.createServer((req, res) => {
      const file = path.join(www, new URL(req.url ?? '/', 'http://x').pathname.replace(/\/$/, '/index.html'));
      if (!file.startsWith(www) || !fs.existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, timeout: 120_000,
      args: ['--no-sandbox', '--disable-gpu-sandbox', '--no-first-run', '--disable-background-networking',
        '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('resolves wgtorch to the browser build through the "exports" map', () => {
    expect(inputs).toContain('node_modules/wgtorch/dist/wgtorch.browser.js');
    expect(inputs.filter((f) => f.includes('wgtorch/'))).toEqual(['node_modules/wgtorch/dist/wgtorch.browser.js']);
  });

  type Run = { device: string; losses: number[]; text: string };
  type Outcome = { error?: string; hasGpu: boolean; runs: Run[] };

  async function open(query: string): Promise<{ page: Outcome; worker: Outcome }> {
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    await page.goto(`${origin}/${query}`);
    await page.waitForFunction(() => (window as { __result?: unknown }).__result, null, { timeout: 480_000, polling: 500 });
    const r = await page.evaluate(() => (window as unknown as { __result: { page: Outcome; worker: Outcome } }).__result);
    await page.close();
    for (const o of [r.page, r.worker]) expect(o.error, `${o.error}\n${problems.join('\n')}`).toBeUndefined();
    return r;
  }

  /** Training on `device` gave the Node CPU run's losses (SwiftShader: within 1e-3) and a @ a. */
  function expectRun(r: Run | undefined, device: string): void {
    expect(r?.device).toBe(device);
    expect(r!.text).toBe(`tensor([[ 7., 10.],\n        [15., 22.]]${device === 'webgpu' ? ", device='webgpu:0'" : ''})`);
    expect(r!.losses).toHaveLength(STEPS);
    r!.losses.slice(1).forEach((l, i) => expect(l, `${device} losses ${r!.losses}`).toBeLessThan(r!.losses[i]!));
  }

  it('trains on WebGPU (SwiftShader) on the page and in a worker, and agrees with its own CPU run', async () => {
    const r = await open('?gpu=1');
    for (const o of [r.page, r.worker]) {
      expect(o.hasGpu).toBe(true);
      expectRun(o.runs[0], 'cpu');
      expectRun(o.runs[1], 'webgpu');
      o.runs[1]!.losses.forEach((l, i) => expect(Math.abs(l - o.runs[0]!.losses[i]!) / l).toBeLessThan(1e-3));
    }
    // The CPU backend is the same JS on the page and in the worker: the same values exactly.
    expect(r.worker.runs[0]!.losses).toEqual(r.page.runs[0]!.losses);
  });

  it('falls back to the CPU when the browser has no WebGPU, on the page and in a worker', async () => {
    const r = await open('?gpu=0');
    for (const o of [r.page, r.worker]) {
      expect(o.hasGpu).toBe(false);
      expect(o.runs).toHaveLength(1);
      expectRun(o.runs[0], 'cpu');
    }
  });
});
