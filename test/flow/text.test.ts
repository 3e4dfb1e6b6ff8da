// The flows output writes Community IDs and addresses straight into bytes (writeCommunityId, writeIpText) instead
// of making strings; they must give exactly the strings communityId() and ipString() give, for every option
// (seed, hex, Suricata's flavour), both address families, ICMP types with and without counterparts, and
// port-less protocols.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { communityId, communityIdAt, writeCommunityId, type CommunityIdOptions } from '../../src/flow/community-id.js';
import { ipString, writeIpText } from '../../src/decode/addr.js';

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

test('writeCommunityId and writeIpText write the strings communityId and ipString make', () => {
  const r = rng(7);
  const out = new Uint8Array(256);
  const opts: CommunityIdOptions[] = [{}, { seed: 1 }, { base64: false }, { flavour: 'suricata' }, { seed: 65535, base64: false, flavour: 'suricata' }];
  let n = 0;
  for (let i = 0; i < 4000; i++) {
    const alen = r() % 3 === 0 ? 16 : 4;
    const b = new Uint8Array(64);
    const so = 3 + (r() % 5), dOff = 30 + (r() % 10);
    for (let k = 0; k < alen; k++) { b[so + k] = r() % 4 === 0 ? 0 : r() & 0xff; b[dOff + k] = r() % 6 === 0 ? b[so + k]! : r() & 0xff; }
    if (alen === 16 && r() % 4 === 0) { b.fill(0, so, so + 10); b[so + 10] = 0xff; b[so + 11] = 0xff; }
    const proto = [6, 17, 1, 58, 132, 47, 50][r() % 7]!;
    const icmp = proto === 1 || proto === 58;
    const sport = icmp ? [0, 8, 3, 11, 128, 129, 135, 1][r() % 8]! : r() % 5 === 0 ? 53 : r() & 0xffff;
    const dport = icmp ? r() % 4 : r() % 5 === 0 ? 53 : r() & 0xffff;
    const o = opts[i % opts.length]!;
    const want = communityId(proto, b.slice(so, so + alen), b.slice(dOff, dOff + alen), sport, dport, o);
    assert.equal(communityIdAt(proto, b, so, dOff, alen, sport, dport, o), want);
    const end = writeCommunityId(proto, b, so, dOff, alen, sport, dport, o, out, 7);
    assert.equal(Buffer.from(out.subarray(7, end)).toString('latin1'), want, `tuple ${i}`);
    const ip = writeIpText(out, 11, b, so, alen);
    assert.equal(Buffer.from(out.subarray(11, ip)).toString('latin1'), ipString(b, so, alen));
    n++;
  }
  // Spot values: the spec's own example (TCP 128.232.110.120:34855 → 66.35.250.204:80, seed 0).
  const s = new Uint8Array([128, 232, 110, 120, 66, 35, 250, 204]);
  const e = writeCommunityId(6, s, 0, 4, 4, 34855, 80, {}, out, 0);
  assert.equal(Buffer.from(out.subarray(0, e)).toString('latin1'), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  const ipEnd = writeIpText(out, 0, new Uint8Array([0, 9, 10, 100, 255]), 1, 4);
  assert.equal(Buffer.from(out.subarray(0, ipEnd)).toString('latin1'), '9.10.100.255');
  assert.equal(n, 4000);
});
