// `alerted` in flow records: `flowcarve flows --alerts eve.json` on the store scenario (fixtures/make/alerts.ts)
// marks exactly the flows matchAlerts() gives the scenario's alerts, with the same lines for 1 and 2 workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tmpDir } from '../_util.js';
import { storeScenario } from '../../fixtures/make/alerts.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { runFlows } from '../../src/engine/run.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { toAlert } from '../../src/eve/alert.js';
import { matchAlerts } from '../../src/eve/match.js';

test('flows --alerts: alerted true on exactly the matched flows, false elsewhere, same for any worker count', async () => {
  const sc = storeScenario();
  const dir = tmpDir('flowcarve-alerted-');
  const cap = join(dir, 'c.pcap'), eve = join(dir, 'eve.json');
  writeFileSync(cap, classicPcap(sc.frames));
  writeFileSync(eve, sc.alerts.map((a) => JSON.stringify(a)).join('\n') + '\n');
  const flows: FlowRecord[] = [];
  await runFlows([cap], { workers: 0, onFlow: (f) => flows.push(f) });
  const want = new Set(matchAlerts(sc.alerts.map((a) => toAlert(a)!), flows).matches.map((m) => m.flowId.toString()));
  assert.ok(want.size >= 3, 'scenario has several alerted flows');
  const outs: string[] = [];
  for (const w of ['1', '2']) {
    const r = runCli(['flows', '--workers', w, '--alerts', eve, cap]);
    assert.equal(r.status, 0, r.stderr.toString());
    const stdout = r.stdout.toString('latin1');
    outs.push(stdout);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { flow_id: number; alerted: boolean });
    assert.equal(lines.length, flows.length);
    const got = stdout.trim().split('\n').filter((l) => l.includes('"alerted":true')).map((l) => /"flow_id":(\d+)/.exec(l)![1]!);
    assert.deepEqual(new Set(got), want);
    assert.equal(lines.filter((l) => l.alerted === false).length, flows.length - want.size);
  }
  assert.equal(outs[0], outs[1]);
  // without --alerts the field is absent
  const plain = runCli(['flows', cap]);
  assert.equal(plain.stdout.toString('latin1').split('\n').length, flows.length + 1);
  assert.ok(!plain.stdout.toString('latin1').includes('"alerted"'));
});
