// FTP control parser (expectations for active/passive, IPv4/IPv6, STOU, refused ports, reply ordering) and the
// ftp-data side: direction of the file, deterministic resolution of candidates against expectations.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  FtpDataCandidateParser, FtpDataParser, FtpParser, ftp, ftpData, ftpDataDirection, ftpDataMeta, parseEprtArg, parseEpsvReply, parsePasvReply,
  parsePortArg, probeFtp, resolveFtpData, type DataCandidate, type FtpExpectation, type TimedExpectation,
} from '../../src/files/protocols/ftp/index.js';
import { fakeContext, fakeFlow, feed } from './smtp-ftp-fake.js';

const V4 = fakeFlow({ flowId: '77', srcIp: '10.1.0.5', srcPort: 40100, dstIp: '10.1.0.9', dstPort: 21 });
const V6 = fakeFlow({ flowId: '78', srcIp: '2001:db8::5', srcPort: 40100, dstIp: '2001:db8::9', dstPort: 21 });
const login: Array<[0 | 1, string]> = [[1, '220 (vsFTPd 3.0.5)\r\n'], [0, 'USER bob\r\n'], [1, '331 pw\r\n'], [0, 'PASS x\r\n'], [1, '230-Welcome\r\n multi line\r\n230 ok\r\n']];

test('port syntax: PORT, EPRT, 227, 229 (lenient spacing, range checks)', () => {
  assert.equal(parsePortArg('10,1,0,5,156,65'), 40001);
  assert.equal(parsePortArg(' 10, 1,0,5 ,156,65 '), 40001);
  assert.equal(parsePortArg('10,1,0,5,256,1'), 0);
  assert.equal(parsePortArg('10,1,0,5,156'), 0);
  assert.equal(parseEprtArg('|2|2001:db8::5|40005|'), 40005);
  assert.equal(parseEprtArg('|1|10.0.0.1|21000|'), 21000);
  assert.equal(parseEprtArg('!2!::1!7!'), 7);
  assert.equal(parseEprtArg('|2|::1|99999|'), 0);
  assert.equal(parsePasvReply('227 Entering Passive Mode (212,27,32,66,221,243).'), 221 * 256 + 243);
  assert.equal(parsePasvReply('227 =10,1,0,9,117,49'), 30001);
  assert.equal(parsePasvReply('227 nothing'), 0);
  assert.equal(parseEpsvReply('229 Entering Extended Passive Mode (|||48758|).'), 48758);
  assert.equal(parseEpsvReply('229 (!!!1234!)'), 1234);
  assert.equal(parseEpsvReply('229 (|||0|)'), 0);
});

test('active and passive over IPv4: RETR/STOR/APPE/STOU expectations, LIST consumes the port', () => {
  const ctx = fakeContext(V4);
  const p = new FtpParser(ctx);
  feed(p, [...login,
    [0, 'PORT 10,1,0,5,156,65\r\n'], [1, '200 PORT ok\r\n'], [0, 'RETR pub/a b.bin\r\n'], [1, '150 Opening\r\n226 done\r\n'],
    [0, 'PASV\r\n'], [1, '227 Entering Passive Mode (10,1,0,9,117,49).\r\n'], [0, 'STOR up.bin\r\n'], [1, '150 ok\r\n226 done\r\n'],
    [0, 'PASV\r\n'], [1, '227 Entering Passive Mode (10,1,0,9,117,50).\r\n'], [0, 'LIST\r\n'], [1, '150 ok\r\n226 done\r\n'],
    [0, 'RETR no-port.bin\r\n'], [1, '425 Use PORT or PASV first.\r\n'],
    [0, 'PORT 10,1,0,5,156,66\r\n'], [1, '200 ok\r\n'], [0, 'STOU\r\n'], [1, '150 FILE: x\r\n226 done\r\n'],
    [0, 'PASV\r\n'], [1, '227 Entering Passive Mode (10,1,0,9,117,51)\r\n'], [0, 'STOU named.txt\r\n'], [1, '150 FILE: named.txt\r\n226 done\r\n'],
    [0, 'PASV\r\n'], [1, '227 Entering Passive Mode (10,1,0,9,117,52)\r\n'], [0, 'APPE log.txt\r\n'], [1, '150 ok\r\n226 done\r\n'],
    [0, 'QUIT\r\n'], [1, '221 bye\r\n']]);
  p.close();
  const got = ctx.expectations.map((e) => {
    const x = e as FtpExpectation;
    return [x.command, x.filename, x.ip, x.port, x.peerIp, x.direction, x.mode, x.parentFlowId, x.appProto];
  });
  assert.deepEqual(got, [
    ['RETR', 'pub/a b.bin', '10.1.0.5', 40001, '10.1.0.9', 1, 'active', '77', 'ftp-data'],
    ['STOR', 'up.bin', '10.1.0.9', 30001, '10.1.0.5', 0, 'passive', '77', 'ftp-data'],
    ['STOU', '<stou>', '10.1.0.5', 40002, '10.1.0.9', 0, 'active', '77', 'ftp-data'],
    ['STOU', 'named.txt', '10.1.0.9', 30003, '10.1.0.5', 0, 'passive', '77', 'ftp-data'],
    ['APPE', 'log.txt', '10.1.0.9', 30004, '10.1.0.5', 0, 'passive', '77', 'ftp-data'],
  ]);
  assert.deepEqual(ctx.expectations.map((e) => e.txId), [3, 5, 10, 12, 14]);
  assert.equal(p.user, 'bob');
  assert.equal(p.stats.transfersWithoutPort, 1);
  assert.ok(ctx.notes.includes('ftp-file-before-port'));
});

