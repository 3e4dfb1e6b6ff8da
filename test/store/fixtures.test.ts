// fixtures/store/{capture.pcap,eve.json} are exactly what fixtures/make/alerts.ts generates, and the
// generator's independent Community ID agrees with src/flow/community-id.ts on every scenario flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../_util.js';
import { communityIdV1, storeScenario } from '../../fixtures/make/alerts.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { communityId } from '../../src/flow/community-id.js';
import { parseIp } from '../../src/decode/addr.js';

test('committed store fixtures match the generator', () => {
  const sc = storeScenario();
  assert.deepEqual(readFileSync(join(FIXTURES, 'store/capture.pcap')), Buffer.from(classicPcap(sc.frames)));
  assert.equal(readFileSync(join(FIXTURES, 'store/eve.json'), 'utf8'), sc.eve);
});

test('Community ID: generator and src/flow agree (TCP/UDP, IPv4/IPv6, both directions)', () => {
  for (const f of storeScenario().flows) {
    const mine = communityIdV1(f.proto, f.src, f.sport, f.dst, f.dport);
    assert.equal(communityId(f.proto, parseIp(f.src)!, parseIp(f.dst)!, f.sport, f.dport), mine, f.name);
    assert.equal(communityId(f.proto, parseIp(f.dst)!, parseIp(f.src)!, f.dport, f.sport), mine, f.name);
  }
  // the spec's own example (community-id-spec README): TCP 128.232.110.120:34855 → 66.35.250.204:80
  assert.equal(communityIdV1(6, '128.232.110.120', 34855, '66.35.250.204', 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
});
