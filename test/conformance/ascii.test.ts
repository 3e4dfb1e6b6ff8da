// Conformance of `flowcarve ascii` against tcpdump 4.99.3's own output on the third-party corpus
// (../shared/corpus: every capture X has X.tt.out = `tcpdump -tt -n -r X`). Read in place, skipped when absent.
// Comparison is packet by packet (continuation lines belong to the packet above). decode-sll2-* is left out:
// tcpdump names the capturing host's interfaces there, so its output is host-dependent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip } from '../_util.js';
import { compare, newTally, pct, printFile, report, type Tally } from '../ascii/_compare.js';

function manifestPaths(root: string, manifest: string): string[] {
  const p = join(root, manifest);
  if (!existsSync(p)) return [];
  const rows = readFileSync(p, 'utf8').split('\n').slice(1).filter(Boolean);
  return rows.map((r) => r.split('\t')[0]!).filter((x) => !/(^|\/)decode-sll2-/.test(x));
}

async function run(root: string, rel: string[], t: Tally): Promise<void> {
  for (const r of rel) {
    const f = join(root, r);
    if (!existsSync(f + '.tt.out')) continue;
    compare(t, r, await printFile(f), readFileSync(f + '.tt.out', 'latin1'));
  }
}

test('ascii matches tcpdump -tt -n -r on the corpus', { skip: corpusSkip(), timeout: 120_000 }, async () => {
  const root = corpusDir()!;
  const tcpd = newTally();
  const sv = newTally();
  await run(root, manifestPaths(root, 'manifest.tsv'), tcpd);
  await run(root, manifestPaths(root, 'suricata-verify/manifest.tsv'), sv);
  console.log('# ' + report('tcpdump+community-id', tcpd));
  console.log('# ' + report('suricata-verify', sv));
  const top = (t: Tally) => [...t.failures.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k}:${n}`).join(' ');
  console.log(`# differing packets by class: tcpdump ${top(tcpd)} | suricata-verify ${top(sv)}`);
  for (const f of [...tcpd.prefixFailures, ...sv.prefixFailures].slice(0, 10)) console.log('# prefix mismatch ' + f);

  const prefixN = tcpd.prefixLines + sv.prefixLines, prefixS = tcpd.prefixSame + sv.prefixSame;
  assert.equal(prefixS, prefixN, `IP/IP6/ARP prefixes through the address/port pair must all match (${prefixS}/${prefixN})`);
  let coreN = 0, coreS = 0;
  for (const t of [tcpd, sv]) for (const [n, s] of Object.values(t.core)) { coreN += n; coreS += s; }
  console.log(`# core lines byte-identical: ${pct(coreS, coreN).toFixed(3)}% (${coreS}/${coreN}); suricata-verify all lines: ${pct(sv.linesSame, sv.lines).toFixed(3)}%`);
  assert.ok(pct(coreS, coreN) >= 99, `core lines byte-identical ${pct(coreS, coreN).toFixed(3)}% < 99%`);
  assert.ok(pct(sv.linesSame, sv.lines) >= 95, `suricata-verify lines byte-identical ${pct(sv.linesSame, sv.lines).toFixed(3)}% < 95%`);
});