test('IPv6: EPRT (active) and EPSV (passive)', () => {
  const ctx = fakeContext(V6);
  const p = new FtpParser(ctx);
  feed(p, [...login, [0, 'EPRT |2|2001:db8::5|40005|\r\n'], [1, '200 EPRT ok\r\n'], [0, 'RETR v6.bin\r\n'], [1, '150 ok\r\n226 ok\r\n'],
    [0, 'EPSV\r\n'], [1, '229 Entering Extended Passive Mode (|||30005|)\r\n'], [0, 'STOR up6.bin\r\n'], [1, '150 ok\r\n226 ok\r\n']]);
  assert.deepEqual(ctx.expectations.map((e) => [e.command, e.filename, e.ip, e.port, e.peerIp, e.direction]), [
    ['RETR', 'v6.bin', '2001:db8::5', 40005, '2001:db8::9', 1],
    ['STOR', 'up6.bin', '2001:db8::9', 30005, '2001:db8::5', 0],
  ]);
});

test('ordering: passive transfer commands before the 227 wait for it; a refused PORT announces nothing', () => {
  const ctx = fakeContext(V4);
  const p = new FtpParser(ctx);
  // The client side delivered first (e.g. one-sided reassembly flush), then the replies.
  feed(p, [[0, 'USER a\r\nPASS b\r\nPASV\r\nRETR one\r\nPASV\r\nRETR two\r\n'],
    [1, '220 hi\r\n331 pw\r\n230 ok\r\n227 P (10,1,0,9,1,1)\r\n150 x\r\n226 x\r\n227 P (10,1,0,9,1,2)\r\n150 x\r\n226 x\r\n']]);
  assert.deepEqual(ctx.expectations.map((e) => [e.filename, e.port]), [['one', 257], ['two', 258]]);
  const ctx2 = fakeContext(V4);
  const p2 = new FtpParser(ctx2);
  feed(p2, [...login, [0, 'PORT 10,1,0,5,1,1\r\n'], [1, '500 Illegal PORT command.\r\n'], [0, 'RETR x\r\n'], [1, '425 no\r\n']]);
  assert.equal(ctx2.expectations.length, 0);
  // AUTH TLS accepted: the rest is encrypted, nothing more is parsed.
  const ctx3 = fakeContext(V4);
  const p3 = new FtpParser(ctx3);
  feed(p3, [[1, '220 hi\r\n'], [0, 'AUTH TLS\r\n'], [1, '234 go\r\n'], [0, 'PORT 10,1,0,5,1,1\r\nRETR x\r\n']]);
  assert.equal(ctx3.expectations.length, 0);
});

