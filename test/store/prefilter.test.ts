// Prefilter: the raw-bytes tuple hash equals the decoded-view hash and the alert's hash, in both directions,
// for IPv4, IPv6, VLAN and UDP packets of our store scenario (fixtures/make/alerts.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeScenario } from '../../fixtures/make/alerts.js';
import { decodePacket, PacketView } from '../../src/decode/index.js';
import { alertTupleHash32, packetTupleHash, rawTupleHash, TuplePrefilter } from '../../src/store/prefilter.js';
import { toAlert } from '../../src/eve/alert.js';

test('raw, view and alert tuple hashes agree; the prefilter passes exactly the alerted tuples', () => {
  const sc = storeScenario();
  const v = new PacketView();
  const alerts = sc.alerts.map((a) => toAlert(a)!);
  const pf = new TuplePrefilter(alerts);
  const byFlow = new Map<string, Set<number>>();
  for (const f of sc.flows) {
    const hs = new Set<number>();
    for (const fr of f.frames) {
      decodePacket(v, fr.data, 0, fr.data.length, 1);
      const h = packetTupleHash(v);
      assert.equal(rawTupleHash(fr.data, 0, fr.data.length, 1), h, f.name);
      hs.add(h);
    }
    assert.equal(hs.size, 1, `${f.name}: both directions hash alike`);
    byFlow.set(f.name, hs);
    const passes = pf.has([...hs][0]!);
    // vlan200 shares its tuple with the alerted vlan100 flow: it passes (the flow table tells them apart)
    assert.equal(passes, f.alertAt >= 0 || f.name === 'vlan200', f.name);
  }
  for (const a of alerts) assert.ok(pf.has(alertTupleHash32(a)));
  assert.equal(rawTupleHash(Uint8Array.of(1, 2, 3), 0, 3, 1), -1);
});
