// The split sink on fixtures/flows/known.pcap: names by Community ID (flows of one tuple share a file) or by
// flow_id (one file per flow), a descriptor LRU of 1 forcing reopen-and-append, packets and timestamps intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../_util.js';
import { runFlows } from '../../src/engine/run.js';
import { splitFileName, splitSinkSpec, type SplitResult } from '../../src/engine/split-sink.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import type { FlowRecord } from '../../src/flow/record.js';

const PCAP = join(FIXTURES, 'flows/known.pcap');

async function read(file: string): Promise<{ n: number; bytes: number; link: number; ts: number[] }> {
  let n = 0, bytes = 0, link = -1;
  const ts: number[] = [];
  const r = new CaptureReader(file);
  for await (const b of r.batches()) for (let i = 0; i < b.count; i++) { n++; bytes += b.caplen[i]!; link = b.linkType[i]!; ts.push(b.tsSec[i]! * 1e6 + b.tsNsec[i]! / 1e3); }
  assert.equal(r.parser.format?.resolution, 'nsec');
  return { n, bytes, link, ts };
}

for (const name of ['community-id', 'flow-id'] as const) {
  test(`split by ${name} with at most 1 open file`, async () => {
    const out = tmpDir();
    const flows: FlowRecord[] = [];
    const r = await runFlows([PCAP], { sinks: [splitSinkSpec({ out, name, maxOpen: 1 })], onFlow: (f) => flows.push(f) });
    const res = (r.sinks[0] as SplitResult[])[0]!;
    const files = readdirSync(out).sort();
    const expectFiles = new Set(flows.map((f) => splitFileName(f, name)));
    assert.equal(files.length, expectFiles.size + 1, files.join(' '));
    assert.ok(files.includes('other-1.pcap'));
    // The tcp_reuse pair and the UDP pair split by a timeout each share their Community ID.
    assert.equal(expectFiles.size, name === 'flow-id' ? 13 : 11);
    assert.equal(res.files, files.length);
    assert.equal(res.packets, 62);
    let total = 0;
    for (const f of files) {
      const got = await read(join(out, f));
      assert.equal(got.link, 1);
      for (let k = 1; k < got.ts.length; k++) assert.ok(got.ts[k]! >= got.ts[k - 1]! || f !== 'other-1.pcap');
      const mine = flows.filter((x) => splitFileName(x, name) === f);
      if (mine.length) {
        assert.equal(got.n, mine.reduce((s, x) => s + x.pktsToServer + x.pktsToClient, 0), f);
        assert.equal(got.bytes, mine.reduce((s, x) => s + x.bytesToServer + x.bytesToClient, 0), f);
        assert.equal(got.ts[0], mine[0]!.startSec * 1e6 + mine[0]!.startNsec / 1e3);
      }
      total += got.n;
    }
    assert.equal(total, 62);
    if (name === 'community-id') assert.ok(res.reopens > 0, 'the LRU of 1 made files reopen');
  });
}
