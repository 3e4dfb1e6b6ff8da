// End-to-end file extraction on the generated HTTP captures (fixtures/make/files-http.ts, committed under
// fixtures/files/http): every expected file with its name, size, sha256, state and direction; the filestore
// layout (stored once, wire names never touch the filesystem); --max-file-size, --max-size, --write-fileinfo;
// identical output for 1 and 2 workers; bounded memory with 100k half-open connections sending out-of-order data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FIXTURES, runCli, tmpDir } from '../_util.js';
import { extractFiles } from '../../src/files/sink.js';
import type { FileEvent } from '../../src/files/fileinfo.js';
import { httpFixtures, type ExpectedHttpFile } from '../../fixtures/make/files-http.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { ACK, SYN, ether, ipv4, tcp, type Frame } from '../../fixtures/make/packet.js';

const DIR = join(FIXTURES, 'files/http');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, ExpectedHttpFile[]>;
const NAMES = Object.keys(expected);

/** Classic µs pcap of many frames (classicPcap spreads its arguments, too many for 200k frames). */
function bigPcap(frames: Frame[]): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6); h.writeUInt32LE(65535, 16); h.writeUInt32LE(1, 20);
  parts.push(h);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(f.sec, 0); r.writeUInt32LE(Math.floor(f.nsec / 1000), 4); r.writeUInt32LE(f.data.length, 8); r.writeUInt32LE(f.data.length, 12);
    parts.push(r, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length));
  }
  return Buffer.concat(parts);
}

/** Every file under `dir` (relative paths). */
function walk(dir: string, pre = ''): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...walk(p, `${pre}${f}/`)); else out.push(pre + f);
  }
  return out;
}

test('committed fixtures are what the generator makes', () => {
  for (const f of httpFixtures()) {
    assert.deepEqual(readFileSync(join(DIR, `${f.name}.pcap`)), Buffer.from(classicPcap(f.frames)), f.name);
    assert.deepEqual(expected[f.name], JSON.parse(JSON.stringify(f.files)));
  }
});

test('every fixture yields exactly its files (name, size, sha256, state, gaps, range, direction) and stores them', async () => {
  for (const name of NAMES) {
    const out = tmpDir('fc-files-');
    const r = await extractFiles([join(DIR, `${name}.pcap`)], { out });
    const want = expected[name]!;
    assert.deepEqual(r.events.map((e) => ({
      filename: e.fileinfo.filename, size: e.fileinfo.size, sha256: e.fileinfo.sha256, state: e.fileinfo.state, gaps: e.fileinfo.gaps,
      ...(e.fileinfo.start !== undefined ? { start: e.fileinfo.start, end: e.fileinfo.end } : {}),
      direction: e.src_port === 80 || e.src_port === 8081 ? 'download' : 'upload',
    })), want.map((w) => ({ ...w })), name);
    assert.deepEqual(r.events.map((e) => e.fileinfo.file_id), want.map((_, k) => k + 1));
    for (const e of r.events) {
      const p = join(out, e.fileinfo.sha256.slice(0, 2), e.fileinfo.sha256);
      assert.ok(existsSync(p), p);
      assert.equal(createHash('sha256').update(readFileSync(p)).digest('hex'), e.fileinfo.sha256);
      assert.equal(e.fileinfo.stored, true);
      assert.equal(e.app_proto, 'http');
    }
    // Only <xx>/<sha256> files; temp dir empty; no wire name anywhere.
    const files = walk(out);
    assert.ok(files.every((f) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f)), files.join(','));
    assert.equal(new Set(r.events.map((e) => e.fileinfo.sha256)).size, files.length);
  }
});

test('../../etc/passwd is stored only under its sha256; metadata of the upload', async () => {
  const out = tmpDir('fc-files-');
  const r = await extractFiles([join(DIR, 'http-upload.pcap')], { out, hashes: ['md5', 'sha1'] });
  const ev = r.events.find((e) => e.fileinfo.filename === '../../etc/passwd')!;
  const body = 'root:x:0:0:root:/root:/bin/bash\n';
  assert.equal(ev.fileinfo.md5, createHash('md5').update(body).digest('hex'));
  assert.equal(ev.fileinfo.sha1, createHash('sha1').update(body).digest('hex'));
  assert.equal(readFileSync(join(out, ev.fileinfo.sha256.slice(0, 2), ev.fileinfo.sha256), 'utf8'), body);
  assert.ok(!existsSync(join(out, '..', '..', 'etc', 'passwd.flowcarve')));
  assert.ok(walk(out).every((f) => !f.includes('passwd')));
  assert.deepEqual(ev.http, { hostname: 'up.example', url: '/cgi', http_method: 'POST', protocol: 'HTTP/1.1', length: 0 });
  assert.equal(ev.src_ip, '2001:db8::10');
});

