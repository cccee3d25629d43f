/**
 * wgtorch in a web page: examples/browser/ served by scripts/demo-browser.mjs and driven in Debian's
 * headless Chromium with playwright-core (never a downloaded browser). With the WebGPU flags the page
 * runs on SwiftShader's WebGPU adapter; without them navigator.gpu gives no adapter and the page
 * falls back to the CPU. The ops.json conformance cases also run inside the page, on WebGPU, under
 * both kernel choices (SwiftShader's own, and `kernels: 'gpu'`: what a discrete GPU runs).
 * Every page error and console.error line fails the test.
 * The demo page also trains examples/classifier.ts's iris MLP beside the seed's net: WGTORCH_BROWSER_EPOCHS
 * epochs here (default 6, where it reaches 93.3% test accuracy on both devices; the page's default is 30).
 *
 * Skips (one console line) when Chromium is missing, unless WGTORCH_REQUIRE_WEBGPU=1 (CI): then it
 * fails. SwiftShader is slow, so the demo trains WGTORCH_BROWSER_STEPS steps here (default 20; the
 * CPU fallback at most 10); `npm run demo:browser` trains the full 500.
 * Screenshots go to test/artifacts/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EpochStats } from '../examples/classifier.js';
import type { ConformanceState, DemoState } from '../examples/browser/state.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = path.join(root, 'test/artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const REQUIRE = process.env.WGTORCH_REQUIRE_WEBGPU === '1';
const haveChromium = fs.existsSync(CHROMIUM);
const STEPS = Number(process.env.WGTORCH_BROWSER_STEPS ?? 20);
/** The CPU fallback trains at most 20 steps: it only has to show the same page working. */
const CPU_STEPS = Math.min(STEPS, 20);
const EPOCHS = Number(process.env.WGTORCH_BROWSER_EPOCHS ?? 6);
/** Test accuracy the classifier must reach after EPOCHS epochs: 27 of the 30 held-out flowers. */
const MIN_TEST_ACCURACY = 0.9;
const expectedText = fs.readFileSync(path.join(root, 'test/fixtures/tensor-basics.expected.txt'), 'utf8');
const opCaseCount = (JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/ops.json'), 'utf8')) as unknown[]).length;

const BASE_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
// SwiftShader compiles each pipeline for seconds on a busy 2-core machine: generous limits.
const PAGE_MS = 480_000;

if (!haveChromium && !REQUIRE) {
  console.warn(`wgtorch: ${CHROMIUM} not found; browser tests are skipped (apt-get install chromium, or set WGTORCH_REQUIRE_WEBGPU=1 to fail instead)`);
}

/** Starts `node scripts/demo-browser.mjs` on a free port and returns its origin. */
function startDemoServer(): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['scripts/demo-browser.mjs'], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('timed out')), 120_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`scripts/demo-browser.mjs did not start: ${e.message}\n${out}`));
    };
    const onData = (d: Buffer) => {
      out += String(d);
      const m = out.match(/wgtorch browser demo: (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ origin: m[1]!, child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`exited with ${code}`)));
  });
}

interface Browser {
  context: BrowserContext;
  dir: string;
  /** Console errors and uncaught exceptions of every page since the last takeProblems(). */
  problems: string[];
  /** URL paths the pages requested, in order. */
  requests: string[];
}

/** The problems since the last call, clearing the list (none are expected: the pages print no errors). */
function takeProblems(b: Browser): string[] {
  return b.problems.splice(0);
}

async function launch(webgpu: boolean): Promise<Browser> {
  // A fresh profile per launch; playwright takes it as a parameter, not as --user-data-dir.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgtorch-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])],
    viewport: { width: 1280, height: 900 },
    timeout: 120_000,
  });
  const problems: string[] = [], requests: string[] = [];
  context.on('page', (p) => watch(p, problems, requests));
  context.pages().forEach((p) => watch(p, problems, requests));
  return { context, dir, problems, requests };
}

