// Probe-service bench: alerts_tail requests/s, and download MB/s with 200 concurrent downloads of a 50 MB carved
// pcap (one alerted flow) over HTTPS on loopback — streamed from disk; peak RSS shows it is not buffered.
//   node dist/bench/serve.bench.js [--downloads 200] [--size-mb 50]

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { buildServer } from '../src/serve/server.js';
import { storeCarver } from '../src/serve/carver.js';
import { makeCert } from '../test/serve/tls.js';
import { statSync, readdirSync } from 'node:fs';
import { TcpConversation } from '../fixtures/make/packet.js';
import { classicPcap } from '../fixtures/make/capture.js';
import { storeCapture } from '../src/store/offline.js';

const { values } = parseArgs({ options: { downloads: { type: 'string', default: '200' }, 'size-mb': { type: 'string', default: '50' }, requests: { type: 'string', default: '2000' } } });
const N = Number(values.downloads), SIZE = Number(values['size-mb']) << 20, REQS = Number(values.requests);
const dir = mkdtempSync(join(tmpdir(), 'flowcarve-serve-bench-'));
const cert = makeCert(dir);
if (!cert) { console.error('openssl missing'); process.exit(1); }
const TOKEN = 'bench-token';

// One TCP flow carrying SIZE bytes, stored whole (mode all), then carved through the API.
const conv = new TcpConversation({ ip: '10.1.0.5', port: 40000 }, { ip: '203.0.113.9', port: 443 }, { step: 0.00001 });
conv.handshake();
const data = randomBytes(1 << 20);
for (let o = 0; o < SIZE; o += 1 << 20) conv.send(false, data, { mss: 1448, ack: false });
conv.close();
writeFileSync(join(dir, 'big.pcap'), classicPcap(conv.frames));
const alert = { timestamp: '2023-11-14T22:13:20.000000+0000', event_type: 'alert', src_ip: '10.1.0.5', src_port: 40000, dest_ip: '203.0.113.9', dest_port: 443, proto: 'TCP', alert: { signature_id: 1 } };
await storeCapture([join(dir, 'big.pcap')], { dir: join(dir, 'store'), mode: 'all', alerts: [] });
mkdirSync(join(dir, 'fs'), { recursive: true });
const eve = join(dir, 'eve.json');
const lines: string[] = [];
for (let i = 0; i < 20000; i++) lines.push(JSON.stringify({ timestamp: new Date(1.7e12 + i * 1000).toISOString().replace('Z', '000+0000'), flow_id: 1e15 + i, event_type: i % 4 ? 'alert' : 'flow', src_ip: `10.0.${i >> 8 & 255}.${i & 255}`, alert: { signature_id: 2000000 + (i % 50) } }));
writeFileSync(eve, lines.join('\n') + '\n');

const app = await buildServer({ token: TOKEN, workDir: join(dir, 'work'), carver: storeCarver, https: cert, probes: [{ name: 'p', store: join(dir, 'store'), filestore: join(dir, 'fs'), eve: [eve] }] });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as AddressInfo).port;
const up = await app.inject({ method: 'POST', url: '/rest/rules/filestore_pcap/upload/?host=p', headers: { authorization: `Token ${TOKEN}`, 'content-type': 'multipart/form-data; boundary=b' },
  payload: `--b\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n${JSON.stringify(alert)}\r\n--b--\r\n` });
const name = JSON.parse(up.body).filename as string;
const ex = await app.inject({ method: 'POST', url: `/rest/rules/filestore_pcap/${name}/extract_pcap/?host=p`, headers: { authorization: `Token ${TOKEN}` } });
const sha = JSON.parse(ex.body).sha256 as string;
const pcapBytes = statSync(readdirSync(join(dir, 'work'), { withFileTypes: true }).map((d) => join(dir, 'work', d.name, 'pcaps', `${sha}.pcap`))[0]!).size;

function get(path: string, sink: (c: Buffer) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: cert!.cert, servername: 'localhost', headers: { authorization: `Token ${TOKEN}` } }, (res) => {
      res.on('data', sink);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// alerts_tail: REQS requests, 16 in flight.
let t = performance.now();
let next = 0;
const worker = async () => { while (next < REQS) { next++; await get('/rest/rules/es/alerts_tail/?qfilter=alert.signature_id:2000007&page_size=30', () => {}); } };
await Promise.all(Array.from({ length: 16 }, worker));
const reqPerSec = REQS / ((performance.now() - t) / 1000);

// N concurrent downloads, each hashed as it streams.
let peakRss = process.memoryUsage().rss;
const timer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
t = performance.now();
const results = await Promise.all(Array.from({ length: N }, async () => {
  const h = createHash('sha256');
  const status = await get(`/rest/rules/filestore_pcap/${name}/download/?host=p`, (c) => h.update(c));
  return status === 200 && h.digest('hex') === sha;
}));
const secs = (performance.now() - t) / 1000;
clearInterval(timer);
await app.close();
rmSync(dir, { recursive: true, force: true });
const ok = results.filter(Boolean).length;
console.log(JSON.stringify({
  bench: 'serve',
  input: { path: `${N} x ${(pcapBytes / 1e6).toFixed(1)} MB carved pcap over HTTPS`, bytes: N * pcapBytes },
  metrics: [
    { name: 'alerts_tail (20k events, qfilter)', value: reqPerSec, unit: 'req/s' },
    { name: `pcap download, ${N} concurrent`, value: (N * pcapBytes) / 1e6 / secs, unit: 'MB/s' },
    { name: 'downloads with correct sha256', value: ok, unit: `of ${N}`, target: { min: N } },
    { name: 'peak RSS during downloads', value: peakRss / (1 << 20), unit: 'MiB' },
  ],
}));
if (ok !== N) process.exitCode = 1;
