/**
 * Dawn's limit notices are kept off stderr (src/backends/webgpu/dawn-stderr.ts). The filter swaps the
 * process's file descriptor 2, so it runs in child processes: a script writes what Dawn writes
 * straight to fd 2 inside withDawnNoticesFiltered, and the test reads where fd 2 really went.
 * (test/package.test.ts checks the real thing: a consumer training on Dawn prints nothing.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutDawnNotices } from '../src/backends/webgpu/dawn-stderr.js';

const UNIFORM = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';
const STORAGE = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';

describe('withoutDawnNotices', () => {
  it('drops exactly the two limit notices, whatever their numbers, and keeps every other line', () => {
    const text = `${UNIFORM}real error\n${STORAGE.replace('1000000', '500000')}Warning: something else\nlast, no newline`;
    expect(withoutDawnNotices(text)).toBe('real error\nWarning: something else\nlast, no newline');
    expect(withoutDawnNotices(UNIFORM + STORAGE)).toBe('');
  });
});

const linux = process.platform === 'linux';

describe.skipIf(!linux)('withDawnNoticesFiltered (fd 2 of a child process)', () => {
  let dir: string;
  let script: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgtorch-dawn-stderr-'));
    await build({
      entryPoints: [path.resolve('src/backends/webgpu/dawn-stderr.ts')],
      outfile: path.join(dir, 'dawn-stderr.mjs'),
      bundle: true, platform: 'node', format: 'esm', logLevel: 'warning',
    });
    // Writes as Dawn does (to the descriptor, not process.stderr), then once more after the call.
    script = path.join(dir, 'child.mjs');
    fs.writeFileSync(script, `
      import fs from 'node:fs';
      import { withDawnNoticesFiltered } from './dawn-stderr.mjs';
      let r;
      try {
        r = withDawnNoticesFiltered(() => {
          fs.writeSync(2, ${JSON.stringify(UNIFORM + 'real problem\n' + STORAGE)});
          if (process.argv[2] === 'throw') throw new Error('thrown');
          return 42;
        });
      } catch (e) { r = e.message; }
      process.stderr.write('after ' + r + '\\n');
      process.stdout.write(String(fs.readdirSync(process.env.TMPDIR).length));
    `);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the child with its stderr appended to a file; returns [stderr, stdout]. */
  function runToFile(flags: 'a' | 'w', env: Record<string, string> = {}, arg = ''): [string, string] {
    const tmp = fs.mkdtempSync(path.join(dir, 'tmp-'));
    const log = `${tmp}.stderr`;
    const fd = fs.openSync(log, flags);
    const r = spawnSync(process.execPath, [script, arg], { env: { ...process.env, ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', fd], encoding: 'utf8' });
    fs.closeSync(fd);
    expect(r.status).toBe(0);
    return [fs.readFileSync(log, 'utf8'), r.stdout];
  }

  it('a file opened for appending gets every line but the notices, in order, and no temp file is left', () => {
    // The temp file is unlinked as soon as it is open: the child's TMPDIR is empty afterwards (0).
    expect(runToFile('a')).toEqual(['real problem\nafter 42\n', '0']);
  });

  it('restores stderr when the call throws', () => {
    expect(runToFile('a', {}, 'throw')[0]).toBe('real problem\nafter thrown\n');
  });

  it('a pipe (the terminal case without a terminal) is filtered the same way', () => {
    // bash's `|` is a pipe(2) FIFO; Node's own child pipes are socketpairs (see the next case).
    const env = { ...process.env, TMPDIR: fs.mkdtempSync(path.join(dir, 'tmp-')) };
    const out = execFileSync('bash', ['-c', `"${process.execPath}" "${script}" 2>&1 >/dev/null | cat`], { env, encoding: 'utf8' });
    expect(out).toBe('real problem\nafter 42\n');
  });

  it('WGTORCH_DEBUG=1 lets everything through as it comes', () => {
    expect(runToFile('a', { WGTORCH_DEBUG: '1' })[0]).toBe(`${UNIFORM}real problem\n${STORAGE}after 42\n`);
  });

  it('leaves a file opened without O_APPEND and a socket alone (a reopen would not be the same file)', () => {
    // `node app.js > log 2>&1`: fd 1 shares fd 2's file offset, which a reopened file would not.
    expect(runToFile('w')[0]).toBe(`${UNIFORM}real problem\n${STORAGE}after 42\n`);
    const env = { ...process.env, TMPDIR: fs.mkdtempSync(path.join(dir, 'tmp-')) };
    const r = spawnSync(process.execPath, [script], { env, encoding: 'utf8' }); // stdio pipes are socketpairs
    expect(r.stderr).toBe(`${UNIFORM}real problem\n${STORAGE}after 42\n`);
  });
});