test('data direction: active/passive × upload/download', () => {
  const exp = (o: Partial<FtpExpectation>): FtpExpectation => ({ ip: '', port: 1, appProto: 'ftp-data', command: 'RETR', filename: 'f', direction: 1, parentFlowId: '1', txId: 0, mode: 'passive', controlClientIp: '10.1.0.5', ...o });
  const passiveFlow = fakeFlow({ srcIp: '10.1.0.5', dstIp: '10.1.0.9' });
  const activeFlow = fakeFlow({ srcIp: '10.1.0.9', srcPort: 20, dstIp: '10.1.0.5' });
  assert.equal(ftpDataDirection(exp({ direction: 1 }), passiveFlow), 1); // passive RETR: server → client
  assert.equal(ftpDataDirection(exp({ direction: 0, command: 'STOR' }), passiveFlow), 0); // passive STOR: client → server
  assert.equal(ftpDataDirection(exp({ direction: 1, mode: 'active' }), activeFlow), 0); // active RETR: connector (ctl server) sends
  assert.equal(ftpDataDirection(exp({ direction: 0, mode: 'active', command: 'STOR' }), activeFlow), 1); // active STOR
  // Loopback: both ends share an address, the mode still decides.
  const lo = fakeFlow({ srcIp: '127.0.0.1', srcPort: 20, dstIp: '127.0.0.1', dstPort: 40003 });
  assert.equal(ftpDataDirection(exp({ direction: 1, mode: 'active', controlClientIp: '127.0.0.1' }), lo), 0);
});

test('FtpDataParser: bytes in the announced direction are the file; the other direction is ignored', () => {
  const flow = fakeFlow({ flowId: '900', srcIp: '10.1.0.9', srcPort: 20, dstIp: '10.1.0.5', dstPort: 40001 });
  const ctx = fakeContext(flow);
  const e: FtpExpectation = { ip: '10.1.0.5', port: 40001, peerIp: '10.1.0.9', appProto: 'ftp-data', command: 'RETR', filename: 'pub/x.bin', direction: 1, parentFlowId: '77', txId: 3, mode: 'active', controlClientIp: '10.1.0.5' };
  const p = new FtpDataParser(ctx, e);
  p.data(0, Buffer.from('abc'));
  p.data(1, Buffer.from('ignored'));
  p.gap(0, 10);
  p.data(0, Buffer.from('def'));
  p.close();
  assert.equal(ctx.opened.length, 1);
  const f = ctx.opened[0]!;
  assert.equal(f.bytes().toString(), 'abcdef');
  assert.equal(f.gaps, 10);
  assert.equal(f.state, 'TRUNCATED');
  assert.deepEqual([f.info.filename, f.info.direction, f.info.appProto, f.info.txId], ['pub/x.bin', 0, 'ftp-data', 0]);
  assert.deepEqual(f.meta, { ftp_data: { command: 'RETR', filename: 'pub/x.bin' }, parent_id: '77' });
  assert.deepEqual(ftpDataMeta(e), { filename: 'pub/x.bin', meta: { ftp_data: { command: 'RETR', filename: 'pub/x.bin' }, parent_id: '77' } });
});

test('resolveFtpData: deterministic pairing whatever the input order; timeouts, peers, reuse', () => {
  const at = (sec: number) => ({ sec, nsec: 0 });
  const E = (port: number, sec: number, filename: string, o: Partial<FtpExpectation> = {}): TimedExpectation => ({
    exp: { ip: '10.1.0.9', port, peerIp: '10.1.0.5', appProto: 'ftp-data', command: 'STOR', filename, direction: 0, parentFlowId: '77', txId: sec, mode: 'passive', controlClientIp: '10.1.0.5', ...o } as FtpExpectation, ...at(sec),
  });
  const C = (id: string, src: string, port: number, first0: number | null, first1: number | null = null): DataCandidate => ({
    flow: fakeFlow({ flowId: id, srcIp: src, srcPort: 50000, dstIp: '10.1.0.9', dstPort: port }),
    first: [first0 === null ? null : at(first0), first1 === null ? null : at(first1)],
  });
  const exps = [E(3000, 10, 'old'), E(3000, 20, 'new'), E(3001, 30, 'late'), E(3002, 40, 'timeout'), E(3003, 50, 'wrongdir')];
  const cands = [
    C('a', '10.1.0.5', 3000, 21), // newest announcement before its data: 'new'
    C('b', '10.1.0.5', 3000, 22), // the older one is still free: 'old'
    C('c', '10.1.0.5', 3001, 29), // data before the announcement: no match
    C('d', '10.1.0.5', 3002, 71), // 31 s later: expired
    C('e', '10.1.0.6', 3000, 23), // another peer: no match
    C('f', '10.1.0.5', 3003, null, 51), // bytes only in the wrong direction
  ];
  const names = (m: ReturnType<typeof resolveFtpData>, cs: DataCandidate[], es: TimedExpectation[]) =>
    m.map((x) => [cs[x.candidate]!.flow.flowId, es[x.expectation]!.exp.filename, x.direction]).sort();
  const want = [['a', 'new', 0], ['b', 'old', 0]];
  assert.deepEqual(names(resolveFtpData(exps, cands), cands, exps), want);
  const re = [...exps].reverse(), rc = [cands[3]!, cands[0]!, cands[5]!, cands[1]!, cands[4]!, cands[2]!];
  assert.deepEqual(names(resolveFtpData(re, rc), rc, re), want);
});

