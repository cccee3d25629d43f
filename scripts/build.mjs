// npm run build: dist/wgtorch.node.js (Dawn loaded lazily), dist/wgtorch.browser.js (no Node
// imports, shaders embedded) and dist/types (declarations).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { noDawnPlugin, rawPlugin, root } from './esbuild-common.mjs';

const common = {
  entryPoints: [path.join(root, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
};
await build({ ...common, outfile: path.join(root, 'dist/wgtorch.node.js'), platform: 'node', target: 'node20', external: ['webgpu'], plugins: [rawPlugin] });
await build({ ...common, outfile: path.join(root, 'dist/wgtorch.browser.js'), platform: 'browser', target: 'es2022', plugins: [rawPlugin, noDawnPlugin] });
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
console.log('built dist/wgtorch.node.js, dist/wgtorch.browser.js, dist/types/');
