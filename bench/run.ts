// Bench driver: runs every dist/bench/*.bench.js it finds (each one standalone, printing one JSON BenchReport on
// stdout), stores them in bench/results/latest.json and prints a markdown table. Each bench measures its reference
// (cat, tcpdump, a bare loop) in the same run, so ratios compare like with like on any machine.
//
//   node dist/bench/run.js [NAME...]        NAME filters bench files (e.g. reader ascii)
//
// A bench file prints (last line of its stdout) a BenchReport:
//   { "bench": "reader", "metrics": [ { "name": "reader", "value": 2900, "unit": "MB/s",
//       "ratio": { "value": 0.31, "vs": "cat FILE > /dev/null" } }, ... ] }
// `ratio.value` is always "ours per reference" in throughput terms (reference time / our time): higher is better,
// 3 means three times faster than the reference. bench/check.ts compares ratios against bench/baseline.json.

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One measured quantity; `ratio` when a reference was measured in the same run. */
export interface BenchMetric {
  name: string;
  value: number;
  unit: string;
  ratio?: { value: number; vs: string };
  /** A goal from the issue (e.g. reader ≥ 1500 MB/s), shown in the table. */
  target?: { min?: number; max?: number };
}

/** What one bench file prints. */
export interface BenchReport {
  bench: string;
  /** Input it ran on, if any (e.g. the 1 GiB capture). */
  input?: { path: string; bytes: number; packets?: number };
  metrics: BenchMetric[];
}

/** bench/results/latest.json. */
export interface BenchResults {
  date: string;
  node: string;
  platform: string;
  cpu: string;
  cpus: number;
  memGiB: number;
  results: BenchReport[];
  failures: Array<{ file: string; status: number | null; error: string }>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** Repository root (this file runs as dist/bench/run.js). */
export const REPO_ROOT = resolve(HERE, '../..');
export const RESULTS = join(REPO_ROOT, 'bench/results/latest.json');

/** Format a number for the table: 3 significant digits, integers kept whole. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

/** Markdown table of every metric with its same-run ratio. */
export function markdown(r: BenchResults): string {
  const rows = ['| bench | metric | value | ratio (same run) | target |', '|---|---|---:|---|---|'];
  for (const rep of r.results) {
    for (const m of rep.metrics) {
      const ratio = m.ratio ? `${fmt(m.ratio.value)}× vs ${m.ratio.vs}` : '';
      const target = m.target ? [m.target.min !== undefined ? `≥ ${fmt(m.target.min)}` : '', m.target.max !== undefined ? `≤ ${fmt(m.target.max)}` : ''].filter(Boolean).join(' ') + (
        (m.target.min === undefined || m.value >= m.target.min) && (m.target.max === undefined || m.value <= m.target.max) ? ' ✓' : ' ✗') : '';
      rows.push(`| ${rep.bench} | ${m.name} | ${fmt(m.value)} ${m.unit} | ${ratio} | ${target} |`);
    }
  }
  for (const f of r.failures) rows.push(`| ${f.file} | FAILED (exit ${f.status}) | | ${f.error.split('\n')[0]!.slice(0, 80)} | |`);
  return rows.join('\n') + '\n';
}

/** Parse the BenchReport a bench printed: the last stdout line that is a JSON object with `bench` and `metrics`. */
export function parseReport(stdout: string): BenchReport | null {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    const t = l.trim();
    if (!t.startsWith('{')) continue;
    try {
      const j = JSON.parse(t) as BenchReport;
      if (typeof j.bench === 'string' && Array.isArray(j.metrics)) return j;
    } catch { /* not JSON */ }
  }
  try {
    const j = JSON.parse(stdout) as BenchReport;
    if (typeof j.bench === 'string' && Array.isArray(j.metrics)) return j;
  } catch { /* not JSON */ }
  return null;
}

function main(): number {
  const filters = process.argv.slice(2);
  const dir = HERE;
  let files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort();
  if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
  if (files.length === 0) {
    console.error(`bench/run: no *.bench.js in ${dir}${filters.length ? ` matching ${filters.join(' ')}` : ''}`);
    return 1;
  }
  const out: BenchResults = {
    date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), results: [], failures: [],
  };
  for (const f of files) {
    console.error(`bench/run: ${f} ...`);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(dir, f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20, timeout: 30 * 60_000 });
    const rep = r.status === 0 ? parseReport(r.stdout) : null;
    if (rep) out.results.push(rep);
    else out.failures.push({ file: f, status: r.status, error: r.error?.message ?? (r.status === 0 ? 'no BenchReport JSON on stdout' : r.stdout.slice(-500)) });
    console.error(`bench/run: ${f} done in ${((performance.now() - t0) / 1000).toFixed(1)} s${rep ? '' : ' (FAILED)'}`);
  }
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(out, null, 1) + '\n');
  process.stdout.write(`\nBench results (${out.date}, node ${out.node}, ${out.cpus}× ${out.cpu})\n\n` + markdown(out));
  console.error(`bench/run: wrote ${RESULTS}`);
  return out.failures.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
