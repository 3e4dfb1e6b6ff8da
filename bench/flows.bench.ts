// Flow pipeline throughput on the benchmark capture (bench/gen-capture.ts; FLOWCARVE_BENCH_SIZE=256MiB for a
// smaller file): `flowcarve flows` and `flowcarve split` end to end with 1 and 2 workers (MB/s, packets/s, peak
// RSS) beside `tcpdump -r FILE -w /dev/null` in the same run; and the parallel designs behind the same flow work:
//   broadcast — the engine's design: plain files read straight into a SharedArrayBuffer ring of record-aligned
//               batches, the main thread maps packets to shards, every worker keeps only its flows;
//   route     — the main thread decodes + hashes every packet and copies it into its shard's batch, batches are
//               transferred (and recycled) to the shard, by plain worker_threads messages or by piscina tasks
//               (one single-thread pool per shard, so ordering stays ours).
// Prints one BenchReport JSON line and writes bench/results/flows.json.
//
//   node dist/bench/flows.bench.js

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { CaptureReader } from '../src/pcap/reader.js';
import { INDEX_BYTES_PER_PACKET, viewBatch, type PacketBatch } from '../src/pcap/batch.js';
import { decodeBatchPacket } from '../src/decode/decode.js';
import { PacketView } from '../src/decode/view.js';
import { KeyBuilder, shardOf } from '../src/flow/key.js';
import { ShardCore } from '../src/engine/core.js';
import { makeFlowIdFn, runFlows } from '../src/engine/run.js';
import type { BenchMetric, BenchReport } from './run.js';

const SELF = fileURLToPath(import.meta.url);
const REPO = resolve(dirname(SELF), '../..');
const CLI = join(REPO, 'dist/src/cli/main.js');
const RUNS = Number(process.env.FLOWCARVE_BENCH_RUNS ?? 2);
/** Routed batch: 1 MiB of packet bytes, index for 16k packets. */
const ROUTE_BYTES = 1 << 20, ROUTE_CAP = 16384, IN_FLIGHT = 4;

/** One ArrayBuffer per routed batch: index (ROUTE_CAP packets) then packet bytes, so one transfer moves both. */
interface RouteMsg { ab: ArrayBuffer; len: number; count: number; end?: boolean }
const IDX = ROUTE_CAP * INDEX_BYTES_PER_PACKET;

// ---- shard side of the "route" design (plain worker or piscina task); state lives per worker thread ----
let core: Promise<ShardCore> | null = null;
/** The worker's one ShardCore (memoised promise: concurrent first tasks must not build two). */
function routeCore(): Promise<ShardCore> {
  core ??= makeFlowIdFn().then((id) => new ShardCore({ worker: 0, workers: 1 }, [], id));
  return core;
}
/** Process a routed batch and hand its buffer back, or at the end the number of flows. */
function routeHandle(c: ShardCore, m: RouteMsg): ArrayBuffer | number {
  if (m.end) { c.finish(); return c.table.counters.flows; }
  c.processBatch(viewBatch(new Uint8Array(m.ab, IDX, m.len), m.ab, ROUTE_CAP, m.count, 'route', 0));
  return m.ab;
}
/** piscina task entry. */
export default async function piscinaTask(m: RouteMsg): Promise<unknown> {
  const r = routeHandle(await routeCore(), m);
  return typeof r === 'number' ? r : Piscina.move(r);
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'route') {
  const c = await routeCore();
  parentPort!.on('message', (m: RouteMsg) => {
    const r = routeHandle(c, m);
    parentPort!.postMessage(r, typeof r === 'number' ? [] : [r]);
  });
}

