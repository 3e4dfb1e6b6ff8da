// Writer: reading a classic file and writing it back with the same header fields reproduces it byte for byte;
// tcpdump reads what we write (its output equals the source's golden).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { tcpdumpPath, tcpdumpSkip, tmpDir } from '../_util.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import { PcapEncoder, PcapWriter, pcapFileHeader, type PcapWriterOptions } from '../../src/pcap/writer.js';
import { FOUNDATION, loadManifest } from './_foundation.js';

const manifest = loadManifest();

async function rewrite(src: string, out: string, o?: Partial<PcapWriterOptions>): Promise<number> {
  const r = new CaptureReader(src);
  let w: PcapWriter | undefined;
  for await (const b of r.batches()) {
    const f = r.parser.format!;
    const version = f.kind === 'pcap' ? { versionMajor: f.versionMajor, versionMinor: f.versionMinor } : {};
    w ??= new PcapWriter(out, { linkType: f.linkType, snaplen: f.snaplen, nsec: f.resolution === 'nsec', byteOrder: f.byteOrder, ...version, ...o });
    await w.writeBatch(b);
  }
  await w!.close();
  return w!.records;
}

const classicGood = manifest.filter((e) => e.kind === 'pcap' && !e.error && !e.gzip && e.name !== 'linktype-flags.pcap');

for (const e of classicGood) {
  test(`round trip byte for byte: ${e.name}`, async () => {
    const out = join(tmpDir(), e.name);
    assert.equal(await rewrite(join(FOUNDATION, e.name), out), e.packets);
    assert.deepEqual(readFileSync(out), readFileSync(join(FOUNDATION, e.name)));
  });
}

test('tcpdump reads what we write: classic µs, ns BE, and pcapng converted to classic', { skip: tcpdumpSkip() }, async () => {
  const td = tcpdumpPath()!;
  const dir = tmpDir();
  const cases: Array<[string, Partial<PcapWriterOptions>]> = [['eth-le-usec.pcap', { nsec: true, byteOrder: 'BE' }], ['ng-blocks.pcapng', {}], ['ng-be-nsec.pcapng', { nsec: true }], ['trunc-snap.pcap', {}], ['null.pcap', {}]];
  for (const [name, o] of cases) {
    const out = join(dir, name + '.out.pcap');
    await rewrite(join(FOUNDATION, name), out, o);
    const r = spawnSync(td, ['-tt', '-n', '-r', out], { encoding: 'buffer' });
    assert.equal(r.status, 0, r.stderr.toString());
    // The same tcpdump on the source file prints the same lines (the committed golden when versions match).
    const src = spawnSync(td, ['-tt', '-n', '-r', join(FOUNDATION, name)], { encoding: 'buffer' });
    assert.equal(r.stdout.toString(), src.stdout.toString(), name);
    assert.ok(r.stdout.toString().split('\n').filter(Boolean).length === manifest.find((m) => m.name === name)!.packets, name);
  }
});

test('encoder: header fields, µs truncation of ns, caplen/origlen preserved, buffers handed over when full', () => {
  const h = new DataView(pcapFileHeader({ linkType: 113, snaplen: 65535, nsec: true, byteOrder: 'BE' }).buffer);
  assert.equal(h.getUint32(0, false), 0xa1b23c4d);
  assert.equal(h.getUint32(16, false), 65535);
  assert.equal(h.getUint32(20, false), 113);
  const chunks: Uint8Array[] = [];
  const enc = new PcapEncoder({ linkType: 1 }, (c) => chunks.push(c), 64);
  enc.add(10, 123456789, new Uint8Array(30).fill(1), 100);
  enc.add(11, 5, new Uint8Array(30).fill(2), 30);
  enc.add(12, 999999999, new Uint8Array(100).fill(3), 100); // bigger than the buffer: grows
  enc.flush();
  const all = Buffer.concat(chunks);
  assert.equal(all.length, 3 * 16 + 160);
  const dv = new DataView(all.buffer, all.byteOffset, all.length);
  assert.deepEqual([dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true)], [10, 123456, 30, 100]);
  assert.deepEqual([dv.getUint32(46, true), dv.getUint32(50, true)], [11, 0]);
  assert.equal(dv.getUint32(92, true), 12);
  assert.equal(dv.getUint32(96, true), 999999);
  assert.equal(enc.records, 3);
  assert.ok(chunks.length >= 2);
});

test('writer honours back-pressure on a slow stream and loses nothing', async () => {
  const pt = new PassThrough({ highWaterMark: 1024 });
  const got: Buffer[] = [];
  const w = new PcapWriter(pt, { linkType: 1 });
  const reading = (async () => { for await (const c of pt) { got.push(c as Buffer); await new Promise((r) => setImmediate(r)); } })();
  const data = new Uint8Array(1500).fill(7);
  for (let i = 0; i < 3000; i++) await w.write(i, 0, data, 1500);
  await w.close();
  pt.end();
  await reading;
  assert.equal(Buffer.concat(got).length, 24 + 3000 * (16 + 1500));
});
