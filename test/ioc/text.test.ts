// tcpdump text parsing (-tt, -tttt, time of day, -t; IPv4/IPv6 endpoints with and without ports), direction
// rules, record aggregation and hot reload of a list while matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { IndicatorList, IndicatorSet } from '../../src/ioc/indicators.js';
import { IocMatcher, formatTime, Timeline, TIMELINE_MAX_BUCKETS } from '../../src/ioc/matcher.js';
import { LineKind, parseTcpdumpLine, TextPacket } from '../../src/ioc/tcpdump-text.js';
import { HomeNet } from '../../src/ioc/direction.js';
import { LineSplitter, matchTextStream } from '../../src/ioc/input.js';
import { ipString } from '../../src/decode/addr.js';
import { parseIp } from '../../src/decode/addr.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tmpDir } from '../_util.js';

function parse(line: string, tz = 0) {
  const b = Buffer.from(line, 'latin1');
  const t = new TextPacket();
  const kind = parseTcpdumpLine(b, 0, b.length, t, tz);
  const len = t.ipVersion === 6 ? 16 : 4;
  return {
    kind, ts: t.tsUs, dateKnown: t.dateKnown, v: t.ipVersion,
    src: t.ipVersion ? ipString(t.addr, 0, len) : '', dst: t.ipVersion ? ipString(t.addr, 16, len) : '',
    sport: t.srcPort, dport: t.dstPort, proto: t.proto, length: t.length,
  };
}

