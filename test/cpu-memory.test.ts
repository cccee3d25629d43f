/**
 * Issue 10's CPU memory item: 60,000 rounds of a 64×64 `mul` + `sum` + `item()` without dispose()
 * used to grow the process by ~500 MB before the collector caught up (it saw small Tensor objects,
 * not their arrays, and an `await item()` loop never let finalizers run). The loop runs in a child
 * process, so the numbers are this loop's alone; bounds are "tens of MB", not a timing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('CPU memory without dispose()', () => {
  it('60,000 rounds of mul + sum + item() stay within tens of MB', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgtorch-cpu-memory-'));
    const out = path.join(dir, 'child.mjs');
    try {
      await build({
        entryPoints: [fileURLToPath(new URL('./cpu-memory-child.ts', import.meta.url))],
        outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['webgpu'],
        loader: { '.wgsl': 'text' }, logLevel: 'error',
        plugins: [{ name: 'raw', setup: (b) => b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: path.resolve(a.resolveDir, a.path.slice(0, -4)) })) }],
      });
      const line = execFileSync(process.execPath, [out, '60000'], { encoding: 'utf8', env: process.env }).trim().split('\n').pop()!;
      const r = JSON.parse(line) as { rssGrowthMB: number; heapGrowthMB: number | null; finite: boolean };
      console.log(`cpu memory: ${line}`);
      expect(r.finite).toBe(true);
      // Measured on a loaded 2-core machine: ~70-120 MB (wasm), ~105 MB (JS kernels); before the
      // fix both passed 1 GB.
      expect(r.rssGrowthMB).toBeLessThan(250);
      // The wasm heap holds a few collection periods of 16 KiB blocks (measured 55-80 MB).
      if (r.heapGrowthMB !== null) expect(r.heapGrowthMB).toBeLessThan(150);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
