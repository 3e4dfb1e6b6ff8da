// End-to-end reader throughput on the ~1 GiB benchmark capture (bench/gen-capture.ts), against `cat FILE >
// /dev/null` in the same run: MB/s and packets/s of CaptureReader (batches only, and batches plus a walk of the
// index), best of several runs after a warm-up that also fills the page cache. Prints one BenchReport JSON line.
//
//   node dist/bench/reader.bench.js          (FLOWCARVE_BENCH_SIZE=256MiB for a smaller file)

import { spawnSync } from 'node:child_process';
import { CaptureReader } from '../src/pcap/reader.js';
import { ensureCapture } from './gen-capture.js';
import type { BenchReport } from './run.js';

const RUNS = Number(process.env.FLOWCARVE_BENCH_RUNS ?? 3);

function best(times: number[]): number { return Math.min(...times); }

function timeCat(path: string): number {
  const t = performance.now();
  const r = spawnSync('sh', ['-c', 'cat "$1" > /dev/null', 'sh', path]);
  if (r.status !== 0) throw new Error(`cat failed: ${r.stderr}`);
  return (performance.now() - t) / 1000;
}

async function timeReader(path: string, walk: boolean): Promise<{ s: number; packets: number; bytes: number }> {
  const t = performance.now();
  let packets = 0, bytes = 0;
  for await (const b of new CaptureReader(path).batches()) {
    packets += b.count;
    if (walk) {
      const cl = b.caplen;
      for (let i = 0; i < b.count; i++) bytes += cl[i]!;
    }
  }
  return { s: (performance.now() - t) / 1000, packets, bytes };
}

async function main(): Promise<void> {
  const cap = ensureCapture({ log: (s) => console.error(s) });
  const MB = cap.bytes / 1e6;
  timeCat(cap.path); // warm the page cache
  await timeReader(cap.path, false); // warm the JIT
  const cat: number[] = [], rd: number[] = [], rw: number[] = [];
  let packets = 0;
  for (let k = 0; k < RUNS; k++) {
    cat.push(timeCat(cap.path));
    const a = await timeReader(cap.path, false);
    rd.push(a.s);
    packets = a.packets;
    const w = await timeReader(cap.path, true);
    rw.push(w.s);
    if (a.packets !== cap.packets || w.packets !== cap.packets) throw new Error(`read ${a.packets}/${w.packets} packets, generator wrote ${cap.packets}`);
  }
  const tc = best(cat), tr = best(rd), tw = best(rw);
  const report: BenchReport = {
    bench: 'reader',
    input: { path: cap.path, bytes: cap.bytes, packets },
    metrics: [
      { name: 'cat FILE > /dev/null', value: MB / tc, unit: 'MB/s' },
      { name: 'reader (batches)', value: MB / tr, unit: 'MB/s', ratio: { value: tc / tr, vs: 'cat' }, target: { min: 1500 } },
      { name: 'reader (batches) packet rate', value: packets / tr / 1e6, unit: 'Mpackets/s' },
      { name: 'reader + index walk', value: MB / tw, unit: 'MB/s', ratio: { value: tc / tw, vs: 'cat' }, target: { min: 1500 } },
      { name: 'reader time for the file', value: tr, unit: 's' },
      { name: 'cat time for the file', value: tc, unit: 's' },
    ],
  };
  console.error(`reader: ${(MB / tr).toFixed(0)} MB/s, ${(packets / tr / 1e6).toFixed(2)} Mpkt/s; cat ${(MB / tc).toFixed(0)} MB/s (runs: reader ${rd.map((x) => x.toFixed(3)).join(' ')}, cat ${cat.map((x) => x.toFixed(3)).join(' ')})`);
  console.log(JSON.stringify(report));
}

await main();
