// The JSON output's lines mode (EVE lines written as each flow ends, from the table's scratch record, sorted and
// held back in EndedLines) against the records mode (a record per flow, sorted by takeEnded/finish, formatted
// by flowJson): byte-identical, on traffic where many flows end at the same capture time (times on whole
// seconds, short timeouts, TCP resets and reuse), read in small batches, with a small shutdown chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFlowIdFn } from '../../src/engine/run.js';
import { ShardCore } from '../../src/engine/core.js';
import type { PackedFlows } from '../../src/engine/packed.js';
import { flowJson } from '../../src/flow/eve.js';
import { CaptureParser } from '../../src/pcap/parser.js';
import type { PacketBatch } from '../../src/pcap/batch.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { ether, ipv4, tcp, udp, type Frame } from '../../fixtures/make/packet.js';

function capture(n: number, seed: number): Uint8Array {
  let x = seed;
  const rnd = (m: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % m; };
  const FLAGS = [0x02, 0x12, 0x10, 0x11, 0x04];
  const frames: Frame[] = [];
  let t = 1700000000;
  for (let i = 0; i < n; i++) {
    if (rnd(40) === 0) t += 1 + rnd(6); // whole seconds: flows time out together and end at equal clocks
    const a = `10.1.0.${1 + rnd(12)}`, b = `10.2.0.${1 + rnd(3)}`, sp = 3000 + rnd(3);
    const [s, d] = rnd(2) ? [a, b] : [b, a];
    const l4 = rnd(3) === 0
      ? ipv4({ src: s, dst: d, proto: 17 }, udp(s, d, s === a ? sp : 53, s === a ? 53 : sp, new Uint8Array(3)))
      : ipv4({ src: s, dst: d, proto: 6 }, tcp(s, d, { sport: s === a ? sp : 80, dport: s === a ? 80 : sp, flags: FLAGS[rnd(FLAGS.length)]!, seq: i }));
    frames.push({ sec: t, nsec: 0, data: ether(0x0800, l4) });
  }
  return classicPcap(frames);
}

function batches(data: Uint8Array, chunk: number): PacketBatch[] {
  const p = new CaptureParser('lines-test');
  const out: PacketBatch[] = [];
  for (let o = 0; o < data.length; o += chunk) out.push(...p.push(data.subarray(o, Math.min(data.length, o + chunk))));
  p.end();
  assert.equal(p.error, undefined);
  return out;
}

test('lines mode writes the records mode\'s JSON, byte for byte, through hold-backs and chunked shutdown', async () => {
  const flowId = await makeFlowIdFn();
  const table = { timeouts: { tcp: { new: 3, established: 5, closed: 2 }, udp: { new: 3, established: 5 } } };
  const data = capture(6000, 7);
  for (const chunk of [300, 4096]) {
    const bs = batches(data, chunk);
    const rec = new ShardCore({ worker: 0, workers: 1, table, records: true }, [], flowId);
    let want = '';
    for (const b of bs) {
      rec.processBatch(b);
      for (const r of rec.takeEnded()) want += flowJson(r) + '\n';
    }
    rec.finish((recs) => { for (const r of recs) want += flowJson(r) + '\n'; }, 5);

    const lin = new ShardCore({ worker: 0, workers: 1, table, lines: true }, [], flowId);
    const parts: Uint8Array[] = [];
    const take = (p: PackedFlows | null) => { if (p) { parts.push(p.lines!.slice()); assert.equal(p.ends![p.count - 1], p.lines!.length); } };
    for (const b of bs) {
      lin.processBatch(b);
      take(lin.takeLines());
    }
    lin.finishLines((p) => take(p), 5);
    const got = Buffer.concat(parts).toString('latin1');
    const n = want.split('\n').length - 1;
    assert.ok(n > 500, `${n} flows`);
    const c = rec.counters.table;
    assert.ok(c.timeouts > 100 && c.tcpReuse > 10 && c.shutdown > 10, JSON.stringify(c));
    assert.equal(got, want, `read chunk ${chunk}`);
  }
});
