// The file sink's per-flow bookkeeping, driven packet by packet through a hand-made PacketContext: state keyed
// by slot, flows no probe claims ignored without their record being read, a claimed flow's identity read only
// when a file closes (here at the flow's end, from the record onFlowEnd passes). And the tracker's held bytes:
// files hashed at close from a held copy, or streamed past the per-file and per-tracker caps, hash the same;
// with a filestore, hashes fed from the temp file's buffer hash the same too (and over --max-file-size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpDir } from '../_util.js';
import { Filestore, FILESTORE_WRITE_BUFFER } from '../../src/files/filestore.js';
import { FileSink } from '../../src/files/sink.js';
import { packedCount, packedEvent } from '../../src/files/packed-files.js';
import { Tracker, TRACKER_HOLD_FILE, TRACKER_HOLD_TOTAL } from '../../src/files/tracker.js';
import { PacketView } from '../../src/decode/view.js';
import type { PacketContext } from '../../src/engine/sink.js';
import type { PacketBatch } from '../../src/pcap/batch.js';
import type { FlowRecord } from '../../src/flow/record.js';
import type { FlowInfo } from '../../src/files/protocols/contract.js';

/** A PacketContext for one packet whose `flow` counts its reads (and returns `rec`). */
function packet(o: { slot: number; proto: number; toServer: boolean; sport: number; dport: number; flags?: number; seq?: number; ack?: number; payload?: string; sec?: number }, rec: FlowRecord | null, reads: { n: number }): PacketContext & { ignored: boolean } {
  const v = new PacketView();
  const bytes = Buffer.from(o.payload ?? '', 'latin1');
  v.buf = bytes; v.proto = o.proto; v.srcPort = o.sport; v.dstPort = o.dport;
  v.tcpFlags = o.flags ?? 0x18; v.tcpSeq = o.seq ?? 0; v.tcpAck = o.ack ?? 0;
  v.payload = bytes.length ? 0 : -1; v.payloadLen = bytes.length;
  const batch = { tsSec: new Float64Array([o.sec ?? 100]), tsNsec: new Uint32Array([0]) } as unknown as PacketBatch;
  const ctx = {
    batch, i: 0, view: v, slot: o.slot, toServer: o.toServer, packetIndex: 0, ignored: false,
    get flow(): FlowRecord { reads.n++; if (!rec) throw new Error('no record'); return rec; },
    ignore(): void { ctx.ignored = true; },
  };
  return ctx;
}

function record(over: Partial<FlowRecord>): FlowRecord {
  return {
    flowId: 123456789n, communityId: '1:test', key: new Uint8Array(44), hash: 0, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 40000, dstPort: 80,
    proto: 6, ipVersion: 4, vlan: [], startSec: 100, startNsec: 0, endSec: 101, endNsec: 5, pktsToServer: 0, pktsToClient: 0, bytesToServer: 0, bytesToClient: 0,
    state: 'closed', reason: 'shutdown', tcpFlagsTs: 0, tcpFlagsTc: 0, seq: 0, endedAt: 101, icmpType: -1, icmpCode: -1, ...over,
  };
}

