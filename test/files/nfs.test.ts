// NFS parser (sans-IO, fake tracker): v3 LOOKUP names a handle, READ replies placed at request offsets (any
// order), eof finishes, WRITE + COMMIT and FILE_SYNC finish, unknown handle → "", missing range → TRUNCATED,
// flow end → TRUNCATED, UDP datagrams, NFSv4 COMPOUND (SEQUENCE/PUTFH/WRITE, OPEN+GETFH naming, READ), metadata.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { NfsParser, handleHash, probeNfs } from '../../src/files/protocols/nfs/index.js';
import { cat } from '../../fixtures/make/packet.js';
import { nfs3, prng, recordMark, rpcCall, rpcReply } from '../../fixtures/make/files-smb-nfs.js';
import { flow, inPieces, rangeContext } from './smb-nfs-fake.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const be32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
const opaque = (b: Uint8Array) => cat(be32(b.length), b, new Uint8Array((4 - (b.length % 4)) % 4));
const nfsFlow = flow({ dstPort: 2049, srcPort: 800 });
const DIR = prng(32, 10), FH = prng(32, 11);

function tcp(p: NfsParser, dir: 0 | 1, rec: Uint8Array, piece = 50) { inPieces(recordMark(rec, 97), piece, (b) => p.data(dir, b)); }

test('v3: LOOKUP names the handle, READ replies out of order land at their offsets, eof closes', () => {
  const ctx = rangeContext(nfsFlow);
  const p = new NfsParser(ctx);
  const data = prng(20000, 12);
  tcp(p, 0, rpcCall(1, 100003, 3, 3, nfs3.lookupArgs(DIR, 'a.bin')));
  tcp(p, 1, rpcReply(1, nfs3.lookupRes(FH)));
  tcp(p, 0, rpcCall(2, 100003, 3, 6, nfs3.readArgs(FH, 0, 8192)));
  tcp(p, 0, rpcCall(3, 100003, 3, 6, nfs3.readArgs(FH, 8192, 8192)));
  tcp(p, 0, rpcCall(4, 100003, 3, 6, nfs3.readArgs(FH, 16384, 8192)));
  tcp(p, 1, rpcReply(3, nfs3.readRes(data.subarray(8192, 16384), false)));
  tcp(p, 1, rpcReply(2, nfs3.readRes(data.subarray(0, 8192), false)));
  assert.equal(ctx.opened[0]!.state, undefined);
  tcp(p, 1, rpcReply(4, nfs3.readRes(data.subarray(16384), true)));
  assert.equal(ctx.opened.length, 1);
  const f = ctx.opened[0]!;
  assert.equal(f.info.filename, 'a.bin');
  assert.equal(f.info.appProto, 'nfs');
  assert.equal(f.info.direction, 1);
  assert.equal(f.state, 'CLOSED');
  assert.equal(f.sha256(), sha(data));
  const nfs = f.meta['nfs'] as Record<string, unknown>, rpc = f.meta['rpc'] as Record<string, unknown>;
  assert.deepEqual({ ...nfs }, { version: 3, procedure: 'READ', filename: 'a.bin', hhash: handleHash(FH), id: 2, file_tx: true, type: 'response', status: 'OK', read: { first: true, last: true, last_xid: 4, chunks: 3 } });
  assert.deepEqual(rpc, { xid: 2, status: 'ACCEPTED', auth_type: 'UNIX', creds: { machine_name: 'client', uid: 1000, gid: 1000 } });
  assert.equal(f.info.txId, 1);
});

test('v3: WRITE calls at offsets, COMMIT finishes; unknown handle gives ""', () => {
  const ctx = rangeContext(nfsFlow);
  const p = new NfsParser(ctx);
  const data = prng(10001, 13);
  // Two WRITE records in one chunk, the later range first.
  p.data(0, cat(recordMark(rpcCall(10, 100003, 3, 7, nfs3.writeArgs(FH, 5000, data.subarray(5000), 0))), recordMark(rpcCall(11, 100003, 3, 7, nfs3.writeArgs(FH, 0, data.subarray(0, 5000), 0)))));
  tcp(p, 0, rpcCall(12, 100003, 3, 21, nfs3.commitArgs(FH)));
  const f = ctx.opened[0]!;
  assert.equal(f.info.filename, '');
  assert.equal(f.info.direction, 0);
  assert.equal(f.state, 'CLOSED');
  assert.equal(f.sha256(), sha(data));
  assert.equal((f.meta['nfs'] as { procedure: string }).procedure, 'WRITE');
  assert.equal((f.meta['rpc'] as { auth_type: string }).auth_type, 'NULL');
});

