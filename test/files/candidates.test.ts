// With several workers an unclaimed TCP flow may be an ftp-data connection announced in another worker: it is held
// raw (no hashing, no files) and the merge replays the ones an announcement fits; past its hold it becomes the
// real candidate parser in the worker. Whatever the hold (0: every candidate promoted at once, small: promoted
// mid-flow, default: held whole), the events and the filestore must be those of one worker, where no candidate
// is needed. On the FTP fixtures (active and passive, IPv4 and IPv6) and, when present, suricata-verify's ftp tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, corpusDir, tmpDir } from '../_util.js';
import { extractFiles } from '../../src/files/sink.js';

function storeListing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, pre: string) => {
    for (const f of readdirSync(d).sort()) {
      if (f === 'tmp') continue;
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p, `${pre}${f}/`); else out.push(`${pre}${f} ${statSync(p).size}`);
    }
  };
  walk(dir, '');
  return out;
}

async function outcome(inputs: string[], workers: number, candidateHold?: number) {
  const out = join(tmpDir(), 'store');
  const r = await extractFiles(inputs, { out, hashes: ['md5'], workers, ...(candidateHold !== undefined ? { candidateHold } : {}) });
  const opened = r.workers.reduce((s, w) => s + w.tracker.opened, 0);
  return { events: JSON.stringify(r.events), store: storeListing(out), matched: r.counters.ftpDataMatched, opened };
}

async function check(inputs: string[], what: string): Promise<number> {
  const one = await outcome(inputs, 1);
  assert.ok(one.matched > 0, `${what}: ftp-data files matched`);
  const opened: number[] = [];
  for (const hold of [0, 1, 100, undefined]) {
    const two = await outcome(inputs, 2, hold);
    assert.equal(two.events, one.events, `${what}, hold ${hold ?? 'default'}: events`);
    assert.deepEqual(two.store, one.store, `${what}, hold ${hold ?? 'default'}: filestore`);
    assert.equal(two.matched, one.matched, `${what}, hold ${hold ?? 'default'}: matched`);
    opened.push(two.opened);
  }
  // Promoted candidates open provisional files in the workers; held ones open none there.
  assert.ok(opened[0]! > opened[3]!, `${what}: files opened in workers, hold 0 vs default: ${opened.join(', ')}`);
  return one.matched;
}

test('raw ftp-data candidates (2 workers, any hold) give the events and filestore of 1 worker: fixtures', async () => {
  const dir = join(FIXTURES, 'files/ftp');
  const inputs = readdirSync(dir).filter((f) => f.endsWith('.pcap')).map((f) => join(dir, f));
  assert.ok(inputs.length >= 2);
  for (const f of inputs) await check([f], f);
});

test('raw ftp-data candidates: suricata-verify ftp captures', async (t) => {
  const c = corpusDir();
  if (!c) { t.skip('../shared/corpus not present'); return; }
  const sv = join(c, 'suricata-verify');
  let matched = 0, captures = 0;
  for (const d of readdirSync(sv).filter((x) => /ftp/.test(x)).sort()) {
    for (const f of readdirSync(join(sv, d)).filter((x) => /\.pcap$/.test(x))) {
      const p = join(sv, d, f);
      const one = await outcome([p], 1);
      if (one.matched === 0) continue;
      matched += await check([p], `${d}/${f}`);
      captures++;
    }
  }
  console.log(`# raw candidates: ${captures} suricata-verify ftp captures, ${matched} ftp-data files, same for any hold`);
  assert.ok(captures >= 3, `${captures} captures with ftp-data files`);
});