function watch(page: Page, problems: string[], requests: string[]): void {
  page.on('request', (r) => { const u = new URL(r.url()); requests.push(u.pathname); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
}

async function close(b: Browser | undefined): Promise<void> {
  await b?.context.close().catch(() => {});
  if (b) fs.rmSync(b.dir, { recursive: true, force: true });
}

/** Opens `url` and waits until window[key].done; returns the state. */
async function runPage<K extends '__wgtorch' | '__conformance'>(b: Browser, url: string, key: K): Promise<{ page: Page; state: NonNullable<Window[K]> }> {
  const page = await b.context.newPage();
  await page.goto(url);
  try {
    await page.waitForFunction((k) => window[k as K]?.done === true, key, { timeout: PAGE_MS, polling: 1000 });
  } catch (e) {
    const partial = await page.evaluate((k) => JSON.stringify(window[k as K] ?? null).slice(0, 2000), key).catch(() => 'page gone');
    throw new Error(`${url}: ${(e as Error).message.split('\n')[0]}\nstate: ${partial}\n${b.problems.join('\n')}`);
  }
  return { page, state: (await page.evaluate((k) => window[k as K], key))! };
}

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
}

/** The curve falls: the last loss is under half the first, and nearly every step goes down. */
function expectFalling(losses: readonly number[]): void {
  expect(losses.every(Number.isFinite), `losses: ${losses.join(', ')}`).toBe(true);
  const downs = losses.slice(1).filter((v, i) => v < losses[i]!).length;
  expect(downs / (losses.length - 1), `losses: ${losses.join(', ')}`).toBeGreaterThanOrEqual(0.9);
  expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 2);
}

/** What every finished demo page must show, whatever the device. */
function expectDemo(s: DemoState, problems: string[]): void {
  expect(s.error, `page error:\n${s.error}\n${problems.join('\n')}`).toBeNull();
  expect(s.tensorText).toBe(expectedText);
  expect(s.losses).toHaveLength(s.steps);
  expectFalling(s.losses);
  expect(s.curveDraws, 'the loss curve is redrawn while training').toBeGreaterThan(1);
  // Training yields to the event loop between steps, so a 50 ms timer keeps running: it can beat
  // at most once per yield and once per 50 ms, and must manage a quarter of that (the machine's own
  // stalls and the first step's compile eat the rest). A loop that never yields gives 0 beats.
  const possible = Math.min(s.steps, Math.floor(s.trainMs! / 50));
  expect(s.heartbeats, `timer beats in ${s.trainMs!.toFixed(0)} ms of training over ${s.steps} steps`).toBeGreaterThanOrEqual(Math.max(2, Math.floor(possible / 4)));
}

/**
 * The classifier panel trained EPOCHS epochs live: one printed line, table row and chart draw per
 * epoch, the loss falling, the held-out accuracy above MIN_TEST_ACCURACY, and the page yielding.
 */
async function expectClassifier(page: Page, s: DemoState): Promise<void> {
  const c = s.classifier;
  expect(c.done).toBe(true);
  expect(c.epochs).toBe(EPOCHS);
  expect(c.history).toHaveLength(EPOCHS);
  // The example's own lines (examples/classifier.ts prints them), with the numbers of the history.
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  expect(c.lines).toEqual(c.history.map((h, i) =>
    `Epoch ${String(i + 1).padStart(2)}: loss ${h.loss.toFixed(4)}, train accuracy ${pct(h.trainAccuracy)}, test accuracy ${pct(h.testAccuracy)}`));
  expect(c.history.every((h) => Number.isFinite(h.loss)), c.lines.join('\n')).toBe(true);
  expect(c.history[EPOCHS - 1]!.loss, c.lines.join('\n')).toBeLessThan(c.history[0]!.loss / 2);
  expect(c.history[EPOCHS - 1]!.testAccuracy, c.lines.join('\n')).toBeGreaterThanOrEqual(MIN_TEST_ACCURACY);
  expect(c.chartDraws, 'the classifier chart is redrawn after every epoch').toBe(EPOCHS);
  expect(await page.locator('#iris-log tbody tr').count()).toBe(EPOCHS);
  // It yields after every epoch: a 50 ms timer beats at least a quarter of the times it could.
  const possible = Math.min(EPOCHS, Math.floor(c.ms! / 50));
  expect(c.heartbeats, `timer beats in ${c.ms!.toFixed(0)} ms over ${EPOCHS} epochs`).toBeGreaterThanOrEqual(Math.floor(possible / 4));
  const last = c.history[EPOCHS - 1]!;
  console.log(`wgtorch: browser iris classifier on ${s.device}: ${EPOCHS} epochs in ${(c.ms! / 1000).toFixed(1)} s, loss ${c.history[0]!.loss.toFixed(4)} → ${last.loss.toFixed(4)}, test accuracy ${pct(last.testAccuracy)}`);
}

