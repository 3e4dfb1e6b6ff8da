// Probe-service bench: alerts_tail requests/s and download MB/s with 200 concurrent downloads of a 50 MB file
// over HTTPS on loopback (streamed from disk; peak RSS shows it is not buffered). Prints one BenchReport.
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

const { values } = parseArgs({ options: { downloads: { type: 'string', default: '200' }, 'size-mb': { type: 'string', default: '50' }, requests: { type: 'string', default: '2000' } } });
const N = Number(values.downloads), SIZE = Number(values['size-mb']) << 20, REQS = Number(values.requests);
const dir = mkdtempSync(join(tmpdir(), 'flowcarve-serve-bench-'));
const cert = makeCert(dir);
if (!cert) { console.error('openssl missing'); process.exit(1); }
const TOKEN = 'bench-token';

const file = Buffer.alloc(SIZE);
for (let o = 0; o < SIZE; o += 1 << 16) randomBytes(Math.min(1 << 16, SIZE - o)).copy(file, o);
const sha = createHash('sha256').update(file).digest('hex');
mkdirSync(join(dir, 'fs', sha.slice(0, 2)), { recursive: true });
writeFileSync(join(dir, 'fs', sha.slice(0, 2), sha), file);
const eve = join(dir, 'eve.json');
const lines: string[] = [];
for (let i = 0; i < 20000; i++) lines.push(JSON.stringify({ timestamp: new Date(1.7e12 + i * 1000).toISOString().replace('Z', '000+0000'), flow_id: 1e15 + i, event_type: i % 4 ? 'alert' : 'flow', src_ip: `10.0.${i >> 8 & 255}.${i & 255}`, alert: { signature_id: 2000000 + (i % 50) } }));
writeFileSync(eve, lines.join('\n') + '\n');

const app = await buildServer({ token: TOKEN, workDir: join(dir, 'work'), carver: storeCarver, https: cert, probes: [{ name: 'p', store: join(dir, 'store'), filestore: join(dir, 'fs'), eve: [eve] }] });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as AddressInfo).port;

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
  const status = await get(`/rest/rules/filestore/${sha}/download/?host=p`, (c) => h.update(c));
  return status === 200 && h.digest('hex') === sha;
}));
const secs = (performance.now() - t) / 1000;
clearInterval(timer);
await app.close();
rmSync(dir, { recursive: true, force: true });
const ok = results.filter(Boolean).length;
console.log(JSON.stringify({
  bench: 'serve',
  input: { path: `${N} x ${SIZE >> 20} MB download over HTTPS`, bytes: N * SIZE },
  metrics: [
    { name: 'alerts_tail (20k events, qfilter)', value: reqPerSec, unit: 'req/s' },
    { name: `download, ${N} concurrent`, value: (N * SIZE) / 1e6 / secs, unit: 'MB/s' },
    { name: 'downloads with correct sha256', value: ok, unit: `of ${N}`, target: { min: N } },
    { name: 'peak RSS during downloads', value: peakRss / (1 << 20), unit: 'MiB' },
  ],
}));
if (ok !== N) process.exitCode = 1;
