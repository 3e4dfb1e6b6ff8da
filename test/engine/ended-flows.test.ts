// The core's output runs (EndedFlows: EVE lines written as each flow ends from the table's scratch record, or
// records) against an oracle: every ended flow, kept by a sink, sorted by compareEnded at the end. Byte-identical
// on traffic where many flows end at the same capture time (times on whole seconds, short timeouts, TCP resets
// and reuse), read in small batches, with a small shutdown chunk: the hold-backs and the chunked shutdown must
// keep the runs one ordered sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFlowIdFn } from '../../src/engine/run.js';
import { ShardCore } from '../../src/engine/core.js';
import { recordAt, type PackedFlows } from '../../src/engine/packed.js';
import type { FlowSink } from '../../src/engine/sink.js';
import { compareEnded, type FlowRecord } from '../../src/flow/record.js';
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

/** A sink that keeps a copy of every ended flow: the reference, sorted into output order at the end. */
function collector(): { sink: FlowSink; all: FlowRecord[] } {
  const all: FlowRecord[] = [];
  return { all, sink: { onPacket() {}, onFlowEnd(r) { all.push({ ...r, key: r.key.slice() }); }, finish() { return null; } } };
}

test('the output runs (EVE lines and records) are the ended flows in output order, through hold-backs and chunked shutdown', async () => {
  const flowId = await makeFlowIdFn();
  const table = { timeouts: { tcp: { new: 3, established: 5, closed: 2 }, udp: { new: 3, established: 5 } } };
  const data = capture(6000, 7);
  for (const chunk of [300, 4096]) {
    const bs = batches(data, chunk);
    // Records output, with a sink keeping every ended flow: the oracle is those flows sorted by compareEnded.
    const c = collector();
    const rec = new ShardCore({ worker: 0, workers: 1, table, output: 'records' }, [c.sink], flowId);
    let recText = '';
    const takeRecs = (p: PackedFlows | null) => { if (p) for (let i = 0; i < p.count; i++) recText += flowJson(recordAt(p, i)) + '\n'; };
    for (const b of bs) {
      rec.processBatch(b);
      takeRecs(rec.takeEnded());
    }
    rec.finish(takeRecs, 5);
    const want = c.all.sort(compareEnded).map((r) => flowJson(r) + '\n').join('');

    // EVE output, no sink: lines written from the table's scratch record as flows end.
    const lin = new ShardCore({ worker: 0, workers: 1, table, output: 'eve' }, [], flowId);
    const parts: Uint8Array[] = [];
    const take = (p: PackedFlows | null) => { if (p) { parts.push(p.lines!.slice()); assert.equal(p.ends![p.count - 1], p.lines!.length); } };
    for (const b of bs) {
      lin.processBatch(b);
      take(lin.takeEnded());
    }
    lin.finish((p) => take(p), 5);
    const got = Buffer.concat(parts).toString('latin1');
    const n = want.split('\n').length - 1;
    assert.ok(n > 500, `${n} flows`);
    const t = rec.counters.table;
    assert.ok(t.timeouts > 100 && t.tcpReuse > 10 && t.shutdown > 10, JSON.stringify(t));
    assert.equal(recText, want, `records, read chunk ${chunk}`);
    assert.equal(got, want, `read chunk ${chunk}`);
  }
});
