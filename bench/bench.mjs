// npm run bench -- [--quick] [--only matmul,seed] [--device cpu|webgpu]: bundles bench/run.ts with
// esbuild (scripts/esbuild-common.mjs, as the examples are) and runs it in this Node process.
// `node bench/bench.mjs --script <name>` runs bench/<name>.ts's main(args) instead: cpu-matmul (the
// CPU kernel probe), matmul-variants (the WebGPU kernel variants), seed-js (the seed loop's JS and
// GC per step), compare (checkouts' CPU cases in turns, in one process).
import fs from 'node:fs';
import path from 'node:path';
import { importTs, root } from '../scripts/esbuild-common.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--script');
const name = at >= 0 ? args.splice(at, 2)[1] : 'run';
const entry = path.join(root, 'bench', `${name}.ts`);
if (!fs.existsSync(entry)) {
  console.error(`bench/${name}.ts does not exist`);
  process.exit(2);
}
// The cache folder is per checkout: node_modules may be shared by several worktrees.
const mod = await importTs(entry, `wgtorch-bench-${path.basename(root)}`);
process.exitCode = await mod.main(args, root);
