// ONC RPC base: record marking across arbitrary segment boundaries, several records per chunk, multi-fragment
// records, oversize records skipped, resynchronisation after a gap; call/reply decoding; the bounded XID table.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseRpc, RecordMarker, XidTable } from '../../src/files/protocols/rpc/rpc.js';
import { cat, } from '../../fixtures/make/packet.js';
import { nfs3, prng, recordMark, rpcCall, rpcReply } from '../../fixtures/make/files-smb-nfs.js';
import { inPieces } from './smb-nfs-fake.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('record marking: every split point and fragment size gives the same records', () => {
  const recs = [rpcCall(1, 100003, 3, 6, nfs3.readArgs(prng(32, 1), 0, 100)), rpcReply(1, nfs3.readRes(prng(100, 2), true)), rpcCall(2, 100003, 3, 0, new Uint8Array(0))];
  for (const frag of [7, 40, 1 << 20]) {
    const stream = cat(...recs.map((r) => recordMark(r, frag)));
    for (const piece of [1, 3, 4, 5, 13, stream.length]) {
      const got: string[] = [];
      const m = new RecordMarker((r) => got.push(hex(r)));
      inPieces(stream, piece, (b) => m.push(b));
      assert.deepEqual(got, recs.map(hex), `frag ${frag} piece ${piece}`);
    }
  }
});

test('record marking: oversize record skipped and counted, next record still found', () => {
  const big = prng(5000, 3), small = rpcCall(9, 100003, 3, 0, new Uint8Array(0));
  const got: Uint8Array[] = [];
  const m = new RecordMarker((r) => got.push(r), 4096);
  inPieces(cat(recordMark(big, 1000), recordMark(small)), 777, (b) => m.push(b));
  assert.equal(m.oversized, 1);
  assert.equal(got.length, 1);
  assert.equal(hex(got[0]!), hex(small));
});

test('record marking: after a gap the next record header is found again', () => {
  const a = rpcCall(1, 100003, 3, 6, nfs3.readArgs(prng(32, 1), 0, 100)), b = rpcCall(2, 100003, 3, 6, nfs3.readArgs(prng(32, 1), 100, 100));
  const sa = recordMark(a);
  const got: number[] = [];
  const m = new RecordMarker((r) => { const p = parseRpc(r); if (p && 'call' in p) got.push(p.call.xid); });
  m.push(sa.subarray(0, 30));
  m.gap(sa.length - 60);
  m.push(sa.subarray(sa.length - 30));
  m.push(recordMark(b));
  assert.deepEqual(got, [2]);
  assert.equal(m.resyncs, 1);
});

test('call and reply headers: program, version, procedure, AUTH_UNIX credentials, body offset', () => {
  const args = nfs3.readArgs(prng(32, 1), 4096, 512);
  const c = parseRpc(rpcCall(0xabcdef01, 100003, 3, 6, args));
  assert.ok(c && 'call' in c);
  assert.deepEqual([c.call.xid, c.call.prog, c.call.vers, c.call.proc, c.call.credFlavor], [0xabcdef01, 100003, 3, 6, 1]);
  assert.deepEqual(c.call.unix, { machineName: 'client', uid: 1000, gid: 1000 });
  const r = parseRpc(rpcReply(7, new Uint8Array(4)));
  assert.ok(r && 'reply' in r);
  assert.deepEqual([r.reply.xid, r.reply.replyStat, r.reply.acceptStat, r.reply.body], [7, 0, 0, 24]);
  assert.equal(parseRpc(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0)), null);
  // Every truncation of a call header is refused, never thrown.
  const full = rpcCall(1, 100003, 3, 6, new Uint8Array(0));
  for (let n = 0; n < full.length; n++) assert.equal(parseRpc(full.subarray(0, n)), null, `length ${n}`);
});

test('XID table: bounded, oldest evicted, take removes', () => {
  const t = new XidTable<number>(3);
  for (let x = 1; x <= 5; x++) t.set(x, x * 10);
  assert.equal(t.size, 3);
  assert.equal(t.evicted, 2);
  assert.equal(t.take(1), undefined);
  assert.equal(t.take(4), 40);
  assert.equal(t.take(4), undefined);
});
