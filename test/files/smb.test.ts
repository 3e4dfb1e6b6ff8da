// SMB parser (sans-IO, fake tracker): NBSS framing across any split, SMB2 CREATE/READ (out of order, compounded,
// multi-credit, END_OF_FILE), WRITE, related compounds (CREATE+WRITE+CLOSE with placeholder FileIds), pipes
// skipped, SMB3 transform headers reported not decoded, resync after a gap, flow end → TRUNCATED; SMB1
// NT_CREATE_ANDX / WRITE_ANDX with padding / READ_ANDX / CLOSE; metadata as Suricata logs it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SmbParser, fuidString, probeSmb } from '../../src/files/protocols/smb/index.js';
import { cat } from '../../fixtures/make/packet.js';
import { fileId, nbss, prng, smb1, smb1Body, smb2, smb2Body, smb2Chain, type Smb2Hdr } from '../../fixtures/make/files-smb-nfs.js';
import { flow, inPieces, rangeContext } from './smb-nfs-fake.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SSN = 4398046511109;
const q = (h: Smb2Hdr, body: Uint8Array) => smb2({ sessionId: SSN, treeId: 1, ...h }, body);
const r = (h: Smb2Hdr, body: Uint8Array) => smb2({ sessionId: SSN, treeId: 1, response: true, ...h }, body);
const FID = fileId(0x4d, 9, 0xffffffff);

function setup(p: SmbParser, share = '\\\\10.0.0.12\\smb2', type = 1) {
  p.data(1, nbss(smb2({ cmd: 0, msgId: 0, response: true }, smb2Body.negotiateResp(0x0202))));
  p.data(0, nbss(q({ cmd: 3, msgId: 1, treeId: 0 }, smb2Body.treeConnectReq(share))));
  p.data(1, nbss(r({ cmd: 3, msgId: 1 }, smb2Body.treeConnectResp(type))));
}

test('SMB2 read: compounded requests, out-of-order and multi-credit responses over any segmentation, END_OF_FILE closes', () => {
  const data = prng(150000, 1);
  for (const piece of [1, 7, 1460, 1 << 20]) {
    const ctx = rangeContext();
    const p = new SmbParser(ctx);
    setup(p);
    const feed = (dir: 0 | 1, b: Uint8Array) => inPieces(b, piece, (x) => p.data(dir, x));
    feed(0, nbss(q({ cmd: 5, msgId: 2 }, smb2Body.createReq('dir\\big.bin'))));
    feed(1, nbss(r({ cmd: 5, msgId: 2 }, smb2Body.createResp(FID, data.length))));
    feed(0, nbss(smb2Chain([q({ cmd: 8, msgId: 3 }, smb2Body.readReq(FID, 0, 65536)), q({ cmd: 8, msgId: 4 }, smb2Body.readReq(FID, 65536, 65536))])));
    feed(0, nbss(q({ cmd: 8, msgId: 5, credits: 2 }, smb2Body.readReq(FID, 131072, 131072))));
    feed(1, cat(nbss(r({ cmd: 8, msgId: 5 }, smb2Body.readResp(data.subarray(131072)))), nbss(r({ cmd: 8, msgId: 4 }, smb2Body.readResp(data.subarray(65536, 131072))))));
    feed(1, nbss(r({ cmd: 8, msgId: 3 }, smb2Body.readResp(data.subarray(0, 65536)))));
    assert.equal(ctx.opened[0]!.state, undefined);
    feed(0, nbss(q({ cmd: 8, msgId: 6 }, smb2Body.readReq(FID, 150000, 65536))));
    feed(1, nbss(r({ cmd: 8, msgId: 6, status: 0xc0000011 }, smb2Body.error())));
    assert.equal(ctx.opened.length, 1, `piece ${piece}`);
    const f = ctx.opened[0]!;
    assert.equal(f.state, 'CLOSED');
    assert.equal(f.sha256(), sha(data));
    assert.equal(f.info.filename, 'dir\\big.bin');
    assert.equal(f.info.appProto, 'smb');
    assert.equal(f.info.direction, 1);
    assert.deepEqual(f.meta['smb'], { id: f.info.txId + 1, dialect: '2.02', command: 'SMB2_COMMAND_READ', status: 'STATUS_END_OF_FILE', status_code: '0xc0000011', session_id: SSN, tree_id: 1, filename: 'dir\\big.bin', share: '\\\\10.0.0.12\\smb2', fuid: '0000004d-0000-0000-0009-0000ffffffff' });
  }
});