test('-tt lines: TCP, UDP, ICMP, DNS, IPv6 with ports, interface prefixes', () => {
  assert.deepEqual(parse('1700000000.123456 IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [P.], seq 1:75, ack 1, win 502, length 74: HTTP: GET / HTTP/1.1'),
    { kind: LineKind.Ip, ts: 1700000000123456, dateKnown: true, v: 4, src: '192.168.1.23', dst: '203.0.113.80', sport: 49152, dport: 80, proto: 6, length: 74 });
  assert.deepEqual(parse('1700000000.000001 IP 10.0.0.1.5353 > 224.0.0.251.5353: UDP, length 40'),
    { kind: LineKind.Ip, ts: 1700000000000001, dateKnown: true, v: 4, src: '10.0.0.1', dst: '224.0.0.251', sport: 5353, dport: 5353, proto: 17, length: 40 });
  assert.deepEqual(parse('1700000000.5 IP 10.0.0.1 > 8.8.8.8: ICMP echo request, id 1, seq 1, length 64'),
    { kind: LineKind.Ip, ts: 1700000000500000, dateKnown: true, v: 4, src: '10.0.0.1', dst: '8.8.8.8', sport: -1, dport: -1, proto: 1, length: 64 });
  assert.deepEqual(parse('1700000000.000000 IP 10.0.0.1.33000 > 10.0.0.53.53: 4660+ A? example.com. (29)'),
    { kind: LineKind.Ip, ts: 1700000000000000, dateKnown: true, v: 4, src: '10.0.0.1', dst: '10.0.0.53', sport: 33000, dport: 53, proto: -1, length: -1 });
  assert.deepEqual(parse('1700000000.000000 IP6 2001:db8::1.443 > 2001:db8:0:1::2.51000: Flags [S.], seq 1, ack 2, win 1, length 0'),
    { kind: LineKind.Ip, ts: 1700000000000000, dateKnown: true, v: 6, src: '2001:db8::1', dst: '2001:db8:0:1::2', sport: 443, dport: 51000, proto: 6, length: 0 });
  assert.deepEqual(parse('1700000000.000000 IP6 fe80::1 > ff02::1: ICMP6, router advertisement, length 64'),
    { kind: LineKind.Ip, ts: 1700000000000000, dateKnown: true, v: 6, src: 'fe80::1', dst: 'ff02::1', sport: -1, dport: -1, proto: 58, length: 64 });
  assert.deepEqual(parse('1700000000.000000 IP6 2001:db8:: > ::: ICMP6, echo request, id 1, seq 1, length 16'),
    { kind: LineKind.Ip, ts: 1700000000000000, dateKnown: true, v: 6, src: '2001:db8::', dst: '::', sport: -1, dport: -1, proto: 58, length: 16 });
  assert.deepEqual(parse('1700000000.000000 IP6 ::ffff:192.0.2.1.80 > ::ffff:192.0.2.2: Flags [R], seq 0, win 0, length 0').src, '::ffff:192.0.2.1');
  assert.equal(parse('1700000000.000000 IP6 ::ffff:192.0.2.1.80 > ::ffff:192.0.2.2: Flags [R], seq 0, win 0, length 0').sport, 80);
  assert.equal(parse('1700000000.000000 IP6 ::ffff:192.0.2.1.80 > ::ffff:192.0.2.2: Flags [R], seq 0, win 0, length 0').dport, -1);
  const sll = parse('1736381483.613927 ifb0  Out IP 192.168.1.253.56478 > 192.168.1.21.80: Flags [S], seq 2332771219, win 64240, length 0');
  assert.equal(sll.kind, LineKind.Ip);
  assert.equal(sll.src, '192.168.1.253');
  assert.equal(sll.dport, 80);
  // Nested (tunnel) lines: the outer addresses count; the first `length` is the outer one.
  const gre = parse('1700000000.000000 IP 10.0.1.72 > 10.0.2.31: GREv0, length 133: IP 10.2.0.1.39198 > 10.2.0.2.1234: Flags [S], length 0');
  assert.deepEqual([gre.src, gre.dst, gre.length], ['10.0.1.72', '10.0.2.31', 133]);
  // Named ports (text made without -n) keep the address; the port is unknown.
  const named = parse('1700000000.000000 IP 10.0.0.1.https > 10.0.0.2.40000: Flags [.], ack 1, win 1, length 0');
  assert.deepEqual([named.src, named.sport, named.dport], ['10.0.0.1', -1, 40000]);
  // A truncated IP header line keeps its addresses.
  const tr = parse('1700000000.000000 IP truncated-ip - 20 bytes missing! 10.0.0.1.80 > 10.0.0.2.1234: Flags [P.], seq 1:21, ack 1, win 1, length 20');
  assert.deepEqual([tr.kind, tr.src, tr.dst, tr.sport], [LineKind.Ip, '10.0.0.1', '10.0.0.2', 80]);
  // -e link headers instead of the IP token, with and without a VLAN tag.
  const e1 = parse('1700000000.000000 00:00:5e:00:53:01 > 00:00:5e:00:53:02, ethertype IPv4 (0x0800), length 66: 192.168.1.23.49152 > 203.0.113.80.80: Flags [S], seq 1000, win 65535, length 0');
  assert.deepEqual([e1.kind, e1.v, e1.src, e1.dst, e1.sport, e1.dport, e1.proto, e1.length], [LineKind.Ip, 4, '192.168.1.23', '203.0.113.80', 49152, 80, 6, 0]);
  const e2 = parse('1700000001.000000 00:00:5e:00:53:01 > 00:00:5e:00:53:02, ethertype 802.1Q (0x8100), length 90: vlan 10, p 0, ethertype IPv6 (0x86dd), fd00::23.50000 > 2001:db8:bad::66.443: Flags [S], seq 1000, win 65535, length 0');
  assert.deepEqual([e2.kind, e2.v, e2.src, e2.dst, e2.sport, e2.dport], [LineKind.Ip, 6, 'fd00::23', '2001:db8:bad::66', 50000, 443]);
  assert.equal(parse('1700000003.500000 00:00:5e:00:53:01 > 00:00:5e:00:53:02, ethertype ARP (0x0806), length 42: Request who-has 192.168.1.1 tell 192.168.1.23, length 28').kind, LineKind.NotIp);
  // Nine fraction digits (--nano) are cut to µs.
  assert.equal(parse('1700000000.123456789 IP 1.2.3.4 > 5.6.7.8: ICMP echo reply, id 1, seq 1, length 8').ts, 1700000000123456);
});

