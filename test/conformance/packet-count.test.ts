// Corpus packet counts: every capture in ../shared/corpus (manifest.tsv, suricata-verify/manifest.tsv) yields
// tcpdump's packet count (`packets`) and captured-byte sum (`caplen_sum`); where tcpdump failed (truncated or
// corrupt files) we deliver every complete packet before the fault and then report a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip } from '../_util.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import { CaptureFormatError } from '../../src/errors.js';

interface Row { path: string; packets: number; caplenSum: number; rc: number; format: string }

function rows(dir: string): Row[] {
  const out: Row[] = [];
  for (const m of ['manifest.tsv', 'suricata-verify/manifest.tsv']) {
    const lines = readFileSync(join(dir, m), 'utf8').split('\n').filter(Boolean);
    const h = lines[0]!.split('\t');
    const col = (name: string) => { const i = h.indexOf(name); assert.ok(i >= 0, `${m} lacks column ${name}`); return i; };
    const [p, n, c, rc, f] = [col('path'), col('packets'), col('caplen_sum'), col('tcpdump_exit_code'), col('format')];
    for (const l of lines.slice(1)) {
      const x = l.split('\t');
      out.push({ path: x[p]!, packets: Number(x[n]), caplenSum: Number(x[c]), rc: Number(x[rc]), format: x[f]! });
    }
  }
  return out;
}

test('every corpus capture yields tcpdump\'s packet count and bytes', { skip: corpusSkip() }, async () => {
  const dir = corpusDir()!;
  const all = rows(dir);
  const bad: string[] = [];
  let packets = 0, failed = 0;
  const formats = new Map<string, number>();
  for (const r of all) {
    let n = 0, bytes = 0;
    let err: unknown;
    try {
      for await (const b of new CaptureReader(join(dir, r.path), r.path).batches()) {
        n += b.count;
        for (let i = 0; i < b.count; i++) bytes += b.caplen[i]!;
      }
    } catch (e) { err = e; }
    packets += n;
    formats.set(r.format, (formats.get(r.format) ?? 0) + 1);
    if (n !== r.packets) bad.push(`${r.path}: ${n} packets, tcpdump ${r.packets}`);
    else if (bytes !== r.caplenSum) bad.push(`${r.path}: ${bytes} captured bytes, tcpdump ${r.caplenSum}`);
    if (r.rc !== 0) {
      failed++;
      // tcpdump stopped on a fault: we must have delivered the same complete packets and then reported it.
      if (!(err instanceof CaptureFormatError)) bad.push(`${r.path}: tcpdump failed (rc ${r.rc}) but we reported ${err ? String(err) : 'no error'}`);
    } else if (err) bad.push(`${r.path}: unexpected error ${(err as Error).message}`);
  }
  console.log(`corpus: ${all.length} captures, ${packets} packets, ${failed} truncated/corrupt; formats ${[...formats].map(([f, c]) => `${f}=${c}`).join(' ')}`);
  assert.ok(all.length > 1000, `${all.length} captures listed`);
  assert.deepEqual(bad, []);
});

/**
 * The time tcpdump 4.99 / libpcap 1.10 prints for a packet we read as (sec, nsec): libpcap keeps seconds in 32
 * bits (pcapng seconds wrap; ≥ 2^31 prints "[Error converting time]"), reads a classic ns file's sub-second field
 * as a signed 32-bit number before dividing it to µs, and prints the µs value unsigned and unpadded beyond 6 digits.
 */
function tcpdumpTime(sec: number, nsec: number, classicNs: boolean): string {
  const s = sec % 4294967296;
  if (s >= 2147483648) return '[Error converting time]';
  let us = Math.floor(nsec / 1000);
  if (classicNs && nsec >= 2147483648) us = (4294967296 + Math.trunc((nsec - 4294967296) / 1000)) % 4294967296;
  return `${s}.${String(us).padStart(6, '0')}`;
}

test('every corpus packet carries the timestamp tcpdump prints for it', { skip: corpusSkip() }, async () => {
  const dir = corpusDir()!;
  const bad: string[] = [];
  let compared = 0;
  for (const r of rows(dir)) {
    // tcpdump's packet lines start with the time (or the time error); caplen 0 / len 0 packets print no time.
    const want = readFileSync(join(dir, `${r.path}.tt.out`), 'latin1').split('\n')
      .filter((l) => /^(\d+\.\d+ |\[Error converting time\])/.test(l)).map((l) => (l.startsWith('[') ? '[Error converting time]' : l.slice(0, l.indexOf(' '))));
    const got: string[] = [];
    const reader = new CaptureReader(join(dir, r.path), r.path);
    try {
      for await (const b of reader.batches()) {
        const f = reader.parser.format!;
        const classicNs = f.kind === 'pcap' && f.resolution === 'nsec';
        for (let i = 0; i < b.count; i++) if (b.caplen[i]! > 0 && b.origlen[i]! > 0) got.push(tcpdumpTime(b.tsSec[i]!, b.tsNsec[i]!, classicNs));
      }
    } catch { /* faults are checked above; compare the packets read before them */ }
    compared += got.length;
    const k = got.findIndex((g, i) => g !== want[i]);
    if (k >= 0 || got.length !== want.length) bad.push(`${r.path}: packet line ${k >= 0 ? k : Math.min(got.length, want.length)}: ours ${got[k] ?? '(none)'}, tcpdump ${want[k] ?? '(none)'} (${got.length} vs ${want.length} lines)`);
  }
  console.log(`corpus: ${compared} packet timestamps compared with tcpdump's`);
  assert.deepEqual(bad, []);
});
