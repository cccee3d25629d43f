/**
 * Autograd keeps only what gradient rules saved: intermediates a later rule does not need are
 * collectable while the graph waits for backward. Runs in a child Node with --expose-gc (the flag
 * cannot be turned on after start-up).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { devices } from './devices.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function bundleChild(): Promise<string> {
  const { build } = await import('esbuild');
  const common = pathToFileURL(path.join(here, '../scripts/esbuild-common.mjs')).href;
  const { rawPlugin } = (await import(/* @vite-ignore */ common)) as { rawPlugin: import('esbuild').Plugin };
  // Under node_modules so the child resolves the Dawn package (`webgpu`); a fresh folder per run.
  const cache = path.join(here, '../node_modules/.cache');
  fs.mkdirSync(cache, { recursive: true });
  const dir = fs.mkdtempSync(path.join(cache, 'wgtorch-graph-memory-'));
  const outfile = path.join(dir, 'child.mjs');
  await build({
    entryPoints: [path.join(here, 'graph-memory.child.ts')],
    outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    external: ['webgpu'], plugins: [rawPlugin], logLevel: 'warning',
  });
  return outfile;
}

describe.each(devices)('graph memory on %s', (device) => {
  it('a node does not keep its inputs alive; saved tensors stay', async () => {
    const child = await bundleChild();
    const script = `const m = await import(${JSON.stringify(child)}); console.log(JSON.stringify(await m.main(${JSON.stringify(device)}))); process.exit(0);`;
    let out: string;
    try {
      out = execFileSync('node', ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', env: process.env });
    } finally {
      fs.rmSync(path.dirname(child), { recursive: true, force: true });
    }
    const r = JSON.parse(out.trim().split('\n').pop()!) as { alive: Record<string, boolean>; gradShape: number[]; gradFinite: boolean };
    // a, b, t, e: used by rules that save nothing of them → collected. s: saved by mm for w's
    // gradient → kept. y: sigmoid saves its output, not its input → collected.
    expect(r.alive).toEqual({ a: false, b: false, t: false, e: false, s: true, y: false });
    expect(r.gradShape).toEqual([8, 8]);
    expect(r.gradFinite).toBe(true);
  });
});
