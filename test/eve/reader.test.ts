// EVE input: JSON Lines (plain and gzip, mixed events, malformed lines with their numbers), JSON documents
// (array, API results, one pretty object) through stream-json, exact 64-bit flow ids, alert normalisation.
// Fixtures: fixtures/make/alerts.ts storeScenario() (our generator) and inline documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tmpDir } from '../_util.js';
import { loadAlerts, readEve, type EveProblem } from '../../src/eve/reader.js';
import { alertTupleKey, parseEveTime, toAlert, tupleKey } from '../../src/eve/alert.js';
import { storeScenario } from '../../fixtures/make/alerts.js';

const dir = tmpDir('flowcarve-eve-');
const sc = storeScenario();

test('JSON Lines: alerts only, torn line reported with its number, other events skipped', async () => {
  const p = join(dir, 'eve.json');
  writeFileSync(p, sc.eve);
  const { alerts, problems, stats } = await loadAlerts([p]);
  assert.equal(alerts.length, 8);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 4);
  assert.match(problems[0]!.message, /truncated/);
  assert.equal(stats[0]!.format, 'jsonl');
  assert.equal(stats[0]!.lines, sc.eve.split('\n').length - 1);
  // 64-bit flow ids stay exact
  for (const a of alerts) assert.match(a.flowId!, /^123456789012\d{7}$/);
  assert.ok(alerts.some((a) => a.flowId !== String(Number(a.flowId))), 'some flow id is beyond 2^53');
  const gz = join(dir, 'eve.json.gz');
  writeFileSync(gz, gzipSync(Buffer.from(sc.eve)));
  const g = await loadAlerts([gz]);
  assert.deepEqual(g.alerts.map((a) => ({ ...a, source: '' })), alerts.map((a) => ({ ...a, source: '' })));
});

test('JSON Lines: a JSON.parse failure is reported, every other line kept; CRLF and blank lines accepted', async () => {
  const lines = [
    '{"timestamp":"2023-11-14T22:13:20.000001+0000","event_type":"alert","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":2,"proto":"TCP","flow_id":18446744073709551615}',
    '',
    '{"timestamp":"2023-11-14T22:13:20.5+0000","event_type":"alert","src_ip":"10.0.0.1",,}',
    '{"timestamp":"2023-11-14T22:13:21+00:00","event_type":"alert","src_ip":"2001:0db8:0000:0000:0000:0000:0000:0001","dest_ip":"2001:db8::2","proto":"IPv6-ICMP","vlan":[7,9]}',
  ];
  const p = join(dir, 'crlf.json');
  writeFileSync(p, lines.join('\r\n'));
  const problems: EveProblem[] = [];
  const evs = [];
  for await (const e of readEve(p, { onProblem: (x) => problems.push(x) })) evs.push(e);
  assert.equal(evs.length, 2);
  assert.equal(evs[0]!.rawFlowId, '18446744073709551615');
  assert.deepEqual(problems.map((x) => x.line), [3]);
  const a = toAlert(evs[1]!.obj)!;
  assert.equal(a.srcIp, '2001:db8::1');
  assert.equal(a.proto, 58);
  assert.deepEqual(a.vlan, [7, 9]);
  assert.equal(a.tsUs, 1700000001 * 1e6);
});

test('JSON Lines: an over-long line is reported and skipped without buffering it', async () => {
  const big = '{"event_type":"alert","x":"' + 'a'.repeat(5000) + '"}';
  const ok = '{"timestamp":"2023-11-14T22:13:20.000001+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2"}';
  const p = join(dir, 'long.json');
  writeFileSync(p, [ok, big, ok].join('\n') + '\n');
  const problems: EveProblem[] = [];
  const evs = [];
  for await (const e of readEve(p, { maxLineChars: 1000, onProblem: (x) => problems.push(x) })) evs.push(e);
  assert.equal(evs.length, 2);
  assert.deepEqual(evs.map((e) => e.line), [1, 3]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 2);
});

