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
      // Measured on a quiet 2-core machine: 36-55 MB (wasm: the product is never computed, so no
      // block is bound; the collection hints keep the Tensor objects in check), 65-79 MB (JS
      // kernels: each product is a typed array until its tensor is collected). Before issue 10's
      // fix both passed 1 GB; before the recipes (session 4) the wasm backend grew 130-156 MB.
      const js = process.env.WGTORCH_CPU === 'js';
      expect(r.rssGrowthMB).toBeLessThan(js ? 160 : 80);
      if (r.heapGrowthMB !== null) expect(r.heapGrowthMB).toBeLessThan(8);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
