// With workers, plain capture files are read straight into the shared ring (records straddling two reads are
// carried to the next slot). For every foundation fixture — classic and pcapng, faulty and cut ones included —
// and read sizes that split records everywhere, the flows and the error (code, message, byte offset) must be the
// ones of the sequential stream reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../_util.js';
import { runFlows } from '../../src/engine/run.js';
import { CaptureFormatError, FlowcarveError } from '../../src/errors.js';

const DIR = join(FIXTURES, 'foundation');
const INPUTS = readdirSync(DIR).filter((f) => /\.(pcap|pcapng|gz)$/.test(f)).sort();

async function outcome(file: string, workers: number, chunkSize?: number): Promise<{ lines: string[]; error: string | null }> {
  const lines: string[] = [];
  try {
    await runFlows([join(DIR, file)], { workers, onFlowJson: (l) => lines.push(l), ...(chunkSize ? { read: { chunkSize } } : {}) });
    return { lines, error: null };
  } catch (e) {
    assert.ok(e instanceof FlowcarveError, `${file}: ${String(e)}`);
    const off = e instanceof CaptureFormatError ? e.offset : undefined;
    return { lines, error: `${e.code} ${e.message} @${off}` };
  }
}

test('ring reads give the sequential reader\'s flows and errors for every fixture and read size', async () => {
  assert.ok(INPUTS.length >= 30, `${INPUTS.length} fixtures`);
  let faulty = 0, flows = 0;
  for (const f of INPUTS) {
    const want = await outcome(f, 0);
    if (want.error) faulty++;
    flows += want.lines.length;
    for (const size of [64, 1000, undefined]) {
      const got = await outcome(f, 2, size);
      assert.equal(got.error, want.error, `${f}, read size ${size ?? 'default'}: error`);
      assert.deepEqual(got.lines, want.lines, `${f}, read size ${size ?? 'default'}: flows`);
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
