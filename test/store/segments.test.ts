// Segment store and index: Suricata-style names, rotation before --file-size, deletion under --max-size,
// binary index round trip, rebuild of a missing/damaged index, truncation of a torn segment, and carving
// straight from segments written here. Packets come from fixtures/make/packet.ts TcpConversation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../_util.js';
import { SegmentStore, listSegments, loadIndex, type StoredFlow } from '../../src/store/segments.js';
import { decodeIndex, encodeIndex } from '../../src/store/index-file.js';
import { tupleHashIps } from '../../src/eve/alert.js';
import { carve } from '../../src/carve/carve.js';
import { TcpConversation, type Frame } from '../../fixtures/make/packet.js';

function conv(c: string, cp: number, s: string, sp: number, t0: number, n: number): Frame[] {
  const t = new TcpConversation({ ip: c, port: cp }, { ip: s, port: sp }, { t0, step: 0.001 });
  t.handshake();
  for (let k = 0; t.frames.length < n; k++) t.send(k % 2 === 0, new Uint8Array(300 + (k % 5) * 100).fill(k & 0xff));
  return t.frames.slice(0, n);
}

function ref(c: string, cp: number, s: string, sp: number, fid: number, startUs: number): StoredFlow {
  const [hashHi, hashLo] = tupleHashIps(6, c, cp, s, sp);
  return { hashHi, hashLo, fidHi: 0, fidLo: fid, flowStartUs: startUs, vlan: 0, proto: 6, stored: 0 };
}

function record(f: Frame): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(f.sec, 0); h.writeUInt32LE(Math.floor(f.nsec / 1000), 4); h.writeUInt32LE(f.data.length, 8); h.writeUInt32LE(f.data.length, 12);
  return Buffer.concat([h, f.data]);
}

/** Records of a pcap file after its 24-byte header. */
function records(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 24; p + 16 <= buf.length;) { const n = 16 + buf.readUInt32LE(p + 8); out.push(buf.subarray(p, p + n)); p += n; }
  return out;
}

const T0 = 1700000000;
const A = conv('10.0.0.1', 1111, '192.0.2.1', 80, T0, 60);
const B = conv('10.0.0.2', 2222, '192.0.2.2', 443, T0 + 0.0005, 60);

function writeBoth(dir: string, o: { fileSize?: number; maxSize?: number }): SegmentStore {
  const { store } = SegmentStore.open(dir, o);
  const ra = ref('10.0.0.1', 1111, '192.0.2.1', 80, 1, T0 * 1e6), rb = ref('10.0.0.2', 2222, '192.0.2.2', 443, 2, T0 * 1e6 + 500);
  const all = [...A.map((f) => ({ f, r: ra })), ...B.map((f) => ({ f, r: rb }))].sort((x, y) => x.f.sec - y.f.sec || x.f.nsec - y.f.nsec);
  for (const { f, r } of all) store.write(r, f.sec, f.nsec, f.data, f.data.length, 1);
  store.close();
  return store;
}

const alertA = { timestamp: '2023-11-14T22:13:20.000000+0000', src_ip: '192.0.2.1', src_port: 80, dest_ip: '10.0.0.1', dest_port: 1111, proto: 'TCP' };