test('unclaimed UDP and TCP flows are ignored without reading their records; state is per slot', () => {
  const sink = new FileSink({}, { worker: 0, workers: 1 });
  const reads = { n: 0 };
  // UDP: a DNS-like exchange, no probe says yes in either direction → ignored after the answer.
  const q = packet({ slot: 3, proto: 17, toServer: true, sport: 5353, dport: 53, payload: 'query-bytes-not-rpc-at-all-0123456789' }, null, reads);
  sink.onPacket(q);
  assert.equal(q.ignored, false);
  assert.equal(sink.activeFlows, 1);
  const a = packet({ slot: 3, proto: 17, toServer: false, sport: 53, dport: 5353, payload: 'answer-bytes-not-rpc-at-all-0123456789' }, null, reads);
  sink.onPacket(a);
  assert.equal(a.ignored, true);
  assert.equal(sink.activeFlows, 0);
  // TCP: both sides start with bytes no probe knows (long enough for every probe to say no) → ignored (one worker, no FTP announcement: no fallback).
  sink.onPacket(packet({ slot: 7, proto: 6, toServer: true, sport: 40001, dport: 443, flags: 0x02, seq: 10 }, null, reads));
  sink.onPacket(packet({ slot: 7, proto: 6, toServer: true, sport: 40001, dport: 443, seq: 11, payload: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'.padEnd(80, '\x00') }, null, reads));
  const last = packet({ slot: 7, proto: 6, toServer: false, sport: 443, dport: 40001, seq: 500, payload: '\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03'.padEnd(80, '\x00') }, null, reads);
  sink.onPacket(last);
  assert.equal(last.ignored, true);
  // ICMP is never tracked.
  const icmp = packet({ slot: 9, proto: 1, toServer: true, sport: 0, dport: 0 }, null, reads);
  sink.onPacket(icmp);
  assert.equal(icmp.ignored, true);
  assert.equal(reads.n, 0);
  assert.equal(sink.activeFlows, 0);
  assert.equal(sink.counters.ignored, 2);
});

test('a claimed HTTP flow reads its identity only when its file closes (at the end, from the record passed)', async () => {
  const sink = new FileSink({}, { worker: 0, workers: 1 });
  const reads = { n: 0 };
  const rec = record({});
  const body = 'hello, file';
  const req = 'GET /a/b.txt?x=1 HTTP/1.1\r\nHost: Example.COM\r\nUser-Agent: t\r\nX-Ignored: 1\r\n\r\n';
  const resp = `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  sink.onPacket(packet({ slot: 0, proto: 6, toServer: true, sport: 40000, dport: 80, seq: 1000, payload: req }, null, reads));
  sink.onPacket(packet({ slot: 0, proto: 6, toServer: false, sport: 80, dport: 40000, seq: 9000, payload: resp }, null, reads));
  assert.equal(reads.n, 0, 'no record read while packets flow');
  assert.equal(sink.counters.claimed.http, 1);
  sink.onFlowEnd(rec, 0);
  const r = await sink.finish();
  assert.equal(r.files.length, 0, 'no provisional file');
  assert.equal(packedCount(r.done), 1);
  const e = packedEvent(r.done, 0);
  assert.equal(e.flow_id, '123456789');
  assert.deepEqual([e.src_ip, e.src_port, e.dest_ip, e.dest_port, e.community_id], ['10.0.0.2', 80, '10.0.0.1', 40000, '1:test']);
  assert.equal(e.timestamp, '1970-01-01T00:01:41.000000+0000');
  assert.deepEqual(e.http, { hostname: 'example.com', url: '/a/b.txt?x=1', http_user_agent: 't', http_content_type: 'text/plain', http_method: 'GET', protocol: 'HTTP/1.1', status: 200, length: body.length });
  assert.equal(e.fileinfo.sha256, createHash('sha256').update(body).digest('hex'));
  assert.equal(reads.n, 0);
});

test('tracker: held small files and streamed large ones hash as one-shot digests, across both caps', () => {
  const tracker = new Tracker(null, { hashes: ['md5'] });
  const flow: FlowInfo = { flowId: '1', communityId: 'c', srcIp: 'a', srcPort: 1, dstIp: 'b', dstPort: 2, proto: 6 };
  const files = tracker.forFlow(flow, () => ({ sec: 1, nsec: 0 }));
  const sizes = [0, 1, TRACKER_HOLD_FILE - 1, TRACKER_HOLD_FILE, TRACKER_HOLD_FILE + 1, 3 * TRACKER_HOLD_FILE + 7];
  // Enough open files at the cap to exhaust the tracker's total: the later ones stream from their first byte.
  const count = Math.ceil(TRACKER_HOLD_TOTAL / TRACKER_HOLD_FILE) + 8;
  const want: string[] = [];
  const open = [];
  for (let k = 0; k < count + sizes.length; k++) {
    const size = k < sizes.length ? sizes[k]! : TRACKER_HOLD_FILE;
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + k) & 0xff;
    const f = files.open({ filename: `f${k}`, direction: 1, txId: k, appProto: 'http', meta: {}, ...(k % 2 ? { sizeHint: size } : {}) });
    // Uneven pieces, so held copies grow and cross the per-file cap mid-write.
    for (let o = 0, step = 1; o < size; o += step, step = step * 3 + 1) f.write(data.subarray(o, Math.min(size, o + step)));
    open.push(f);
    want.push(createHash('sha256').update(data).digest('hex') + createHash('md5').update(data).digest('hex'));
  }
  assert.ok(tracker.held <= TRACKER_HOLD_TOTAL);
  for (const f of open) f.close();
  assert.equal(tracker.held, 0);
  assert.deepEqual(tracker.finished.map((f) => f.event.fileinfo.sha256 + f.event.fileinfo.md5), want);
});

test('tracker with a filestore: hashes fed from the temp buffer match one-shot digests; stored bytes; max-file-size', async () => {
  const B = FILESTORE_WRITE_BUFFER;
  const store = new Filestore(tmpDir('fc-tracker-store-'), `s${process.pid}`);
  const maxFileSize = 3 * B + 100;
  const tracker = new Tracker(store, { hashes: ['md5'], maxFileSize });
  const flow: FlowInfo = { flowId: '1', communityId: 'c', srcIp: 'a', srcPort: 1, dstIp: 'b', dstPort: 2, proto: 6 };
  const files = tracker.forFlow(flow, () => ({ sec: 1, nsec: 0 }));
  // Around the buffer size, a piece larger than the buffer, and past maxFileSize before and after a spill.
  const cases: Array<{ size: number; pieces: number[] }> = [
    { size: 0, pieces: [] }, { size: 1, pieces: [1] }, { size: B - 1, pieces: [1460] }, { size: B, pieces: [1460] },
    { size: B + 1, pieces: [1460] }, { size: 2 * B + 7, pieces: [100, B + 50, 1460] }, { size: 3 * B + 100, pieces: [B] },
    { size: 3 * B + 101, pieces: [1460] }, { size: 4 * B, pieces: [B + 1] }, { size: 5 * B + 3, pieces: [7, 2 * B] },
  ];
  const open = cases.map(({ size, pieces }, k) => {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 131 + k * 7 + (i >> 9)) & 0xff;
    const f = files.open({ filename: `f${k}`, direction: 1, txId: k, appProto: 'http', meta: {}, ...(k % 2 ? { sizeHint: size } : {}) });
    for (let o = 0, j = 0; o < size; j++) { const n = pieces[j % pieces.length]!; f.write(data.subarray(o, o + n)); o += n; }
    return { f, data };
  });
  for (const { f } of open) f.close();
  await store.drain();
  const got = tracker.finished.map((x) => x.event.fileinfo);
  assert.deepEqual(got.map((i) => [i.size, i.sha256, i.md5, i.stored]), open.map(({ data }) => [data.length, createHash('sha256').update(data).digest('hex'), createHash('md5').update(data).digest('hex'), data.length <= maxFileSize]));
  assert.equal(tracker.counters.tooLarge, 3);
  for (const { data } of open) if (data.length <= maxFileSize) assert.ok(readFileSync(store.pathOf(createHash('sha256').update(data).digest('hex'))).equals(data));
});