test('candidate parser: provisional file per direction with first-byte times; module shapes', () => {
  const ctx = fakeContext(fakeFlow({ dstPort: 30001 }));
  let t = 5;
  ctx.now = () => ({ sec: t++, nsec: 0 });
  const p = new FtpDataCandidateParser(ctx);
  p.data(1, Buffer.from('xy'));
  p.data(1, Buffer.from('z'));
  p.data(0, Buffer.from('q'));
  p.close();
  assert.deepEqual(p.first, [{ sec: 6, nsec: 0 }, { sec: 5, nsec: 0 }]);
  assert.deepEqual(ctx.opened.map((f) => [f.info.direction, f.bytes().toString(), f.state, f.info.filename]), [[1, 'xyz', 'CLOSED', ''], [0, 'q', 'CLOSED', '']]);
  assert.equal(p.candidate().flow.dstPort, 30001);
  assert.equal(ftpData.name, 'ftp-data');
  assert.equal(ftpData.probe(0, Buffer.from('anything'), ctx.flow), 'no');
  assert.equal(ftp.name, 'ftp');
  assert.ok(ftp.create(fakeContext(V4)) instanceof FtpParser);
});

test('probe: client commands, banners, POP3 USER', () => {
  const f = fakeFlow({ dstPort: 2100 });
  assert.equal(probeFtp(0, Buffer.from('USER anonymous\r\n'), f), 'yes');
  assert.equal(probeFtp(0, Buffer.from('USER anonymous\r\n'), fakeFlow({ dstPort: 110 })), 'no');
  assert.equal(probeFtp(0, Buffer.from('FEAT\r\n'), f), 'yes');
  assert.equal(probeFtp(0, Buffer.from('EHLO x\r\n'), f), 'no');
  assert.equal(probeFtp(1, Buffer.from('220 (vsFTPd 3.0.5)\r\n'), f), 'yes');
  assert.equal(probeFtp(1, Buffer.from('220 mx ESMTP Postfix\r\n'), f), 'no');
  assert.equal(probeFtp(1, Buffer.from('220 ready\r\n'), fakeFlow({ dstPort: 21 })), 'yes');
  assert.equal(probeFtp(1, Buffer.from('220 rea'), f), 'need-more');
});

test('random bytes and truncated commands never throw', () => {
  const ctx = fakeContext(V4);
  const p = new FtpParser(ctx);
  let x = 12345;
  const rnd = new Uint8Array(100000).map(() => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x & 0xff; });
  for (let i = 0; i < rnd.length; i += 700) p.data(((i / 700) & 1) as 0 | 1, rnd.subarray(i, i + 700));
  const cmds = 'PORT 10,1,0,5,156,65\r\nRETR a\r\nPASV\r\nEPRT |2|::1|5|\r\nSTOU\r\n';
  for (let cut = 0; cut <= cmds.length; cut++) {
    const c = fakeContext(V4);
    const q = new FtpParser(c);
    q.data(1, Buffer.from('220 ftp\r\n'));
    q.data(0, Buffer.from(cmds.slice(0, cut)));
    q.data(1, Buffer.from('200 ok\r\n227 (10,1,0,9,1,2)\r\n'));
    q.close();
    assert.ok(c.expectations.length <= 2, `cut ${cut}`);
  }
  p.close();
});
