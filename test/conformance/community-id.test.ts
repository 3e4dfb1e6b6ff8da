// Community ID v1 against the specification's own baselines (../shared/corpus/community-id: the spec's test
// captures and baseline_{deflt,seed1,nob64}.json, expected IDs per tuple): every IP packet must match, 100%.
// Plus the `suricata` flavour's two known differences, checked against a hand-built SHA-1 input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip } from '../_util.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import { decodeBatchPacket } from '../../src/decode/decode.js';
import { PacketView } from '../../src/decode/view.js';
import { ipString, parseIp } from '../../src/decode/addr.js';
import { communityId, communityIdOfView, sha1, type CommunityIdOptions } from '../../src/flow/community-id.js';
import { hasPorts, icmpCounterpart } from '../../src/flow/key.js';

interface Base { proto: number; saddr: string; daddr: string; sport: number | null; dport: number | null; communityid: string }

const BASELINES: Array<[string, CommunityIdOptions]> = [
  ['baseline_deflt.json', {}],
  ['baseline_seed1.json', { seed: 1 }],
  ['baseline_nob64.json', { base64: false }],
];

test('Community ID matches the spec baselines for every packet of the spec captures', { skip: corpusSkip() }, async () => {
  const dir = join(corpusDir()!, 'community-id');
  const pcaps = readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort();
  for (const [file, opts] of BASELINES) {
    const base = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Base[];
    const want = new Map<string, string>();
    for (const b of base) want.set(`${b.proto} ${b.saddr} ${b.sport ?? '-'} ${b.daddr} ${b.dport ?? '-'}`, b.communityid);
    const used = new Set<string>();
    let checked = 0;
    const v = new PacketView();
    for (const p of pcaps) {
      for await (const batch of new CaptureReader(join(dir, p)).batches()) {
        for (let i = 0; i < batch.count; i++) {
          decodeBatchPacket(v, batch, i);
          if (v.ipVersion === 0) continue;
          const alen = v.ipVersion === 4 ? 4 : 16;
          let sport: number | null = v.srcPort, dport: number | null = v.dstPort;
          if (v.proto === 1 || v.proto === 58) {
            sport = v.icmpType;
            const c = icmpCounterpart(v.proto, v.icmpType);
            dport = c >= 0 ? c : v.icmpCode;
          } else if (!hasPorts(v.proto)) { sport = null; dport = null; }
          const k = `${v.proto} ${ipString(v.buf, v.src, alen)} ${sport ?? '-'} ${ipString(v.buf, v.dst, alen)} ${dport ?? '-'}`;
          const exp = want.get(k);
          assert.ok(exp, `${file}: ${p} packet ${i}: tuple ${k} not in the baseline`);
          assert.equal(communityIdOfView(v, opts), exp, `${file}: ${p} packet ${i} (${k})`);
          used.add(k);
          checked++;
        }
      }
    }
    assert.equal(used.size, want.size, `${file}: every baseline tuple is produced by some packet`);
    console.log(`community-id ${file}: ${checked} packets, ${used.size}/${want.size} tuples, all match`);
    assert.ok(checked >= 60);
  }
});

test('suricata flavour: 4 zero port bytes for port-less protocols; one-way ICMP ordered with counterpart 0', () => {
  const a = parseIp('10.1.12.1')!, b = parseIp('10.1.12.2')!;
  const sha = (bytes: number[]) => '1:' + createHash('sha1').update(Uint8Array.from(bytes)).digest('base64');
  // RSVP (46): spec leaves ports out, Suricata hashes 4 zero bytes.
  assert.equal(communityId(46, a, b, 0, 0), sha([0, 0, ...a, ...b, 46, 0]));
  assert.equal(communityId(46, a, b, 0, 0), '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=');
  assert.equal(communityId(46, b, a, 0, 0, { flavour: 'suricata' }), sha([0, 0, ...a, ...b, 46, 0, 0, 0, 0, 0]));
  // ICMP time exceeded (11/0) sent from the higher address: spec keeps the direction, Suricata orders the tuple
  // and uses counterpart 0 (so code 3 hashes like code 0).
  assert.equal(communityId(1, b, a, 11, 3), sha([0, 0, ...b, ...a, 1, 0, 0, 11, 0, 3]));
  assert.equal(communityId(1, b, a, 11, 3, { flavour: 'suricata' }), sha([0, 0, ...a, ...b, 1, 0, 0, 0, 0, 11]));
  // Two-way types are the same in both flavours.
  assert.equal(communityId(1, b, a, 0, 0, { flavour: 'suricata' }), communityId(1, a, b, 8, 0));
  // Seed and hex.
  assert.equal(communityId(6, a, b, 1, 2, { seed: 513, base64: false }), '1:' + createHash('sha1').update(Uint8Array.from([2, 1, ...a, ...b, 6, 0, 0, 1, 0, 2])).digest('hex'));
});

test('the built-in one-block SHA-1 equals node:crypto for every input length 0..55', () => {
  for (let n = 0; n <= 55; n++) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 151 + n * 7) & 0xff);
    assert.equal(Buffer.from(sha1(b)).toString('hex'), createHash('sha1').update(b).digest('hex'), `length ${n}`);
  }
  assert.throws(() => sha1(new Uint8Array(56)), RangeError);
});
