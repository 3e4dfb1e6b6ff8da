// Chunk-size independence: every fixture parsed through the sans-IO CaptureParser in chunks of 1, 7, 64 and 4096
// bytes, and through CaptureReader with small read sizes, gives exactly the manifest's packets and error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CaptureParser } from '../../src/pcap/parser.js';
import { FOUNDATION, loadManifest, parseInChunks, plainBytes, readWithReader } from './_foundation.js';

const manifest = loadManifest();

for (const e of manifest) {
  test(`parser chunks 1/7/64/4096/whole: ${e.name}`, () => {
    const bytes = plainBytes(e.name);
    for (const chunk of [1, 7, 64, 4096, Math.max(1, bytes.length)]) {
      const r = parseInChunks(bytes, e.name, chunk);
      assert.deepEqual(r.list, e.list, `chunk ${chunk}: packets`);
      assert.equal(r.sha256, e.sha256, `chunk ${chunk}: bytes`);
      if (e.interfaces.length) assert.deepEqual(r.interfaces.map((i) => i.linkType), e.interfaces, `chunk ${chunk}: interfaces`);
      // A gzip cut is seen by the parser as a truncated record only when zlib stopped inside one.
      if (e.error && !e.gzip) {
        assert.equal(r.error?.code, e.error.code, `chunk ${chunk}: error code`);
        assert.equal(r.error?.offset, e.error.offset, `chunk ${chunk}: error offset`);
      } else if (!e.error) assert.equal(r.error, undefined, `chunk ${chunk}: ${r.error?.message}`);
    }
  });
}

for (const name of ['eth-be-nsec.pcap', 'ng-blocks.pcapng', 'ng-sections.pcapng', 'cut-record-data.pcap', 'ng-lying-length.pcapng', 'eth-le-usec.pcap.gz', 'cut.pcap.gz']) {
  test(`reader chunkSize 1/7/64: ${name}`, async () => {
    const e = manifest.find((m) => m.name === name)!;
    for (const chunkSize of [1, 7, 64]) {
      const r = await readWithReader(join(FOUNDATION, name), name, { chunkSize });
      assert.deepEqual(r.list, e.list, `chunkSize ${chunkSize}`);
      assert.equal(r.sha256, e.sha256);
      assert.equal(r.error?.code, e.error?.code);
      assert.equal(r.error?.offset, e.error?.offset);
    }
  });
}

test('records straddling chunk edges are delivered whole, each batch indexes only its own buffer', () => {
  const bytes = plainBytes('eth-le-usec.pcap');
  const e = manifest.find((m) => m.name === 'eth-le-usec.pcap')!;
  // Cut every record in two: chunk edges at each record's middle.
  const p = new CaptureParser('x');
  const cuts = [0, ...e.list.map((r) => r.rec + 8 + (r.caplen >> 1)), bytes.length];
  let n = 0;
  for (let k = 0; k + 1 < cuts.length; k++) {
    for (const b of p.push(bytes.subarray(cuts[k]!, cuts[k + 1]!))) {
      for (let i = 0; i < b.count; i++) {
        assert.ok(b.offset[i]! + b.caplen[i]! <= b.buf.length, 'packet inside its batch buffer');
        const want = e.list[b.firstIndex + i]!;
        assert.equal(b.recOffset[i], want.rec);
        assert.ok(Buffer.from(b.buf.subarray(b.offset[i]!, b.offset[i]! + b.caplen[i]!)).equals(bytes.subarray(want.rec + 16, want.rec + 16 + want.caplen)));
        n++;
      }
    }
  }
  p.end();
  assert.equal(p.error, undefined);
  assert.equal(n, e.packets);
  assert.equal(p.packets, e.packets);
  assert.equal(p.consumed, bytes.length);
});

test('packets after an error are ignored even if more input arrives', () => {
  const bytes = plainBytes('absurd-caplen.pcap');
  const p = new CaptureParser('x');
  let n = 0;
  for (const b of p.push(bytes)) n += b.count;
  assert.equal(p.error?.code, 'ERR_PCAP_BAD_CAPLEN');
  for (const b of p.push(plainBytes('eth-le-usec.pcap').subarray(24))) n += b.count;
  p.end();
  assert.equal(n, 2);
  assert.equal(p.error?.code, 'ERR_PCAP_BAD_CAPLEN');
});

test('index capacity follows packet density: a chunk of tiny packets after big ones grows its batch', async () => {
  const { classicPcap } = await import('../../fixtures/make/capture.js');
  const frames = [];
  for (let i = 0; i < 100; i++) frames.push({ sec: 1, nsec: i * 1000, data: new Uint8Array(1500).fill(i) });
  for (let i = 0; i < 5000; i++) frames.push({ sec: 2, nsec: i * 1000, data: new Uint8Array(60).fill(i & 0xff) });
  const bytes = classicPcap(frames);
  const split = 24 + 100 * 1516;
  const p = new CaptureParser('x');
  const got: number[] = [];
  for (const part of [bytes.subarray(0, split), bytes.subarray(split)]) {
    for (const b of p.push(part)) for (let i = 0; i < b.count; i++) got.push(b.caplen[i]! * 1000 + b.buf[b.offset[i]!]!);
  }
  p.end();
  assert.equal(p.error, undefined);
  assert.deepEqual(got, frames.map((f) => f.data.length * 1000 + f.data[0]!));
});

test('a 4 MiB record arriving in 1 KiB chunks is assembled once and delivered intact', async () => {
  const { classicPcap } = await import('../../fixtures/make/capture.js');
  const big = new Uint8Array(4 << 20).map((_, i) => (i * 7) & 0xff);
  // DBUS (231) allows records up to 128 MiB, as libpcap does.
  const bytes = classicPcap([{ sec: 1, nsec: 0, data: big }, { sec: 2, nsec: 0, data: Uint8Array.of(1, 2, 3) }], { linkType: 231 });
  const p = new CaptureParser('x');
  const got: Uint8Array[] = [];
  const t = performance.now();
  for (let o = 0; o < bytes.length; o += 1024) for (const b of p.push(bytes.subarray(o, o + 1024))) for (let i = 0; i < b.count; i++) got.push(b.buf.subarray(b.offset[i]!, b.offset[i]! + b.caplen[i]!));
  p.end();
  assert.equal(p.error, undefined);
  assert.equal(got.length, 2);
  assert.ok(Buffer.from(got[0]!).equals(Buffer.from(big)));
  assert.deepEqual([...got[1]!], [1, 2, 3]);
  assert.ok(performance.now() - t < 5000, 'linear assembly');
});
