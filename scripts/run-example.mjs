// npm run example -- <name> [args]: bundles examples/<name>.ts with esbuild and runs it in Node.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { alias, rawPlugin, root } from './esbuild-common.mjs';

const name = process.argv[2];
const entry = name && path.join(root, 'examples', `${name}.ts`);
if (!entry || !fs.existsSync(entry)) {
  const have = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  console.error(`usage: npm run example -- <name>   (one of: ${have.join(', ')})`);
  process.exit(2);
}
const outfile = path.join(root, 'node_modules/.cache/wgtorch-examples', `${name}.mjs`);
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
process.argv.splice(2, 1);
const mod = await import(pathToFileURL(outfile).href);
if (typeof mod.main !== 'function') {
  console.error(`examples/${name}.ts exports no main()`);
  process.exit(2);
}
await mod.main();