test('rotation: names from the first packet, each segment under --file-size, index beside each', () => {
  const dir = tmpDir('flowcarve-seg-');
  const st = writeBoth(dir, { fileSize: 8000 });
  const segs = listSegments(dir);
  assert.ok(segs.length >= 5, `${segs.length} segments`);
  assert.equal(st.counters.packets, 120);
  let total = 0;
  for (const s of segs) {
    const size = statSync(s.path).size;
    assert.ok(size <= 8000, `${s.name} is ${size} bytes`);
    const buf = readFileSync(s.path);
    const first = records(buf)[0]!;
    assert.equal(s.name, `log.pcap.${first.readUInt32LE(0)}.${first.readUInt32LE(4)}`);
    const ix = decodeIndex(readFileSync(s.path + '.idx'));
    assert.equal(ix.segmentBytes, size);
    assert.equal(ix.flags, 0);
    for (const e of ix.entries) for (const off of e.offsets) assert.ok(off >= 24 && off < size);
    total += records(buf).length;
  }
  assert.equal(total, 120);
  // carving A gives exactly A's records, in order, from all segments
  const out = tmpDir('flowcarve-out-');
  const r = carve(alertA, { store: dir, out });
  assert.equal(r.packets, 60);
  assert.ok(r.segments.length >= 5);
  const carved = readFileSync(r.path);
  assert.deepEqual(records(carved), A.map(record));
  assert.equal(r.path, join(out, `${r.sha256}.pcap`));
  assert.equal(r.first, '2023-11-14T22:13:20.000000Z');
  const again = carve(alertA, { store: dir, out });
  assert.equal(again.path, r.path);
  assert.deepEqual(readdirSync(out), [`${r.sha256}.pcap`]);
});

test('max-size: oldest segments deleted, total stays under it; carve says what is missing', () => {
  const dir = tmpDir('flowcarve-seg-');
  const st = writeBoth(dir, { fileSize: 8000, maxSize: 20000 });
  let total = 0;
  for (const n of readdirSync(dir)) total += statSync(join(dir, n)).size;
  assert.ok(total <= 20000, `total ${total}`);
  assert.ok(st.counters.segmentsDeleted > 0);
  const r = carve(alertA, { store: dir, out: tmpDir('flowcarve-out-') });
  assert.equal(r.missing_segments, true);
  assert.ok(r.packets > 0 && r.packets < 60);
  assert.equal(r.missing_packets, 60 - r.packets);
  assert.deepEqual(records(readFileSync(r.path)), A.slice(60 - r.packets).map(record));
});

test('index: round trip, damaged or missing index rebuilt by scanning, torn segment truncated on open', () => {
  const dir = tmpDir('flowcarve-seg-');
  writeBoth(dir, { fileSize: 1 << 20 });
  const [seg] = listSegments(dir);
  const good = decodeIndex(readFileSync(seg!.path + '.idx'));
  assert.equal(good.entries.length, 2);
  assert.deepEqual(decodeIndex(encodeIndex(good)), good);
  // damage one byte: the crc catches it, the scan rebuilds the same offsets
  const bad = readFileSync(seg!.path + '.idx');
  bad[100] ^= 0xff;
  writeFileSync(seg!.path + '.idx', bad);
  assert.throws(() => decodeIndex(bad), { code: 'ERR_STORE' });
  const re = loadIndex(seg!, true)!;
  assert.equal(re.flags, 1);
  const offs = (ix: typeof good) => ix.entries.map((e) => e.offsets).sort((x, y) => x[0]! - y[0]!);
  assert.deepEqual(offs(re), offs(good));
  // missing index → rebuilt and saved
  unlinkSync(seg!.path + '.idx');
  const { repair } = SegmentStore.open(dir);
  assert.deepEqual(repair.rescanned, [seg!.name]);
  assert.ok(existsSync(seg!.path + '.idx'));
  // torn tail: cut 10 bytes into the last record, reopen → truncated to the last whole record
  const size = statSync(seg!.path).size;
  truncateSync(seg!.path, size - 10);
  unlinkSync(seg!.path + '.idx');
  const { repair: r2 } = SegmentStore.open(dir);
  assert.equal(r2.truncated.length, 1);
  const lastLen = 16 + B[B.length - 1]!.data.length;
  assert.equal(statSync(seg!.path).size, size - lastLen);
  const out = tmpDir('flowcarve-out-');
  const c = carve(alertA, { store: dir, out });
  assert.equal(c.packets, 60);
  assert.deepEqual(records(readFileSync(c.path)), A.map(record));
});