test('-tttt, time-of-day and -t timestamps', () => {
  const a = parse('2023-11-14 22:13:20.012345 IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [S], seq 1, win 1, length 0');
  assert.equal(a.ts, Date.UTC(2023, 10, 14, 22, 13, 20) * 1000 + 12345);
  assert.equal(a.dateKnown, true);
  // A clock 60 minutes east of UTC printed 23:13 for 22:13 UTC.
  const b = parse('2023-11-14 23:13:20.012345 IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [S], seq 1, win 1, length 0', 60 * 60e6);
  assert.equal(b.ts, a.ts);
  const c = parse('22:13:20.012345 IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [S], seq 1, win 1, length 0');
  assert.equal(c.ts, (22 * 3600 + 13 * 60 + 20) * 1e6 + 12345);
  assert.equal(c.dateKnown, false);
  assert.equal(formatTime(c.ts, false), '22:13:20.012345');
  assert.equal(formatTime(a.ts, true), '2023-11-14T22:13:20.012345Z');
  const d = parse('IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [S], seq 1, win 1, length 0');
  assert.equal(d.kind, LineKind.Ip);
  assert.ok(Number.isNaN(d.ts));
  assert.equal(formatTime(NaN, true), '');
  // Leap-year date.
  assert.equal(parse('2024-02-29 00:00:00.000000 IP 1.2.3.4 > 5.6.7.8: ICMP echo reply, id 1, seq 1, length 8').ts, Date.UTC(2024, 1, 29) * 1000);
});

test('-v text: the IPv4 header line, then the addresses on the indented line; IPv6 on one line', () => {
  const m = new IocMatcher(new IndicatorSet([IndicatorList.parse('203.0.113.80,web\n2001:db8:bad::/48,bad6\n', { name: 'f' })]));
  const kinds = [
    '1700000000.000000 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 52)',
    '    192.168.1.23.49152 > 203.0.113.80.80: Flags [S], cksum 0xadc9 (correct), seq 1000, win 65535, length 0',
    '\tGET / HTTP/1.1',
    '1700000001.000000 IP6 (hlim 64, next-header TCP (6) payload length: 32) fd00::23.50000 > 2001:db8:bad::66.443: Flags [S], cksum 0x702f (correct), seq 1000, win 65535, length 0',
    '1700000002.000000 IP (tos 0x0, ttl 64, id 5, offset 0, flags [none], proto TCP (6), length 28)',
    '1700000003.000000 IP (tos 0x0, ttl 64, id 6, offset 0, flags [none], proto ICMP (1), length 84)',
    '    203.0.113.80 > 192.168.1.23: ICMP echo reply, id 7, seq 1, length 64',
  ].map((l) => m.matchLine(l));
  assert.deepEqual(kinds, [LineKind.IpHeader, LineKind.Ip, LineKind.Other, LineKind.Ip, LineKind.IpHeader, LineKind.IpHeader, LineKind.Ip]);
  assert.deepEqual(m.results().map((r) => [r.indicator, r.direction, r.packets, r.firstSeen, r.remotePorts.join()]), [
    ['2001:db8:bad::/48', 'outbound', 1, '2023-11-14T22:13:21.000000Z', '443'],
    ['203.0.113.80', 'inbound', 1, '2023-11-14T22:13:23.000000Z', ''],
    ['203.0.113.80', 'outbound', 1, '2023-11-14T22:13:20.000000Z', '80'],
  ]);
  assert.equal(m.stats.ipHeaderLines, 3);
  assert.equal(m.stats.ipLines, 3);
});

