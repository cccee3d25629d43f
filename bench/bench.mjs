// npm run bench -- [--quick] [--only matmul,seed] [--device cpu|webgpu]: bundles bench/run.ts with
// esbuild (the settings scripts/run-example.mjs uses) and runs it in this Node process.
// `node bench/bench.mjs --script cpu-matmul` runs bench/cpu-matmul.ts instead (the kernel probe).
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { alias, rawPlugin, root } from '../scripts/esbuild-common.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--script');
const name = at >= 0 ? args.splice(at, 2)[1] : 'run';
const entry = path.join(root, 'bench', `${name}.ts`);
if (!fs.existsSync(entry)) {
  console.error(`bench/${name}.ts does not exist`);
  process.exit(2);
}
const outfile = path.join(root, 'node_modules/.cache/wgtorch-bench', `${name}.mjs`);
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  alias,
  plugins: [rawPlugin],
  logLevel: 'warning',
});
const mod = await import(pathToFileURL(outfile).href);
process.exitCode = await mod.main(args, root);