test('SMB2 write: related CREATE+WRITE+CLOSE compound (FileId known only from the response), then plain WRITE+CLOSE', () => {
  const ctx = rangeContext();
  const p = new SmbParser(ctx);
  setup(p);
  const ff = new Uint8Array(16).fill(0xff);
  const up = prng(5000, 2);
  p.data(0, nbss(smb2Chain([q({ cmd: 5, msgId: 10 }, smb2Body.createReq('new.txt')), q({ cmd: 9, msgId: 11, related: true }, smb2Body.writeReq(ff, 0, up)), q({ cmd: 6, msgId: 12, related: true }, smb2Body.closeReq(ff))])));
  assert.equal(ctx.opened.length, 1);
  assert.equal(ctx.opened[0]!.state, undefined);
  const fid = fileId(0x77, 3, 0);
  p.data(1, nbss(smb2Chain([r({ cmd: 5, msgId: 10 }, smb2Body.createResp(fid, 0)), r({ cmd: 9, msgId: 11, related: true }, smb2Body.writeResp(5000)), r({ cmd: 6, msgId: 12, related: true }, smb2Body.closeResp())])));
  const f = ctx.opened[0]!;
  assert.equal(f.state, 'CLOSED');
  assert.equal(f.info.filename, 'new.txt');
  assert.equal(f.info.direction, 0);
  assert.equal(f.sha256(), sha(up));
  assert.equal((f.meta['smb'] as { fuid: string }).fuid, fuidString(fid));
  // A write never closed is TRUNCATED at flow end.
  p.data(0, nbss(q({ cmd: 5, msgId: 20 }, smb2Body.createReq('open.txt'))));
  p.data(1, nbss(r({ cmd: 5, msgId: 20 }, smb2Body.createResp(FID, 0))));
  p.data(0, nbss(q({ cmd: 9, msgId: 21 }, smb2Body.writeReq(FID, 0, up.subarray(0, 10)))));
  p.close();
  assert.equal(ctx.opened[1]!.state, 'TRUNCATED');
  assert.equal(ctx.opened[1]!.info.filename, 'open.txt');
});

test('SMB2: IPC$ pipes make no files; encrypted SMB3 is reported and skipped; gap then resync', () => {
  const ctx = rangeContext();
  const p = new SmbParser(ctx);
  setup(p, '\\\\srv\\IPC$', 2);
  p.data(0, nbss(q({ cmd: 5, msgId: 2 }, smb2Body.createReq('srvsvc'))));
  p.data(1, nbss(r({ cmd: 5, msgId: 2 }, smb2Body.createResp(FID, 0))));
  p.data(0, nbss(q({ cmd: 9, msgId: 3 }, smb2Body.writeReq(FID, 0, Uint8Array.of(5, 0, 11, 3, 16, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0)))));
  assert.equal(ctx.opened.length, 0);
  const transform = cat(Uint8Array.of(0xfd, 0x53, 0x4d, 0x42), prng(48, 3), prng(200, 4));
  p.data(0, nbss(transform));
  p.data(1, nbss(transform));
  assert.deepEqual(ctx.notes, ['smb3-encrypted']);
  assert.equal(p.stats.encrypted, 2);
  // Lose the middle of one PDU: the parser finds the next NBSS + SMB header and goes on.
  const ctx2 = rangeContext();
  const p2 = new SmbParser(ctx2);
  setup(p2);
  const lost = nbss(q({ cmd: 5, msgId: 2 }, smb2Body.createReq('lost.bin')));
  p2.data(0, lost.subarray(0, 40));
  p2.gap(0, lost.length - 40);
  p2.data(0, nbss(q({ cmd: 5, msgId: 3 }, smb2Body.createReq('found.bin'))));
  p2.data(1, nbss(r({ cmd: 5, msgId: 3 }, smb2Body.createResp(FID, 0))));
  p2.data(0, nbss(q({ cmd: 9, msgId: 4 }, smb2Body.writeReq(FID, 0, prng(10, 5)))));
  assert.equal(ctx2.opened[0]!.info.filename, 'found.bin');
});

