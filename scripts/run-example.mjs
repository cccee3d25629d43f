// npm run example -- <name> [args]: bundles examples/<name>.ts with esbuild and runs its main() in Node.
import fs from 'node:fs';
import path from 'node:path';
import { importTs, root } from './esbuild-common.mjs';

const name = process.argv[2];
const entry = name && path.join(root, 'examples', `${name}.ts`);
if (!entry || !fs.existsSync(entry)) {
  const have = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  console.error(`usage: npm run example -- <name>   (one of: ${have.join(', ')})`);
  process.exit(2);
}
const mod = await importTs(entry, 'wgtorch-examples');
process.argv.splice(2, 1);
if (typeof mod.main !== 'function') {
  console.error(`examples/${name}.ts exports no main()`);
  process.exit(2);
}
await mod.main();
