// The documented conditional-pcap flow over HTTPS: upload the alert JSON → extract_pcap → retrieve → download;
// the downloaded pcap is byte-identical to what `flowcarve carve` writes for the same alert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/serve/server.js';
import { storeCarver } from '../../src/serve/carver.js';
import { runCli, tmpDir, FIXTURES } from '../_util.js';
import { httpsRequest, makeCert, multipartBody } from './tls.js';

const TOKEN = 'pcap-flow-token-0123456789';
const dir = tmpDir('flowcarve-serve-pcap-');
const cert = makeCert(dir);
const skip = cert ? false : 'openssl is not installed: cannot make a test certificate';
const store = join(dir, 'store');
const eve = join(FIXTURES, 'demo/eve.json');
let app: FastifyInstance;
let port = 0;

before(async () => {
  if (!cert) return;
  const r = runCli(['store', '--eve', eve, '--out', store, join(FIXTURES, 'demo/demo.pcap')]);
  assert.equal(r.status, 0, r.stderr.toString());
  app = await buildServer({ token: TOKEN, workDir: join(dir, 'work'), carver: storeCarver, https: cert, probes: [{ name: 'probe-1', store, filestore: join(dir, 'fs'), eve: [eve] }] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
after(async () => { await app?.close(); });

test('alert → upload → extract → retrieve → download equals flowcarve carve', { skip }, async () => {
  const alerts = readFileSync(eve, 'utf8').trim().split('\n');
  assert.equal(alerts.length, 2);
  for (const [k, line] of alerts.entries()) {
    // The analyst downloads the alert from the alert view (pretty JSON) and uploads it.
    const alertFile = join(dir, `alert-${k}.json`);
    writeFileSync(alertFile, JSON.stringify(JSON.parse(line), null, 2));
    const cli = runCli(['carve', '--store', store, '--alert', alertFile, '--out', join(dir, `cli-${k}`)]);
    assert.equal(cli.status, 0, cli.stderr.toString());
    const carved = JSON.parse(cli.stdout.toString().trim());
    const expected = readFileSync(carved.path);

    const up = multipartBody('file', 'alert.json', readFileSync(alertFile));
    const u = await httpsRequest(port, cert!.cert, 'POST', '/rest/rules/filestore_pcap/upload/?host=probe-1', { token: TOKEN, body: up.body, headers: { 'content-type': up.type } });
    assert.equal(u.status, 200, u.body.toString());
    const name = JSON.parse(u.body.toString()).filename as string;
    assert.match(name, /^alert-[0-9a-f]{32}\.json$/);
    const before = await httpsRequest(port, cert!.cert, 'GET', `/rest/rules/filestore_pcap/${name}/retrieve/?host=probe-1`, { token: TOKEN });
    assert.equal(before.status, 404);
    const x = await httpsRequest(port, cert!.cert, 'POST', `/rest/rules/filestore_pcap/${name}/extract_pcap/?host=probe-1`, { token: TOKEN });
    assert.equal(x.status, 200, x.body.toString());
    assert.equal(JSON.parse(x.body.toString()).packets, carved.packets);
    const rt = await httpsRequest(port, cert!.cert, 'GET', `/rest/rules/filestore_pcap/${name}/retrieve/?host=probe-1`, { token: TOKEN });
    assert.deepEqual(JSON.parse(rt.body.toString()), { retrieve: 'done' });
    const dl = await httpsRequest(port, cert!.cert, 'GET', `/rest/rules/filestore_pcap/${name}/download/`, { token: TOKEN });
    assert.equal(dl.status, 200);
    assert.equal(dl.headers['content-type'], 'application/vnd.tcpdump.pcap');
    assert.match(String(dl.headers['content-disposition']), /^attachment; filename="alert-[0-9a-f]{32}\.pcap"$/);
    assert.deepEqual(dl.body, expected);
    assert.equal(dl.body.readUInt32LE(0), 0xa1b2c3d4);
  }
  // Carving the same flow twice through the API keeps one file per flow.
  const pcaps = readdirSync(join(dir, 'work')).flatMap((p) => readdirSync(join(dir, 'work', p, 'pcaps')));
  assert.equal(pcaps.filter((f) => f.endsWith('.pcap')).length, 2);
});

test('200 concurrent downloads of a carved pcap return identical bytes', { skip }, async () => {
  const line = readFileSync(eve, 'utf8').trim().split('\n')[0]!;
  const up = multipartBody('file', 'alert.json', Buffer.from(line));
  const name = JSON.parse((await httpsRequest(port, cert!.cert, 'POST', '/rest/rules/filestore_pcap/upload/?host=probe-1', { token: TOKEN, body: up.body, headers: { 'content-type': up.type } })).body.toString()).filename;
  await httpsRequest(port, cert!.cert, 'POST', `/rest/rules/filestore_pcap/${name}/extract_pcap/?host=probe-1`, { token: TOKEN });
  const one = await httpsRequest(port, cert!.cert, 'GET', `/rest/rules/filestore_pcap/${name}/download/?host=probe-1`, { token: TOKEN });
  assert.equal(one.status, 200);
  const all = await Promise.all(Array.from({ length: 200 }, () => httpsRequest(port, cert!.cert, 'GET', `/rest/rules/filestore_pcap/${name}/download/?host=probe-1`, { token: TOKEN })));
  assert.equal(all.filter((r) => r.status === 200 && r.body.equals(one.body)).length, 200);
});
