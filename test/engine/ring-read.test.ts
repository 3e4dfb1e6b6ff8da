// Plain capture files are read in regions straight into reused buffers (one thread) or the shared ring (workers);
// records cut by a read boundary are carried to the next region. For every foundation fixture — classic and
// pcapng, faulty and cut ones included — and read sizes that split records everywhere, the flows and the error
// (code, message, byte offset) must be those of the stream reader (CaptureReader, which reads gzip inputs: the
// reference runs on a gzipped copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FIXTURES, tmpDir } from '../_util.js';
import { runFlows } from '../../src/engine/run.js';
import { CaptureFormatError, FlowcarveError } from '../../src/errors.js';

const DIR = join(FIXTURES, 'foundation');
const INPUTS = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();

async function outcome(path: string, workers: number, chunkSize?: number): Promise<{ lines: string[]; error: string | null }> {
  const lines: string[] = [];
  try {
    await runFlows([path], { workers, onFlowJson: (l) => lines.push(l), ...(chunkSize ? { read: { chunkSize } } : {}) });
    return { lines, error: null };
  } catch (e) {
    assert.ok(e instanceof FlowcarveError, `${path}: ${String(e)}`);
    const off = e instanceof CaptureFormatError ? e.offset : undefined;
    // The stream reader names the gzipped copy; compare the rest.
    return { lines, error: `${e.code} ${e.message} @${off}` };
  }
}

test('region reads give the stream reader\'s flows and errors for every fixture, read size and worker count', async () => {
  assert.ok(INPUTS.length >= 30, `${INPUTS.length} fixtures`);
  let faulty = 0, flows = 0;
  const tmp = tmpDir();
  for (const f of INPUTS) {
    const gz = join(tmp, `${f}.gz`);
    writeFileSync(gz, gzipSync(readFileSync(join(DIR, f))));
    const want = await outcome(gz, 0);
    if (want.error) faulty++;
    flows += want.lines.length;
    for (const workers of [0, 2]) for (const size of [64, 1000, undefined]) {
      const got = await outcome(join(DIR, f), workers, size);
      const what = `${f}, ${workers} workers, read size ${size ?? 'default'}`;
      assert.equal(got.error, want.error, `${what}: error`);
      assert.deepEqual(got.lines, want.lines, `${what}: flows`);
    }
  }
  // The set holds cut, lying and bad captures as well as good ones.
  assert.ok(faulty >= 8 && flows >= 50, `${faulty} faulty fixtures, ${flows} flows`);
});

test('ring reads: several inputs, one cut, with onInputError: the good inputs\' flows all arrive', async () => {
  const files = ['eth-le-usec.pcap', 'cut-record-data.pcap', 'ng-sections.pcapng'].map((f) => join(DIR, f));
  const seq: string[] = [], par: string[] = [], errs: string[][] = [[], []];
  await runFlows(files, { workers: 0, onFlowJson: (l) => seq.push(l), onInputError: (e) => errs[0]!.push(e.message) });
  await runFlows(files, { workers: 2, read: { chunkSize: 100 }, onFlowJson: (l) => par.push(l), onInputError: (e) => errs[1]!.push(e.message) });
  assert.equal(errs[0]!.length, 1);
  assert.deepEqual(errs[1], errs[0]);
  assert.ok(seq.length > 3);
  assert.deepEqual(par, seq);
});
