// Inputs: stdin ('-'), readable streams, globs (fast-glob), several inputs in order, gzip sniffed by magic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { REPO } from '../_util.js';
import { expandInputs, readInputs } from '../../src/pcap/reader.js';
import { FOUNDATION, loadManifest, readWithReader } from './_foundation.js';

const manifest = loadManifest();
const byName = (n: string) => manifest.find((m) => m.name === n)!;

test("stdin '-' is read like a file (plain and gzip)", () => {
  const reader = join(REPO, 'dist/src/pcap/reader.js');
  const script = `import(${JSON.stringify(reader)}).then(async ({ CaptureReader }) => {
    let n = 0, bytes = 0; const r = new CaptureReader('-');
    for await (const b of r.batches()) { n += b.count; for (let i = 0; i < b.count; i++) bytes += b.caplen[i]; }
    process.stdout.write(JSON.stringify({ n, bytes, gzip: r.gzip, source: r.source }));
  })`;
  for (const name of ['eth-be-nsec.pcap', 'eth-le-usec.pcap.gz', 'ng-blocks.pcapng']) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: readFileSync(join(FOUNDATION, name)), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const e = byName(name);
    assert.deepEqual(JSON.parse(r.stdout), { n: e.packets, bytes: e.capturedBytes, gzip: e.gzip, source: '-' });
  }
});

test('a readable stream delivering odd-sized chunks is read like the file', async () => {
  const data = readFileSync(join(FOUNDATION, 'ng-sections.pcapng'));
  const chunks: Buffer[] = [];
  for (let o = 0; o < data.length; o += 13) chunks.push(data.subarray(o, o + 13));
  const r = await readWithReader(Readable.from(chunks), 'stream');
  const e = byName('ng-sections.pcapng');
  assert.deepEqual(r.list, e.list);
  assert.equal(r.sha256, e.sha256);
});

test('globs expand sorted; plain paths and - stay; no match is ERR_INPUT', async () => {
  const got = await expandInputs([join(FOUNDATION, 'eth-*-usec.pcap'), '-', join(FOUNDATION, 'vlan.pcap')]);
  assert.deepEqual(got, [join(FOUNDATION, 'eth-be-usec.pcap'), join(FOUNDATION, 'eth-le-usec.pcap'), '-', join(FOUNDATION, 'vlan.pcap')]);
  await assert.rejects(expandInputs([join(FOUNDATION, 'nothing-*.pcap')]), (e: { code?: string }) => e.code === 'ERR_INPUT');
});

test('readInputs yields several inputs in order, each batch labelled with its source', async () => {
  const files = await expandInputs([join(FOUNDATION, '{vlan,raw,sll}.pcap')]);
  const seen: Array<[string, number]> = [];
  for await (const b of readInputs(files)) seen.push([b.source, b.count]);
  const total = new Map<string, number>();
  for (const [s, c] of seen) total.set(s, (total.get(s) ?? 0) + c);
  assert.deepEqual([...total.entries()], files.map((f) => [f, byName(f.split('/').pop()!).packets]));
});
