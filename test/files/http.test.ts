// HTTP/1.x parser on raw bytes through the real tracker (no filestore): Content-Length, chunked + gzip,
// pipelining with HEAD/204/304/1xx, multipart, PUT, Content-Range, Content-Disposition names, until-close
// bodies, CONNECT tunnels, gaps, libhtp's trailing-line quirk; and the content probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync, deflateSync } from 'node:zlib';
import { HttpParser, probeHttp } from '../../src/files/protocols/http/index.js';
import { Tracker } from '../../src/files/tracker.js';
import type { FlowInfo, ProtocolContext, ProtocolLimits } from '../../src/files/protocols/contract.js';

const flow: FlowInfo = { flowId: '42', communityId: '1:test', srcIp: '10.0.0.1', srcPort: 40000, dstIp: '10.0.0.2', dstPort: 80, proto: 6 };
const t = (s: string) => Buffer.from(s, 'latin1');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function setup(limits?: ProtocolLimits) {
  const tracker = new Tracker(null, { hashes: ['md5'] });
  const notes: string[] = [];
  const ctx: ProtocolContext = { flow, files: tracker.forFlow(flow, () => ({ sec: 1, nsec: 0 })), now: () => ({ sec: 1, nsec: 0 }), expect: () => {}, note: (e) => notes.push(e), ...(limits ? { limits } : {}) };
  const p = new HttpParser(ctx);
  /** Feed bytes in pieces of `step` to exercise every split point. */
  const feed = (dir: 0 | 1, b: Uint8Array, step = 7) => { for (let o = 0; o < b.length; o += step) p.data(dir, b.subarray(o, o + step)); };
  return { tracker, p, feed, notes, files: () => tracker.finished.map((f) => f.event) };
}

test('Content-Length response, pipelining, HEAD/204/304/100 without bodies, libhtp trailing CRLF quirk', () => {
  const { p, feed, files } = setup();
  feed(0, t('GET /a?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: ua\r\n\r\nHEAD /h HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\nGET /e HTTP/1.1\r\n\r\n'));
  feed(1, t('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=x\r\nContent-Length: 5\r\n\r\nhello'));
  feed(1, t('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'));
  feed(1, t('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz\r\n'));
  p.close();
  const ev = files();
  assert.equal(ev.length, 2);
  assert.equal(ev[0]!.fileinfo.filename, '/a');
  assert.equal(ev[0]!.fileinfo.sha256, sha(t('hello')));
  assert.equal(ev[0]!.fileinfo.md5, createHash('md5').update('hello').digest('hex'));
  assert.deepEqual(ev[0]!.http, { hostname: 'example.com', url: '/a?x=1', http_user_agent: 'ua', http_content_type: 'text/plain', http_method: 'GET', protocol: 'HTTP/1.1', status: 200, length: 5 });
  assert.equal(ev[0]!.src_ip, '10.0.0.2'); // download: server is src
  assert.equal(ev[0]!.fileinfo.tx_id, 0);
  // libhtp appends a non-status line after a body to that body: xyz + CRLF
  assert.equal(ev[1]!.fileinfo.filename, '/e');
  assert.equal(ev[1]!.fileinfo.size, 5);
  assert.equal(ev[1]!.fileinfo.tx_id, 4);
});