test('documents: pretty array, API results, one pretty object; flow ids exact via stream-json', async () => {
  const objs = sc.alerts.slice(0, 3);
  const arr = join(dir, 'arr.json');
  // re-insert the exact flow id text (JSON.stringify of a parsed object would have rounded it)
  const exact = (o: Record<string, unknown>, id: string) => JSON.stringify(o, null, 2).replace(/"flow_id": [0-9.e+]+/, `"flow_id": ${id}`);
  writeFileSync(arr, '[\n' + objs.map((o, k) => exact(o, `1234567890123456${790 + k}`)).join(',\n') + '\n]\n');
  const ra = await loadAlerts([arr], { alertsOnly: false });
  assert.equal(ra.alerts.length, 3);
  assert.deepEqual(ra.alerts.map((a) => a.flowId), ['1234567890123456790', '1234567890123456791', '1234567890123456792']);
  assert.equal(ra.stats[0]!.format, 'document');
  const api = join(dir, 'api.json');
  writeFileSync(api, `{\n  "count": 3,\n  "results": [\n${objs.map((o) => JSON.stringify(o, null, 2)).join(',\n')}\n  ],\n  "next": null\n}\n`);
  const rr = await loadAlerts([api], { alertsOnly: false });
  assert.deepEqual(rr.alerts.map((a) => a.signatureId), objs.map((o) => (o.alert as { signature_id: number }).signature_id));
  const one = join(dir, 'one.json');
  writeFileSync(one, exact(objs[0]!, '9223372036854775807'));
  const r1 = await loadAlerts([one], { alertsOnly: false });
  assert.equal(r1.alerts.length, 1);
  assert.equal(r1.alerts[0]!.flowId, '9223372036854775807');
  assert.equal(r1.alerts[0]!.tsUs, ra.alerts[0]!.tsUs);
  // One compact API response on a single line is JSON Lines with results expanded.
  const apiLine = join(dir, 'api1.json');
  writeFileSync(apiLine, JSON.stringify({ results: objs }) + '\n');
  assert.equal((await loadAlerts([apiLine], { alertsOnly: false })).alerts.length, 3);
  // A broken document is reported, elements before the fault kept.
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '[\n' + JSON.stringify(objs[0]) + ',\n' + JSON.stringify(objs[1]).slice(0, 40));
  const rb = await loadAlerts([broken], { alertsOnly: false });
  assert.equal(rb.alerts.length, 1);
  assert.equal(rb.problems.length, 1);
});

test('alert normalisation: µs time, tuple key direction-free, flow.start, pcap_cnt', () => {
  assert.equal(parseEveTime('2023-11-14T22:13:20.024000+0000'), 1700000000024000);
  assert.equal(parseEveTime('2023-11-14T23:13:20.024000+0100'), 1700000000024000);
  assert.equal(parseEveTime('2023-11-14T22:13:20Z'), 1700000000000000);
  assert.ok(Number.isNaN(parseEveTime('yesterday')));
  const a = toAlert(sc.alerts[0]!)!;
  assert.equal(a.pcapCnt !== undefined || a.flowStartUs !== undefined, true);
  assert.equal(tupleKey(6, '10.0.0.2', 80, '10.0.0.1', 1234), tupleKey(6, '10.0.0.1', 1234, '10.0.0.2', 80));
  assert.equal(tupleKey(1, '10.0.0.2', 8, '10.0.0.1', 0), '1|10.0.0.1|0|10.0.0.2|0');
  assert.equal(alertTupleKey(a), tupleKey(a.proto, a.destIp, a.destPort, a.srcIp, a.srcPort));
  assert.equal(toAlert({ event_type: 'flow', timestamp: '2023-11-14T22:13:20Z', src_ip: '1.1.1.1', dest_ip: '2.2.2.2' }), null);
});
