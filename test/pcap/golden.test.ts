// Fixtures stay honest: the generator reproduces every committed file byte for byte, and tcpdump (when installed)
// still prints exactly the committed goldens (X.tt.out, exit code X.tt.rc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { tcpdumpPath, tcpdumpSkip, tmpDir } from '../_util.js';
import { TCPDUMP_VERSION_FILE, tcpdumpVersion, writeFoundation } from '../../fixtures/make/foundation.js';
import { FOUNDATION, loadManifest } from './_foundation.js';

const manifest = loadManifest();

test('fixtures/make/foundation.ts regenerates every committed capture and manifest.json byte for byte', () => {
  const root = tmpDir();
  writeFoundation(root, { tcpdump: false });
  const made = readdirSync(join(root, 'fixtures/foundation')).sort();
  const committed = readdirSync(FOUNDATION).filter((n) => !/\.tt\.(out|err|rc)$/.test(n) && n !== TCPDUMP_VERSION_FILE).sort();
  assert.deepEqual(made, committed);
  for (const n of made) {
    const a = readFileSync(join(root, 'fixtures/foundation', n)), b = readFileSync(join(FOUNDATION, n));
    // zlib's compressed bytes may change between zlib versions; what they inflate to may not.
    if (n === 'eth-le-usec.pcap.gz') assert.ok(gunzipSync(a).equals(gunzipSync(b)), `${n} inflates differently: run npm run fixtures`);
    else assert.ok(a.equals(b), `${n} differs: run npm run fixtures`);
  }
});

test('every golden-bearing fixture has its tcpdump goldens committed', () => {
  for (const e of manifest.filter((m) => m.golden)) {
    for (const ext of ['.tt.out', '.tt.err', '.tt.rc']) assert.ok(existsSync(join(FOUNDATION, e.name + ext)), e.name + ext);
    // tcpdump prints one line per packet it read (no continuation lines without -v/-x).
    const lines = readFileSync(join(FOUNDATION, e.name + '.tt.out'), 'utf8').split('\n').filter(Boolean).length;
    const rc = Number(readFileSync(join(FOUNDATION, e.name + '.tt.rc'), 'utf8'));
    if (rc === 0) assert.equal(lines, e.packets, `${e.name}: tcpdump read ${lines}, we expect ${e.packets}`);
  }
});

/** Skip reason unless the installed tcpdump is the one that wrote the goldens (other versions print some lines differently). */
function sameTcpdump(): string | false {
  const skip = tcpdumpSkip();
  if (skip) return skip;
  const want = readFileSync(join(FOUNDATION, TCPDUMP_VERSION_FILE), 'utf8');
  const have = tcpdumpVersion(tcpdumpPath()!);
  return have === want ? false : `goldens come from ${want.trim().replace(/\n/g, ', ')}; installed is ${have.trim().replace(/\n/g, ', ')}`;
}

test('tcpdump still prints the committed goldens', { skip: sameTcpdump() }, () => {
  const td = tcpdumpPath()!;
  for (const e of manifest.filter((m) => m.golden)) {
    const r = spawnSync(td, ['-tt', '-n', '-r', e.name], { cwd: FOUNDATION, encoding: 'buffer' });
    assert.ok(r.stdout.equals(readFileSync(join(FOUNDATION, e.name + '.tt.out'))), `${e.name}: tcpdump output changed`);
    assert.equal(`${r.status}\n`, readFileSync(join(FOUNDATION, e.name + '.tt.rc'), 'utf8'), `${e.name}: exit code`);
  }
});

test('where tcpdump reads a bad file, it stops where we do: same packets before the fault', () => {
  // Classic faults: tcpdump prints exactly the packets we deliver before reporting the error.
  for (const e of manifest.filter((m) => m.golden && m.error && m.kind === 'pcap')) {
    const lines = readFileSync(join(FOUNDATION, e.name + '.tt.out'), 'utf8').split('\n').filter(Boolean).length;
    assert.equal(lines, e.packets, e.name);
    assert.equal(readFileSync(join(FOUNDATION, e.name + '.tt.rc'), 'utf8'), '1\n', e.name);
  }
});