/** Main-thread router: decode + hash every packet, copy it into its shard's batch, ship full batches. */
async function routeRun(file: string, n: number, via: 'threads' | 'piscina'): Promise<{ s: number; flows: number }> {
  const t0 = performance.now();
  type Send = (m: RouteMsg) => Promise<ArrayBuffer | number>;
  const sends: Send[] = [];
  const closers: Array<() => Promise<void>> = [];
  for (let w = 0; w < n; w++) {
    if (via === 'piscina') {
      const pool = new Piscina({ filename: SELF, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1 });
      sends.push((m) => pool.run(m, { transferList: m.end ? [] : [m.ab] }) as Promise<ArrayBuffer | number>);
      closers.push(() => pool.destroy());
    } else {
      const wk = new Worker(SELF, { workerData: { role: 'route' } });
      const waiting: Array<(m: ArrayBuffer | number) => void> = [];
      wk.on('message', (m: ArrayBuffer | number) => waiting.shift()!(m));
      wk.on('error', (e) => { throw e; });
      sends.push((m) => new Promise((res) => { waiting.push(res); wk.postMessage(m, m.end ? [] : [m.ab]); }));
      closers.push(async () => { await wk.terminate(); });
    }
  }
  const free: ArrayBuffer[][] = [], inflight: Array<Set<Promise<unknown>>> = [], cur: Array<{ m: RouteMsg; b: PacketBatch }> = [];
  const fresh = (ab?: ArrayBuffer) => {
    const msg: RouteMsg = { ab: ab ?? new ArrayBuffer(IDX + ROUTE_BYTES), len: 0, count: 0 };
    return { m: msg, b: viewBatch(new Uint8Array(msg.ab, IDX), msg.ab, ROUTE_CAP, 0, 'route', 0) };
  };
  for (let w = 0; w < n; w++) { free.push([]); inflight.push(new Set()); cur.push(fresh()); }
  const ship = async (w: number): Promise<void> => {
    const c = cur[w]!;
    c.m.count = c.b.count;
    const p: Promise<unknown> = sends[w]!(c.m).then((back) => { inflight[w]!.delete(p); free[w]!.push(back as ArrayBuffer); });
    inflight[w]!.add(p);
    while (free[w]!.length === 0 && inflight[w]!.size >= IN_FLIGHT) await Promise.race(inflight[w]!);
    cur[w] = fresh(free[w]!.pop());
  };
  const v = new PacketView(), kb = new KeyBuilder();
  for await (const batch of new CaptureReader(file).batches()) {
    for (let i = 0; i < batch.count; i++) {
      decodeBatchPacket(v, batch, i);
      let w = 0;
      if (v.ipVersion !== 0) { kb.build(v, v.srcPort, v.dstPort); w = shardOf(kb.hash(), n); }
      const c = cur[w]!;
      const len = batch.caplen[i]!;
      if (c.b.count === ROUTE_CAP || c.m.len + len > ROUTE_BYTES) await ship(w);
      const d = cur[w]!;
      const k = d.b.count++, o = batch.offset[i]!;
      d.b.buf.set(batch.buf.subarray(o, o + len), d.m.len);
      d.b.offset[k] = d.m.len; d.b.caplen[k] = len; d.b.origlen[k] = batch.origlen[i]!;
      d.b.tsSec[k] = batch.tsSec[i]!; d.b.tsNsec[k] = batch.tsNsec[i]!; d.b.linkType[k] = batch.linkType[i]!;
      d.m.len += len;
    }
  }
  let flows = 0;
  for (let w = 0; w < n; w++) {
    if (cur[w]!.b.count) await ship(w);
    await Promise.all(inflight[w]!);
    flows += (await sends[w]!({ ab: new ArrayBuffer(0), len: 0, count: 0, end: true })) as number;
  }
  const s = (performance.now() - t0) / 1000;
  for (const c of closers) await c();
  return { s, flows };
}

