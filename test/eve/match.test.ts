// Alert → flow over finished flow records from runFlows on the store scenario (fixtures/make/alerts.ts):
// Community ID or tuple, time inside the lifetime (two flows of one UDP tuple), VLAN, Suricata id alias kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../_util.js';
import { storeScenario } from '../../fixtures/make/alerts.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { runFlows } from '../../src/engine/run.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { toAlert } from '../../src/eve/alert.js';
import { matchAlerts } from '../../src/eve/match.js';

test('matchAlerts: every scenario alert finds the flow instance that holds its packet', async () => {
  const sc = storeScenario();
  const cap = join(tmpDir('flowcarve-match-'), 'c.pcap');
  writeFileSync(cap, classicPcap(sc.frames));
  const flows: FlowRecord[] = [];
  await runFlows([cap], { workers: 0, onFlow: (f) => flows.push(f) });
  assert.equal(flows.length, sc.flows.length);
  const alerts = sc.alerts.map((a) => toAlert(a)!);
  const extra = toAlert({ timestamp: '2023-11-14T23:00:00.000000+0000', event_type: 'alert', src_ip: '10.0.0.9', src_port: 50000, dest_ip: '192.0.2.53', dest_port: 53, proto: 'UDP' })!;
  const r = matchAlerts([...alerts, extra], flows);
  assert.equal(r.matches.length, alerts.length);
  assert.deepEqual(r.unmatched.map((u) => u.reason), ['alert time outside every flow with this tuple']);
  for (const m of r.matches) {
    const truth = sc.flows.find((f) => f.frames[0]!.sec === m.flow.startSec && f.frames[0]!.nsec === m.flow.startNsec && f.sport === m.flow.srcPort)!;
    assert.ok(truth, 'matched a scenario flow');
    const t0 = truth.frames[0]!, t1 = truth.frames.at(-1)!;
    assert.ok(m.alert.tsUs >= t0.sec * 1e6 + t0.nsec / 1000 && m.alert.tsUs <= t1.sec * 1e6 + t1.nsec / 1000);
    if (truth.vlan !== undefined) assert.deepEqual(m.flow.vlan, [truth.vlan]);
    assert.match(m.suricataFlowId!, /^\d{19}$/);
    assert.equal(m.by, m.alert.communityId ? 'community_id' : 'tuple');
  }
  // the two UDP alerts went to two different flows of the same tuple
  const udp = r.matches.filter((m) => m.flow.proto === 17);
  assert.equal(udp.length, 2);
  assert.notEqual(udp[0]!.flowId, udp[1]!.flowId);
});
