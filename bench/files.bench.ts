// File extraction throughput on the benchmark capture (bench/gen-capture.ts; its HTTP flows carry files,
// listed in <capture>.files.tsv): `flowcarve files --out DIR` with 1 and 2 workers (MB/s of input, peak RSS),
// beside `tcpflow -r FILE -o DIR` (stream reassembly only, C) in the same run; checks that every complete
// HTTP body of files.tsv is in our filestore. Then the floors of any tool that stores these files on this machine,
// measured in the same run: writing them (temp file + rename, no packet work), sha256 over their bytes, and reading
// the capture, in CPU seconds; their sum over the cores bounds `files --out` throughput from above.
// Prints one BenchReport JSON line, writes bench/results/files.json.
//
//   FLOWCARVE_BENCH_SIZE=64MiB node dist/bench/files.bench.js      (default 1 GiB)

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCapture, parseBenchSize, DEFAULT_SIZE } from './gen-capture.js';
import type { BenchMetric, BenchReport } from './run.js';

const SELF = fileURLToPath(import.meta.url);
const REPO = resolve(dirname(SELF), '../..');
const CLI = join(REPO, 'dist/src/cli/main.js');

/**
 * Write out dirty pages (`sync`), untimed: each timed run then starts without the previous run's writeback
 * pending (tcpflow and every --out run leave ~800 MB of new files the kernel would write back during the next).
 */
function settle(): number {
  const t0 = performance.now();
  spawnSync('sync');
  return (performance.now() - t0) / 1000;
}

/** Wall time, CPU seconds (user + system) and peak RSS (KiB) of a command (after settle()), via /usr/bin/time when present. */
function timed(cmd: string[]): { s: number; cpu: number; rssKiB: number; status: number | null; stderr: string } {
  settle();
  const hasTime = existsSync('/usr/bin/time');
  const args = hasTime ? ['/usr/bin/time', '-f', '__RSS %M __CPU %U %S', ...cmd] : cmd;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'ignore', 'pipe'] });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = /__RSS (\d+) __CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { s, cpu: m ? Number(m[2]) + Number(m[3]) : 0, rssKiB: m ? Number(m[1]) : 0, status: r.status, stderr: r.stderr ?? '' };
}

/** CPU seconds (user + system) this process spent in `f`, and its wall time. */
function cpuOf(f: () => void): { s: number; cpu: number } {
  const c0 = process.cpuUsage(), t0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { s: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/**
 * The store floor: write files of these sizes into a filestore layout (256 directories, each file a temp file
 * renamed into place, as ours and Suricata's are), 1 MiB per write, plain sync calls, no packet work at all.
 */
function writeFloor(dir: string, sizes: number[]): { s: number; cpu: number } {
  for (let i = 0; i < 256; i++) mkdirSync(join(dir, i.toString(16).padStart(2, '0')), { recursive: true });
  const buf = randomBytes(1 << 20);
  return cpuOf(() => {
    sizes.forEach((size, k) => {
      const tmp = join(dir, `tmp.${k}`);
      const fd = openSync(tmp, 'w');
      for (let left = size; left > 0; left -= buf.length) writeSync(fd, buf, 0, Math.min(left, buf.length));
      closeSync(fd);
      renameSync(tmp, join(dir, (k & 255).toString(16).padStart(2, '0'), `${k.toString(16).padStart(64, '0')}`));
    });
  });
}

/** The hash floor: sha256 over files of these sizes, 64 KiB per update. */
function hashFloor(sizes: number[]): { s: number; cpu: number } {
  const buf = randomBytes(1 << 16);
  return cpuOf(() => {
    for (const size of sizes) {
      const h = createHash('sha256');
      for (let left = size; left > 0; left -= buf.length) h.update(left >= buf.length ? buf : buf.subarray(0, left));
      h.digest();
    }
  });
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
    if (r.cpu) metrics.push({ name: `${name} CPU (user + system)`, value: r.cpu, unit: 's' });
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
  // Floors of any tool that stores the same files here: the distinct files our 1-worker run stored, written
  // with no packet work; sha256 over every file's bytes; reading the capture. Their CPU seconds over the cores
  // bound `files --out` from above on this machine (whatever the parsing costs, it only adds).
  const events = readFileSync(join(work, 'eve-1.json'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { fileinfo: { sha256: string; size: number; stored: boolean } }).fileinfo);
  const distinct = new Map<string, number>();
  for (const f of events) if (f.stored) distinct.set(f.sha256, f.size);
  const storeSizes = [...distinct.values()], allSizes = events.map((f) => f.size);
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  const floorDir = join(work, 'floor');
  settle();
  const w = writeFloor(floorDir, storeSizes);
  const writeback = settle();
  const h = hashFloor(allSizes);
  const rd = timed(['sh', '-c', 'cat "$1" > /dev/null', 'sh', cap.path]);
  const cores = availableParallelism();
  const cpu = w.cpu + h.cpu + rd.cpu;
  metrics.push({ name: `store floor: ${storeSizes.length} files, ${(sum(storeSizes) / 1e6).toFixed(0)} MB written, no packet work (input MB / wall s)`, value: MB / w.s, unit: 'MB/s' });
  metrics.push({ name: 'store floor CPU (user + system)', value: w.cpu, unit: 's' });
  metrics.push({ name: 'store floor writeback afterwards (sync, wall; not in the ceiling)', value: writeback, unit: 's' });
  metrics.push({ name: `sha256 floor: ${allSizes.length} files, ${(sum(allSizes) / 1e6).toFixed(0)} MB, CPU`, value: h.cpu, unit: 's' });
  metrics.push({ name: 'reading the capture (cat), CPU', value: rd.cpu, unit: 's' });
  metrics.push({ name: `ceiling of files --out here: input MB / ((store + sha256 + read CPU) / ${cores} cores)`, value: MB / (cpu / cores), unit: 'MB/s' });
  for (const m of metrics.filter((x) => x.name.startsWith('flowcarve files --workers') && x.unit === 'MB/s')) {
    metrics.push({ name: `${m.name} vs that ceiling`, value: m.value / (MB / (cpu / cores)), unit: 'x' });
  }
  console.error(`floors: store ${w.s.toFixed(2)} s wall, ${w.cpu.toFixed(2)} s CPU (${storeSizes.length} files), then sync ${writeback.toFixed(2)} s; sha256 ${h.cpu.toFixed(2)} s CPU; read ${rd.cpu.toFixed(2)} s CPU; ceiling on ${cores} cores ${(MB / (cpu / cores)).toFixed(0)} MB/s`);
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