test('v3: FILE_SYNC write finishes at once; a missing range makes TRUNCATED with gaps; flow end truncates the open ones', () => {
  const ctx = rangeContext(nfsFlow);
  const p = new NfsParser(ctx);
  tcp(p, 0, rpcCall(20, 100003, 3, 7, nfs3.writeArgs(FH, 0, prng(100, 1), 2)));
  assert.equal(ctx.opened[0]!.state, 'CLOSED');
  const FH2 = prng(32, 99);
  tcp(p, 0, rpcCall(21, 100003, 3, 7, nfs3.writeArgs(FH2, 0, prng(100, 2), 0)));
  tcp(p, 0, rpcCall(22, 100003, 3, 7, nfs3.writeArgs(FH2, 200, prng(100, 3), 2)));
  assert.equal(ctx.opened[1]!.state, 'TRUNCATED');
  assert.equal(ctx.opened[1]!.gaps, true);
  tcp(p, 0, rpcCall(23, 100003, 3, 7, nfs3.writeArgs(prng(32, 5), 0, prng(100, 4), 0)));
  p.close();
  assert.equal(ctx.opened[2]!.state, 'TRUNCATED');
});

test('v3 over UDP: each datagram is one record', () => {
  const ctx = rangeContext({ ...nfsFlow, proto: 17 });
  const p = new NfsParser(ctx);
  const data = prng(3000, 14);
  p.data(0, rpcCall(30, 100003, 3, 6, nfs3.readArgs(FH, 0, 3000)));
  p.data(1, rpcReply(30, nfs3.readRes(data, true)));
  assert.equal(ctx.opened[0]!.sha256(), sha(data));
  assert.equal(ctx.opened[0]!.state, 'CLOSED');
});

test('v4 COMPOUND: SEQUENCE+PUTFH+WRITE(FILE_SYNC); OPEN+GETFH names the handle for a later READ', () => {
  const ctx = rangeContext(nfsFlow);
  const p = new NfsParser(ctx);
  const seq = cat(be32(53), new Uint8Array(32));
  const compound = (nops: number, ops: Uint8Array) => cat(opaque(new Uint8Array(0)), be32(1), be32(nops), ops);
  const hdl = prng(48, 20);
  tcp(p, 0, rpcCall(100, 100003, 4, 1, compound(3, cat(seq, be32(22), opaque(hdl), be32(38), new Uint8Array(16), new Uint8Array(8), be32(2), opaque(Uint8Array.from([104, 101, 108, 108, 111]))))));
  const w = ctx.opened[0]!;
  assert.equal(w.state, 'CLOSED');
  assert.equal(w.bytes().toString(), 'hello');
  assert.equal(w.info.filename, '');
  assert.deepEqual({ ...(w.meta['nfs'] as object) }, { version: 4, procedure: 'WRITE', filename: '', hhash: handleHash(hdl), id: 1, file_tx: true, type: 'response', status: 'OK', write: { first: true, last: true, last_xid: 100, chunks: 1 } });
  // OPEN "notes.txt" (claim NULL, no create) + GETFH; reply maps GETFH's handle to the name.
  const fh = prng(40, 21);
  const openArgs = cat(be32(0), be32(1), be32(0), new Uint8Array(8), opaque(Uint8Array.of(1, 2)), be32(0), be32(0), opaque(new TextEncoder().encode('notes.txt')));
  tcp(p, 0, rpcCall(101, 100003, 4, 1, compound(4, cat(seq, be32(22), opaque(DIR), be32(18), openArgs, be32(10)))));
  const okSeq = cat(be32(53), be32(0), new Uint8Array(36));
  const openRes = cat(be32(18), be32(0), new Uint8Array(16), new Uint8Array(20), be32(4), be32(0), be32(0));
  tcp(p, 1, rpcReply(101, cat(be32(0), opaque(new Uint8Array(0)), be32(4), okSeq, be32(22), be32(0), openRes, be32(10), be32(0), opaque(fh))));
  tcp(p, 0, rpcCall(102, 100003, 4, 1, compound(3, cat(seq, be32(22), opaque(fh), be32(25), new Uint8Array(16), new Uint8Array(8), be32(1000)))));
  const content = prng(777, 22);
  tcp(p, 1, rpcReply(102, cat(be32(0), opaque(new Uint8Array(0)), be32(3), okSeq, be32(22), be32(0), be32(25), be32(0), be32(1), opaque(content))));
  const r = ctx.opened[1]!;
  assert.equal(r.info.filename, 'notes.txt');
  assert.equal(r.state, 'CLOSED');
  assert.equal(r.sha256(), sha(content));
  assert.equal((r.meta['nfs'] as { procedure: string }).procedure, 'READ');
});

