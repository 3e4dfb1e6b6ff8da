// `flowcarve info`: JSON and text summaries checked against the fixture manifest (how the files were built) and,
// when installed, against Wireshark's capinfos; bad files print what was read, then the fault and exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runCli } from '../_util.js';
import { FOUNDATION, loadManifest, type FixtureExpect } from '../pcap/_foundation.js';
import { captureInfo, type CaptureInfo } from '../../src/pcap/info.js';

const manifest = loadManifest();
const cmp = (a: { sec: number; nsec: number }, b: { sec: number; nsec: number }) => a.sec - b.sec || a.nsec - b.nsec;

function expectInfo(e: FixtureExpect, got: CaptureInfo): void {
  assert.equal(got.packets, e.packets, 'packets');
  assert.equal(got.capturedBytes, e.capturedBytes, 'captured bytes');
  assert.equal(got.wireBytes, e.wireBytes, 'wire bytes');
  assert.equal(got.truncatedPackets, e.list.filter((p) => p.caplen < p.origlen).length);
  assert.equal(got.gzip, e.gzip);
  if (e.interfaces.length) {
    assert.equal(got.format, e.kind);
    assert.equal(got.byteOrder, e.byteOrder);
    assert.equal(got.resolution, e.resolution);
    assert.deepEqual(got.interfaces.map((i) => i.linkType), e.interfaces);
  }
  const seen = [...new Set(e.list.map((p) => p.lt))];
  assert.deepEqual(got.linkTypes.map((l) => [l.linkType, l.packets]), seen.map((lt) => [lt, e.list.filter((p) => p.lt === lt).length]));
  if (e.packets) {
    const times = e.list.map((p) => ({ sec: p.sec, nsec: p.nsec })).sort(cmp);
    assert.deepEqual(got.first, times[0]);
    assert.deepEqual(got.last, times[times.length - 1]);
    assert.equal(got.averagePacketSize, e.capturedBytes / e.packets);
  } else assert.equal(got.first, null);
  assert.equal(got.error?.code ?? null, e.error?.code ?? null);
  assert.equal(got.error?.offset ?? null, e.error?.offset ?? null);
}

test('captureInfo on every fixture matches the manifest', async () => {
  for (const e of manifest) {
    const got = await captureInfo(join(FOUNDATION, e.name));
    assert.equal(got.file, join(FOUNDATION, e.name));
    expectInfo(e, got);
  }
});

test('info --json: one object per input, exit 1 exactly when a fault was met, fault on stderr with file and offset', () => {
  for (const name of ['eth-be-usec.pcap', 'ng-two-linktypes.pcapng', 'absurd-caplen.pcap', 'ng-lying-length.pcapng', 'cut.pcap.gz']) {
    const e = manifest.find((m) => m.name === name)!;
    const r = runCli(['info', '--json', join(FOUNDATION, e.name)]);
    assert.equal(r.status, e.error ? 1 : 0, `${e.name}: ${r.stderr}`);
    const got = JSON.parse(r.stdout.toString()) as CaptureInfo;
    expectInfo(e, got);
    if (e.error) {
      assert.equal(r.stderr.toString(), `flowcarve: ${join(FOUNDATION, e.name)}: offset ${e.error.offset}: ${got.error!.message} [${e.error.code}]\n`);
    } else assert.equal(r.stderr.length, 0);
  }
});

