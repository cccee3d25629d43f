#!/usr/bin/env node
// Probe WebGPU in headless Chromium (Debian's /usr/bin/chromium, swiftshader).
//
//   node scripts/probe-browser.mjs            # run with and without WebGPU flags
//   node scripts/probe-browser.mjs --webgpu   # only with the WebGPU flags
//   node scripts/probe-browser.mjs --no-webgpu
//   node scripts/probe-browser.mjs --json
//
// Needs playwright-core (devDependency) and `apt-get install chromium`.
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium). Never downloads a browser.
// Exit code 0 when every requested run behaved as expected: with the flags the
// page must get an adapter and the compute check must pass; without them the
// page must report "no WebGPU" cleanly (that is the page's CPU-fallback path).
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const modes = argv.includes('--webgpu') ? [true] : argv.includes('--no-webgpu') ? [false] : [true, false];
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const log = (...a) => { if (!json) console.log(...a); };

const BASE_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
];
// Override for experiments: PROBE_WEBGPU_FLAGS="--enable-unsafe-webgpu --foo".
const WEBGPU_FLAGS = process.env.PROBE_WEBGPU_FLAGS?.split(/\s+/).filter(Boolean)
  ?? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

// The page-side probe. Runs as a module script; publishes window.__probe.
const PAGE_JS = /* js */ `
const out = { secureContext: window.isSecureContext, hasNavigatorGpu: 'gpu' in navigator, userAgent: navigator.userAgent };
const t0 = performance.now();
try {
  if (!navigator.gpu) throw Object.assign(new Error('navigator.gpu is undefined'), { fallback: true });
  const adapter = await navigator.gpu.requestAdapter();
  out.adapterMs = Math.round(performance.now() - t0);
  if (!adapter) throw Object.assign(new Error('requestAdapter() returned null'), { fallback: true });
  const i = adapter.info;
  out.adapter = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter };
  out.limits = {};
  for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension',
                   'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize']) out.limits[k] = adapter.limits[k];
  out.features = [...adapter.features].sort();
  const requiredLimits = {};
  for (const k in adapter.limits) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredLimits });
  out.deviceMs = Math.round(performance.now() - t0);
  const n = 1 << 20, bytes = n * 4;
  const a = new Float32Array(n), b = new Float32Array(n);
  for (let k = 0; k < n; k++) { a[k] = k; b[k] = 2 * k + 0.5; }
  const mk = (usage, data) => {
    const buf = device.createBuffer({ size: bytes, usage, mappedAtCreation: !!data });
    if (data) { new Float32Array(buf.getMappedRange()).set(data); buf.unmap(); }
    return buf;
  };
  const bufA = mk(GPUBufferUsage.STORAGE, a), bufB = mk(GPUBufferUsage.STORAGE, b);
  const bufC = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const read = mk(GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const module = device.createShaderModule({ code: \`
    @group(0) @binding(0) var<storage, read> a: array<f32>;
    @group(0) @binding(1) var<storage, read> b: array<f32>;
    @group(0) @binding(2) var<storage, read_write> c: array<f32>;
    @compute @workgroup_size(256)
    fn main(@builtin(global_invocation_id) id: vec3u) {
      let i = id.x;
      if (i < arrayLength(&c)) { c[i] = a[i] + b[i]; }
    }\` });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0),
    entries: [bufA, bufB, bufC].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline); pass.setBindGroup(0, bind); pass.dispatchWorkgroups(Math.ceil(n / 256)); pass.end();
  enc.copyBufferToBuffer(bufC, 0, read, 0, bytes);
  const tc = performance.now();
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  out.computeMs = Math.round(performance.now() - tc);
  const c = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  let bad = 0;
  for (let k = 0; k < n; k++) if (c[k] !== a[k] + b[k]) bad++;
  out.compute = { n, mismatches: bad };
  out.ok = bad === 0;
  device.destroy();
} catch (e) {
  out.ok = false;
  out.fallback = !!e.fallback;   // true = clean "no WebGPU here" -> CPU path
  out.error = String(e && e.message || e);
}
out.totalMs = Math.round(performance.now() - t0);
window.__probe = out;
`;
const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>wgtorch webgpu probe</title>
<script type="module" src="/probe.js"></script>`;

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
    } else if (url.pathname === '/probe.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(PAGE_JS);
    } else if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1 (a "potentially trustworthy" origin) -> secure context -> navigator.gpu exists.
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function runOnce(origin, withWebGPU) {
  const args = [...BASE_FLAGS, ...(withWebGPU ? WEBGPU_FLAGS : [])];
  // Fresh profile per launch. Playwright refuses --user-data-dir in `args`;
  // a persistent context takes it as a parameter instead.
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgtorch-chromium-'));
  const t0 = performance.now();
  const result = { webgpuFlags: withWebGPU, args };
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath, headless: true, args, timeout: 60_000,
    });
    result.launchMs = Math.round(performance.now() - t0);
    const page = context.pages()[0] ?? await context.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__probe !== undefined, null, { timeout: 120_000 });
    result.page = await page.evaluate(() => window.__probe);
    result.browserVersion = context.browser()?.version();
    if (consoleLines.length) result.console = consoleLines;
  } catch (e) {
    result.error = String(e.message ?? e).split('\n').slice(0, 6).join('\n');
  } finally {
    await context?.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  result.totalMs = Math.round(performance.now() - t0);
  result.pass = withWebGPU ? result.page?.ok === true : result.page?.fallback === true;
  return result;
}

const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const results = [];
try {
  for (const withWebGPU of modes) {
    const r = await runOnce(origin, withWebGPU);
    results.push(r);
    log(`\n=== ${withWebGPU ? 'with' : 'without'} WebGPU flags: ${r.pass ? 'PASS' : 'FAIL'} (${r.totalMs} ms incl. launch ${r.launchMs} ms)`);
    if (r.error) log('error:', r.error);
    if (r.page) {
      const { userAgent, limits, features, ...rest } = r.page;
      log(rest);
      if (limits) log('limits', limits);
      if (features) log('features', features.join(' '));
      if (features) log(`subgroups: ${features.includes('subgroups')}  shader-f16: ${features.includes('shader-f16')}`);
    }
    if (r.console) log('console:', r.console.join('\n  '));
  }
} finally {
  server.close();
}
if (json) console.log(JSON.stringify(results, null, 2));
process.exitCode = results.every((r) => r.pass) ? 0 : 1;
