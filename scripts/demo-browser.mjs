#!/usr/bin/env node
// npm run demo:browser: bundles examples/browser/ for the browser and serves it on 127.0.0.1.
//
//   npm run demo:browser                 # http://127.0.0.1:5173/ (or a free port if 5173 is taken)
//   PORT=8080 npm run demo:browser       # exactly that port (0: any free one)
//   npm run demo:browser -- --dist       # import the built dist/wgtorch.browser.js (npm run build
//                                        # first) through package.json's "exports", as an app would
//
// Pages: / (the demo: ?steps=500&device=cpu&compare=1) and /conformance.html (ops.json in the page).
// 127.0.0.1 is a secure context, so navigator.gpu exists there. The bundle is rebuilt whenever a page
// is requested, so editing examples/browser/ or src/ only needs a reload. Nothing is written to disk.
import { context } from 'esbuild';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { alias, noDawnPlugin, rawPlugin, root } from './esbuild-common.mjs';

const site = path.join(root, 'examples/browser');
const useDist = process.argv.includes('--dist');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.png': 'image/png' };

if (useDist && !fs.existsSync(path.join(root, 'dist/wgtorch.browser.js'))) {
  console.error('dist/wgtorch.browser.js is missing: run `npm run build` first');
  process.exit(1);
}

const ctx = await context({
  entryPoints: { main: path.join(site, 'main.ts'), conformance: path.join(site, 'conformance.ts') },
  outdir: path.join(site, 'out'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: 'linked',
  write: false,
  logLevel: 'warning',
  // Without the alias, 'wgtorch' resolves through package.json "exports" (the "browser" condition).
  alias: useDist ? {} : alias,
  // tsconfig.json's "paths" also maps 'wgtorch' to src/: --dist must not read it.
  ...(useDist ? { tsconfigRaw: '{}' } : {}),
  plugins: [rawPlugin, noDawnPlugin],
  metafile: true,
});

/** The current bundle: output files by URL path. Rebuilt on every page request. */
let outputs = new Map();
let buildError = null;
async function rebuild() {
  try {
    const r = await ctx.rebuild();
    outputs = new Map(r.outputFiles.map((f) => [`/${path.relative(path.join(site, 'out'), f.path)}`, f.contents]));
    buildError = null;
    const lib = Object.keys(r.metafile.inputs).find((k) => /wgtorch\.browser\.js$|src\/index\.ts$/.test(k));
    return lib;
  } catch (e) {
    buildError = String(e.message ?? e);
    console.error(buildError);
    return null;
  }
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' }).end(body);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname === '/' ? '/index.html' : url.pathname;
  const ext = path.extname(p);
  if (ext === '.html') {
    await rebuild();
    if (buildError) {
      const esc = buildError.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
      return send(res, 500, 'text/html', `<!doctype html><title>build failed</title><h1>esbuild failed</h1><pre>${esc}</pre>`);
    }
  }
  if (outputs.has(p)) return send(res, 200, TYPES[ext] ?? 'application/octet-stream', outputs.get(p));
  // Static files of examples/browser/ only (no path escapes).
  const file = path.join(site, path.normalize(p));
  if (file.startsWith(site + path.sep) && ['.html', '.css', '.png'].includes(ext) && fs.existsSync(file)) {
    return send(res, 200, TYPES[ext], fs.readFileSync(file));
  }
  if (p === '/favicon.ico') return res.writeHead(204).end();
  send(res, 404, 'text/plain', `not found: ${p}`);
});

function listen(port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

const lib = await rebuild();
if (buildError) process.exit(1);

let port;
if (process.env.PORT !== undefined && process.env.PORT !== '') {
  port = await listen(Number(process.env.PORT)).catch((e) => {
    console.error(`cannot listen on 127.0.0.1:${process.env.PORT}: ${e.code ?? e.message}`);
    process.exit(1);
  });
} else {
  port = await listen(5173).catch((e) => (e.code === 'EADDRINUSE' ? listen(0) : Promise.reject(e)));
}
// Tests read this line to find the server: keep its shape.
console.log(`wgtorch browser demo: http://127.0.0.1:${port}/`);
console.log(`  wgtorch from ${lib}; conformance page: http://127.0.0.1:${port}/conformance.html`);
console.log('  open it in a browser with WebGPU (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu); Ctrl-C stops');

const stop = () => {
  server.close();
  void ctx.dispose().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
