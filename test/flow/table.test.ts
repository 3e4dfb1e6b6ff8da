// The flow table's timeouts against a brute-force model: random UDP traffic between a few hosts over a few minutes
// of capture time (generated here, deterministic), where the model scans every flow at every packet. The table
// must end exactly the same flows, at the same packet, with the same counters — for 1 and 3 workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../_util.js';
import { runFlows } from '../../src/engine/run.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { ether, ipv4, tcp, udp, type Frame } from '../../fixtures/make/packet.js';

interface Pkt { t: number; a: number; b: number; sp: number; dp: number }

function traffic(n: number, seed: number): Pkt[] {
  let x = seed;
  const rnd = (m: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % m; };
  const out: Pkt[] = [];
  let t = 1700000000;
  for (let i = 0; i < n; i++) {
    t += rnd(100) < 3 ? 20 + rnd(40) : rnd(2000) / 1000; // mostly dense, sometimes a 20-60 s gap
    const a = rnd(6), b = 6 + rnd(4), sp = 1000 + rnd(3), dp = 53;
    out.push(rnd(2) ? { t, a, b, sp, dp } : { t, a: b, b: a, sp: dp, dp: sp });
  }
  return out;
}

/** Reference: at each packet, end (timeout) every flow idle beyond its state's timeout, then account the packet. */
function model(pk: Pkt[], to: { new: number; est: number }): string[] {
  const live = new Map<string, { first: Pkt; last: number; ts: number; tc: number; cs: number }>();
  const ended: string[] = [];
  const end = (k: string, why: string, at: number) => {
    const f = live.get(k)!;
    ended.push(`${at} ${f.first.t} ${k} ${f.ts}/${f.tc} ${why}`);
    live.delete(k);
  };
  for (const p of pk) {
    const due: Array<[string, number]> = [];
    for (const [k, f] of live) if (p.t - f.last > (f.ts && f.tc ? to.est : to.new)) due.push([k, f.first.t]);
    due.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
    for (const [k] of due) end(k, 'timeout', p.t);
    const k = [`${p.a}:${p.sp}`, `${p.b}:${p.dp}`].sort().join('-');
    let f = live.get(k);
    if (!f) live.set(k, (f = { first: p, last: p.t, ts: 0, tc: 0, cs: p.a }));
    if (p.a === f.cs) f.ts++; else f.tc++;
    f.last = p.t;
  }
  const last = pk[pk.length - 1]!.t;
  for (const k of [...live.keys()]) end(k, 'shutdown', last);
  return ended;
}

/**
 * Write the packets of a model run as a capture (`ip(p)` builds each IP datagram, addresses 10.0.N.(host+1)),
 * moving each packet's time to its µs-rounded value: the table computes times that way, so must the model.
 */
function writeCapture<P extends { t: number; a: number; b: number }>(pk: P[], net: number, ip: (p: P, s: string, d: string) => Uint8Array, name: string): string {
  const frames: Frame[] = pk.map((p) => {
    const s = `10.0.${net}.${p.a + 1}`, d = `10.0.${net}.${p.b + 1}`;
    const sec = Math.floor(p.t), usec = Math.round((p.t - sec) * 1e6);
    return { sec, nsec: usec * 1000, data: ether(0x0800, ip(p, s, d)) };
  });
  pk.forEach((p, i) => { p.t = frames[i]!.sec + frames[i]!.nsec * 1e-9; });
  const file = join(tmpDir(), name);
  writeFileSync(file, classicPcap(frames));
  return file;
}

/** A flow record in the models' terms: end time, start time, canonical endpoint pair, packets each way. */
function described(f: FlowRecord): string {
  const a = Number(f.srcIp.split('.')[3]) - 1, b = Number(f.dstIp.split('.')[3]) - 1;
  const k = [`${a}:${f.srcPort}`, `${b}:${f.dstPort}`].sort().join('-');
  return `${f.endedAt} ${f.startSec + f.startNsec * 1e-9} ${k} ${f.pktsToServer}/${f.pktsToClient}`;
}

test('timeouts match a brute-force model on random UDP traffic, for 1 and 3 workers', async () => {
  const pk = traffic(3000, 42);
  const file = writeCapture(pk, 0, (p, s, d) => ipv4({ src: s, dst: d, proto: 17 }, udp(s, d, p.sp, p.dp, new Uint8Array(4))), 'udp-random.pcap');
  const want = model(pk, { new: 7, est: 13 });
  for (const workers of [1, 3]) {
    const got: string[] = [];
    const r = await runFlows([file], {
      workers, table: { timeouts: { udp: { new: 7, established: 13 } } },
      onFlow: (f) => got.push(`${described(f)} ${f.reason}`),
    });
    // Same flows ending at the same packet; output order ties (same end packet) sort by start time then key.
    assert.equal(got.length, want.length, `workers ${workers}`);
    assert.deepEqual([...got].sort(), [...want].sort(), `workers ${workers}`);
    assert.equal(r.counters.table.timeouts, want.filter((w) => w.endsWith('timeout')).length);
    assert.ok(r.counters.table.timeouts > 100, String(r.counters.table.timeouts));
  }
});

