// Corpus check against tcpdump's own output: for every capture in ../shared/corpus/suricata-verify, a list of
// one address from each of a few flows (chosen from the capture's .tt.out) must give, per address, as many
// matched packets as there are .tt.out lines naming it as source or destination of an IP/IP6 packet — both
// when matching the capture and when matching the .tt.out text. Read in place; skipped when absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IndicatorList, IndicatorSet } from '../../src/ioc/indicators.js';
import { IocMatcher } from '../../src/ioc/matcher.js';
import { matchInput } from '../../src/ioc/input.js';
import { ipString, parseIp } from '../../src/decode/addr.js';
import { corpusDir, corpusSkip } from '../_util.js';

/** Flows sampled per capture. */
const FLOWS_PER_CAPTURE = 3;
/** Link types our decoder does not take apart (tcpdump does): only their text is checked (and listed). */
const UNDECODED_LINKTYPES = new Set(['C_HDLC(104)']);

// An independent oracle: the first ` IP `/` IP6 ` token of a timestamped line and the `A > B:` after it.
const LINE_RE = /^\d+\.\d+ (?:.*? )??(IP6?) (?:truncated-ip - \d+ bytes missing! )?(\S+) > (\S+?):(?: |$)/;

function stripPort(v: string, ep: string): string {
  if (v === 'IP') {
    const parts = ep.split('.');
    return parts.length === 5 ? parts.slice(0, 4).join('.') : ep;
  }
  const tail = ep.slice(ep.lastIndexOf(':') + 1);
  const dots = tail.split('.').length - 1;
  return dots === 1 || dots === 4 ? ep.slice(0, ep.lastIndexOf('.')) : ep;
}

function canon(a: string): string | null {
  const b = parseIp(a);
  return b ? ipString(b, 0, b.length) : null;
}

test('suricata-verify: per-address hit counts equal tcpdump line counts', { skip: corpusSkip() }, async () => {
  const root = join(corpusDir()!, 'suricata-verify');
  const manifest = readFileSync(join(root, 'manifest.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  let captures = 0, addresses = 0, packets = 0;
  const skipped: string[] = [];
  const failures: string[] = [];
  const t0 = performance.now();
  for (const row of manifest) {
    const rel = row[0]!.replace(/^suricata-verify\//, '');
    const cap = join(root, rel);
    const ttOut = cap + '.tt.out';
    if (!existsSync(cap) || !existsSync(ttOut)) { skipped.push(`${rel}: missing`); continue; }
    const undecoded = UNDECODED_LINKTYPES.has(row[2]!);
    if (undecoded) skipped.push(`${rel}: link type ${row[2]} is not decoded: text side only`);
    // Oracle lines: (src, dst) per IP packet line, canonical text.
    const lines: Array<[string, string]> = [];
    for (const line of readFileSync(ttOut, 'latin1').split('\n')) {
      const m = LINE_RE.exec(line);
      if (!m) continue;
      const s = canon(stripPort(m[1]!, m[2]!)), d = canon(stripPort(m[1]!, m[3]!));
      if (s && d) lines.push([s, d]);
    }
    if (!lines.length) continue;
    // A few flows in order of appearance; one address from each, alternating sides.
    const flows: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const [s, d] of lines) {
      const k = s < d ? `${s} ${d}` : `${d} ${s}`;
      if (seen.has(k)) continue;
      seen.add(k);
      flows.push([s, d]);
      if (flows.length === FLOWS_PER_CAPTURE) break;
    }
    const chosen = [...new Set(flows.map(([s, d], i) => (i % 2 ? d : s)))];
    const want = new Map(chosen.map((a) => [a, lines.filter(([s, d]) => s === a || d === a).length]));
    const set = new IndicatorSet([IndicatorList.fromEntries('chosen', chosen)]);
    for (const kind of undecoded ? ['text'] as const : ['capture', 'text'] as const) {
      const m = new IocMatcher(set);
      try {
        await matchInput(kind === 'capture' ? cap : ttOut, m, kind);
      } catch { /* a damaged capture still yields the packets before the damage, as tcpdump prints them */ }
      const got = new Map<string, number>();
      for (const r of m.results()) got.set(r.indicator, (got.get(r.indicator) ?? 0) + r.packets);
      for (const [a, n] of want) {
        if ((got.get(a) ?? 0) !== n) failures.push(`${rel} (${kind}): ${a}: ${got.get(a) ?? 0} hits, tcpdump lines ${n}`);
      }
    }
    captures++;
    addresses += chosen.length;
    for (const n of want.values()) packets += n;
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`# ${captures} captures, ${addresses} addresses, ${packets} tcpdump lines matched both ways in ${secs} s`);
  for (const s of skipped) console.log(`# ${s}`);
  assert.deepEqual(failures.slice(0, 20), []);
  assert.ok(captures >= 700, `only ${captures} captures checked`);
});
