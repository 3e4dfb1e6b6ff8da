// Per-flow indicator matching (src/ioc/flows.ts + flow-sink.ts) on a capture built here from fixtures/make's
// packet builders: IPv4 and IPv6 TCP, UDP and ICMP flows with a listed server, a listed (public) client, a flow
// with both ends listed and one whose direction flips with --home-net. Checks exact records, identical output
// for 1 and 3 workers, and that per-flow packet totals per indicator equal the per-packet matcher's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { byTime, echoRest, ether, icmp, ipv4, TcpConversation, udp, type Frame } from '../../fixtures/make/packet.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { matchFlows } from '../../src/ioc/flows.js';
import { IndicatorList, IndicatorSet } from '../../src/ioc/indicators.js';
import { IocMatcher, type IocRecord } from '../../src/ioc/matcher.js';
import { matchInput } from '../../src/ioc/input.js';
import { runFlows } from '../../src/engine/run.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { runCli, tmpDir } from '../_util.js';

const T0 = 1700000000;
const LIST = ['# flow test feed', '203.0.113.5,c2-server', '198.51.100.7,scanner', '2001:db8:bad::/48,bad6'].join('\n');

function frameAt(t: number, data: Uint8Array): Frame {
  const sec = Math.floor(t);
  return { sec, nsec: Math.round((t - sec) * 1e6) * 1000, data };
}

const bytesOf = (fs: Frame[]): number => fs.reduce((a, f) => a + f.data.length, 0);

/** The conversations, by name, and the whole time-ordered capture. */
function build(): { conv: Record<string, Frame[]>; frames: Frame[] } {
  const conv: Record<string, Frame[]> = {};
  // A: private client → listed server, with data both ways (11 packets).
  const a = new TcpConversation({ ip: '192.168.1.10', port: 40000 }, { ip: '203.0.113.5', port: 443 }, { t0: T0, step: 0.01 });
  a.handshake().send(true, 'hello').send(false, 'x'.repeat(2000)).close();
  conv.a = a.frames;
  // A2: a second connection of the same pair (6 packets).
  const a2 = new TcpConversation({ ip: '192.168.1.10', port: 40001 }, { ip: '203.0.113.5', port: 443 }, { t0: T0 + 5, step: 0.01 });
  a2.handshake().close();
  conv.a2 = a2.frames;
  // U: UDP query and reply to the listed server (2 packets).
  const q = new Uint8Array(30).fill(1), r = new Uint8Array(90).fill(2);
  conv.u = [
    frameAt(T0 + 6, ether(0x0800, ipv4({ src: '192.168.1.10', dst: '203.0.113.5', proto: 17, id: 1 }, udp('192.168.1.10', '203.0.113.5', 53000, 53, q)))),
    frameAt(T0 + 6.1, ether(0x0800, ipv4({ src: '203.0.113.5', dst: '192.168.1.10', proto: 17, id: 2 }, udp('203.0.113.5', '192.168.1.10', 53, 53000, r)))),
  ];
  // B: listed public client → private server (8 packets); I: ICMP echo from it and the reply (2 packets).
  const b = new TcpConversation({ ip: '198.51.100.7', port: 5555 }, { ip: '192.168.1.20', port: 22 }, { t0: T0 + 1, step: 0.01 });
  b.handshake().send(true, 'SSH-2.0-x\r\n').close();
  conv.b = b.frames;
  conv.i = [
    frameAt(T0 + 7, ether(0x0800, ipv4({ src: '198.51.100.7', dst: '192.168.1.20', proto: 1, id: 3 }, icmp(8, 0, echoRest(9, 1), new Uint8Array(32))))),
    frameAt(T0 + 7.001, ether(0x0800, ipv4({ src: '192.168.1.20', dst: '198.51.100.7', proto: 1, id: 4 }, icmp(0, 0, echoRest(9, 1), new Uint8Array(32))))),
  ];
  // V6: unique-local client → server inside a listed /48 (6 packets).
  const v6 = new TcpConversation({ ip: 'fd00::5', port: 50000 }, { ip: '2001:db8:bad::1', port: 443 }, { t0: T0 + 2, step: 0.02 });
  v6.handshake().send(true, 'hi').reset(false);
  conv.v6 = v6.frames;
  // H: public client (home only with --home-net 203.0.113.192/26) → listed server (6 packets).
  const h = new TcpConversation({ ip: '203.0.113.200', port: 6000 }, { ip: '198.51.100.7', port: 8443 }, { t0: T0 + 3, step: 0.01 });
  h.handshake().close();
  conv.h = h.frames;
  // X: both ends listed, public to public (3 packets).
  const x = new TcpConversation({ ip: '198.51.100.7', port: 7000 }, { ip: '203.0.113.5', port: 80 }, { t0: T0 + 4, step: 0.01 });
  x.handshake();
  conv.x = x.frames;
  // N: unlisted.
  conv.n = [frameAt(T0 + 8, ether(0x0800, ipv4({ src: '192.168.1.10', dst: '8.8.8.8', proto: 17, id: 5 }, udp('192.168.1.10', '8.8.8.8', 5353, 53, q))))];
  return { conv, frames: byTime(Object.values(conv).flat()) };
}