test('duplicate stored once; --max-file-size; --write-fileinfo; --max-size prunes oldest first (CLI)', () => {
  const out = tmpDir('fc-files-');
  const eve = join(tmpDir('fc-eve-'), 'eve.json'); // outside the filestore, removed with the test's temp dirs
  const r = runCli(['files', '--out', out, '--max-file-size', '100KB', '--write-fileinfo', '--eve-out', eve, '--stats', join(DIR, 'http-dedup-big.pcap')]);
  assert.equal(r.status, 0, r.stderr.toString());
  const ev = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FileEvent);
  const stats = JSON.parse(r.stderr.toString().trim().split('\n').pop()!) as { dedup: number; tooLarge: number; stored: number };
  assert.equal(stats.dedup, 1);
  assert.equal(stats.tooLarge, 1);
  assert.equal(stats.stored, 3);
  const big = ev.find((e) => e.fileinfo.filename === '/big.iso')!;
  assert.equal(big.fileinfo.stored, false);
  assert.equal(big.fileinfo.size, 120000);
  assert.ok(!existsSync(join(out, big.fileinfo.sha256.slice(0, 2), big.fileinfo.sha256)));
  const dup = ev.filter((e) => e.fileinfo.filename.startsWith('/dup'));
  assert.equal(dup.length, 2);
  assert.equal(dup[0]!.fileinfo.sha256, dup[1]!.fileinfo.sha256);
  assert.ok(dup.every((e) => e.fileinfo.stored));
  // Metadata beside stored files: <sha256>.<secs>.<file_id>.json
  const meta = walk(out).filter((f) => f.endsWith('.json'));
  assert.equal(meta.length, 4);
  const d0 = dup[0]!;
  const secs = Math.floor(Date.parse(d0.timestamp.replace('+0000', 'Z')) / 1000);
  assert.ok(meta.includes(`${d0.fileinfo.sha256.slice(0, 2)}/${d0.fileinfo.sha256}.${secs}.${d0.fileinfo.file_id}.json`), meta.join(','));
  // Prune to 5000 bytes: the least recently seen files go first.
  const r2 = runCli(['files', '--out', out, '--max-size', '5000', '--stats', join(DIR, 'http-dedup-big.pcap')]);
  assert.equal(r2.status, 0);
  const left = walk(out).filter((f) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f));
  const total = left.reduce((s, f) => s + statSync(join(out, f)).size, 0);
  assert.ok(total <= 5000, `store holds ${total} bytes`);
  assert.ok(left.length >= 1);
});

test('--http-response-body-limit truncates the bodies above it, in every worker (CLI)', () => {
  for (const w of ['1', '2']) {
    const r = runCli(['files', '--no-store', '--workers', w, '--http-response-body-limit', '100KiB', join(DIR, 'http-dedup-big.pcap')]);
    assert.equal(r.status, 0, r.stderr.toString());
    const got = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as FileEvent).map((e) => [e.fileinfo.filename, e.fileinfo.size, e.fileinfo.state]);
    // 120000 bytes against 102400: cut; the others (4096, 1000, 777 bytes) are whole.
    assert.deepEqual(got, [['/dup0.bin', 4096, 'CLOSED'], ['/dup1.bin', 4096, 'CLOSED'], ['/big.iso', 102400, 'TRUNCATED'], ['part.bin', 1000, 'CLOSED'], ['/stream', 777, 'CLOSED']], `workers ${w}`);
  }
});

test('same output for 1 and 2 workers (CLI, all fixtures at once)', () => {
  const inputs = NAMES.map((n) => join(DIR, `${n}.pcap`));
  const a = runCli(['files', '--no-store', '--hash', 'md5', '--workers', '1', ...inputs]);
  const b = runCli(['files', '--no-store', '--hash', 'md5', '--workers', '2', ...inputs]);
  assert.equal(a.status, 0, a.stderr.toString());
  assert.equal(b.status, 0, b.stderr.toString());
  const lines = a.stdout.toString().trim().split('\n');
  assert.equal(lines.length, Object.values(expected).reduce((s, l) => s + l.length, 0));
  assert.equal(b.stdout.toString(), a.stdout.toString());
});

test('100k concurrent half-open connections sending out-of-order data: caps hit and counted, memory bounded', async () => {
  const N = 100_000, GAP = 1000, LEN = 200;
  const frames: Frame[] = [];
  const payload = new Uint8Array(LEN).fill(0x41);
  const t0 = 1700300000;
  for (let k = 0; k < N; k++) {
    const src = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
    const sport = 1024 + (k % 60000);
    const us = k * 10;
    const syn = ether(0x0800, ipv4({ src, dst: '192.0.2.1', proto: 6 }, tcp(src, '192.0.2.1', { sport, dport: 80, seq: 1000, flags: SYN })));
    const ooo = ether(0x0800, ipv4({ src, dst: '192.0.2.1', proto: 6 }, tcp(src, '192.0.2.1', { sport, dport: 80, seq: 1001 + GAP, flags: ACK, ack: 1 }, payload)));
    frames.push({ sec: t0 + Math.floor(us / 1e6), nsec: (us % 1e6) * 1000, data: syn });
    frames.push({ sec: t0 + Math.floor((us + 5) / 1e6), nsec: ((us + 5) % 1e6) * 1000, data: ooo });
  }
  const dir = tmpDir('fc-halfopen-');
  const pcap = join(dir, 'halfopen.pcap');
  writeFileSync(pcap, bigPcap(frames));
  const memcap = 4 * 1024 * 1024;
  const before = process.memoryUsage().rss;
  const r = await extractFiles([pcap], { memcap });
  const w = r.workers[0]!;
  assert.equal(r.events.length, 0);
  assert.equal(r.flows.table.flows, N);
  assert.equal(w.tcpFlows, N);
  assert.equal(w.reassembly.outOfOrder, N);
  assert.ok(w.memcapPeak <= memcap, `peak ${w.memcapPeak}`);
  assert.equal(w.reassembly.memcapDrops, N - Math.floor(memcap / LEN));
  assert.equal(w.reassembly.memcapDropBytes, w.reassembly.memcapDrops * LEN);
  const grown = (process.memoryUsage().rss - before) / 1048576;
  console.log(`# 100k half-open: memcap drops ${w.reassembly.memcapDrops}, peak buffered ${w.memcapPeak} B, gaps ${w.reassembly.gaps}, rss growth ${grown.toFixed(0)} MiB`);
  assert.ok(grown < 700, `rss grew ${grown} MiB`);
});
