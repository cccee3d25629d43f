/** The published builds: a Node entry and a browser entry with no Node imports, plus types. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('npm run build', () => {
  it('writes dist/ with a browser build free of Node imports, and a working Node build', async () => {
    execFileSync('node', ['scripts/build.mjs'], { stdio: 'pipe' });
    const browser = fs.readFileSync('dist/wgtorch.browser.js', 'utf8');
    expect(browser).not.toMatch(/from\s*["']node:|import\(\s*["']node:|require\(/);
    expect(browser).toContain('@compute'); // shaders are embedded
    expect(fs.existsSync('dist/types/index.d.ts')).toBe(true);
    const torch = await import(/* @vite-ignore */ `${process.cwd()}/dist/wgtorch.node.js`);
    expect(String(torch.tensor([1, 2]).add(1))).toBe('tensor([2., 3.])');
  });
});