if (!haveChromium && REQUIRE) {
  describe('wgtorch in headless Chromium', () => {
    it('needs Chromium (WGTORCH_REQUIRE_WEBGPU=1)', () => {
      throw new Error(`${CHROMIUM} not found and WGTORCH_REQUIRE_WEBGPU=1: install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`);
    });
  });
}

describe.skipIf(!haveChromium)('wgtorch in headless Chromium', () => {
  let server: { origin: string; child: ChildProcess } | undefined;
  let webgpuLosses: number[] | null = null;
  let webgpuIris: EpochStats[] | null = null;
  beforeAll(async () => {
    server = await startDemoServer();
  }, 180_000);
  afterAll(() => {
    server?.child.kill('SIGTERM');
  });

  describe('with WebGPU (SwiftShader adapter)', () => {
    let b: Browser | undefined;
    beforeAll(async () => {
      b = await launch(true);
    }, 180_000);
    afterAll(() => close(b));

    it(`demo: device webgpu, the seed's tensor text, a falling live loss curve over ${STEPS} steps, the iris classifier over ${EPOCHS} epochs, the comparison`, async () => {
      const { page, state: s } = await runPage(b!, `${server!.origin}/?steps=${STEPS}&epochs=${EPOCHS}&compare=1&compareSteps=3&sizes=64,128`, '__wgtorch');
      await screenshot(page, 'browser-webgpu.png');
      expect(s.device, `fallback: ${s.fallbackReason}`).toBe('webgpu');
      expect(s.adapter).toBeTruthy();
      expect(await page.textContent('#device-detail')).toContain('WebGPU adapter:');
      expectDemo(s, b!.problems);
      await expectClassifier(page, s);
      expect(s.compare?.done).toBe(true);
      expect(s.compare!.rows.map((r) => r.name)).toEqual(['two-layer net, 3 steps', 'matmul 64×64', 'matmul 128×128']);
      for (const r of s.compare!.rows) {
        expect(r.cpuMs, r.name).toBeGreaterThan(0);
        expect(r.webgpuMs, r.name).toBeGreaterThan(0);
      }
      expect(await page.locator('#bars rect').count()).toBe(6);
      await page.locator('section:has(#iris-chart)').screenshot({ path: path.join(artifacts, 'browser-classifier-webgpu.png') });
      // The iris data is in the bundle: the page fetched its three files and nothing else.
      expect(new Set(b!.requests.splice(0).filter((p) => p !== '/favicon.ico' && p !== '/main.js.map'))).toEqual(new Set(['/', '/style.css', '/main.js']));
      webgpuLosses = s.losses;
      webgpuIris = s.classifier.history;
      await page.close();
      expect(takeProblems(b!), 'page errors and console.error lines').toEqual([]);
    }, PAGE_MS + 60_000);

    it('ops.json conformance inside the page: every case passes on webgpu, with its own kernels and the GPU ones', async () => {
      const { page, state: s } = await runPage(b!, `${server!.origin}/conformance.html?kernels=auto,gpu`, '__conformance');
      await screenshot(page, 'browser-conformance.png');
      const c = s as ConformanceState;
      expect(c.error, `${c.error}\n${b!.problems.join('\n')}`).toBeNull();
      expect(c.device, `fallback: ${c.fallbackReason}`).toBe('webgpu');
      expect(c.kernels).toEqual(['auto', 'gpu']);
      expect(c.total).toBe(2 * opCaseCount);
      expect(c.results).toHaveLength(2 * opCaseCount);
      for (const k of c.kernels) expect(c.results.filter((r) => r.kernels === k), `kernels=${k}`).toHaveLength(opCaseCount);
      expect(c.results.filter((r) => !r.ok).map((r) => `kernels=${r.kernels} ${r.label}: ${r.message}`)).toEqual([]);
      expect(c.results.filter((r) => r.grads).length).toBeGreaterThan(0);
      const seconds = (k: string | null) => (c.results.filter((r) => r.kernels === k).reduce((t, r) => t + r.ms, 0) / 1000).toFixed(1);
      console.log(`wgtorch: browser conformance ${c.results.length}/${c.total} cases passed on webgpu (${c.adapter}) in ${c.kernels.map((k) => `${seconds(k)} s with kernels=${k}`).join(', ')}`);
      await page.close();
      expect(takeProblems(b!), 'page errors and console.error lines').toEqual([]);
    }, PAGE_MS + 60_000);
  });

  describe('without WebGPU (CPU fallback)', () => {
    let b: Browser | undefined;
    beforeAll(async () => {
      b = await launch(false);
    }, 180_000);
    afterAll(() => close(b));

    it('no adapter: the page says why, and the CPU prints the same tensor text and trains both nets', async () => {
      const { page, state: s } = await runPage(b!, `${server!.origin}/?steps=${CPU_STEPS}&epochs=${EPOCHS}`, '__wgtorch');
      await screenshot(page, 'browser-cpu-fallback.png');
      expect(s.device).toBe('cpu');
      expect(s.fallbackReason).toMatch(/requestAdapter\(\) returned null/);
      expect(await page.textContent('#device-detail')).toContain('CPU fallback: requestAdapter() returned null');
      expectDemo(s, b!.problems);
      // Same seed, same net: the devices draw the same randn values and agree on the losses.
      if (webgpuLosses) s.losses.forEach((v, i) => expect(Math.abs(v - webgpuLosses![i]!) / v, `step ${i + 1}`).toBeLessThan(1e-3));
      await expectClassifier(page, s);
      // The classifier too: same initial weights and batches, so the same losses, and accuracies
      // that differ by at most one flower of 120 (train) or 30 (test) where rounding tips a logit.
      if (webgpuIris) s.classifier.history.forEach((h, i) => {
        const g = webgpuIris![i]!;
        expect(Math.abs(h.loss - g.loss) / h.loss, `epoch ${i + 1} loss`).toBeLessThan(1e-3);
        expect(Math.abs(h.trainAccuracy - g.trainAccuracy), `epoch ${i + 1} train accuracy`).toBeLessThanOrEqual(1 / 120 + 1e-9);
        expect(Math.abs(h.testAccuracy - g.testAccuracy), `epoch ${i + 1} test accuracy`).toBeLessThanOrEqual(1 / 30 + 1e-9);
      });
      await page.close();
      expect(takeProblems(b!), 'page errors and console.error lines').toEqual([]);
    }, PAGE_MS + 60_000);

    it('no navigator.gpu at all (?nogpu=1): CPU fallback with that reason', async () => {
      const { page, state: s } = await runPage(b!, `${server!.origin}/?steps=2&epochs=1&nogpu=1`, '__wgtorch');
      expect(s.device).toBe('cpu');
      expect(s.fallbackReason).toMatch(/navigator\.gpu is not available/);
      expect(s.error).toBeNull();
      expect(s.tensorText).toBe(expectedText);
      await page.close();
      expect(takeProblems(b!), 'page errors and console.error lines').toEqual([]);
    }, PAGE_MS + 60_000);
  });
});