/** Wall time and peak RSS (KiB) of a command, via /usr/bin/time when present. */
function timed(cmd: string[], out = '/dev/null'): { s: number; rssKiB: number; stderr: string } {
  const hasTime = spawnSync('sh', ['-c', 'test -x /usr/bin/time']).status === 0;
  const args = hasTime ? ['/usr/bin/time', '-f', '__RSS %M', ...cmd] : cmd;
  const t = performance.now();
  const r = spawnSync('sh', ['-c', '"$@" > ' + out, 'sh', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const m = /__RSS (\d+)/.exec(r.stderr);
  return { s, rssKiB: m ? Number(m[1]) : 0, stderr: r.stderr };
}

function bestOf<T extends { s: number }>(k: number, f: () => T): T {
  let best: T | null = null;
  for (let i = 0; i < k; i++) { const r = f(); if (!best || r.s < best.s) best = r; }
  return best!;
}

async function main(): Promise<void> {
  const { ensureCapture } = await import('./gen-capture.js');
  const cap = ensureCapture({ log: (s: string) => console.error(s) });
  const MB = cap.bytes / 1e6, P = cap.packets;
  const metrics: BenchMetric[] = [];
  const rate = (name: string, s: number, extra: Partial<BenchMetric> = {}, rssKiB = 0, vs?: number) => {
    metrics.push({ name, value: MB / s, unit: 'MB/s', ...(vs ? { ratio: { value: vs / s, vs: 'tcpdump -r FILE -w /dev/null' } } : {}), ...extra });
    metrics.push({ name: `${name} packet rate`, value: P / s / 1e6, unit: 'Mpackets/s' });
    if (rssKiB) metrics.push({ name: `${name} peak RSS`, value: rssKiB / 1024, unit: 'MiB' });
    console.error(`${name}: ${s.toFixed(2)} s, ${(MB / s).toFixed(0)} MB/s, ${(P / s / 1e6).toFixed(2)} Mpkt/s${rssKiB ? `, RSS ${(rssKiB / 1024).toFixed(0)} MiB` : ''}`);
  };
  spawnSync('sh', ['-c', 'cat "$1" > /dev/null', 'sh', cap.path]); // page cache
  const td = bestOf(RUNS, () => timed(['tcpdump', '-r', cap.path, '-w', '/dev/null']));
  rate('tcpdump -r FILE -w /dev/null', td.s, {}, td.rssKiB);
  for (const w of [1, 2]) {
    const f = bestOf(RUNS, () => timed([process.execPath, CLI, 'flows', '--workers', String(w), cap.path]));
    rate(`flows --workers ${w}`, f.s, w === 2 ? { target: { min: 1000 } } : {}, f.rssKiB, td.s);
  }
  // The floor of any one-file-per-flow split on this file system: create as many files as the capture has flows,
  // each with one write of the mean flow size and a close (plain sync syscalls, no packet work at all).
  // Output directories are deleted only after every timed run: on ext4 here, creating files soon after deleting
  // many is several times slower for a while, which would charge one run's cleanup to the next.
  const trash: string[] = [];
  const floor = bestOf(RUNS, () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowcarve-split-floor-'));
    trash.push(dir);
    const per = Buffer.alloc(Math.max(24, Math.round(cap.bytes / cap.flows)));
    const t = performance.now();
    for (let k = 0; k < cap.flows; k++) { const fd = openSync(join(dir, `${k.toString(16).padStart(40, '0')}.pcap`), 'w'); writeSync(fd, per); closeSync(fd); }
    return { s: (performance.now() - t) / 1000 };
  });
  rate(`file-creation floor: ${cap.flows} files (open, one write, close)`, floor.s, {}, 0, td.s);
  for (const w of [1, 2]) {
    const sp = bestOf(RUNS, () => {
      const dir = mkdtempSync(join(tmpdir(), 'flowcarve-split-bench-'));
      trash.push(dir);
      return timed([process.execPath, CLI, 'split', '--workers', String(w), '--out', dir, cap.path]);
    });
    rate(`split --workers ${w}`, sp.s, {}, sp.rssKiB, td.s);
    metrics.push({ name: `split --workers ${w} vs the file-creation floor`, value: floor.s / sp.s, unit: 'x', ratio: { value: floor.s / sp.s, vs: 'file-creation floor' } });
  }
  for (const d of trash) rmSync(d, { recursive: true, force: true });
  // Designs, in-process, same flow work (no output): sequential, broadcast ring, per-packet routing ×2 transports.
  const lib = async (w: number) => { const t = performance.now(); const r = await runFlows([cap.path], { workers: w }); return { s: (performance.now() - t) / 1000, flows: r.counters.table.flows }; };
  const designs: Array<[string, () => Promise<{ s: number; flows: number }>]> = [
    ['design: sequential (1 thread)', () => lib(1)],
    ['design: broadcast SAB ring + main-thread shard map, 2 workers (kept)', () => lib(2)],
    ['design: per-packet routing, 2 worker_threads', () => routeRun(cap.path, 2, 'threads')],
    ['design: per-packet routing, 2 piscina pools', () => routeRun(cap.path, 2, 'piscina')],
  ];
  const flowsSeen: Record<string, number> = {};
  for (const [name, f] of designs) {
    let best = Infinity;
    for (let k = 0; k < RUNS; k++) { const r = await f(); best = Math.min(best, r.s); flowsSeen[name] = r.flows; }
    rate(name, best, {}, 0, td.s);
  }
  const report: BenchReport = { bench: 'flows', input: { path: cap.path, bytes: cap.bytes, packets: P }, metrics };
  const out = join(REPO, 'bench/results/flows.json');
  mkdirSync(dirname(out), { recursive: true });
  // The load average says how much the numbers are worth on a shared machine.
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), flowsPerDesign: flowsSeen, ...report }, null, 1) + '\n');
  console.log(JSON.stringify(report));
}

if (isMainThread) await main();