function setup(): { dir: string; cap: string; list: string; conv: Record<string, Frame[]> } {
  const dir = tmpDir('ioc-flows-');
  const { conv, frames } = build();
  const cap = join(dir, 'flows.pcap');
  writeFileSync(cap, classicPcap(frames));
  const list = join(dir, 'feed.txt');
  writeFileSync(list, LIST);
  return { dir, cap, list, conv };
}

const iso = (t: number): string => new Date(Math.round(t * 1000)).toISOString().replace('Z', '') + '000Z';

type Brief = Pick<IocRecord, 'indicator' | 'label' | 'direction' | 'local' | 'remote' | 'matched' | 'packets' | 'bytes' | 'localPorts' | 'remotePorts' | 'protocols' | 'firstSeen' | 'lastSeen'>;
const brief = (r: IocRecord): Brief => ({
  indicator: r.indicator, label: r.label, direction: r.direction, local: r.local, remote: r.remote, matched: r.matched, packets: r.packets,
  bytes: r.bytes, localPorts: r.localPorts, remotePorts: r.remotePorts, protocols: r.protocols, firstSeen: r.firstSeen, lastSeen: r.lastSeen,
});

test('per-flow records: directions, packets, bytes, ports and times from the flows; identical for 1 and 3 workers', async () => {
  const { cap, list, conv } = setup();
  const c = conv;
  const last = (fs: Frame[]): number => fs[fs.length - 1]!.sec + fs[fs.length - 1]!.nsec / 1e9;
  const first = (fs: Frame[]): number => fs[0]!.sec + fs[0]!.nsec / 1e9;
  const want = (homeNet: boolean): Brief[] => {
    const h: Brief = homeNet
      ? { indicator: '198.51.100.7', label: 'scanner', direction: 'outbound', local: '203.0.113.200', remote: '198.51.100.7', matched: 'remote', packets: 6, bytes: bytesOf(c.h!), localPorts: [6000], remotePorts: [8443], protocols: ['tcp'], firstSeen: iso(first(c.h!)), lastSeen: iso(last(c.h!)) }
      : { indicator: '198.51.100.7', label: 'scanner', direction: 'inbound', local: '198.51.100.7', remote: '203.0.113.200', matched: 'local', packets: 6, bytes: bytesOf(c.h!), localPorts: [8443], remotePorts: [6000], protocols: ['tcp'], firstSeen: iso(first(c.h!)), lastSeen: iso(last(c.h!)) };
    return [
      { indicator: '203.0.113.5', label: 'c2-server', direction: 'outbound', local: '192.168.1.10', remote: '203.0.113.5', matched: 'remote', packets: 19, bytes: bytesOf([...c.a!, ...c.a2!, ...c.u!]), localPorts: [40000, 40001, 53000], remotePorts: [53, 443], protocols: ['tcp', 'udp'], firstSeen: iso(T0), lastSeen: iso(T0 + 6.1) },
      { indicator: '198.51.100.7', label: 'scanner', direction: 'inbound', local: '192.168.1.20', remote: '198.51.100.7', matched: 'remote', packets: 10, bytes: bytesOf([...c.b!, ...c.i!]), localPorts: [22], remotePorts: [5555], protocols: ['tcp', 'icmp'], firstSeen: iso(T0 + 1), lastSeen: iso(T0 + 7.001) },
      h,
      { indicator: '2001:db8:bad::/48', label: 'bad6', direction: 'outbound', local: 'fd00::5', remote: '2001:db8:bad::1', matched: 'remote', packets: 6, bytes: bytesOf(c.v6!), localPorts: [50000], remotePorts: [443], protocols: ['tcp'], firstSeen: iso(T0 + 2), lastSeen: iso(last(c.v6!)) },
      { indicator: '198.51.100.7', label: 'scanner', direction: 'inbound', local: '203.0.113.5', remote: '198.51.100.7', matched: 'remote', packets: 3, bytes: bytesOf(c.x!), localPorts: [80], remotePorts: [7000], protocols: ['tcp'], firstSeen: iso(T0 + 4), lastSeen: iso(last(c.x!)) },
      { indicator: '203.0.113.5', label: 'c2-server', direction: 'inbound', local: '203.0.113.5', remote: '198.51.100.7', matched: 'local', packets: 3, bytes: bytesOf(c.x!), localPorts: [80], remotePorts: [7000], protocols: ['tcp'], firstSeen: iso(T0 + 4), lastSeen: iso(last(c.x!)) },
    ];
  };
  const specs = [{ path: list }];
  const one = await matchFlows([cap], specs, { workers: 1 });
  assert.deepEqual(one.records.map(brief), want(false));
  assert.ok(one.records.every((r) => r.list === 'feed.txt' && r.payloadBytes === null && !r.portsTruncated));
  assert.equal(one.stats.flows, 9);
  assert.equal(one.stats.matchedFlows, 8);
  assert.equal(one.stats.packets, 45);
  const three = await matchFlows([cap], specs, { workers: 3 });
  assert.deepEqual(three.records, one.records);
  assert.deepEqual(three.timelines, one.timelines);
  assert.deepEqual(three.stats, one.stats);
  assert.equal(three.run.workers, 3);

  // --home-net puts 203.0.113.200 at home: its flow to the listed server turns outbound.
  const home = await matchFlows([cap], specs, { workers: 1, homeNet: '203.0.113.192/26' });
  const home3 = await matchFlows([cap], specs, { workers: 3, homeNet: ['203.0.113.192/26'] });
  assert.deepEqual(home.records.map(brief), want(true));
  assert.deepEqual(home3.records, home.records);

  // Packets and bytes are the flows' own counters.
  const flows: FlowRecord[] = [];
  await runFlows([cap], { onFlow: (f) => flows.push(f) });
  const tot = (pred: (f: FlowRecord) => boolean): [number, number] => flows.filter(pred)
    .reduce<[number, number]>((s, f) => [s[0] + f.pktsToServer + f.pktsToClient, s[1] + f.bytesToServer + f.bytesToClient], [0, 0]);
  const r0 = one.records[0]!;
  assert.deepEqual([r0.packets, r0.bytes], tot((f) => f.srcIp === '192.168.1.10' && f.dstIp === '203.0.113.5'));
  const r3 = one.records[3]!;
  assert.deepEqual([r3.packets, r3.bytes], tot((f) => f.dstIp === '2001:db8:bad::1'));

  // Timelines: each flow's packets at its start second.
  const tl = one.timelines.find((t) => t.indicator === '203.0.113.5')!;
  assert.equal(tl.packets, 22);
  assert.deepEqual(tl.points, [[T0 * 1e6, 11], [(T0 + 4) * 1e6, 3], [(T0 + 5) * 1e6, 6], [(T0 + 6) * 1e6, 2]]);
});

