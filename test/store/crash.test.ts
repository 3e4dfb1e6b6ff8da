// Crash safety: a writer killed with SIGKILL mid-stream (plus a torn half record appended, as a cut write
// leaves it) gives a store that the next open repairs (torn tail truncated, missing index rebuilt) and that
// carves exactly the records that reached the disk. Child: test/store/_crash-child.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, runCli, tmpDir } from '../_util.js';
import { listSegments } from '../../src/store/segments.js';
import { carve } from '../../src/carve/carve.js';
import { crashFrames } from './_crash-frames.js';

const CHILD = fileURLToPath(new URL('./_crash-child.js', import.meta.url));

test('kill -9 while writing: the next open repairs the store and carving works', async () => {
  const dir = tmpDir('flowcarve-crash-');
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.on('exit', (c) => reject(new Error(`child exited early (${c})`)));
  });
  // let it rotate a few more times, then kill it in the middle of writing
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const segs = listSegments(dir);
  assert.ok(segs.length >= 3, `${segs.length} segments`);
  const last = segs[segs.length - 1]!;
  assert.equal(existsSync(last.path + '.idx'), false, 'the open segment has no index yet');
  // a cut write: half a record header at the end. (A kill right after a rotation can leave the newest segment
  // without even its file header: then the repair removes it instead of truncating it.)
  const headerless = statSync(last.path).size < 24;
  appendFileSync(last.path, Buffer.from([0x00, 0xf1, 0x53, 0x65, 0x10, 0x00, 0x00]));
  // the next run: `flowcarve store` on the crashed store repairs it first, then adds its own segment
  const next = runCli(['store', '--mode', 'all', '--out', dir, join(FIXTURES, 'store/capture.pcap')]);
  assert.equal(next.status, 0, next.stderr.toString());
  const { repair } = JSON.parse(next.stdout.toString()) as { repair: { rescanned: string[]; truncated: Array<{ name: string }>; removed: string[] } };
  if (headerless) {
    assert.ok(repair.removed.includes(last.name), JSON.stringify(repair));
    assert.equal(listSegments(dir).length, segs.length);
  } else {
    assert.ok(repair.rescanned.includes(last.name), JSON.stringify(repair));
    assert.ok(repair.truncated.some((t) => t.name === last.name));
    assert.equal(listSegments(dir).length, segs.length + 1);
  }
  for (const sg of listSegments(dir)) assert.ok(existsSync(sg.path + '.idx'), `${sg.name} has its index`);
  const out = tmpDir('flowcarve-crash-out-');
  const r = carve({ timestamp: '2023-11-14T22:13:20.000000+0000', src_ip: '10.7.0.1', src_port: 5555, dest_ip: '192.0.2.77', dest_port: 80, proto: 'TCP' }, { store: dir, out });
  assert.ok(r.packets >= 2000, `${r.packets} packets`);
  // exactly the first r.packets frames, byte for byte
  const buf = readFileSync(r.path);
  let p = 24, k = 0;
  for (const f of crashFrames(r.packets)) {
    const caplen = buf.readUInt32LE(p + 8);
    assert.equal(buf.readUInt32LE(p), f.sec);
    assert.equal(buf.readUInt32LE(p + 4), Math.floor(f.nsec / 1000));
    assert.deepEqual(buf.subarray(p + 16, p + 16 + caplen), Buffer.from(f.data), `packet ${k}`);
    p += 16 + caplen; k++;
  }
  assert.equal(p, buf.length);
  assert.equal(statSync(r.path).size, r.bytes);
});
