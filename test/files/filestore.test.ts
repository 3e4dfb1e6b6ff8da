// The filestore's background paths: the first files through thread-pool callbacks, the rest through the writer
// thread (store-writer.ts) in batches; sizes around the batch size and the in-memory limit; dedup within a run
// and against an existing store; no temp file left behind. Contents are generated here (seeded bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../_util.js';
import { Filestore, FILESTORE_WRITE_BUFFER, FILESTORE_WRITER_AFTER } from '../../src/files/filestore.js';
import { STORE_BATCH_BYTES } from '../../src/files/store-writer.js';

function bytes(seed: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

/** Store `files` through TempFile writes in `chunk`-byte pieces; returns their sha256s. */
async function store(dir: string, files: Buffer[], chunk: number, hint = false): Promise<{ shas: string[]; fs: Filestore }> {
  const fs = new Filestore(dir, `t${process.pid}`);
  const shas: string[] = [];
  for (const f of files) {
    const t = fs.temp(hint ? f.length : 0);
    for (let o = 0; o < f.length; o += chunk) t.write(f.subarray(o, o + chunk));
    const sha = createHash('sha256').update(f).digest('hex');
    shas.push(sha);
    t.commit(sha);
  }
  await fs.drain();
  return { shas, fs };
}

test('filestore: callback and writer-thread paths store every file once, dedup, leave no temp file', async () => {
  const dir = tmpDir('fc-filestore-');
  const sizes = [0, 1, 1460, 4095, 4096, 5000, FILESTORE_WRITE_BUFFER - 1, FILESTORE_WRITE_BUFFER, FILESTORE_WRITE_BUFFER + 1, STORE_BATCH_BYTES, 3 * FILESTORE_WRITE_BUFFER];
  const files: Buffer[] = [];
  for (let k = 0; k < FILESTORE_WRITER_AFTER + 300; k++) files.push(bytes(k, sizes[k % sizes.length]! + (k % 7)));
  files.push(files[3]!, files[FILESTORE_WRITER_AFTER + 5]!); // duplicates within the run, one per path
  const { shas, fs } = await store(dir, files, 1460, true);
  const unique = new Set(shas);
  assert.equal(fs.counters.stored, unique.size);
  assert.equal(fs.counters.dedup, files.length - unique.size);
  for (let k = 0; k < files.length; k++) {
    const p = fs.pathOf(shas[k]!);
    assert.ok(existsSync(p), `file ${k} stored`);
    assert.ok(readFileSync(p).equals(files[k]!), `file ${k} content`);
  }
  assert.equal(readdirSync(join(dir, 'tmp')).length, 0);
  for (const d of readdirSync(dir)) if (d !== 'tmp') for (const f of readdirSync(join(dir, d))) assert.match(f, /^[0-9a-f]{64}$/);
  // A second run into the same store: everything is a duplicate (checked on disk), nothing written again.
  const again = await store(dir, files.slice(0, FILESTORE_WRITER_AFTER + 50), 4000);
  assert.equal(again.fs.counters.stored, 0);
  assert.equal(again.fs.counters.dedup, FILESTORE_WRITER_AFTER + 50);
});

test('filestore: provisional files held in memory are stored by storeNow, once', () => {
  const dir = tmpDir('fc-filestore-prov-');
  const fs = new Filestore(dir, `p${process.pid}`);
  const body = bytes(7, 3000);
  const sha = createHash('sha256').update(body).digest('hex');
  const t = fs.temp();
  t.write(body.subarray(0, 1000)); t.write(body.subarray(1000));
  const held = fs.holdProvisional(t);
  assert.ok(held && Buffer.from(held).equals(body));
  assert.equal(readdirSync(join(dir, 'tmp')).length, 0); // nothing on disk for a candidate
  assert.equal(fs.storeNow(sha, held), 'stored');
  assert.equal(fs.storeNow(sha, held), 'dedup');
  assert.ok(readFileSync(fs.pathOf(sha)).equals(body));
  assert.deepEqual(readdirSync(join(dir, sha.slice(0, 2))), [sha]);
});

test('filestore: a large file spills a full buffer at a time, and a write bigger than the buffer goes straight', async () => {
  const dir = tmpDir('fc-filestore-spill-');
  const fs = new Filestore(dir, `s${process.pid}`);
  const body = bytes(11, 5 * FILESTORE_WRITE_BUFFER + 123);
  // Pieces: small ones across buffer boundaries, one larger than the buffer, then small ones again.
  const cuts = [0, 1000, 1000 + FILESTORE_WRITE_BUFFER - 10, 1000 + FILESTORE_WRITE_BUFFER + 5, 3 * FILESTORE_WRITE_BUFFER, 3 * FILESTORE_WRITE_BUFFER + 1, body.length];
  const t = fs.temp();
  for (let k = 1; k < cuts.length; k++) t.write(body.subarray(cuts[k - 1]!, cuts[k]!));
  assert.equal(t.size, body.length);
  const sha = createHash('sha256').update(body).digest('hex');
  t.commit(sha);
  await fs.drain();
  assert.ok(readFileSync(fs.pathOf(sha)).equals(body));
  assert.equal(fs.counters.bytesWritten, body.length);
  assert.equal(readdirSync(join(dir, 'tmp')).length, 0);
});

test('filestore: streamed large files: a duplicate, an abort and a finish for a later commit by path', async () => {
  const dir = tmpDir('fc-filestore-stream-');
  const fs = new Filestore(dir, `w${process.pid}`);
  const big = bytes(21, 3 * FILESTORE_WRITE_BUFFER + 7);
  const sha = createHash('sha256').update(big).digest('hex');
  const writeAll = (b: Buffer) => { const t = fs.temp(); for (let o = 0; o < b.length; o += 1460) t.write(b.subarray(o, o + 1460)); return t; };
  writeAll(big).commit(sha);
  writeAll(big).commit(sha); // the same content again: a duplicate, its temp file removed
  const dropped = writeAll(bytes(22, 2 * FILESTORE_WRITE_BUFFER));
  dropped.abort(); // spilled, then too large: removed
  const other = bytes(23, 2 * FILESTORE_WRITE_BUFFER + 1);
  const kept = writeAll(other);
  kept.finish(); // complete on disk when finish() returns (the merge commits such files by path)
  assert.ok(readFileSync(kept.path).equals(other));
  const otherSha = createHash('sha256').update(other).digest('hex');
  assert.equal(fs.commit(kept.path, otherSha), 'stored');
  await fs.drain();
  assert.equal(fs.counters.stored, 2);
  assert.equal(fs.counters.dedup, 1);
  assert.ok(readFileSync(fs.pathOf(sha)).equals(big));
  assert.ok(readFileSync(fs.pathOf(otherSha)).equals(other));
  assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
});