test('per-flow packet and byte totals per indicator equal the per-packet matcher totals', async () => {
  const { cap, list } = setup();
  const set = new IndicatorSet([IndicatorList.parse(LIST, { name: 'feed.txt' })]);
  const m = new IocMatcher(set);
  await matchInput(cap, m);
  const totals = (rs: IocRecord[]): Record<string, [number, number]> => {
    const o: Record<string, [number, number]> = {};
    for (const r of rs) { const t = (o[r.indicator] ??= [0, 0]); t[0] += r.packets; t[1] += r.bytes ?? 0; }
    return o;
  };
  const perPacket = totals(m.results());
  assert.deepEqual(Object.fromEntries(Object.entries(perPacket).map(([k, v]) => [k, v[0]])), { '203.0.113.5': 22, '198.51.100.7': 19, '2001:db8:bad::/48': 6 });
  // The same set in memory (in-thread) and the list file in workers give the same totals.
  const inMem = await matchFlows([cap], set, { workers: 1 });
  const fromFile = await matchFlows([cap], [{ path: list }], { workers: 2 });
  assert.deepEqual(totals(inMem.records), perPacket);
  assert.deepEqual(fromFile.records, inMem.records);
  await assert.rejects(matchFlows([cap], set, { workers: 2 }), /in-memory IndicatorSet/);
});