test('lines it does not understand are classified, never fatal', () => {
  assert.equal(parse('1700000000.000000 ARP, Request who-has 10.0.0.1 tell 10.0.0.2, length 28').kind, LineKind.NotIp);
  assert.equal(parse('\t0x0000:  4500 003c 1c46 4000 4006 b1e6 ac10 0a63  E..<.F@.@.......').kind, LineKind.Other);
  assert.equal(parse('').kind, LineKind.Other);
  assert.equal(parse('reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144').kind, LineKind.Other);
  assert.equal(parse('1700000000.000000 IP [|ip]').kind, LineKind.BadIp);
  assert.equal(parse('1700000000.000000 IP 1.2.3 > 4.5.6.7: bogus').kind, LineKind.BadIp);
  assert.equal(parse('1700000000.000000 IP 1.2.3.4 5.6.7.8').kind, LineKind.BadIp);
  assert.equal(parse('1700000000.000000 IP6 zz::1 > ::1: x').kind, LineKind.BadIp);
  assert.equal(parse('1700000000.000000 IP 1.2.3.4.99999 > 5.6.7.8.1: UDP, length 1').sport, -1);
  assert.equal(parse('17000x IP 1.2.3.4 > 5.6.7.8: x').kind, LineKind.Other);
  assert.equal(parse('1700000000.000000 IP 1.2.3.4 > 5.6.7.8: ICMP echo request, id 1, seq 1, length 64\r').length, 64);
});

test('direction: private → public is outbound, all else inbound; --home-net adds networks', () => {
  const h = new HomeNet({ homeNet: '198.51.100.0/24, 2001:db8:1::/48' });
  const dir = (s: string, d: string) => {
    const a = parseIp(s)!, b = parseIp(d)!;
    const buf = new Uint8Array(32); buf.set(a, 0); buf.set(b, 16);
    return h.direction(a.length === 4 ? 4 : 6, buf, 0, 16) === 1 ? 'out' : 'in';
  };
  assert.equal(dir('10.1.2.3', '8.8.8.8'), 'out');
  assert.equal(dir('172.31.255.255', '8.8.8.8'), 'out');
  assert.equal(dir('172.32.0.1', '8.8.8.8'), 'in');
  assert.equal(dir('192.168.0.1', '8.8.8.8'), 'out');
  assert.equal(dir('127.0.0.1', '1.1.1.1'), 'out');
  assert.equal(dir('169.254.1.1', '1.1.1.1'), 'out');
  assert.equal(dir('100.64.0.1', '1.1.1.1'), 'out');
  assert.equal(dir('100.128.0.1', '1.1.1.1'), 'in');
  assert.equal(dir('8.8.8.8', '10.1.2.3'), 'in');
  assert.equal(dir('10.0.0.1', '10.0.0.2'), 'in');
  assert.equal(dir('8.8.8.8', '1.1.1.1'), 'in');
  assert.equal(dir('198.51.100.7', '8.8.8.8'), 'out');
  assert.equal(dir('8.8.8.8', '198.51.100.7'), 'in');
  assert.equal(dir('fd00::1', '2001:db8::1'), 'out');
  assert.equal(dir('fe80::1', '2001:db8::1'), 'out');
  assert.equal(dir('2001:db8::1', 'fd00::1'), 'in');
  assert.equal(dir('2001:db8:1::5', '2001:db8:2::5'), 'out');
  assert.equal(dir('2001:db8:2::5', '2001:db8:1::5'), 'in');
  const only = new HomeNet({ homeNet: ['203.0.113.0/24'], includePrivate: false });
  assert.equal(only.isHome(4, parseIp('10.0.0.1')!, 0), false);
  assert.equal(only.isHome(4, parseIp('203.0.113.9')!, 0), true);
  assert.throws(() => new HomeNet({ homeNet: 'bogus/8' }), /bad --home-net entry 'bogus\/8'/);
});

const LINES = [
  '1700000000.000000 IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [S], seq 1, win 64240, length 0',
  '1700000000.100000 IP 203.0.113.80.80 > 192.168.1.23.49152: Flags [S.], seq 9, ack 2, win 65160, length 0',
  '1700000000.200000 IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [P.], seq 1:101, ack 1, win 502, length 100: HTTP: GET / HTTP/1.1',
  '1700000000.300000 IP 203.0.113.80.80 > 192.168.1.23.49152: Flags [P.], seq 1:1001, ack 101, win 509, length 1000: HTTP: HTTP/1.1 200 OK',
  '1700000000.400000 ARP, Request who-has 192.168.1.1 tell 192.168.1.23, length 28',
  '1700000001.000000 IP6 2001:db8:bad::66.443 > fd00::23.50000: Flags [.], ack 1, win 1, length 10',
  '1700000001.500000 IP 192.168.1.23.33000 > 192.168.1.1.53: 4660+ A? evil.example. (30)',
  '1700000002.000000 IP 198.51.100.66.8080 > 203.0.113.80.80: Flags [S], seq 1, win 1, length 0',
];