test('chunked + gzip and deflate bodies are decoded before hashing', () => {
  for (const [enc, z] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
    const { p, feed, files } = setup();
    const body = t('decoded content '.repeat(500));
    const zb = z(body);
    const chunks = [zb.subarray(0, 40), zb.subarray(40)].map((c) => Buffer.concat([t(c.length.toString(16) + ';ext=1\r\n'), c, t('\r\n')]));
    feed(0, t('GET /z HTTP/1.1\r\n\r\n'));
    feed(1, Buffer.concat([t(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: ${enc}\r\n\r\n`), ...chunks, t('0\r\nTrailer: x\r\n\r\n')]), 13);
    p.close();
    const ev = files();
    assert.equal(ev.length, 1, enc);
    assert.equal(ev[0]!.fileinfo.size, body.length);
    assert.equal(ev[0]!.fileinfo.sha256, sha(body));
    assert.equal(ev[0]!.fileinfo.state, 'CLOSED');
    assert.equal((ev[0]!.http as { length: number }).length, zb.length);
  }
});

test('multipart/form-data: each part with a filename is a file; fields are not; boundary split anywhere', () => {
  const bnd = 'XyZ';
  const f1 = t('part one\r\n--XyZnot\r\n'), f2 = Buffer.alloc(3000, 0x41);
  const body = Buffer.concat([t(`--${bnd}\r\nContent-Disposition: form-data; name="a"\r\n\r\nfield\r\n--${bnd}\r\nContent-Disposition: form-data; name="f"; filename="one.txt"\r\n\r\n`), f1,
    t(`\r\n--${bnd}\r\nContent-Disposition: form-data; name="g"; filename*=UTF-8''t%C3%A9st.bin\r\n\r\n`), f2, t(`\r\n--${bnd}--\r\n`)]);
  for (const step of [1, 5, 64, 100000]) {
    const { p, feed, files } = setup();
    feed(0, Buffer.concat([t(`POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary="${bnd}"\r\nContent-Length: ${body.length}\r\n\r\n`), body]), step);
    p.close();
    const ev = files();
    assert.deepEqual(ev.map((e) => [e.fileinfo.filename, e.fileinfo.size, e.fileinfo.sha256]), [['one.txt', f1.length, sha(f1)], ['tést.bin', 3000, sha(f2)]], `step ${step}`);
    assert.equal(ev[0]!.src_ip, '10.0.0.1'); // upload: client is src
  }
});

test('POST/PUT bodies are files named by the URI path; GET bodies and 0-length are not', () => {
  const { p, feed, files } = setup();
  feed(0, t('PUT /x/y.bin?q HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcdPOST /p HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /g HTTP/1.1\r\nContent-Length: 2\r\n\r\nzzPOST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
  p.close();
  assert.deepEqual(files().map((e) => [e.fileinfo.filename, e.fileinfo.size]), [['/x/y.bin', 4], ['/c', 3]]);
});

test('Content-Range and Content-Disposition; body until close; truncated body', () => {
  const { p, feed, files } = setup();
  feed(0, t('GET /r HTTP/1.1\r\n\r\nGET /s HTTP/1.0\r\n\r\n'));
  feed(1, t('HTTP/1.1 206 Partial\r\nContent-Range: bytes 100-104/1000\r\nContent-Disposition: attachment; filename="r.bin"\r\nContent-Length: 5\r\n\r\n12345'));
  feed(1, t('HTTP/1.0 200 OK\r\n\r\nuntil close'));
  p.close();
  const ev = files();
  assert.deepEqual(ev.map((e) => [e.fileinfo.filename, e.fileinfo.size, e.fileinfo.start, e.fileinfo.end, e.fileinfo.state]), [['r.bin', 5, 100, 104, 'CLOSED'], ['/s', 11, undefined, undefined, 'CLOSED']]);
  const s2 = setup();
  s2.feed(0, t('GET /t HTTP/1.1\r\n\r\n'));
  s2.feed(1, t('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123'));
  s2.p.close();
  assert.deepEqual(s2.files().map((e) => [e.fileinfo.size, e.fileinfo.state]), [[3, 'TRUNCATED']]);
});

test('gaps: inside a body the file records it; past the body the parser resynchronises', () => {
  const { p, feed, files } = setup();
  feed(0, t('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n'));
  feed(1, t('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  p.gap(1, 4);
  feed(1, t('xyzHTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n12'));
  p.gap(1, 30); // runs past the body of /2 into the next message
  feed(1, t('junk\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  p.close();
  const ev = files();
  assert.deepEqual(ev.map((e) => [e.fileinfo.filename, e.fileinfo.size, e.fileinfo.gaps, e.fileinfo.state]), [['/1', 10, true, 'TRUNCATED'], ['/2', 20, true, 'TRUNCATED'], ['/3', 2, false, 'CLOSED']]);
  assert.equal(ev[0]!.fileinfo.sha256, sha(t('abcxyz')));
});

test('CONNECT 200 turns the flow into a tunnel (no files from it)', () => {
  const { p, feed, files } = setup();
  feed(0, t('CONNECT host:443 HTTP/1.1\r\n\r\n'));
  feed(1, t('HTTP/1.1 200 Connection established\r\n\r\n'));
  feed(0, t('POST /inner HTTP/1.1\r\nContent-Length: 2\r\n\r\nab'));
  p.close();
  assert.equal(files().length, 0);
});

test('body limits (libhtp request/response-body-limit): data past the limit truncates the file, gaps do not count', () => {
  const body = Buffer.alloc(300, 0x61);
  for (const step of [1, 7, 64, 1000]) {
    const { p, feed, files } = setup({ httpRequestBody: 50, httpResponseBody: 100 });
    feed(0, t('GET /cut HTTP/1.1\r\n\r\nGET /exact HTTP/1.1\r\n\r\nGET /gap HTTP/1.1\r\n\r\nGET /z HTTP/1.1\r\n\r\n'), step);
    // 300 bytes against a limit of 100: the first 100 are the file, TRUNCATED.
    feed(1, Buffer.concat([t('HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n'), body]), step);
    // Exactly the limit: nothing more comes, the file is complete.
    feed(1, Buffer.concat([t('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'), body.subarray(0, 100)]), step);
    // 50 bytes, a 200-byte gap, 50 bytes: 100 bytes of data reach the limit, the gap adds to the size only.
    feed(1, Buffer.concat([t('HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n'), body.subarray(0, 50)]), step);
    p.gap(1, 200);
    feed(1, body.subarray(0, 50), step);
    // The limit counts decoded bytes: 400 bytes gzipped to a few dozen (decoded at the body's end, so the file
    // closes after the request below, which is cut as soon as its data passes the limit).
    const z = gzipSync(Buffer.alloc(400, 0x62));
    feed(1, Buffer.concat([t(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${z.length}\r\n\r\n`), z]), step);
    // A request body over its own limit (50): a POST with 80 bytes.
    feed(0, Buffer.concat([t('POST /up HTTP/1.1\r\nContent-Length: 80\r\n\r\n'), body.subarray(0, 80)]), step);
    p.close();
    const got = files().map((e) => [e.fileinfo.filename, e.fileinfo.size, e.fileinfo.state, e.fileinfo.gaps]);
    assert.deepEqual(got, [
      ['/cut', 100, 'TRUNCATED', false],
      ['/exact', 100, 'CLOSED', false],
      ['/gap', 300, 'TRUNCATED', true],
      ['/up', 50, 'TRUNCATED', false],
      ['/z', 100, 'TRUNCATED', false],
    ], `step ${step}`);
    assert.equal(files()[0]!.fileinfo.sha256, sha(body.subarray(0, 100)));
  }
});

