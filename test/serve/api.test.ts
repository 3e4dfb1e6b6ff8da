// The probe REST API over a real HTTPS socket: auth on every endpoint, qfilter listings, extracted-file
// status/retrieve/download, path-traversal refusals and the upload size limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/serve/server.js';
import { storeCarver } from '../../src/serve/carver.js';
import { tmpDir } from '../_util.js';
import { httpsRequest, makeCert, multipartBody } from './tls.js';

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed';
const dir = tmpDir('flowcarve-serve-');
const cert = makeCert(dir);
const skip = cert ? false : 'openssl is not installed: cannot make a test certificate';
let app: FastifyInstance;
let port = 0;
const fileBytes = Buffer.from('MZ' + 'payload of an extracted executable '.repeat(100));
const sha = createHash('sha256').update(fileBytes).digest('hex');
const goneSha = 'ab'.repeat(32);

before(async () => {
  if (!cert) return;
  const filestore = join(dir, 'filestore');
  mkdirSync(join(filestore, sha.slice(0, 2)), { recursive: true });
  writeFileSync(join(filestore, sha.slice(0, 2), sha), fileBytes);
  const eve = join(dir, 'eve.json');
  writeFileSync(eve, [
    `{"timestamp":"2024-01-01T00:00:01.000000+0000","flow_id":1234567890123456789,"event_type":"alert","src_ip":"10.0.0.1","src_port":1025,"dest_ip":"203.0.113.5","dest_port":80,"proto":"TCP","alert":{"signature_id":2029743,"signature":"ET TEST one"}}`,
    `{"timestamp":"2024-01-01T00:00:02.000000+0000","flow_id":1234567890123456789,"event_type":"fileinfo","fileinfo":{"filename":"/a.exe","sha256":"${sha}","stored":true,"size":${fileBytes.length}}}`,
    `{"timestamp":"2024-01-01T00:00:03.000000+0000","flow_id":42,"event_type":"fileinfo","fileinfo":{"filename":"/gone.bin","sha256":"${goneSha}","stored":true,"size":3}}`,
    `{"timestamp":"2024-01-01T00:00:04.000000+0000","flow_id":43,"event_type":"alert","src_ip":"10.0.0.2","alert":{"signature_id":1,"signature":"ET TEST two"}}`,
    'this line is not json',
  ].join('\n') + '\n');
  app = await buildServer({
    token: TOKEN, workDir: join(dir, 'work'), carver: storeCarver, maxUpload: 64 * 1024, https: cert,
    probes: [{ name: 'probe-a', store: join(dir, 'store'), filestore, eve: [eve] }],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
after(async () => { await app?.close(); });

const ENDPOINTS: Array<[string, string]> = [
  ['GET', '/rest/rules/es/alerts_tail/'], ['GET', '/rest/rules/es/events_tail/'], ['GET', '/rest/rules/es/events_from_flow_id/?qfilter=flow_id:1'],
  ['POST', '/rest/rules/filestore_pcap/upload/?host=probe-a'], ['POST', '/rest/rules/filestore_pcap/alert-00000000000000000000000000000000.json/extract_pcap/?host=probe-a'],
  ['GET', '/rest/rules/filestore_pcap/alert-00000000000000000000000000000000.json/retrieve/?host=probe-a'],
  ['GET', '/rest/rules/filestore_pcap/alert-00000000000000000000000000000000.json/download/'],
  ['GET', `/rest/rules/filestore/${'0'.repeat(64)}/status/?host=probe-a`], ['GET', `/rest/rules/filestore/${'0'.repeat(64)}/retrieve/?host=probe-a`],
  ['GET', `/rest/rules/filestore/${'0'.repeat(64)}/download/?host=probe-a`], ['GET', '/rest/nothing/here/'],
];

test('missing or wrong token gives 401 on every endpoint', { skip }, async () => {
  for (const [m, p] of ENDPOINTS) {
    for (const token of [undefined, 'wrong', TOKEN + 'x']) {
      const r = await httpsRequest(port, cert!.cert, m, p, { token });
      assert.equal(r.status, 401, `${m} ${p} with token ${token}`);
      assert.match(JSON.parse(r.body.toString()).detail, /token|credentials/i);
    }
  }
});

test('alerts_tail and events_tail filter with qfilter, newest first, exact 64-bit ids, host field', { skip }, async () => {
  const q = (p: string) => httpsRequest(port, cert!.cert, 'GET', p, { token: TOKEN }).then((r) => { assert.equal(r.status, 200, r.body.toString()); return r.body.toString(); });
  const all = JSON.parse(await q('/rest/rules/es/alerts_tail/'));
  assert.deepEqual(all.results.map((e: { alert: { signature_id: number } }) => e.alert.signature_id), [1, 2029743]);
  assert.equal(all.results[0].host, 'probe-a');
  const bySig = await q('/rest/rules/es/alerts_tail/?qfilter=alert.signature_id%3A2029743');
  assert.match(bySig, /"flow_id":1234567890123456789/);
  assert.equal(JSON.parse(bySig).count, 1);
  const fromFlow = JSON.parse(await q('/rest/rules/es/events_from_flow_id/?qfilter=flow_id:1234567890123456789'));
  assert.deepEqual(fromFlow.results.map((e: { event_type: string }) => e.event_type), ['fileinfo', 'alert']);
  const notAlert = JSON.parse(await q('/rest/rules/es/events_tail/?qfilter=' + encodeURIComponent('event_type:fileinfo AND NOT fileinfo.filename:"/gone.bin"')));
  assert.deepEqual(notAlert.results.map((e: { fileinfo: { filename: string } }) => e.fileinfo.filename), ['/a.exe']);
  const paged = JSON.parse(await q('/rest/rules/es/events_tail/?page_size=1&page=2'));
  assert.equal(paged.count, 4);
  assert.equal(paged.results[0].flow_id, 42);
  const bad = await httpsRequest(port, cert!.cert, 'GET', '/rest/rules/es/events_tail/?qfilter=' + encodeURIComponent('(a:b'), { token: TOKEN });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body.toString()).detail, /qfilter/);
});

test('extracted file: status, retrieve, download bytes with the requested sha256', { skip }, async () => {
  const base = `/rest/rules/filestore/${sha}`;
  const st = await httpsRequest(port, cert!.cert, 'GET', `${base}/status/?host=probe-a`, { token: TOKEN });
  assert.deepEqual(JSON.parse(st.body.toString()), { status: 'available' });
  const rt = await httpsRequest(port, cert!.cert, 'GET', `${base}/retrieve/?host=probe-a`, { token: TOKEN });
  assert.deepEqual(JSON.parse(rt.body.toString()), { retrieve: 'done' });
  const dl = await httpsRequest(port, cert!.cert, 'GET', `${base}/download/?host=probe-a`, { token: TOKEN });
  assert.equal(dl.status, 200);
  assert.equal(dl.headers['content-type'], 'application/octet-stream');
  assert.match(String(dl.headers['content-disposition']), /^attachment/);
  assert.equal(createHash('sha256').update(dl.body).digest('hex'), sha);
  const gone = await httpsRequest(port, cert!.cert, 'GET', `/rest/rules/filestore/${goneSha}/status/?host=probe-a`, { token: TOKEN });
  assert.equal(gone.status, 404);
  assert.equal(JSON.parse(gone.body.toString()).status, 'deleted');
  const unknown = await httpsRequest(port, cert!.cert, 'GET', `/rest/rules/filestore/${'c'.repeat(64)}/status/?host=probe-a`, { token: TOKEN });
  assert.equal(JSON.parse(unknown.body.toString()).status, 'not found');
  const noProbe = await httpsRequest(port, cert!.cert, 'GET', `${base}/status/?host=nope`, { token: TOKEN });
  assert.equal(noProbe.status, 404);
  assert.match(JSON.parse(noProbe.body.toString()).detail, /unknown probe/);
});

test('path traversal and foreign names are refused without reading outside the configured directories', { skip }, async () => {
  const attempts = [
    '/rest/rules/filestore/..%2F..%2F..%2Fetc%2Fpasswd/download/?host=probe-a',
    '/rest/rules/filestore/%2Fetc%2Fpasswd/status/?host=probe-a',
    `/rest/rules/filestore/${'A'.repeat(64)}/download/?host=probe-a`,
    '/rest/rules/filestore_pcap/..%2F..%2Fetc%2Fpasswd/download/',
    '/rest/rules/filestore_pcap/%2Fetc%2Fpasswd/retrieve/?host=probe-a',
    '/rest/rules/filestore_pcap/..%2Fuploads%2Fx.json/extract_pcap/?host=probe-a',
    '/rest/rules/filestore_pcap/../../../etc/passwd/download/',
  ];
  for (const p of attempts) {
    const method = p.includes('extract_pcap') ? 'POST' : 'GET';
    const r = await httpsRequest(port, cert!.cert, method, p, { token: TOKEN });
    assert.ok(r.status === 400 || r.status === 404, `${p} → ${r.status}`);
    const body = r.body.toString();
    assert.doesNotMatch(body, /root:|at \w+ \(/, 'no file content and no stack trace');
    assert.ok(typeof JSON.parse(body).detail === 'string');
  }
});

test('malformed alert JSON is a 400 and an oversize upload is refused at the configured limit', { skip }, async () => {
  const bad = multipartBody('file', 'alert.json', Buffer.from('{"src_ip": "10.0.0.1", '));
  const r = await httpsRequest(port, cert!.cert, 'POST', '/rest/rules/filestore_pcap/upload/?host=probe-a', { token: TOKEN, body: bad.body, headers: { 'content-type': bad.type } });
  assert.equal(r.status, 400);
  assert.match(JSON.parse(r.body.toString()).detail, /malformed alert JSON/);
  // A 1 GB upload streamed lazily: the server answers 413 once the limit (64 KiB) is passed, long before the end.
  const boundary = '----big';
  let sent = 0;
  const body = async function* () {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\nContent-Type: application/json\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 20, 0x20);
    for (let i = 0; i < 1024; i++) { sent += chunk.length; yield chunk; }
  };
  const big = await httpsRequest(port, cert!.cert, 'POST', '/rest/rules/filestore_pcap/upload/?host=probe-a', {
    token: TOKEN, body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(1 << 30) },
  });
  assert.equal(big.status, 413, big.body.toString());
  assert.ok(sent < 256 << 20, `refused early (client had sent ${sent} bytes)`);
});