test('SMB1: NT_CREATE_ANDX, WRITE_ANDX with padding before the data, READ_ANDX, CLOSE', () => {
  const ctx = rangeContext();
  const p = new SmbParser(ctx);
  const h = { uid: 0x800, tid: 0x801 };
  const body = prng(3000, 6);
  p.data(0, nbss(smb1({ cmd: 0x75, mid: 1, ...h }, ...smb1Body.treeConnectReq('\\\\SRV\\PUB'))));
  p.data(1, nbss(smb1({ cmd: 0x75, mid: 1, response: true, ...h }, ...smb1Body.treeConnectResp('A:'))));
  p.data(0, nbss(smb1({ cmd: 0xa2, mid: 2, ...h }, ...smb1Body.ntCreateReq('\\a\\b.txt'))));
  p.data(1, nbss(smb1({ cmd: 0xa2, mid: 2, response: true, ...h }, ...smb1Body.ntCreateResp(0x4001, 0))));
  p.data(0, nbss(smb1({ cmd: 0x2f, mid: 3, ...h }, ...smb1Body.writeReq(0x4001, 1000, body.subarray(1000), 5))));
  p.data(0, nbss(smb1({ cmd: 0x2f, mid: 4, ...h }, ...smb1Body.writeReq(0x4001, 0, body.subarray(0, 1000), 2))));
  p.data(0, nbss(smb1({ cmd: 0x04, mid: 5, ...h }, ...smb1Body.closeReq(0x4001))));
  const f = ctx.opened[0]!;
  assert.equal(f.state, 'CLOSED');
  assert.equal(f.info.filename, '\\a\\b.txt');
  assert.equal(f.sha256(), sha(body));
  assert.deepEqual(f.meta['smb'], { id: f.info.txId + 1, dialect: 'unknown', command: 'SMB1_COMMAND_WRITE_ANDX', status: 'STATUS_SUCCESS', status_code: '0x0', session_id: 0x800, tree_id: 0x801, filename: '\\a\\b.txt', share: '\\\\SRV\\PUB', fuid: '4001' });
  // READ_ANDX: request offset, response DataOffset/DataLength.
  const rd = prng(700, 7);
  const le16 = (v: number) => Uint8Array.of(v & 0xff, v >> 8), le32 = (v: number) => cat(le16(v & 0xffff), le16(v >>> 16));
  p.data(0, nbss(smb1({ cmd: 0xa2, mid: 6, ...h }, ...smb1Body.ntCreateReq('\\r.bin'))));
  p.data(1, nbss(smb1({ cmd: 0xa2, mid: 6, response: true, ...h }, ...smb1Body.ntCreateResp(0x4002, 700))));
  p.data(0, nbss(smb1({ cmd: 0x2e, mid: 7, ...h }, cat(Uint8Array.of(0xff, 0, 0, 0), le16(0x4002), le32(0), le16(700), le16(700), le32(0), le16(0)), new Uint8Array(0))));
  // Response: 12 words; data at 32+1+24+2+1 pad = 60.
  p.data(1, nbss(smb1({ cmd: 0x2e, mid: 7, response: true, ...h }, cat(Uint8Array.of(0xff, 0, 0, 0), le16(0xffff), le16(0), le16(0), le16(700), le16(60), le16(0), new Uint8Array(8)), cat(new Uint8Array(1), rd))));
  p.data(0, nbss(smb1({ cmd: 0x04, mid: 8, ...h }, ...smb1Body.closeReq(0x4002))));
  assert.equal(ctx.opened[1]!.sha256(), sha(rd));
  assert.equal(ctx.opened[1]!.info.direction, 1);
  assert.equal(ctx.opened[1]!.state, 'CLOSED');
});

test('probe: NBSS + SMB magic yes, other content no', () => {
  const f = flow();
  assert.equal(probeSmb(0, nbss(smb2({ cmd: 0, msgId: 0 }, new Uint8Array(36))), f), 'yes');
  assert.equal(probeSmb(0, nbss(cat(Uint8Array.of(0xff, 0x53, 0x4d, 0x42), new Uint8Array(40))), f), 'yes');
  assert.equal(probeSmb(0, Uint8Array.of(0, 0), f), 'need-more');
  assert.equal(probeSmb(0, new TextEncoder().encode('GET / HTTP/1.1\r\n'), f), 'no');
  assert.equal(probeSmb(0, nbss(new TextEncoder().encode('hello world')), f), 'no');
});

test('hostile input: truncated and byte-flipped SMB streams never throw', () => {
  const data = prng(3000, 9);
  const stream = cat(
    nbss(q({ cmd: 5, msgId: 2 }, smb2Body.createReq('x.bin'))), nbss(r({ cmd: 5, msgId: 2 }, smb2Body.createResp(FID, 3000))),
    nbss(smb2Chain([q({ cmd: 8, msgId: 3 }, smb2Body.readReq(FID, 0, 3000)), q({ cmd: 6, msgId: 4, related: true }, smb2Body.closeReq(new Uint8Array(16).fill(0xff)))])),
    nbss(r({ cmd: 8, msgId: 3 }, smb2Body.readResp(data))),
    nbss(smb1({ cmd: 0x2f, mid: 3 }, ...smb1Body.writeReq(0x4001, 0, data.subarray(0, 500), 3))),
  );
  let x = 12345;
  const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  for (let n = 0; n < stream.length; n += 97) {
    const p = new SmbParser(rangeContext());
    p.data(0, stream.subarray(0, n)); p.data(1, stream.subarray(0, n)); p.close();
  }
  for (let k = 0; k < 300; k++) {
    const m = stream.slice();
    for (let j = 0; j < 8; j++) m[rnd() % m.length] = rnd() & 0xff;
    const ctx = rangeContext();
    const p = new SmbParser(ctx);
    inPieces(m, 1 + (rnd() % 700), (b) => { p.data(0, b); p.data(1, b); });
    p.gap(0, 10);
    p.data(0, m.subarray(rnd() % m.length));
    p.close();
    for (const f of ctx.opened) assert.ok(f.state !== undefined);
  }
});
