// Hostile input: every packet of every corpus capture with random bytes overwritten (fixed seed) and random
// shorter capture lengths must print without any exception escaping the printer, one line per packet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip } from '../_util.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import { AsciiPrinter } from '../../src/ascii/printer.js';
import { FlowcarveError } from '../../src/errors.js';

function captures(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) captures(p, out);
    else if (/\.(pcap|pcapng|cap)$/.test(e)) out.push(p);
  }
  return out;
}

test('mutated corpus packets never throw out of the printer', { skip: corpusSkip(), timeout: 60_000 }, async () => {
  const files = captures(join(corpusDir()!, 'tcpdump')).sort();
  let seed = 20240611;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  let packets = 0;
  for (const f of files) {
    const pr = new AsciiPrinter();
    try {
      for await (const b of new CaptureReader(f).batches()) {
        for (let i = 0; i < b.count; i++) {
          const o = b.offset[i]!, c = b.caplen[i]!;
          if (c === 0) continue;
          for (let k = 0; k < 4; k++) b.buf[o + rnd(c)] = rnd(256);
          if (rnd(3) === 0) b.caplen[i] = 1 + rnd(c);
        }
        const text = pr.printBatch(b);
        const starts = text.split('\n').filter((l) => /^(\d+\.\d{6,} |\[Error converting time\] |\[Invalid header)/.test(l)).length;
        assert.equal(starts, b.count, `${f}: one packet line per packet`);
        assert.ok(text.endsWith('\n') || b.count === 0);
        packets += b.count;
      }
    } catch (e) {
      if (!(e instanceof FlowcarveError)) throw new Error(`${f}: ${(e as Error).stack}`);
    }
  }
  console.log(`# ${packets} mutated packets from ${files.length} captures printed`);
  assert.ok(packets > 1000);
});
