// The file sink as a library: FileSink with a per-file callback inside runFlows' sequential mode,
// extractFiles() with onFile in output order, hash-only mode (no filestore), protocol selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { FIXTURES, tmpDir } from '../_util.js';
import { extractFiles, FileSink, mergeFileResults } from '../../src/files/sink.js';
import type { FinishedFile } from '../../src/files/tracker.js';
import { fileinfoJson, type FileEvent } from '../../src/files/fileinfo.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import { ShardCore } from '../../src/engine/core.js';
import { makeFlowIdFn } from '../../src/engine/run.js';

const PCAP = join(FIXTURES, 'files/http/http-gzip-pipeline.pcap');

test('FileSink embedded in a pipeline: onFile fires per finished file, merge orders and numbers them', async () => {
  const seen: FinishedFile[] = [];
  const out = tmpDir('fc-sink-');
  const sink = new FileSink({ out }, { worker: 0, workers: 1 }, (f) => seen.push(f));
  const core = new ShardCore({ worker: 0, workers: 1 }, [sink], await makeFlowIdFn());
  for await (const b of new CaptureReader(PCAP).batches()) core.processBatch(b);
  core.finish();
  assert.deepEqual(seen.map((f) => f.event.fileinfo.filename), ['/index.html', '/a.bin', '/b.txt']);
  const merged = await mergeFileResults([await sink.finish()], { out });
  // The EVE lines straight from the packed text, before any event object is built, equal the events' JSON.
  const lines = merged.lines();
  assert.deepEqual(merged.events.map((e) => [e.fileinfo.filename, e.fileinfo.file_id, e.fileinfo.stored]), [['/index.html', 1, true], ['/a.bin', 2, true], ['/b.txt', 3, true]]);
  assert.deepEqual(lines, merged.events.map(fileinfoJson));
  assert.match(lines[1]!, /^\{"timestamp":"[^"]+","flow_id":\d+,"event_type":"fileinfo",.*"filename":"\/a\.bin",.*"file_id":2,/);
  // events is an own enumerable property: a spread copy and JSON keep it.
  assert.deepEqual({ ...merged }.events, merged.events);
  assert.equal((JSON.parse(JSON.stringify(merged)) as { events: unknown[] }).events.length, 3);
  assert.equal(readdirSync(join(out, 'tmp')).length, 0);
});

test('extractFiles: hash only, onFile in output order, protocol selection', async () => {
  const got: FileEvent[] = [];
  const r = await extractFiles([PCAP], { hashes: ['sha1'], onFile: (e) => got.push(e) });
  assert.equal(got.length, 3);
  assert.deepEqual(got, r.events);
  assert.ok(got.every((e) => e.fileinfo.stored === false && /^[0-9a-f]{40}$/.test(e.fileinfo.sha1!)));
  const none = await extractFiles([PCAP], { protocols: ['smtp'] });
  assert.equal(none.events.length, 0);
  assert.equal(none.workers[0]!.claimed.http, undefined);
});