interface TPkt { t: number; a: number; b: number; sp: number; dp: number; fl: number }

/** Random TCP segments (SYN, SYN/ACK, ACK, FIN, RST) among a few endpoints: states, closes, tuple reuse. */
function tcpTraffic(n: number, seed: number): TPkt[] {
  let x = seed;
  const rnd = (m: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % m; };
  const FLAGS = [0x02, 0x02, 0x12, 0x10, 0x18, 0x11, 0x11, 0x04, 0x04];
  const out: TPkt[] = [];
  let t = 1700000000;
  for (let i = 0; i < n; i++) {
    t += rnd(100) < 2 ? 5 + rnd(20) : rnd(1500) / 1000;
    const a = rnd(4), b = 4 + rnd(2), sp = 2000 + rnd(2), dp = 80, fl = FLAGS[rnd(FLAGS.length)]!;
    out.push(rnd(2) ? { t, a, b, sp, dp, fl } : { t, a: b, b: a, sp: dp, dp: sp, fl });
  }
  return out;
}

/** Reference for TCP: state per class timeouts, FIN both ways / RST close, reuse by a bare SYN, max-flows eviction. */
function tcpModel(pk: TPkt[], to: [number, number, number], maxFlows: number): string[] {
  interface F { first: TPkt; last: number; ts: number; tc: number; client: number; state: number; fin: number; seq: number }
  const live = new Map<string, F>();
  const ended: string[] = [];
  const names = ['new', 'established', 'closed'];
  let seq = 0;
  const end = (k: string, why: string, at: number) => {
    const f = live.get(k)!;
    ended.push(`${at} ${f.first.t} ${k} ${f.ts}/${f.tc} ${names[f.state]} ${why}`);
    live.delete(k);
  };
  for (const p of pk) {
    for (const [k, f] of [...live]) if (p.t - f.last > to[f.state]!) end(k, 'timeout', p.t);
    const k = [`${p.a}:${p.sp}`, `${p.b}:${p.dp}`].sort().join('-');
    let f = live.get(k);
    if (f && f.state === 2 && (p.fl & 0x12) === 0x02) { end(k, 'tcp_reuse', p.t); f = undefined; }
    if (!f) {
      if (live.size >= maxFlows) {
        let best: [string, F] | null = null;
        for (const e of live) if (!best || e[1].last < best[1].last || (e[1].last === best[1].last && e[1].seq < best[1].seq)) best = e;
        end(best![0], 'forced', p.t);
      }
      f = { first: p, last: p.t, ts: 0, tc: 0, client: (p.fl & 0x12) === 0x12 ? p.b : p.a, state: 0, fin: 0, seq: seq++ };
      live.set(k, f);
    }
    const toServer = p.a === f.client;
    if (toServer) f.ts++; else f.tc++;
    if (f.state === 0 && f.ts > 0 && f.tc > 0) f.state = 1;
    if (f.state !== 2) {
      if (p.fl & 0x04) f.state = 2;
      else if (p.fl & 0x01) { f.fin |= toServer ? 1 : 2; if (f.fin === 3) f.state = 2; }
    }
    f.last = p.t;
  }
  const last = pk[pk.length - 1]!.t;
  for (const k of [...live.keys()]) end(k, 'shutdown', last);
  return ended;
}

test('TCP states, closes, tuple reuse and max-flows eviction match a brute-force model (lazy timeout queues)', async () => {
  const pk = tcpTraffic(4000, 7);
  const file = writeCapture(pk, 1, (p, s, d) => ipv4({ src: s, dst: d, proto: 6 }, tcp(s, d, { sport: p.sp, dport: p.dp, seq: 1, ack: 1, flags: p.fl })), 'tcp-random.pcap');
  for (const maxFlows of [1000, 5]) {
    const want = tcpModel(pk, [4, 9, 2], maxFlows);
    const got: string[] = [];
    const r = await runFlows([file], {
      workers: 1, table: { maxFlows, timeouts: { tcp: { new: 4, established: 9, closed: 2 } } },
      onFlow: (f) => got.push(`${described(f)} ${f.state} ${f.reason}`),
    });
    assert.deepEqual([...got].sort(), [...want].sort(), `maxFlows ${maxFlows}`);
    const c = r.counters.table;
    for (const why of ['timeout', 'tcp_reuse', 'forced'] as const) {
      const n = want.filter((w) => w.endsWith(' ' + why)).length;
      assert.equal(why === 'timeout' ? c.timeouts : why === 'tcp_reuse' ? c.tcpReuse : c.forced, n, `${why}, maxFlows ${maxFlows}`);
      if (why !== 'forced' || maxFlows < 100) assert.ok(n > 10, `${why} exercised (${n}), maxFlows ${maxFlows}`);
    }
  }
});