test('matcher aggregates one record per (indicator, local, remote, direction)', () => {
  const set = new IndicatorSet([
    IndicatorList.parse('203.0.113.0/24,doc-net\n203.0.113.80,web\n2001:db8:bad::/48,bad6\n', { name: 'feed' }),
    IndicatorList.parse('198.51.100.66,c2\n', { name: 'c2' }),
  ]);
  const m = new IocMatcher(set);
  for (const l of LINES) m.matchLine(l);
  assert.deepEqual({ ...m.stats }, {
    packets: 0, ipPackets: 0, lines: 8, ipLines: 7, notIpLines: 1, badIpLines: 0, otherLines: 0, ipHeaderLines: 0, longLines: 0,
    matchedPackets: 6, hits: 7, records: 5, recordsDropped: 0,
  });
  const r = m.results().map((x) => [x.packets, x.list, x.indicator, x.label, x.direction, x.local, x.remote, x.matched,
    x.firstSeen, x.lastSeen, x.payloadBytes, x.remotePorts.join(' '), x.localPorts.join(' '), x.protocols.join(' ')].join('|'));
  assert.deepEqual(r, [
    '2|feed|203.0.113.80|web|inbound|192.168.1.23|203.0.113.80|remote|2023-11-14T22:13:20.100000Z|2023-11-14T22:13:20.300000Z|1000|80|49152|tcp',
    '2|feed|203.0.113.80|web|outbound|192.168.1.23|203.0.113.80|remote|2023-11-14T22:13:20.000000Z|2023-11-14T22:13:20.200000Z|100|80|49152|tcp',
    // Public → public: inbound, local = destination; the destination is the listed one here.
    '1|c2|198.51.100.66|c2|inbound|203.0.113.80|198.51.100.66|remote|2023-11-14T22:13:22.000000Z|2023-11-14T22:13:22.000000Z|0|8080|80|tcp',
    '1|feed|2001:db8:bad::/48|bad6|inbound|fd00::23|2001:db8:bad::66|remote|2023-11-14T22:13:21.000000Z|2023-11-14T22:13:21.000000Z|10|443|50000|tcp',
    '1|feed|203.0.113.80|web|inbound|203.0.113.80|198.51.100.66|local|2023-11-14T22:13:22.000000Z|2023-11-14T22:13:22.000000Z|0|8080|80|tcp',
  ]);
  assert.equal(m.results()[0]!.bytes, null);
  const tl = m.timelines();
  assert.deepEqual(tl.map((t) => [t.indicator, t.packets, t.points.length]), [['203.0.113.80', 5, 2], ['198.51.100.66', 1, 1], ['2001:db8:bad::/48', 1, 1]]);
});

test('both ends in the same entry is one hit matched on both sides', () => {
  const m = new IocMatcher(new IndicatorSet([IndicatorList.parse('127.0.0.0/8,lo\n2001:db8::/32,doc\n', { name: 'f' })]));
  m.matchLine('1700000000.000000 IP 127.0.0.1.80 > 127.0.0.1.4000: Flags [S], seq 1, win 1, length 0');
  m.matchLine('1700000000.000001 IP6 2001:db8::1.80 > 2001:db8::2.4000: Flags [S], seq 1, win 1, length 0');
  assert.deepEqual(m.results().map((r) => [r.indicator, r.packets, r.matched, r.local, r.remote]),
    [['127.0.0.0/8', 1, 'both', '127.0.0.1', '127.0.0.1'], ['2001:db8::/32', 1, 'both', '2001:db8::2', '2001:db8::1']]);
  assert.equal(m.stats.hits, 2);
});

