// Regression check: compares the same-run ratios in bench/results/latest.json with bench/baseline.json and fails
// when one is worse by more than the tolerance (30%: beyond run-to-run noise on a shared machine). Ratios are
// "ours per reference" (higher is better), so machine speed cancels out.
//
//   node dist/bench/check.js            check (exit 1 on a regression, a missing metric or a failed bench)
//   node dist/bench/check.js --update   write the current ratios as the new baseline

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, REPO_ROOT, RESULTS, type BenchResults } from './run.js';

export const BASELINE = join(REPO_ROOT, 'bench/baseline.json');
/** A ratio this much below its baseline (fraction) is a regression. */
export const TOLERANCE = 0.3;

/** bench/baseline.json: ratio per `bench/metric`. */
export interface Baseline { comment: string; tolerance: number; date: string; ratios: Record<string, number> }

/** Ratios of a results file keyed `bench/metric`. */
export function ratiosOf(r: BenchResults): Map<string, number> {
  const m = new Map<string, number>();
  for (const rep of r.results) for (const x of rep.metrics) if (x.ratio) m.set(`${rep.bench}/${x.name}`, x.ratio.value);
  return m;
}

/** Compare; returns the problems found (empty = pass) and a markdown table of every checked ratio. */
export function check(latest: BenchResults, base: Baseline): { problems: string[]; table: string } {
  const cur = ratiosOf(latest);
  const ran = new Set(latest.results.map((r) => r.bench));
  const tol = base.tolerance ?? TOLERANCE;
  const problems: string[] = [];
  const rows = ['| ratio | baseline | now | change | verdict |', '|---|---:|---:|---:|---|'];
  for (const [key, want] of Object.entries(base.ratios)) {
    const bench = key.slice(0, key.indexOf('/'));
    const now = cur.get(key);
    if (now === undefined) {
      if (ran.has(bench)) problems.push(`${key}: missing from ${bench}'s results (metric renamed? update the baseline)`);
      rows.push(`| ${key} | ${fmt(want)} | - | - | ${ran.has(bench) ? 'MISSING' : 'not run'} |`);
      continue;
    }
    const change = now / want - 1;
    const bad = now < want * (1 - tol);
    if (bad) problems.push(`${key}: ${fmt(now)} vs baseline ${fmt(want)} (${(change * 100).toFixed(0)}%, tolerance -${tol * 100}%)`);
    rows.push(`| ${key} | ${fmt(want)} | ${fmt(now)} | ${change >= 0 ? '+' : ''}${(change * 100).toFixed(0)}% | ${bad ? 'REGRESSION' : 'ok'} |`);
  }
  for (const [key, now] of cur) if (!(key in base.ratios)) rows.push(`| ${key} | - | ${fmt(now)} | - | new (not in baseline) |`);
  for (const f of latest.failures) problems.push(`${f.file} failed (exit ${f.status}): ${f.error.split('\n')[0]}`);
  return { problems, table: rows.join('\n') + '\n' };
}

function main(): number {
  if (!existsSync(RESULTS)) {
    console.error(`bench/check: ${RESULTS} not found; run 'npm run bench' first`);
    return 1;
  }
  const latest = JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchResults;
  if (process.argv.includes('--update')) {
    const prev = existsSync(BASELINE) ? (JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline) : undefined;
    const ratios = { ...(prev?.ratios ?? {}), ...Object.fromEntries(ratiosOf(latest)) };
    const b: Baseline = { comment: 'Same-run ratios (ours per reference, higher is better) from bench/results/latest.json; bench/check.ts fails when one drops by more than `tolerance`.', tolerance: prev?.tolerance ?? TOLERANCE, date: latest.date, ratios };
    writeFileSync(BASELINE, JSON.stringify(b, null, 1) + '\n');
    console.log(`bench/check: wrote ${BASELINE} (${Object.keys(ratios).length} ratios)`);
    return 0;
  }
  if (!existsSync(BASELINE)) {
    console.error(`bench/check: ${BASELINE} not found; create it with --update`);
    return 1;
  }
  const { problems, table } = check(latest, JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline);
  process.stdout.write(table);
  if (problems.length) {
    console.error(`bench/check: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.error('bench/check: no regression');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
