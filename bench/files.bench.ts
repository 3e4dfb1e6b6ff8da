// File extraction throughput on the benchmark capture (bench/gen-capture.ts; its HTTP flows carry files,
// listed in <capture>.files.tsv): `flowcarve files --out DIR` with 1 and 2 workers (MB/s of input, peak RSS),
// beside `tcpflow -r FILE -o DIR` (stream reassembly only, C) in the same run; checks that every complete
// HTTP body of files.tsv is in our filestore. Prints one BenchReport JSON line, writes bench/results/files.json.
//
//   FLOWCARVE_BENCH_SIZE=64MiB node dist/bench/files.bench.js      (default 1 GiB)

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCapture, parseBenchSize, DEFAULT_SIZE } from './gen-capture.js';
import type { BenchMetric, BenchReport } from './run.js';

const SELF = fileURLToPath(import.meta.url);
const REPO = resolve(dirname(SELF), '../..');
const CLI = join(REPO, 'dist/src/cli/main.js');

/** Wall time and peak RSS (KiB) of a command, via /usr/bin/time when present. */
function timed(cmd: string[]): { s: number; rssKiB: number; status: number | null; stderr: string } {
  const hasTime = existsSync('/usr/bin/time');
  const args = hasTime ? ['/usr/bin/time', '-f', '__RSS %M', ...cmd] : cmd;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'ignore', 'pipe'] });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = /__RSS (\d+)/.exec(r.stderr ?? '');
  return { s, rssKiB: m ? Number(m[1]) : 0, status: r.status, stderr: r.stderr ?? '' };
}

async function main(): Promise<void> {
  const size = process.env.FLOWCARVE_BENCH_SIZE ? parseBenchSize(process.env.FLOWCARVE_BENCH_SIZE) : DEFAULT_SIZE;
  const cap = ensureCapture({ size, log: (s) => console.error(s) });
  const MB = cap.bytes / 1e6;
  const metrics: BenchMetric[] = [];
  const work = mkdtempSync(join(tmpdir(), 'fc-files-bench-'));
  const tsv = readFileSync(cap.filesTsv, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const complete = tsv.filter((c) => c[7] === '1').map((c) => c[6]!);

  // tcpflow: reassembly only, one file per stream direction.
  let tcpflowS = 0;
  const tfDir = join(work, 'tcpflow');
  mkdirSync(tfDir);
  const tf = timed(['tcpflow', '-r', cap.path, '-o', tfDir]);
  if (tf.status === 0) {
    tcpflowS = tf.s;
    metrics.push({ name: 'tcpflow -r FILE -o DIR', value: MB / tf.s, unit: 'MB/s' });
    if (tf.rssKiB) metrics.push({ name: 'tcpflow peak RSS', value: tf.rssKiB / 1024, unit: 'MiB' });
    console.error(`tcpflow: ${tf.s.toFixed(2)} s, ${(MB / tf.s).toFixed(0)} MB/s, RSS ${(tf.rssKiB / 1024).toFixed(0)} MiB`);
  } else console.error(`tcpflow not run (${tf.status}): ${tf.stderr.slice(0, 200)}`);

  for (const workers of [1, 2]) {
    const out = join(work, `store-${workers}`);
    const r = timed([process.execPath, CLI, 'files', '--out', out, '--workers', String(workers), '--eve-out', join(work, `eve-${workers}.json`), cap.path]);
    if (r.status !== 0) throw new Error(`flowcarve files failed: ${r.stderr.slice(0, 500)}`);
    const missing = complete.filter((h) => !existsSync(join(out, h.slice(0, 2), h))).length;
    const name = `flowcarve files --workers ${workers}`;
    metrics.push({ name, value: MB / r.s, unit: 'MB/s', target: { min: 500 }, ...(tcpflowS ? { ratio: { value: tcpflowS / r.s, vs: 'tcpflow' } } : {}) });
    if (r.rssKiB) metrics.push({ name: `${name} peak RSS`, value: r.rssKiB / 1024, unit: 'MiB' });
    metrics.push({ name: `${name}: complete HTTP bodies of files.tsv missing from the store`, value: missing, unit: 'files', target: { max: 0 } });
    console.error(`${name}: ${r.s.toFixed(2)} s, ${(MB / r.s).toFixed(0)} MB/s, RSS ${(r.rssKiB / 1024).toFixed(0)} MiB, ${complete.length - missing}/${complete.length} bodies stored; ${r.stderr.trim().split('\n').filter((l) => !l.startsWith('__RSS')).pop()}`);
  }
  // Hash only (no filestore writes): the CPU cost of reassembly + parsing + hashing alone, 1 and 2 workers.
  for (const workers of [1, 2]) {
    const h = timed([process.execPath, CLI, 'files', '--no-store', '--workers', String(workers), '--eve-out', join(work, `eve-hash-${workers}.json`), cap.path]);
    if (h.status !== 0) continue;
    const name = workers === 1 ? 'flowcarve files --no-store (hash only)' : `flowcarve files --no-store --workers ${workers} (hash only)`;
    metrics.push({ name, value: MB / h.s, unit: 'MB/s', ...(tcpflowS ? { ratio: { value: tcpflowS / h.s, vs: 'tcpflow' } } : {}) });
    if (h.rssKiB) metrics.push({ name: `${name} peak RSS`, value: h.rssKiB / 1024, unit: 'MiB' });
    console.error(`${name}: ${h.s.toFixed(2)} s, ${(MB / h.s).toFixed(0)} MB/s, RSS ${(h.rssKiB / 1024).toFixed(0)} MiB`);
  }
  // Stores are deleted only now: on ext4, creating files right after deleting many makes the allocator skip
  // recently freed inodes (measured here: file creation 20-50x slower for a while), which would charge one
  // run's cleanup to the next run's time.
  rmSync(work, { recursive: true, force: true });
  const report: BenchReport = { bench: 'files', input: { path: cap.path, bytes: cap.bytes, packets: cap.packets }, metrics };
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(join(REPO, 'bench/results/files.json'), JSON.stringify(report, null, 1) + '\n');
  console.log(JSON.stringify(report));
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) await main();