test('flowcarve ioc --per flow (default) is identical across --workers; --per packet keeps per-packet records', () => {
  const { cap, list } = setup();
  const w1 = runCli(['ioc', '--list', list, cap]);
  assert.equal(w1.status, 0, w1.stderr.toString());
  const w3 = runCli(['ioc', '--list', list, '--workers', '3', cap]);
  assert.equal(w3.status, 0, w3.stderr.toString());
  assert.equal(w3.stdout.toString(), w1.stdout.toString());
  const lines = w1.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 6);
  assert.deepEqual(lines.map((l) => [l.indicator, l.direction, l.packets]), [
    ['203.0.113.5', 'outbound', 19], ['198.51.100.7', 'inbound', 10], ['198.51.100.7', 'inbound', 6],
    ['2001:db8:bad::/48', 'outbound', 6], ['198.51.100.7', 'inbound', 3], ['203.0.113.5', 'inbound', 3],
  ]);
  const home = runCli(['ioc', '--list', list, '--home-net', '203.0.113.192/26', '-w', '2', '-f', 'csv', cap]);
  assert.equal(home.status, 0, home.stderr.toString());
  assert.match(home.stdout.toString(), /198\.51\.100\.7,.*outbound,203\.0\.113\.200,198\.51\.100\.7/);
  const pp = runCli(['ioc', '--list', list, '--per', 'packet', cap]);
  assert.equal(pp.status, 0, pp.stderr.toString());
  const ppl = pp.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  // Per packet, each TCP conversation with a listed end gives an outbound and an inbound record.
  assert.ok(ppl.length > lines.length);
  const sum = (ls: Array<Record<string, unknown>>, ind: string): number => ls.filter((l) => l.indicator === ind).reduce((a, l) => a + (l.packets as number), 0);
  for (const ind of ['203.0.113.5', '198.51.100.7', '2001:db8:bad::/48']) assert.equal(sum(ppl, ind), sum(lines, ind), ind);
  // A capture (per flow) and tcpdump text (per line) in one run: same keys are summed, text-only keys added.
  const { dir } = setup();
  const txt = join(dir, 'more.txt');
  writeFileSync(txt, [
    `${T0 + 10}.000000 IP 192.168.1.10.40002 > 203.0.113.5.443: Flags [S], seq 1, win 64240, length 0`,
    `${T0 + 10}.500000 IP 203.0.113.5.443 > 192.168.1.10.40002: Flags [S.], seq 9, ack 2, win 64240, length 0`,
  ].join('\n') + '\n');
  const mix = runCli(['ioc', '--list', list, '-w', '2', cap, txt]);
  assert.equal(mix.status, 0, mix.stderr.toString());
  const ml = mix.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(ml.length, 7);
  assert.deepEqual([ml[0]!.indicator, ml[0]!.direction, ml[0]!.packets, ml[0]!.local_ports, ml[0]!.last_seen],
    ['203.0.113.5', 'outbound', 20, [40000, 40001, 40002, 53000], '2023-11-14T22:13:30.000000Z']);
  assert.deepEqual(ml.filter((l) => l.packets === 1).map((l) => [l.indicator, l.direction, l.local, l.remote, l.bytes]),
    [['203.0.113.5', 'inbound', '192.168.1.10', '203.0.113.5', null]]);
  const bad = runCli(['ioc', '--list', list, '--per', 'conversation', cap]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.toString(), /unknown --per 'conversation'/);
});
