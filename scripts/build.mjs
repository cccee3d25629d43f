// npm run build: writes dist/ from scratch —
//   wgtorch.node.js        Node (Dawn's `webgpu` package loaded lazily, only if installed)
//   wgtorch.browser.js     browsers and bundlers (no Node imports, shaders embedded)
//   wgtorch.browser.min.js the same, minified, for a <script type="module"> or a CDN
//   *.map                  source maps (sources embedded: the package ships no src/)
//   types/                 declarations
// and reports each file's size. Also `prepack` (npm pack / publish) and `prepare` (git installs,
// and `npm ci` in this checkout).
//
//   node scripts/build.mjs --prepare       as above, but a clean no-op (one line) when the build tools
//                                           are not installed (`npm ci --omit=dev`): never fails an install.
//   node scripts/build.mjs --outdir <dir>  into <dir> instead of dist/ (test/build.test.ts)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { noDawnPlugin, rawPlugin, root } from './esbuild-common.mjs';

const require = createRequire(import.meta.url);
const at = process.argv.indexOf('--outdir');
const dist = at >= 0 ? path.resolve(process.argv[at + 1]) : path.join(root, 'dist');

// `npm pack` and `npm publish` run prepare as well as prepack: build once.
if (process.argv.includes('--prepare') && ['pack', 'publish'].includes(process.env.npm_command ?? '')) process.exit(0);

let esbuild, tsc;
try {
  esbuild = await import('esbuild');
  tsc = require.resolve('typescript/bin/tsc');
} catch (e) {
  if (!process.argv.includes('--prepare')) throw e;
  console.log(`wgtorch: build skipped, the build tools are not installed (${e.code ?? e.message})`);
  process.exit(0);
}

// Stale files (declarations of a deleted module, an old bundle) must not reach a tarball. Only what
// this script writes is removed, so a mistaken --outdir loses nothing else.
fs.rmSync(path.join(dist, 'types'), { recursive: true, force: true });
for (const f of fs.existsSync(dist) ? fs.readdirSync(dist) : []) {
  if (/^wgtorch\..*\.js(\.map)?$/.test(f)) fs.rmSync(path.join(dist, f));
}

const common = {
  entryPoints: [path.join(root, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
};
const browser = { ...common, platform: 'browser', target: 'es2022', plugins: [rawPlugin, noDawnPlugin] };
await Promise.all([
  esbuild.build({ ...common, outfile: path.join(dist, 'wgtorch.node.js'), platform: 'node', target: 'node20', external: ['webgpu'], plugins: [rawPlugin] }),
  esbuild.build({ ...browser, outfile: path.join(dist, 'wgtorch.browser.js') }),
  esbuild.build({ ...browser, outfile: path.join(dist, 'wgtorch.browser.min.js'), minify: true }),
]);
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(dist, 'types')], { cwd: root, stdio: 'inherit' });
// The public API names WebGPU's types (torch.webgpu.device(): GPUDevice); TypeScript only loads
// @types/* by itself, so the entry declaration asks for @webgpu/types (a dependency) explicitly.
const entryTypes = path.join(dist, 'types/index.d.ts');
fs.writeFileSync(entryTypes, `/// <reference types="@webgpu/types" />\n${fs.readFileSync(entryTypes, 'utf8')}`);

const shown = path.relative(root, dist).startsWith('..') ? dist : path.relative(root, dist);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const rows = ['wgtorch.node.js', 'wgtorch.browser.js', 'wgtorch.browser.min.js'].map((f) => {
  const bytes = fs.readFileSync(path.join(dist, f));
  return `  ${path.join(shown, f).padEnd(30)} ${kib(bytes.length).padStart(10)}  (gzip ${kib(gzipSync(bytes).length)})`;
});
const types = fs.readdirSync(path.join(dist, 'types'), { recursive: true }).filter((f) => f.endsWith('.d.ts'));
console.log(['built:', ...rows, `  ${path.join(shown, 'types')}/ (${types.length} declaration files)`].join('\n'));
