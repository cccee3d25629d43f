// Shared esbuild settings: WGSL sources are embedded as text (`import src from './x.wgsl?raw'`),
// and `wgtorch` resolves to this checkout's src/ for examples and the bench.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Maps `file?raw` imports to the file's text, as Vite does for the tests. */
export const rawPlugin = {
  name: 'raw',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path.replace(/\?raw$/, '')),
      namespace: 'raw-file',
    }));
    build.onLoad({ filter: /.*/, namespace: 'raw-file' }, async (args) => {
      const fs = await import('node:fs/promises');
      return { contents: await fs.readFile(args.path, 'utf8'), loader: 'text' };
    });
  },
};

/** For browser bundles: the Node-only Dawn package becomes a module that is never loaded. */
export const noDawnPlugin = {
  name: 'no-dawn',
  setup(build) {
    build.onResolve({ filter: /^webgpu$/ }, () => ({ path: 'webgpu', namespace: 'no-dawn' }));
    build.onLoad({ filter: /.*/, namespace: 'no-dawn' }, () => ({
      contents: 'export const create = undefined; export const globals = {};',
      loader: 'js',
    }));
  },
};

export const alias = { wgtorch: path.join(root, 'src/index.ts') };

/**
 * Bundles a TypeScript entry for Node (wgtorch → src/, `?raw` shaders, Dawn left external) into
 * node_modules/.cache/<cacheDir>/ and imports it: how examples, the bench and probes run.
 */
export async function importTs(entry, cacheDir) {
  const outfile = path.join(root, 'node_modules/.cache', cacheDir, `${path.basename(entry, '.ts')}.mjs`);
  return importBundle(entry, outfile, root);
}

/**
 * importTs() with `wgtorch` resolved to another checkout's src/ (`srcRoot`): bench/compare.ts
 * loads several checkouts' cases into one process this way.
 */
export async function importBundle(entry, outfile, srcRoot) {
  const { build } = await import('esbuild');
  const { pathToFileURL } = await import('node:url');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['webgpu'],
    alias: { wgtorch: path.join(srcRoot, 'src/index.ts') },
    plugins: [rawPlugin],
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}