test('replaceList keeps records and matching goes on with the new entries', () => {
  const set = new IndicatorSet([IndicatorList.parse('203.0.113.80,web\n', { name: 'feed' })]);
  const m = new IocMatcher(set);
  m.matchLine(LINES[0]!);
  m.matchLine(LINES[2]!);
  set.replaceList('feed', [{ cidr: '203.0.113.80', label: 'web' }, { cidr: '198.51.100.66', label: 'c2' }]);
  m.matchLine(LINES[7]!);
  set.replaceList('feed', IndicatorList.parse('203.0.113.0/24,net\n', { name: 'x' }));
  m.matchLine(LINES[1]!);
  const r = m.results().map((x) => `${x.indicator}|${x.label}|${x.direction}|${x.local}|${x.remote}|${x.packets}`);
  assert.deepEqual(r, [
    '203.0.113.80|web|outbound|192.168.1.23|203.0.113.80|2',
    '198.51.100.66|c2|inbound|203.0.113.80|198.51.100.66|1',
    '203.0.113.0/24|net|inbound|192.168.1.23|203.0.113.80|1',
    '203.0.113.80|web|inbound|203.0.113.80|198.51.100.66|1',
  ]);
});

test('record cap: extra records are dropped and counted; ports are bounded', () => {
  const set = new IndicatorSet([IndicatorList.parse('203.0.113.0/24\n', { name: 'f' })]);
  const m = new IocMatcher(set, { maxRecords: 2, maxPorts: 3 });
  for (let i = 0; i < 5; i++) m.matchLine(`1700000000.00000${i} IP 10.0.0.${i < 2 ? 1 : i}.4000${i} > 203.0.113.9.${80 + i}: Flags [S], seq 1, win 1, length 0`);
  assert.equal(m.stats.records, 2);
  assert.equal(m.stats.recordsDropped, 2);
  const r = m.results();
  assert.deepEqual(r.map((x) => [x.local, x.packets, x.remotePorts, x.portsTruncated]), [['10.0.0.1', 2, [80, 81], false], ['10.0.0.2', 1, [82], false]]);
  const m2 = new IocMatcher(set, { maxPorts: 2 });
  for (let i = 0; i < 4; i++) m2.matchLine(`1700000000.000000 IP 10.0.0.1.40000 > 203.0.113.9.${80 + i}: Flags [S], seq 1, win 1, length 0`);
  assert.deepEqual([m2.results()[0]!.remotePorts, m2.results()[0]!.portsTruncated], [[80, 81], true]);
});

test('text streams: lines split across chunks, CRLF, gzip, no final newline, over-long lines skipped', async () => {
  const set = new IndicatorSet([IndicatorList.parse('203.0.113.80\n', { name: 'f' })]);
  const text = LINES.join('\r\n') + '\r\n' + 'x'.repeat(70 * 1024) + '\n' + LINES[0];
  const bytes = Buffer.from(text, 'latin1');
  for (const [name, data] of [['plain', bytes], ['gzip', gzipSync(bytes)]] as const) {
    const m = new IocMatcher(set);
    const chunks: Buffer[] = [];
    for (let o = 0; o < data.length; o += 997) chunks.push(data.subarray(o, o + 997));
    const st = await matchTextStream(Readable.from(chunks), m);
    assert.equal(st.lines, 10, name);
    assert.equal(st.longLines, 1, name);
    assert.equal(m.stats.longLines, 1, name);
    assert.equal(m.stats.lines, 9, name);
    assert.equal(m.results().reduce((a, r) => a + r.packets, 0), 6, name);
  }
  // One byte at a time through the splitter gives the same lines (the last one has no newline).
  const seen: string[] = [];
  const sp = new LineSplitter((b, s, e) => seen.push(Buffer.from(b.subarray(s, e)).toString('latin1')));
  const three = Buffer.from(LINES.slice(0, 3).join('\n'), 'latin1');
  for (let i = 0; i < three.length; i++) sp.push(three.subarray(i, i + 1));
  sp.end();
  assert.deepEqual(seen, LINES.slice(0, 3));
});

