// `split` over Suricata's verification captures (../shared/corpus/suricata-verify, read in place): the per-flow
// pcaps, re-read, hold exactly the input's packets (count, bytes, timestamps), each file's packets in capture
// order; every capture split identically (same files, same bytes) with 1 and 4 workers, all in one run; and a
// sample of captures the same way one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip, runCli, tmpDir } from '../_util.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import { runFlows } from '../../src/engine/run.js';
import { splitSinkSpec } from '../../src/engine/split-sink.js';

function captures(): string[] {
  const root = join(corpusDir()!, 'suricata-verify');
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)(\.gz)?$/i.test(e.name) && !/\.tt\./.test(e.name)) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

/** Packets of a capture as "sec.nsec caplen origlen sha1" keys, in order; stops quietly at a format fault. */
async function packets(file: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const b of new CaptureReader(file).batches()) {
      for (let i = 0; i < b.count; i++) {
        const o = b.offset[i]!;
        // µs inputs store usec*1000: the ns output keeps the same value.
        out.push(`${b.tsSec[i]}.${b.tsNsec[i]} ${b.caplen[i]} ${b.origlen[i]} ${createHash('sha1').update(b.buf.subarray(o, o + b.caplen[i]!)).digest('hex')}`);
      }
    }
  } catch { /* faulty input: compare the packets before the fault */ }
  return out;
}

function dirDigest(dir: string): string {
  const h = createHash('sha1');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex');
}

test('split: per-flow pcaps hold exactly the input packets, each flow in capture order', { skip: corpusSkip() }, async () => {
  const all = captures();
  assert.ok(all.length > 100, `found ${all.length} captures`);
  let pk = 0, files = 0;
  const t0 = Date.now();
  for (const cap of all) {
    const input = await packets(cap);
    const out = tmpDir('flowcarve-split-');
    await runFlows([cap], { sinks: [splitSinkSpec({ out, maxOpen: 16 })], onInputError: () => {} });
    // Each input packet key → its input positions, consumed in order.
    const pos = new Map<string, number[]>();
    input.forEach((k, i) => { const l = pos.get(k); if (l) l.push(i); else pos.set(k, [i]); });
    let seen = 0;
    for (const f of readdirSync(out)) {
      const got = await packets(join(out, f));
      let last = -1;
      for (const k of got) {
        const l = pos.get(k);
        assert.ok(l && l.length, `${cap}: ${f} holds a packet not in the input (or twice)`);
        const i = l.shift()!;
        assert.ok(i > last, `${cap}: ${f}: packet ${i} after ${last}`);
        last = i;
        seen++;
      }
      files++;
    }
    assert.equal(seen, input.length, `${cap}: packets written`);
    pk += seen;
    rmSync(out, { recursive: true });
  }
  console.log(`split: ${all.length} captures, ${pk} packets in ${files} files, all accounted for (${Date.now() - t0} ms)`);
});

test('split: every capture, as one run, gives identical files with --workers 1 and --workers 4', { skip: corpusSkip() }, async () => {
  const all = captures();
  const d1 = tmpDir('flowcarve-splitall1-'), d4 = tmpDir('flowcarve-splitall4-');
  const t0 = Date.now();
  // One run over all inputs: flows of the same tuple in different captures meet in one table, time jumps
  // between inputs, faulty captures end early — the same way for any worker count.
  const r1 = await runFlows(all, { workers: 1, sinks: [splitSinkSpec({ out: d1, maxOpen: 64 })], onInputError: () => {} });
  const r4 = await runFlows(all, { workers: 4, sinks: [splitSinkSpec({ out: d4, maxOpen: 16 })], onInputError: () => {} });
  const n1 = readdirSync(d1).length;
  assert.equal(dirDigest(d1), dirDigest(d4), 'files differ between 1 and 4 workers');
  assert.equal(r1.counters.table.flows, r4.counters.table.flows);
  assert.ok(n1 > 500, `${n1} files`);
  console.log(`split: all ${all.length} captures in one run, ${n1} files, ${r1.counters.packets} packets, identical for 1 and 4 workers (${Date.now() - t0} ms)`);
  rmSync(d1, { recursive: true }); rmSync(d4, { recursive: true });
});

test('split: identical files for --workers 1 and --workers 4 (a sample of the captures, one by one)', { skip: corpusSkip() }, async () => {
  const all = captures();
  // Largest capture of every 48: spreads over the suite and exercises the biggest flows (~16 captures; all 731
  // with 4 worker threads each would take minutes on 2 cores).
  const sample: string[] = [];
  for (let k = 0; k < all.length; k += 48) {
    const group = all.slice(k, k + 48);
    sample.push(group.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b)));
  }
  for (const cap of sample) {
    const d1 = tmpDir('flowcarve-split1-'), d4 = tmpDir('flowcarve-split4-');
    await runFlows([cap], { workers: 1, sinks: [splitSinkSpec({ out: d1 })], onInputError: () => {} });
    await runFlows([cap], { workers: 4, sinks: [splitSinkSpec({ out: d4, maxOpen: 4 })], onInputError: () => {} });
    assert.equal(dirDigest(d1), dirDigest(d4), `${cap}: files differ between 1 and 4 workers`);
    rmSync(d1, { recursive: true }); rmSync(d4, { recursive: true });
  }
  // The CLI path once, on the largest capture of the suite.
  const big = all.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
  const c1 = tmpDir('flowcarve-split1-'), c4 = tmpDir('flowcarve-split4-');
  const r1 = runCli(['split', '--out', c1, '--workers', '1', big]);
  const r4 = runCli(['split', '--out', c4, '--workers', '4', '--max-open', '8', '--name', 'community-id', big]);
  assert.equal(r1.status, 0, r1.stderr.toString());
  assert.equal(r4.status, 0, r4.stderr.toString());
  assert.equal(dirDigest(c1), dirDigest(c4));
  assert.match(r4.stderr.toString(), /^split: \d+ files, \d+ packets/m);
  rmSync(c1, { recursive: true }); rmSync(c4, { recursive: true });
  console.log(`split: ${sample.length} sampled captures (+ ${big.split('/').slice(-2).join('/')} through the CLI) identical for 1 and 4 workers`);
});