test('info text output (capinfos-like) for a gzip file, a ns pcapng and a cut file', () => {
  const r = runCli(['info', join(FOUNDATION, 'eth-le-usec.pcap.gz'), join(FOUNDATION, 'ng-be-nsec.pcapng'), join(FOUNDATION, 'cut-record-data.pcap')]);
  assert.equal(r.status, 1);
  const out = r.stdout.toString();
  const blocks = out.split('\n\n');
  assert.equal(blocks.length, 3);
  const line = (b: string, k: string) => b.split('\n').find((l) => l.startsWith(k + ':'))!.slice(k.length + 1).trim();
  assert.equal(line(blocks[0]!, 'Format'), 'pcap (gzip-compressed)');
  assert.equal(line(blocks[0]!, 'Link types'), 'EN10MB (Ethernet): 30 packets');
  assert.equal(line(blocks[0]!, 'Packets'), '30');
  assert.equal(line(blocks[0]!, 'File size'), `${readFileSync(join(FOUNDATION, 'eth-le-usec.pcap.gz')).length} bytes (4565 decompressed)`);
  assert.equal(line(blocks[0]!, 'First packet time'), '1700000000.000000 (2023-11-14 22:13:20 UTC)');
  assert.equal(line(blocks[0]!, 'Last packet time'), '1700000000.035802 (2023-11-14 22:13:20 UTC)');
  assert.equal(line(blocks[0]!, 'Duration'), '0.035802 seconds');
  assert.equal(line(blocks[1]!, 'Byte order'), 'big-endian');
  assert.equal(line(blocks[1]!, 'Time resolution'), 'nanoseconds');
  assert.equal(line(blocks[1]!, 'First packet time'), '1700000300.007408157 (2023-11-14 22:18:20 UTC)');
  assert.match(blocks[2]!, /Error: +offset 286: truncated record: needs 146 bytes, only 36 left \[ERR_PCAP_TRUNCATED_RECORD\]/);
  assert.equal(line(blocks[2]!, 'Packets'), '3');
  assert.match(r.stderr.toString(), /cut-record-data\.pcap: offset 286: .*\[ERR_PCAP_TRUNCATED_RECORD\]/);
});

test("info reads stdin ('-') and globs; no input is a usage error", () => {
  const r = runCli(['info', '--json', '-'], { input: readFileSync(join(FOUNDATION, 'ng-blocks.pcapng')) });
  assert.equal(r.status, 0, r.stderr.toString());
  const got = JSON.parse(r.stdout.toString()) as CaptureInfo;
  assert.equal(got.file, '-');
  assert.equal(got.fileBytes, null);
  expectInfo(manifest.find((m) => m.name === 'ng-blocks.pcapng')!, got);
  const g = runCli(['info', '--json', join(FOUNDATION, 'eth-*-nsec.pcap')]);
  assert.equal(g.status, 0);
  assert.deepEqual(g.stdout.toString().trim().split('\n').map((l) => (JSON.parse(l) as CaptureInfo).file), [join(FOUNDATION, 'eth-be-nsec.pcap'), join(FOUNDATION, 'eth-le-nsec.pcap')]);
  assert.equal(runCli(['info']).status, 2);
});

const capinfos = spawnSync('sh', ['-c', 'command -v capinfos'], { encoding: 'utf8' }).stdout.trim();

test('info agrees with capinfos: packets, data size (on-wire bytes), duration, first/last time, time order', { skip: capinfos ? false : 'capinfos (wireshark-common) not installed' }, async () => {
  let n = 0;
  for (const e of manifest.filter((m) => m.packets > 0 && !m.name.startsWith('ng-') || (m.name.startsWith('ng-') && !m.error))) {
    const c = spawnSync(capinfos, ['-T', '-M', '-r', '-c', '-d', '-u', '-a', '-e', '-o', '-S', join(FOUNDATION, e.name)], { encoding: 'utf8' });
    const row = c.stdout.trim().split('\t');
    if (row.length < 7) continue; // capinfos refused the file
    const [, packets, bytes, duration, start, end, order] = row;
    const got = await captureInfo(join(FOUNDATION, e.name));
    const t = (s: string) => { const [a, b = ''] = s.split('.'); return { sec: Number(a), nsec: Number(b.padEnd(9, '0')) }; };
    assert.equal(got.packets, Number(packets), e.name);
    assert.equal(got.wireBytes, Number(bytes), e.name); // capinfos' data size counts on-wire lengths
    n++;
    // An SPB has no timestamp: capinfos then prints n/a for times, we count it at time 0 (as libpcap does).
    if (duration === 'n/a') continue;
    assert.ok(Math.abs(got.duration - Number(duration)) < 1e-9, `${e.name}: duration ${got.duration} vs ${duration}`);
    assert.deepEqual(got.first, t(start!), e.name);
    assert.deepEqual(got.last, t(end!), e.name);
    assert.equal(got.strictTimeOrder, order === 'True', e.name);
  }
  assert.ok(n >= 20, `${n} files compared`);
});