test('timelines stay bounded: buckets merge pairwise, counts are kept', () => {
  const t = new Timeline();
  const n = 3 * TIMELINE_MAX_BUCKETS;
  for (let i = 0; i < n; i++) t.add(1700000000e6 + i * 1e6, 2);
  assert.ok(t.buckets.size <= TIMELINE_MAX_BUCKETS);
  assert.equal(t.widthUs, 4e6);
  const pts = t.points();
  assert.equal(pts.reduce((a, [, c]) => a + c, 0), 2 * n);
  assert.deepEqual(pts[0], [1700000000e6, 8]);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i]![0] > pts[i - 1]![0]);
});

test('many conversations: the record index grows and finds every record again; clear() resets', () => {
  const m = new IocMatcher(new IndicatorSet([IndicatorList.parse('203.0.0.0/8,wide\n2001:db8::/32,v6\n', { name: 'f' })]));
  const n = 5000;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < n; i++) {
      m.matchLine(`1700000000.000000 IP 10.0.${i >> 8}.${i & 255}.40000 > 203.${i % 7}.0.${i % 250}.443: Flags [S], seq 1, win 1, length 0`);
      m.matchLine(`1700000000.000000 IP 203.${i % 7}.0.${i % 250}.443 > 10.0.${i >> 8}.${i & 255}.40000: Flags [S.], seq 1, win 1, length 0`);
    }
    m.matchLine('1700000000.000000 IP6 fd00::1.5 > 2001:db8::9.443: Flags [S], seq 1, win 1, length 0');
  }
  const r = m.results();
  assert.equal(r.length, 2 * n + 1);
  assert.ok(r.every((x) => x.packets === 2));
  assert.equal(r.filter((x) => x.direction === 'outbound').length, n + 1);
  assert.equal(m.timelines().length, 2);
  assert.equal(m.timelines()[0]!.packets, 4 * n);
  m.clear();
  assert.deepEqual(m.results(), []);
  m.matchLine('1700000000.000000 IP 10.0.0.1.40000 > 203.0.0.1.443: Flags [S], seq 1, win 1, length 0');
  assert.deepEqual(m.results().map((x) => [x.local, x.remote, x.packets]), [['10.0.0.1', '203.0.0.1', 1]]);
  assert.deepEqual(m.timelines().map((t) => t.packets), [1]);
});

test('time-of-day text that passes midnight keeps first/last in order', () => {
  const m = new IocMatcher(new IndicatorSet([IndicatorList.parse('203.0.113.80\n', { name: 'f' })]));
  for (const t of ['23:59:59.900000', '00:00:00.100000', '00:00:01.000000']) {
    m.matchLine(`${t} IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [.], ack 1, win 1, length 0`);
  }
  const r = m.results()[0]!;
  assert.deepEqual([r.packets, r.firstSeen, r.lastSeen, r.dateKnown], [3, '23:59:59.900000', '00:00:01.000000+1d', false]);
  m.resetTextClock();
  m.matchLine('00:00:02.000000 IP 192.168.1.23.49152 > 203.0.113.80.80: Flags [.], ack 1, win 1, length 0');
  assert.equal(m.results()[0]!.lastSeen, '00:00:01.000000+1d');
});

test('CLI writes large outputs in slices: one CSV header, every record once', () => {
  const dir = tmpDir('ioc-cli-');
  const list = join(dir, 'l.txt');
  writeFileSync(list, '203.0.0.0/8\n');
  let text = '';
  for (let i = 0; i < 12000; i++) text += `1700000000.000000 IP 10.0.${i >> 8}.${i & 255}.40000 > 203.${i % 9}.0.1.443: Flags [S], seq 1, win 1, length 0\n`;
  const csv = runCli(['ioc', '-l', list, '-f', 'csv', '-'], { input: Buffer.from(text) });
  assert.equal(csv.status, 0, csv.stderr.toString());
  const rows = csv.stdout.toString().trimEnd().split('\n');
  assert.equal(rows.length, 12001);
  assert.equal(rows.filter((r) => r.startsWith('indicator,')).length, 1);
  assert.equal(new Set(rows).size, 12001);
  const out = join(dir, 'o.ndjson');
  const nd = runCli(['ioc', '-l', list, '-o', out, '-'], { input: Buffer.from(text) });
  assert.equal(nd.status, 0);
  assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 12000);
});