test('probe: methods and status lines by content on any port', () => {
  assert.equal(probeHttp(0, t('GET / HTTP/1.1'), flow), 'yes');
  assert.equal(probeHttp(0, t('PROPFIND /x'), flow), 'yes');
  assert.equal(probeHttp(0, t('PO'), flow), 'need-more');
  assert.equal(probeHttp(0, t('EHLO x'), flow), 'no');
  assert.equal(probeHttp(0, t('\x16\x03\x01'), flow), 'no');
  assert.equal(probeHttp(1, t('HTTP/1.0 200'), flow), 'yes');
  assert.equal(probeHttp(1, t('HTT'), flow), 'need-more');
  assert.equal(probeHttp(1, t('220 smtp'), flow), 'no');
});

test('header and line caps stop a hostile side (noted) without unbounded memory', () => {
  const { p, notes } = setup();
  const line = Buffer.alloc(70 * 1024, 0x41);
  p.data(0, t('GET /'));
  p.data(0, line);
  assert.ok(notes.includes('http-line-too-long'));
});

test('206 ranges of one host + path covering the whole total are also assembled into one file', () => {
  const { p, feed, files, notes } = setup();
  const whole = t('0123456789abcdefghij');
  feed(0, t('GET /v.bin HTTP/1.1\r\nHost: h\r\n\r\nGET /v.bin HTTP/1.1\r\nHost: h\r\n\r\nGET /w.bin HTTP/1.1\r\nHost: h\r\n\r\n'));
  feed(1, t('HTTP/1.1 206 P\r\nContent-Range: bytes 10-19/20\r\nContent-Length: 10\r\n\r\nabcdefghij'));
  feed(1, t('HTTP/1.1 206 P\r\nContent-Range: bytes 0-11/20\r\nContent-Length: 12\r\n\r\n0123456789ab'));
  feed(1, t('HTTP/1.1 206 P\r\nContent-Range: bytes 0-1/5\r\nContent-Length: 2\r\n\r\nzz'));
  p.close();
  const ev = files();
  assert.deepEqual(ev.map((e) => [e.fileinfo.filename, e.fileinfo.size, e.fileinfo.start, e.fileinfo.state]),
    [['/v.bin', 10, 10, 'CLOSED'], ['/v.bin', 12, 0, 'CLOSED'], ['/v.bin', 20, undefined, 'CLOSED'], ['/w.bin', 2, 0, 'CLOSED']]);
  assert.equal(ev[2]!.fileinfo.sha256, sha(whole));
  assert.ok(notes.includes('http-range-incomplete')); // /w.bin: 2 of 5 bytes, no whole file
});

test('robustness: mutated messages, random splits and gaps never throw; every opened file closes', () => {
  let x = 12345;
  const rnd = (n: number) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
  const seeds = ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n5\r\nabcde\r\n0\r\n\r\n',
    'POST /u HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 60\r\n\r\n--b\r\nContent-Disposition: form-data; filename="x"\r\n\r\nabc\r\n--b--\r\n',
    'HTTP/1.1 206 P\r\nContent-Range: bytes 0-3/8\r\nContent-Length: 4\r\n\r\nabcd', 'HTTP/1.0 200 OK\r\n\r\nbody'];
  let files = 0;
  for (let it = 0; it < 3000; it++) {
    const { p, tracker } = setup();
    for (let k = 0; k < 6; k++) {
      const dir = rnd(2) as 0 | 1;
      const b = Buffer.from(seeds[rnd(seeds.length)]!, 'latin1');
      for (let m = rnd(4); m > 0; m--) b[rnd(b.length)] = rnd(256);
      for (let o = 0; o < b.length;) { const s = 1 + rnd(20); p.data(dir, b.subarray(o, o + s)); o += s; if (rnd(30) === 0) p.gap(dir, rnd(50)); }
    }
    p.close();
    assert.equal(tracker.open.size, 0);
    files += tracker.finished.length;
  }
  assert.ok(files > 1000, `${files} files`);
});
