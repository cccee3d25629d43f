/**
 * `npm run build` (scripts/build.mjs) into a temporary folder: a Node entry, a readable and a
 * minified browser entry with no Node imports, source maps that carry their sources (the package
 * ships no src/), and declarations. test/package.test.ts uses the packed result as a user would.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NODE_IMPORT = /from\s*["']node:|import\(\s*["']node:|require\(/;

describe('npm run build', () => {
  let out: string;
  let log: string;
  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'wgtorch-build-'));
    log = execFileSync('node', ['scripts/build.mjs', '--outdir', out], { encoding: 'utf8' });
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  const read = (f: string) => fs.readFileSync(path.join(out, f), 'utf8');

  it('writes browser builds, readable and minified, free of Node imports and with the shaders embedded', () => {
    for (const f of ['wgtorch.browser.js', 'wgtorch.browser.min.js']) {
      const js = read(f);
      expect(js, f).not.toMatch(NODE_IMPORT);
      expect(js, f).toContain('@compute');
      expect(js, f).toContain(`//# sourceMappingURL=${f}.map`);
    }
    const min = fs.statSync(path.join(out, 'wgtorch.browser.min.js')).size;
    expect(min).toBeLessThan(0.75 * fs.statSync(path.join(out, 'wgtorch.browser.js')).size);
  });

  it('writes source maps whose sources are embedded', () => {
    for (const f of ['wgtorch.node.js.map', 'wgtorch.browser.js.map', 'wgtorch.browser.min.js.map']) {
      const map = JSON.parse(read(f)) as { sources: string[]; sourcesContent: (string | null)[] };
      expect(map.sources.some((s) => s.endsWith('src/tensor.ts')), f).toBe(true);
      expect(map.sourcesContent.length, f).toBe(map.sources.length);
      expect(map.sourcesContent.every((c) => typeof c === 'string' && c.length > 0), f).toBe(true);
    }
  });

  it('reports the size of each file it wrote', () => {
    for (const f of ['wgtorch.node.js', 'wgtorch.browser.js', 'wgtorch.browser.min.js']) {
      const kib = (fs.statSync(path.join(out, f)).size / 1024).toFixed(1);
      expect(log).toMatch(new RegExp(`/${f.replace(/\./g, '\\.')}\\s+${kib} KiB\\s+\\(gzip \\d+\\.\\d KiB\\)`));
    }
  });

  it('writes declarations that pull in the WebGPU types the API names', () => {
    expect(read('types/index.d.ts')).toMatch(/^\/\/\/ <reference types="@webgpu\/types" \/>\n/);
    expect(read('types/webgpu.d.ts')).toContain('GPUDevice');
  });

  it('writes a Node build that works', async () => {
    const torch = await import(/* @vite-ignore */ pathToFileURL(path.join(out, 'wgtorch.node.js')).href);
    expect(String(torch.tensor([1, 2]).add(1))).toBe('tensor([2., 3.])');
  });
});
