// CaptureReader over every fixture of fixtures/foundation (made by fixtures/make/foundation.ts): packet count,
// bytes, timestamps, link types, interfaces, record offsets, format fields, packet bytes (sha256) and the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CaptureFormatError } from '../../src/errors.js';
import { FOUNDATION, loadManifest, readWithReader } from './_foundation.js';

const manifest = loadManifest();

test('manifest lists the fixture families the reader must cover', () => {
  const names = manifest.map((e) => e.name);
  for (const n of ['eth-le-usec.pcap', 'eth-be-usec.pcap', 'eth-le-nsec.pcap', 'eth-be-nsec.pcap', 'vlan.pcap', 'ipv6-ext.pcap', 'sll.pcap', 'sll2.pcap',
    'null.pcap', 'raw.pcap', 'ipv4-lt.pcap', 'ipv6-lt.pcap', 'trunc-snap.pcap', 'ng-blocks.pcapng', 'ng-be-nsec.pcapng', 'ng-sections.pcapng',
    'ng-two-linktypes.pcapng', 'eth-le-usec.pcap.gz', 'cut.pcap.gz', 'bad-magic.pcap', 'absurd-caplen.pcap', 'ng-lying-length.pcapng']) assert.ok(names.includes(n), n);
  assert.equal(manifest.length, 34);
});

for (const e of manifest) {
  test(`reader: ${e.name} (${e.about})`, async () => {
    const r = await readWithReader(join(FOUNDATION, e.name), e.name);
    assert.equal(r.list.length, e.packets, 'packet count');
    assert.deepEqual(r.list, e.list, 'per-packet timestamp, lengths, link type, interface, record offset, decode');
    assert.equal(r.sha256, e.sha256, 'packet bytes');
    assert.equal(r.list.reduce((s, p) => s + p.caplen, 0), e.capturedBytes);
    assert.equal(r.list.reduce((s, p) => s + p.origlen, 0), e.wireBytes);
    assert.equal(r.gzip, e.gzip);
    if (e.interfaces.length) {
      assert.ok(r.format, 'format known');
      assert.equal(r.format.kind, e.kind);
      assert.equal(r.format.byteOrder, e.byteOrder);
      assert.equal(r.format.resolution, e.resolution);
      assert.equal(r.format.snaplen, e.snaplen);
      assert.equal(r.format.gzip, e.gzip);
      assert.equal(r.format.linkType, e.interfaces[0]);
      assert.deepEqual(r.interfaces.map((i) => i.linkType), e.interfaces);
    }
    if (e.error) {
      assert.ok(r.error instanceof CaptureFormatError, `typed error, got ${r.error}`);
      assert.equal(r.error.code, e.error.code);
      assert.equal(r.error.offset, e.error.offset);
      assert.equal(r.error.file, e.name);
    } else assert.equal(r.error, undefined, r.error?.message);
  });
}

test('pcapng details: interface names, tsresol, tsoffset; SPB reads as time 0', async () => {
  const r = await readWithReader(join(FOUNDATION, 'ng-be-nsec.pcapng'), 'x');
  assert.deepEqual(r.interfaces.map((i) => [i.name, i.tsresolBase, i.tsresolExp, i.tsoffset]), [['eth1', 10, 9, 100]]);
  const two = await readWithReader(join(FOUNDATION, 'ng-two-linktypes.pcapng'), 'x');
  assert.deepEqual(two.interfaces.map((i) => [i.name, i.linkType, i.tsresolExp]), [['eth0', 1, 6], ['tun0', 101, 9]]);
  assert.deepEqual(two.list.map((p) => p.iface), [0, 1, 0, 1, 0, 1]);
  const blocks = await readWithReader(join(FOUNDATION, 'ng-blocks.pcapng'), 'x');
  assert.equal(blocks.list[2]!.sec, 0);
  assert.equal(blocks.list[2]!.nsec, 0);
  // Interface ids restart at each section: every packet of ng-sections is on interface 0.
  const secs = await readWithReader(join(FOUNDATION, 'ng-sections.pcapng'), 'x');
  assert.deepEqual(secs.list.map((p) => p.iface), [0, 0, 0, 0, 0]);
  assert.equal(secs.interfaces.length, 3);
});

test('ns files keep sub-microsecond digits; µs files carry usec*1000', async () => {
  const ns = await readWithReader(join(FOUNDATION, 'eth-le-nsec.pcap'), 'x');
  const us = await readWithReader(join(FOUNDATION, 'eth-le-usec.pcap'), 'x');
  assert.equal(ns.list[1]!.nsec, 1234567 + 89 + 111);
  assert.equal(us.list[1]!.nsec, 1234000);
  for (let i = 0; i < us.list.length; i++) assert.equal(us.list[i]!.nsec, Math.floor(ns.list[i]!.nsec / 1000) * 1000);
});

test('link-type word with flag bits is masked, huge snaplen tolerated', async () => {
  const r = await readWithReader(join(FOUNDATION, 'linktype-flags.pcap'), 'x');
  assert.equal(r.format!.linkType, 1);
  assert.equal(r.list.length, 4);
  const s = await readWithReader(join(FOUNDATION, 'snaplen-huge.pcap'), 'x');
  assert.equal(s.format!.snaplen, 0x7fffffff);
  assert.equal(s.list.length, 4);
});

test('a missing input or a directory is a typed ERR_INPUT naming the file', async () => {
  const r = await readWithReader('/nonexistent/flowcarve.pcap', '/nonexistent/flowcarve.pcap');
  assert.equal(r.error?.code, 'ERR_INPUT');
  assert.equal(r.error?.file, '/nonexistent/flowcarve.pcap');
  const d = await readWithReader(FOUNDATION, FOUNDATION);
  assert.equal(d.error?.code, 'ERR_INPUT');
  assert.equal(d.error?.file, FOUNDATION);
  assert.equal(d.list.length, 0);
});