test('probe: NFS calls yes, other RPC programs no, replies only on 2049', () => {
  const call = recordMark(rpcCall(1, 100003, 3, 0, new Uint8Array(0)));
  assert.equal(probeNfs(0, call, nfsFlow), 'yes');
  assert.equal(probeNfs(0, recordMark(rpcCall(1, 100005, 3, 0, new Uint8Array(0))), nfsFlow), 'no');
  assert.equal(probeNfs(0, call.subarray(0, 10), nfsFlow), 'need-more');
  assert.equal(probeNfs(1, recordMark(rpcReply(1, new Uint8Array(8))), nfsFlow), 'yes');
  assert.equal(probeNfs(1, recordMark(rpcReply(1, new Uint8Array(8))), flow({ dstPort: 111 })), 'no');
  assert.equal(probeNfs(0, rpcCall(1, 100003, 2, 0, new Uint8Array(0)), { ...nfsFlow, proto: 17 }), 'yes');
  assert.equal(probeNfs(0, new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3)), nfsFlow), 'no');
});

test('hostile input: truncated and byte-flipped RPC/NFS streams never throw', () => {
  const data = prng(5000, 40);
  const stream = cat(
    recordMark(rpcCall(1, 100003, 3, 3, nfs3.lookupArgs(DIR, 'z'))), recordMark(rpcReply(1, nfs3.lookupRes(FH))),
    recordMark(rpcCall(2, 100003, 3, 6, nfs3.readArgs(FH, 0, 5000))), recordMark(rpcReply(2, nfs3.readRes(data, true)), 1000),
    recordMark(rpcCall(3, 100003, 3, 7, nfs3.writeArgs(FH, 0, data, 2))),
    recordMark(rpcCall(4, 100003, 4, 1, cat(be32(0), be32(1), be32(2), be32(22), opaque(FH), be32(38), new Uint8Array(28), opaque(data.subarray(0, 9))))),
  );
  let x = 777;
  const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  for (let n = 0; n < stream.length; n += 61) {
    const p = new NfsParser(rangeContext(nfsFlow));
    p.data(0, stream.subarray(0, n)); p.data(1, stream.subarray(0, n)); p.close();
  }
  for (let k = 0; k < 300; k++) {
    const m = stream.slice();
    for (let j = 0; j < 8; j++) m[rnd() % m.length] = rnd() & 0xff;
    const ctx = rangeContext(k % 2 ? nfsFlow : { ...nfsFlow, proto: 17 });
    const p = new NfsParser(ctx);
    inPieces(m, 1 + (rnd() % 900), (b) => { p.data(0, b); p.data(1, b); });
    p.gap(1, 100);
    p.data(1, m.subarray(rnd() % m.length));
    p.close();
    for (const f of ctx.opened) assert.ok(f.state !== undefined);
  }
});

test('v3: READDIRPLUS entries name their handles; READ of one gets its name', () => {
  const ctx = rangeContext(nfsFlow);
  const p = new NfsParser(ctx);
  const h1 = prng(32, 50), h2 = prng(32, 51);
  const entry = (id: number, name: string, fh: Uint8Array) => cat(be32(1), be32(0), be32(id), opaque(new TextEncoder().encode(name)), be32(0), be32(id), be32(0), be32(1), opaque(fh));
  tcp(p, 0, rpcCall(60, 100003, 3, 17, cat(opaque(DIR), new Uint8Array(16), be32(4096), be32(32768))));
  tcp(p, 1, rpcReply(60, cat(be32(0), be32(0), new Uint8Array(8), entry(1, 'one.txt', h1), entry(2, 'two.txt', h2), be32(0), be32(1))));
  tcp(p, 0, rpcCall(61, 100003, 3, 6, nfs3.readArgs(h2, 0, 10)));
  tcp(p, 1, rpcReply(61, nfs3.readRes(prng(10, 52), true)));
  assert.equal(ctx.opened[0]!.info.filename, 'two.txt');
  assert.equal(ctx.opened[0]!.state, 'CLOSED');
});
