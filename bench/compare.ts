/**
 * Compares checkouts on the CPU cases in one process, taking turns:
 *
 *   node bench/bench.mjs --script compare <dir> [<dir> ...] [--only <regex>] [--rounds n]
 *
 * Each checkout's bench/cases.ts is bundled with that checkout's src/ (a worktree of an older
 * commit: `git worktree add /tmp/old <commit>`, its node_modules linked to this one's). The cases
 * all checkouts have (the seed net and the matmuls only when --only names them) run on the CPU in
 * blocks of about 20 ms, the checkouts in turn, after a warm-up of 300 ms each; the medians are
 * printed with each checkout's ratio to the first.
 *
 * Why: this 2-core machine's speed drifts by 2× within minutes, so two `npm run bench` runs minutes
 * apart compare the machine as much as the code. Runs taken in turns in one process see the same
 * machine. The price: one heap for all, so one checkout's garbage may be collected during
 * another's run (medians of many blocks mostly leave those runs out).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Case } from './cases.js';
import { median } from './measure.js';

interface Checkout {
  name: string;
  cases: Map<string, Case>;
}

async function load(dir: string, n: number, here: string): Promise<Checkout> {
  const root = path.resolve(dir);
  const entry = path.join(root, 'bench/cases.ts');
  if (!fs.existsSync(entry)) throw new Error(`${entry} does not exist`);
  // (loaded at run time: the bench's bundle must not hold esbuild)
  const common = pathToFileURL(path.join(here, 'scripts/esbuild-common.mjs')).href;
  const { importBundle } = (await import(common)) as { importBundle(entry: string, outfile: string, srcRoot: string): Promise<unknown> };
  const outfile = path.join(here, 'node_modules/.cache/wgtorch-compare', `cases-${n}.mjs`);
  const mod = (await importBundle(entry, outfile, root)) as { allCases(quick: boolean): Case[] };
  const cases = new Map(mod.allCases(false).map((c) => [`${c.section} ${c.series} ${c.label}`, c]));
  return { name: path.basename(root), cases };
}

const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toPrecision(3)} µs` : `${ms.toPrecision(3)} ms`);

export async function main(args: string[], here: string): Promise<number> {
  const dirs: string[] = [];
  let only: RegExp | null = null, rounds = 8;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--only') only = new RegExp(args[++i] ?? '');
    else if (args[i] === '--rounds') rounds = Number(args[++i]);
    else dirs.push(args[i]!);
  }
  if (dirs.length < 2) {
    console.error('usage: node bench/bench.mjs --script compare <dir> <dir> [...] [--only <regex>] [--rounds n]');
    return 2;
  }
  const checkouts: Checkout[] = [];
  for (const [i, d] of dirs.entries()) checkouts.push(await load(d, i, here));
  const time = async (run: () => Promise<void>) => {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  };
  console.log(`case${' '.repeat(44)}${checkouts.map((c) => c.name.padStart(14)).join('')}  ratios to ${checkouts[0]!.name}`);
  for (const key of checkouts[0]!.cases.keys()) {
    const long = /^(seed|matmul) /.test(key);
    if (only ? !only.test(key) : long) continue;
    if (!checkouts.every((c) => c.cases.has(key))) continue;
    const runs = [];
    for (const c of checkouts) {
      const prepared = await c.cases.get(key)!.prepare();
      runs.push({ prepared, inst: prepared.on('cpu'), times: [] as number[] });
    }
    let est = 0;
    for (const r of runs) {
      let spent = 0, t = 0;
      while (spent < 300) spent += t = await time(() => r.inst.run());
      est = Math.max(est, t);
    }
    const block = Math.max(1, Math.min(200, Math.round(20 / Math.max(est, 1e-3))));
    for (let k = 0; k < rounds; k++) for (const r of runs) for (let j = 0; j < block; j++) r.times.push(await time(() => r.inst.run()));
    const bad = [];
    for (const r of runs) bad.push(await r.inst.check());
    const m = runs.map((r) => median(r.times));
    console.log(
      key.padEnd(48) + m.map((x) => fmt(x).padStart(14)).join('') + '  ' + m.slice(1).map((x) => (x / m[0]!).toFixed(2)).join(' ') +
        bad.map((b, i) => (b ? `  ${checkouts[i]!.name}: ${b}` : '')).join(''),
    );
    for (const r of runs) {
      r.inst.dispose();
      r.prepared.close();
    }
  }
  return 0;
}
