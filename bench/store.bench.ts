// Conditional store and carving benchmark. Sections (all by default, or pick with --only eve,store,carve):
//  eve   — EVE JSON Lines: our line split + JSON.parse (alerts prefilter and full parse) vs stream-json's jsonl parser
//  store — `alerts` mode store throughput (MB/s of input) on the bench capture with alerts on ~1% of flows
//  carve — carve latency of one flow from a ~1 GiB store vs `tcpdump -V SEGMENTS -w out 'host A and host B and port X and port Y'`
// Results go to bench/results/store.json. Capture size: FLOWCARVE_BENCH_SIZE (default 1 GiB, bench/gen-capture.ts).
//
//   node dist/bench/store.bench.js [--only eve,store,carve] [--size 256MiB] [--store-modes alerts,alertsNoPrefilter,all,walk]

import { createReadStream, readFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import JsonlParser from 'stream-json/jsonl/Parser.js';
import streamJson from 'stream-json';
import StreamValues from 'stream-json/streamers/StreamValues.js';
import { BENCH_DIR, ensureCapture, parseBenchSize } from './gen-capture.js';
import { readEveBatches } from '../src/eve/reader.js';
import { loadAlerts } from '../src/eve/reader.js';
import { CaptureReader } from '../src/pcap/reader.js';
import { decodeBatchPacket, PacketView, ipString, PROTO_TCP } from '../src/decode/index.js';
import { tupleKey, tupleHashAt } from '../src/eve/alert.js';
import { carve } from '../src/carve/carve.js';
import { listSegments } from '../src/store/segments.js';
import { storeCapture } from '../src/store/offline.js';
import { runFlows } from '../src/engine/run.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = process.argv.slice(2);
const argOf = (k: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const only = new Set((argOf('--only') ?? 'eve,store,carve').split(','));
const size = argOf('--size') ? parseBenchSize(argOf('--size')!) : undefined;
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
const log = (s: string) => process.stderr.write(s + '\n');

function mbps(bytes: number, ms: number): number {
  return Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
}

/** A large mixed eve.json (10% alerts) in the bench cache. */
async function eveFile(lines: number): Promise<string> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const p = join(BENCH_DIR, `eve-bench-${lines}.json`);
  if (existsSync(p)) return p;
  const ws = createWriteStream(p + '.tmp');
  for (let i = 0; i < lines; i++) {
    const ts = `2023-11-14T22:${String(13 + Math.floor(i / 600000) % 40).padStart(2, '0')}:${String(Math.floor(i / 10000) % 60).padStart(2, '0')}.${String(i % 1000000).padStart(6, '0')}+0000`;
    const base = `"timestamp":"${ts}","flow_id":${1234567890123456789n + BigInt(i)},"in_iface":"eth0","src_ip":"10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}","src_port":${1024 + (i % 60000)},"dest_ip":"192.0.2.${i % 250}","dest_port":443,"proto":"TCP","community_id":"1:${Buffer.from(String(i)).toString('base64')}"`;
    let line: string;
    if (i % 10 === 0) line = `{${base},"event_type":"alert","tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":${2000000 + (i % 5000)},"rev":3,"signature":"ET POLICY bench rule ${i % 5000}","category":"Potential Corporate Privacy Violation","severity":2},"flow":{"pkts_toserver":5,"pkts_toclient":4,"bytes_toserver":700,"bytes_toclient":3000,"start":"${ts}"}}`;
    else if (i % 3 === 0) line = `{${base},"event_type":"flow","flow":{"pkts_toserver":12,"pkts_toclient":20,"bytes_toserver":1400,"bytes_toclient":28000,"start":"${ts}","end":"${ts}","age":1,"state":"closed","reason":"timeout","alerted":false},"tcp":{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}`;
    else line = `{${base},"event_type":"tls","tls":{"subject":"CN=host${i % 997}.example.com","issuerdn":"CN=Bench CA","serial":"00:11:22:33","fingerprint":"aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd","sni":"host${i % 997}.example.com","version":"TLS 1.3","notbefore":"2023-01-01T00:00:00","notafter":"2024-01-01T00:00:00","ja3":{"hash":"e7d705a3286e19ea42f587b344ee6865"}}}`;
    if (!ws.write(line + '\n')) await new Promise<void>((r) => ws.once('drain', () => r()));
  }
  await new Promise<void>((r) => ws.end(() => r()));
  const { renameSync } = await import('node:fs');
  renameSync(p + '.tmp', p);
  return p;
}

async function benchEve(): Promise<void> {
  const p = await eveFile(400000);
  const bytes = statSync(p).size;
  const out: Record<string, unknown> = { file: p, bytes, lines: 400000 };
  const time = async (fn: () => Promise<number>) => { const t = performance.now(); const n = await fn(); return { n, ms: performance.now() - t }; };
  // Warm the page cache and the JIT once so the first timed reader is not charged for the disk.
  await loadAlerts([p]);
  const alertsOnly = await time(async () => (await loadAlerts([p])).alerts.length);
  const full = await time(async () => { let n = 0; for await (const b of readEveBatches(p)) n += b.length; return n; });
  const sj = await time(() => new Promise<number>((res, rej) => {
    let n = 0;
    const parser = JsonlParser.make();
    parser.on('data', () => { n++; });
    parser.on('end', () => res(n));
    parser.on('error', rej);
    createReadStream(p, { highWaterMark: 1 << 20 }).pipe(parser);
  }));
  const sjTokens = await time(() => new Promise<number>((res, rej) => {
    let n = 0;
    const parser = streamJson({ jsonStreaming: true });
    const values = StreamValues.make();
    values.on('data', () => { n++; });
    values.on('end', () => res(n));
    values.on('error', rej);
    parser.on('error', rej);
    createReadStream(p, { highWaterMark: 1 << 20 }).pipe(parser).pipe(values);
  }));
  out.streamJsonTokenParser = { events: sjTokens.n, ms: Math.round(sjTokens.ms), MBps: mbps(bytes, sjTokens.ms) };
  out.fullParseSpeedupVsStreamJsonTokens = Math.round((sjTokens.ms / full.ms) * 10) / 10;
  out.lineSplitAlerts = { alerts: alertsOnly.n, ms: Math.round(alertsOnly.ms), MBps: mbps(bytes, alertsOnly.ms) };
  out.lineSplitFullParse = { events: full.n, ms: Math.round(full.ms), MBps: mbps(bytes, full.ms) };
  out.streamJsonJsonl = { events: sj.n, ms: Math.round(sj.ms), MBps: mbps(bytes, sj.ms) };
  out.fullParseSpeedupVsStreamJsonJsonl = Math.round((sj.ms / full.ms) * 10) / 10;
  results.eve = out;
  log(`eve: ${JSON.stringify(out)}`);
}

/** An eve.json with one alert on ~1% of the capture's flows (their first data packet), cached beside it. */
async function alertsFor(capture: string): Promise<{ path: string; alerts: number; sample: Record<string, unknown> | null }> {
  const p = capture + '.alerts-1pct.json';
  if (existsSync(p)) {
    const { alerts } = await loadAlerts([p]);
    return { path: p, alerts: alerts.length, sample: alerts.length ? { ...alerts[Math.floor(alerts.length / 2)] } : null };
  }
  const seen = new Set<string>();
  const lines: string[] = [];
  const v = new PacketView();
  for await (const b of new CaptureReader(capture).batches()) {
    for (let i = 0; i < b.count; i++) {
      decodeBatchPacket(v, b, i);
      if (!v.ipVersion || v.isFragment) continue;
      if (v.proto === PROTO_TCP && v.payloadLen === 0) continue;
      const al = v.addrLen;
      const s = ipString(b.buf, v.src, al), d = ipString(b.buf, v.dst, al);
      const k = tupleKey(v.proto, s, v.srcPort, d, v.dstPort);
      if (seen.has(k)) continue;
      seen.add(k);
      if (tupleHashAt(v.proto, b.buf, v.src, al, v.srcPort, b.buf, v.dst, al, v.dstPort)[1] % 100 !== 0) continue;
      const sec = b.tsSec[i]!, us = Math.floor(b.tsNsec[i]! / 1000);
      const ts = new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(us).padStart(6, '0')}+0000`);
      const proto = v.proto === 6 ? 'TCP' : v.proto === 17 ? 'UDP' : v.proto === 1 ? 'ICMP' : String(v.proto);
      lines.push(`{"timestamp":"${ts}","flow_id":${1000000000000000000n + BigInt(lines.length)},"pcap_cnt":${b.firstIndex + i + 1},"event_type":"alert","src_ip":"${s}","src_port":${v.srcPort},"dest_ip":"${d}","dest_port":${v.dstPort},"proto":"${proto}","alert":{"signature_id":${9000000 + lines.length},"signature":"bench"}}`);
    }
  }
  writeFileSync(p, lines.join('\n') + '\n');
  return alertsFor(capture);
}

async function benchStore(): Promise<void> {
    const cap = ensureCapture({ log, ...(size ? { size } : {}) });
  const eve = await alertsFor(cap.path);
  const out: Record<string, unknown> = { capture: cap.path, bytes: cap.bytes, packets: cap.packets, flows: cap.flows, alerts: eve.alerts };
  const runs: Array<[string, 'alerts' | 'all', boolean]> = [['alerts', 'alerts', false], ['alertsNoPrefilter', 'alerts', true], ['all', 'all', false]];
  const pickModes = argOf('--store-modes')?.split(',');
  const prev = ((): Record<string, unknown> => {
    try { return (JSON.parse(readFileSync(join(ROOT, 'bench/results/store.json'), 'utf8')) as { store?: Record<string, unknown> }).store ?? {}; } catch { return {}; }
  })();
  for (const [label, mode, noPrefilter] of runs) {
    if (pickModes && !pickModes.includes(label)) { if (prev[label]) out[label] = prev[label]; continue; }
    const dir = join(BENCH_DIR, `store-${label}`);
    const { alerts } = await loadAlerts([eve.path]);
    // The fast mode is repeated (best and median of 3): a shared machine makes single wall times noisy.
    const reps = label === 'alerts' ? 3 : 1;
    const walls: number[] = [], cpus: number[] = [];
    let r!: Awaited<ReturnType<typeof storeCapture>>;
    for (let k = 0; k < reps; k++) {
      rmSync(dir, { recursive: true, force: true });
      const t = performance.now();
      const cpu0 = process.cpuUsage();
      r = await storeCapture([cap.path], { dir, mode, alerts, noPrefilter });
      walls.push(performance.now() - t);
      const cpu = process.cpuUsage(cpu0);
      cpus.push((cpu.user + cpu.system) / 1000);
    }
    walls.sort((x, y) => x - y); cpus.sort((x, y) => x - y);
    const ms = walls[0]!, med = walls[Math.floor(reps / 2)]!, cpuMs = cpus[0]!;
    // Wall time suffers from other load on a shared machine; CPU time of this process is reported beside it.
    out[label] = { ms: Math.round(ms), MBps: mbps(cap.bytes, ms), medianMs: Math.round(med), medianMBps: mbps(cap.bytes, med), cpuMs: Math.round(cpuMs),
      MBpsPerCpu: mbps(cap.bytes, cpuMs), loadavg: loadavg()[0], toFlowTable: r.input.toTable, storedPackets: r.counters.packets, storedBytes: r.counters.bytes,
      flowsStored: r.counters.flowsStored, matched: r.matched.length, unmatched: r.unmatched.length, segments: r.segments.length };
    log(`store ${label}: ${JSON.stringify(out[label])}`);
    if (label === 'alertsNoPrefilter') rmSync(dir, { recursive: true, force: true });
  }
  // Why the store runs in one thread: the full flow-table walk (no sink) with 0 and 2 shard workers, for comparison
  // with the prefiltered single-threaded store above (segments need one writer in capture order anyway).
  for (const workers of pickModes && !pickModes.includes('walk') ? [] : [0, 2]) {
    const t = performance.now();
    await runFlows([cap.path], { workers });
    const ms = performance.now() - t;
    out[`flowWalkWorkers${workers}`] = { ms: Math.round(ms), MBps: mbps(cap.bytes, ms), loadavg: loadavg()[0] };
    log(`flow walk, ${workers} workers: ${JSON.stringify(out[`flowWalkWorkers${workers}`])}`);
  }
  for (const k of ['flowWalkWorkers0', 'flowWalkWorkers2']) if (!out[k] && prev[k]) out[k] = prev[k];
  results.store = out;
}

async function benchCarve(): Promise<void> {
  const cap = ensureCapture({ log, ...(size ? { size } : {}) });
  const eve = await alertsFor(cap.path);
  const dir = join(BENCH_DIR, 'store-all');
  if (!existsSync(dir) || listSegments(dir).length === 0) {
        const { alerts } = await loadAlerts([eve.path]);
    await storeCapture([cap.path], { dir, mode: 'all', alerts });
  }
  const segs = listSegments(dir);
  let storeBytes = 0;
  for (const s of segs) storeBytes += statSync(s.path).size;
  const { alerts } = await loadAlerts([eve.path]);
  const a = alerts[Math.floor(alerts.length / 2)]!;
  const outDir = join(BENCH_DIR, 'carved');
  rmSync(outDir, { recursive: true, force: true });
  const times: number[] = [];
  let res = carve(a, { store: dir, out: outDir });
  for (let k = 0; k < 15; k++) {
    const t = performance.now();
    res = carve(a, { store: dir, out: outDir });
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  const carveMs = times[7]!;
  const carveBest = times[0]!;
  const out: Record<string, unknown> = { store: dir, storeBytes, segments: segs.length, packets: res.packets, carveMsMedian: Math.round(carveMs * 100) / 100, carveMsBest: Math.round(carveBest * 100) / 100 };
  const list = join(BENCH_DIR, 'segments.txt');
  writeFileSync(list, segs.map((s) => s.path).join('\n') + '\n');
  const filter = `host ${a.srcIp} and host ${a.destIp} and port ${a.srcPort} and port ${a.destPort}`;
  const td = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' }).stdout.trim();
  if (td) {
    // tcpdump's filtered scan of the same segments, best of 3 (page cache warm, like the carve runs).
    const tds: number[] = [];
    let r!: ReturnType<typeof spawnSync>;
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      r = spawnSync(td, ['-V', list, '-w', join(BENCH_DIR, 'tcpdump-carve.pcap'), filter], { encoding: 'utf8' });
      tds.push(performance.now() - t);
    }
    const ms = Math.min(...tds);
    const tdOut = readFileSync(join(BENCH_DIR, 'tcpdump-carve.pcap'));
    let tdPackets = 0;
    for (let q = 24; q + 16 <= tdOut.length; q += 16 + tdOut.readUInt32LE(q + 8)) tdPackets++;
    out.tcpdump = { ms: Math.round(ms), status: r.status, filter, packets: tdPackets };
    out.samePacketsAsTcpdump = tdPackets === res.packets && readFileSync(res.path).subarray(24).equals(tdOut.subarray(24));
    out.speedupVsTcpdump = Math.round(ms / carveMs);
    out.speedupBestVsBest = Math.round(ms / carveBest);
  } else out.tcpdump = 'not installed';
  results.carve = out;
  log(`carve: ${JSON.stringify(out)}`);
}

if (only.has('eve')) await benchEve();
if (only.has('store')) await benchStore();
if (only.has('carve')) await benchCarve();
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results/store.json');
// Sections not run this time keep their previous results.
let previous: Record<string, unknown> = {};
try { previous = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>; } catch { /* first run */ }
writeFileSync(file, JSON.stringify({ ...previous, ...results }, null, 1) + '\n');
log(`wrote ${file}`);
