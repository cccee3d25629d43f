/**
 * wgtorch in a web page: examples/browser/ served by scripts/demo-browser.mjs and driven in Debian's
 * headless Chromium with playwright-core (never a downloaded browser). With the WebGPU flags the page
 * runs on SwiftShader's WebGPU adapter; without them navigator.gpu gives no adapter and the page
 * falls back to the CPU. The ops.json conformance cases also run inside the page, on WebGPU, under
 * both kernel choices (SwiftShader's own, and `kernels: 'gpu'`: what a discrete GPU runs).
 * Every page error and console.error line fails the test.
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
import type { ConformanceState, DemoState } from '../examples/browser/state.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = path.join(root, 'test/artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const REQUIRE = process.env.WGTORCH_REQUIRE_WEBGPU === '1';
const haveChromium = fs.existsSync(CHROMIUM);
const STEPS = Number(process.env.WGTORCH_BROWSER_STEPS ?? 20);
/** The CPU fallback trains at most 20 steps: it only has to show the same page working. */
const CPU_STEPS = Math.min(STEPS, 20);
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
  const problems: string[] = [];
  context.on('page', (p) => watch(p, problems));
  context.pages().forEach((p) => watch(p, problems));
  return { context, dir, problems };
}

function watch(page: Page, problems: string[]): void {
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

    it(`demo: device webgpu, the seed's tensor text, a falling live loss curve over ${STEPS} steps, the comparison`, async () => {
      const { page, state: s } = await runPage(b!, `${server!.origin}/?steps=${STEPS}&compare=1&compareSteps=3&sizes=64,128`, '__wgtorch');
      await screenshot(page, 'browser-webgpu.png');
      expect(s.device, `fallback: ${s.fallbackReason}`).toBe('webgpu');
      expect(s.adapter).toBeTruthy();
      expect(await page.textContent('#device-detail')).toContain('WebGPU adapter:');
      expectDemo(s, b!.problems);
      expect(s.compare?.done).toBe(true);
      expect(s.compare!.rows.map((r) => r.name)).toEqual(['two-layer net, 3 steps', 'matmul 64×64', 'matmul 128×128']);
      for (const r of s.compare!.rows) {
        expect(r.cpuMs, r.name).toBeGreaterThan(0);
        expect(r.webgpuMs, r.name).toBeGreaterThan(0);
      }
      expect(await page.locator('#bars rect').count()).toBe(6);
      webgpuLosses = s.losses;
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

    it('no adapter: the page says why, and the CPU prints the same tensor text and trains', async () => {
      const { page, state: s } = await runPage(b!, `${server!.origin}/?steps=${CPU_STEPS}`, '__wgtorch');
      await screenshot(page, 'browser-cpu-fallback.png');
      expect(s.device).toBe('cpu');
      expect(s.fallbackReason).toMatch(/requestAdapter\(\) returned null/);
      expect(await page.textContent('#device-detail')).toContain('CPU fallback: requestAdapter() returned null');
      expectDemo(s, b!.problems);
      // Same seed, same net: the devices draw the same randn values and agree on the losses.
      if (webgpuLosses) s.losses.forEach((v, i) => expect(Math.abs(v - webgpuLosses![i]!) / v, `step ${i + 1}`).toBeLessThan(1e-3));
      await page.close();
      expect(takeProblems(b!), 'page errors and console.error lines').toEqual([]);
    }, PAGE_MS + 60_000);

    it('no navigator.gpu at all (?nogpu=1): CPU fallback with that reason', async () => {
      const { page, state: s } = await runPage(b!, `${server!.origin}/?steps=2&nogpu=1`, '__wgtorch');
      expect(s.device).toBe('cpu');
      expect(s.fallbackReason).toMatch(/navigator\.gpu is not available/);
      expect(s.error).toBeNull();
      expect(s.tensorText).toBe(expectedText);
      await page.close();
      expect(takeProblems(b!), 'page errors and console.error lines').toEqual([]);
    }, PAGE_MS + 60_000);
  });
});
