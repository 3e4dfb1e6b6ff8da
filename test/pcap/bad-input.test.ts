// Bad input: each bad fixture gives a typed CaptureFormatError with a stable code, the file name and the byte
// offset, after every packet before the fault; hostile lengths never make the reader buffer unbounded data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CaptureFormatError, ERR, FlowcarveError } from '../../src/errors.js';
import { CaptureParser } from '../../src/pcap/parser.js';
import { PCAPNG_MAX_BLOCK } from '../../src/pcap/format.js';
import { FOUNDATION, loadManifest, plainBytes, readWithReader } from './_foundation.js';

const manifest = loadManifest();
const bad = manifest.filter((e) => e.error);

test('the bad fixtures cover every capture-format error code', () => {
  const codes = new Set(bad.map((e) => e.error!.code));
  for (const c of [ERR.BAD_MAGIC, ERR.TRUNCATED_HEADER, ERR.TRUNCATED_RECORD, ERR.BAD_CAPLEN, ERR.BAD_BLOCK, ERR.TRUNCATED_BLOCK, ERR.NO_INTERFACE, ERR.EMPTY]) assert.ok(codes.has(c), c);
});

for (const e of bad) {
  test(`${e.name}: ${e.error!.code} at ${e.error!.offset} after ${e.packets} packets`, async () => {
    const path = join(FOUNDATION, e.name);
    const r = await readWithReader(path, path);
    assert.ok(r.error instanceof CaptureFormatError);
    assert.ok(r.error instanceof FlowcarveError);
    assert.equal(r.error.name, 'CaptureFormatError');
    assert.equal(r.error.code, e.error!.code);
    assert.equal(r.error.file, path);
    assert.equal(r.error.offset, e.error!.offset);
    assert.equal(r.list.length, e.packets);
    assert.deepEqual(r.list, e.list);
    const d = (r.error as CaptureFormatError).describe();
    assert.ok(d.startsWith(`${path}: offset ${e.error!.offset}: `), d);
    assert.ok(d.endsWith(`[${e.error!.code}]`), d);
  });
}

test('a pcapng block claiming more than the block cap fails at once, without waiting for its bytes', () => {
  const b = plainBytes('ng-huge-length.pcapng');
  const p = new CaptureParser('x');
  // Feed only up to the lying block's header: the error must come before the rest of the file arrives.
  const at = manifest.find((m) => m.name === 'ng-huge-length.pcapng')!.error!.offset;
  let n = 0;
  for (const batch of p.push(b.subarray(0, at + 12))) n += batch.count;
  assert.equal(p.error?.code, ERR.BAD_BLOCK);
  assert.equal(n, 2);
  assert.ok(PCAPNG_MAX_BLOCK === 16 * 1024 * 1024);
});

test('a classic record claiming an absurd caplen fails at its header, whatever the chunking', () => {
  const b = plainBytes('absurd-caplen.pcap');
  for (const chunk of [1, 16, 4096]) {
    const p = new CaptureParser('x');
    let n = 0;
    for (let o = 0; o < b.length && !p.error; o += chunk) for (const batch of p.push(b.subarray(o, o + chunk))) n += batch.count;
    assert.equal(p.error?.code, ERR.BAD_CAPLEN);
    assert.equal(n, 2);
  }
});
