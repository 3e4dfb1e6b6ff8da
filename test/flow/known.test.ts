// Flow records of fixtures/flows/known.pcap (made by fixtures/make/flows.ts: handshake + FIN close, RST, TCP tuple
// reuse, UDP timeout, IPv4 fragments in and out of order, ICMP echo, IPv6 TCP, IPv6 fragments, ICMPv6 echo, VLAN,
// ARP, midstream SYN/ACK) against the golden known.flows.jsonl, concrete fields, counters adding up to `info`
// totals, and byte-identical CLI output for --workers 1, 2, 4, 8. UPDATE_GOLDEN=1 rewrites the golden file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../_util.js';
import { runFlows } from '../../src/engine/run.js';
import { flowJson } from '../../src/flow/eve.js';
import { captureInfo } from '../../src/pcap/info.js';
import type { FlowRecord } from '../../src/flow/record.js';

const PCAP = join(FIXTURES, 'flows/known.pcap');
const GOLDEN = join(FIXTURES, 'flows/known.flows.jsonl');

async function flows(workers = 0, table = {}): Promise<{ recs: FlowRecord[]; text: string; r: Awaited<ReturnType<typeof runFlows>> }> {
  const recs: FlowRecord[] = [];
  const r = await runFlows([PCAP], { workers, table, onFlow: (f) => recs.push(f) });
  return { recs, text: recs.map((f) => flowJson(f) + '\n').join(''), r };
}

test('known flows match the golden JSON and the expected lifecycle', async () => {
  const { recs, text, r } = await flows();
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
  assert.equal(text, readFileSync(GOLDEN, 'utf8'));
  assert.equal(recs.length, 13);
  const find = (src: string, sport: number, nth = 0) => recs.filter((f) => f.srcIp === src && f.srcPort === sport)[nth]!;
  const fin = find('10.0.0.1', 40000);
  assert.deepEqual([fin.state, fin.reason, fin.pktsToServer, fin.pktsToClient, fin.tcpFlagsTs, fin.tcpFlagsTc], ['closed', 'timeout', 6, 4, 0x1b, 0x1b]);
  assert.equal(fin.communityId, '1:3k1SoWXs/FltHw2aBCgUTgbDQF4=');
  const rst = find('10.0.0.3', 40001);
  assert.deepEqual([rst.state, rst.pktsToServer, rst.pktsToClient, rst.tcpFlagsTc], ['closed', 2, 2, 0x16]);
  const reuse1 = find('10.0.0.4', 40002, 0), reuse2 = find('10.0.0.4', 40002, 1);
  assert.deepEqual([reuse1.reason, reuse2.reason, reuse1.communityId], ['tcp_reuse', 'timeout', reuse2.communityId]);
  assert.notEqual(reuse1.flowId, reuse2.flowId);
  const udp1 = find('10.0.0.5', 5353, 0), udp2 = find('10.0.0.5', 5353, 1);
  assert.deepEqual([udp1.state, udp1.reason, udp2.state, udp2.reason], ['established', 'timeout', 'new', 'shutdown']);
  const frag = find('10.0.0.6', 7000);
  assert.deepEqual([frag.pktsToServer, frag.pktsToClient, frag.bytesToServer], [6, 1, 6204]);
  const echo = find('10.0.0.1', 8);
  assert.deepEqual([echo.proto, echo.dstIp, echo.dstPort, echo.pktsToServer, echo.pktsToClient], [1, '10.0.0.8', 0, 2, 2]);
  const v6frag = find('2001:db8::1', 6000);
  assert.deepEqual([v6frag.pktsToServer, v6frag.bytesToServer], [2, 1932]);
  const echo6 = find('2001:db8::1', 128);
  assert.deepEqual([echo6.proto, echo6.dstPort, echo6.pktsToClient], [58, 129, 1]);
  assert.deepEqual(find('10.1.0.1', 1234).vlan, [100]);
  const mid = find('10.0.0.10', 41000);
  assert.deepEqual([mid.dstIp, mid.dstPort, mid.tcpFlagsTc, mid.state], ['10.0.0.2', 8080, 0x12, 'established']);
  // Fragments: 8 seen, the out-of-order datagram's 2 early fragments held and released, none orphaned.
  assert.deepEqual([r.counters.defrag.fragments, r.counters.defrag.held, r.counters.defrag.released, r.counters.defrag.orphans], [8, 2, 2, 0]);
  // Counters add up to the capture totals of `info`.
  const info = await captureInfo(PCAP);
  let pk = 0, by = 0;
  for (const f of recs) { pk += f.pktsToServer + f.pktsToClient; by += f.bytesToServer + f.bytesToClient; }
  assert.equal(pk + r.counters.nonIp, info.packets);
  assert.equal(by + r.counters.nonIpBytes, info.capturedBytes);
  assert.equal(r.counters.nonIp, 1);
  assert.deepEqual([r.counters.table.timeouts, r.counters.table.tcpReuse, r.counters.table.shutdown, r.counters.table.forced], [11, 1, 1, 0]);
});

test('flows CLI output is byte-identical for --workers 1, 2, 4, 8 and equals the golden', () => {
  const golden = readFileSync(GOLDEN);
  for (const w of ['1', '2', '4', '8']) {
    const r = runCli(['flows', '--workers', w, PCAP]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(golden), `--workers ${w}`);
    assert.match(r.stderr.toString(), /13 flows, 62 packets \(61 in flows, 1 not IP\)/);
  }
});

test('configurable timeouts change the lifecycle: a 1 s UDP new timeout, a 0.5 s TCP closed timeout', async () => {
  const { recs } = await flows(0, { timeouts: { udp: { new: 1, established: 1 }, tcp: { closed: 0.5 } } });
  const fin = recs.find((f) => f.srcPort === 40000)!;
  // Closed at +0.009 s, ended by the next packet more than 0.5 s later (the RST flow's SYN at +1 s).
  assert.equal(fin.reason, 'timeout');
  assert.ok(fin.endedAt >= 1700000001 && fin.endedAt < 1700000001.01, String(fin.endedAt));
  // The two tuple-reuse halves are still one tcp_reuse + one timeout: the reuse came 2 s later, after 0.5 s.
  const ssh = recs.filter((f) => f.srcPort === 40002);
  assert.deepEqual(ssh.map((f) => f.reason), ['timeout', 'timeout']);
});

test('max-flows evicts the oldest idle flow with reason forced', async () => {
  const { recs, r } = await flows(0, { maxFlows: 2 });
  const forced = recs.filter((f) => f.reason === 'forced').length;
  assert.equal(r.counters.table.forced, forced);
  assert.ok(forced >= 8, String(forced));
  assert.ok(r.counters.table.maxActive <= 2);
  let pk = 0;
  for (const f of recs) pk += f.pktsToServer + f.pktsToClient;
  assert.equal(pk, 61);
});
