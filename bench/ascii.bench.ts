// ASCII export throughput: AsciiPrinter.printBatchBytes over an in-memory prefix of the benchmark capture (tinybench),
// and end to end `flowcarve ascii FILE > /dev/null` against `tcpdump -tt -n -r FILE > /dev/null` on the same file in
// the same run (ratio = tcpdump time / our time; the issue asks for ≥ 3). Prints one BenchReport JSON line.
//
//   node dist/bench/ascii.bench.js     (FLOWCARVE_BENCH_SIZE=256MiB for a smaller file)
//
// Note: tcpdump's TCP sequence table is a 919-bucket chained hash that is never pruned, so on captures with
// hundreds of thousands of connections it slows down sharply; the ratio depends on the flow count of the capture.

import { closeSync, openSync, readSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Bench } from 'tinybench';
import { CaptureParser } from '../src/pcap/parser.js';
import type { PacketBatch } from '../src/pcap/batch.js';
import { AsciiPrinter } from '../src/ascii/printer.js';
import { ensureCapture } from './gen-capture.js';
import type { BenchMetric, BenchReport } from './run.js';

const MEM = 16 << 20;

/** Batches of the first MEM bytes of the capture. */
function loadBatches(path: string): { batches: PacketBatch[]; bytes: number } {
  const buf = Buffer.alloc(MEM);
  const fd = openSync(path, 'r');
  const n = readSync(fd, buf, 0, MEM, 0);
  closeSync(fd);
  const p = new CaptureParser('bench');
  const batches: PacketBatch[] = [];
  for (let o = 0; o < n; o += 1 << 20) batches.push(...p.push(buf.subarray(o, Math.min(n, o + (1 << 20)))));
  return { batches, bytes: n };
}

/** Wall time of a shell command in ms (stdout to /dev/null). */
function timeIt(cmd: string, args: string[]): number | null {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  if (r.error || (r.status !== 0 && r.status !== 1)) return null;
  return performance.now() - t0;
}

const cap = ensureCapture({ log: (s) => console.error(s) });
const { batches, bytes } = loadBatches(cap.path);
const bench = new Bench({ time: 2000 });
bench.add('printBatchBytes (16 MiB prefix)', () => {
  const pr = new AsciiPrinter();
  for (const b of batches) pr.printBatchBytes(b);
});
await bench.run();
const task = bench.tasks[0]!;
const meanMs = (task.result as unknown as { latency?: { mean: number }; mean?: number }).latency?.mean
  ?? (task.result as unknown as { mean: number }).mean;
const metrics: BenchMetric[] = [{ name: 'ascii printBatchBytes', value: Math.round(bytes / 1e6 / (meanMs / 1000)), unit: 'MB/s' }];

const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
const ours = timeIt(process.execPath, [cli, 'ascii', '--out', '/dev/null', cap.path]);
const hasTcpdump = spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0;
const theirs = hasTcpdump ? timeIt('sh', ['-c', `tcpdump -tt -n -r '${cap.path}' > /dev/null 2>&1`]) : null;
if (ours !== null) {
  const m: BenchMetric = { name: 'ascii end to end', value: Math.round(cap.bytes / 1e6 / (ours / 1000)), unit: 'MB/s', target: { min: 234 } };
  if (theirs !== null) m.ratio = { value: Number((theirs / ours).toFixed(2)), vs: 'tcpdump -tt -n -r FILE > /dev/null' };
  metrics.push(m);
}
const report: BenchReport = { bench: 'ascii', input: { path: cap.path, bytes: cap.bytes, packets: cap.packets }, metrics };
console.log(JSON.stringify(report));
