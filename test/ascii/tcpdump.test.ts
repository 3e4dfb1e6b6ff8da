// Our printer against the real tcpdump on small captures built here from bytes (test/ascii/_build.ts):
// every case is written to a temporary pcap, read by `tcpdump -tt -n -r` and by AsciiPrinter, and the two
// outputs must be byte-identical. Skipped (with the reason) when tcpdump is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tcpdumpPath, tcpdumpSkip, tmpDir } from '../_util.js';
import { printFile, printFileBytes } from './_compare.js';
import {
  pcap, ether, ipv4, ipv6, tcp, udp, dns, rr, ascii, ip4, ip6, be16, be32, dnsName, mac, type Rec,
} from './_build.js';

const dir = tmpDir('flowcarve-ascii-');
let n = 0;

/** Write the capture, run tcpdump and our printer, and compare byte for byte; returns tcpdump's text. */
async function same(name: string, linktype: number, recs: Rec[]): Promise<string> {
  const f = join(dir, `${name}-${n++}.pcap`);
  writeFileSync(f, pcap(linktype, recs));
  const r = spawnSync(tcpdumpPath()!, ['-tt', '-n', '-r', f], { encoding: 'buffer' });
  assert.ok((await printFileBytes(f)).equals(r.stdout), `${name}: byte path (printBatchBytes) differs from tcpdump`);
  const ours = await printFile(f);
  const want = r.stdout.toString('latin1');
  if (ours !== want) {
    const a = ours.split('\n'), b = want.split('\n');
    const i = b.findIndex((l, k) => l !== a[k]);
    assert.fail(`${name}: first difference at line ${i + 1}\n  want ${JSON.stringify(b[i])}\n  got  ${JSON.stringify(a[i])}`);
  }
  return want;
}

const E = (payload: number[], type = 0x0800) => ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', type, payload);
let t0 = 1_600_000_000;
const rec = (data: Uint8Array, extra: Partial<Rec> = {}): Rec => ({ ts: t0, usec: (n * 7919 + t0++) % 1_000_000, data, ...extra });

const OPTS_SYN = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, ...be32(123456), ...be32(0), 1, 3, 3, 7];
const OPTS_ACK = [1, 1, 8, 10, ...be32(123460), ...be32(999)];

test('TCP conversation: flags, relative seq/ack, options, SACK, HTTP first line, FIN/RST', { skip: tcpdumpSkip() }, async () => {
  const c = '10.0.0.1', s = '93.184.216.34';
  const req = ascii('GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n');
  const resp = ascii('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  const recs = [
    rec(E(ipv4(c, s, 6, tcp(40000, 80, 1000, 0, 0x02, 64240, OPTS_SYN)))),
    rec(E(ipv4(s, c, 6, tcp(80, 40000, 5000, 1001, 0x12, 65535, [2, 4, 0x05, 0x8c, 1, 1, 4, 2, 1, 3, 3, 8])))),
    rec(E(ipv4(c, s, 6, tcp(40000, 80, 1001, 5001, 0x10, 502, OPTS_ACK)))),
    rec(E(ipv4(c, s, 6, tcp(40000, 80, 1001, 5001, 0x18, 502, OPTS_ACK, req)))),
    rec(E(ipv4(s, c, 6, tcp(80, 40000, 5001, 1001 + req.length, 0x18, 501, [], resp)))),
    rec(E(ipv4(s, c, 6, tcp(80, 40000, 5001 + resp.length, 1001 + req.length, 0x10, 501, [1, 1, 5, 10, ...be32(1100), ...be32(1200)])))),
    rec(E(ipv4(c, s, 6, tcp(40000, 80, 1001 + req.length, 5001 + resp.length, 0x11, 502)))),
    rec(E(ipv4(s, c, 6, tcp(80, 40000, 5001 + resp.length, 1002 + req.length, 0x14, 0)))),
    rec(E(ipv4(c, s, 6, tcp(40000, 80, 1001, 5001, 0x18, 502, [], ascii('binary\x00data'))))),
    rec(E(ipv4(c, s, 6, tcp(40000, 80, 1001, 5001, 0xff, 502, [], ascii('x'))))),
    rec(E(ipv4(c, s, 6, tcp(25, 1025, 7, 9, 0x18, 1, [], ascii('220 mail.example.com ESMTP\r\n'))))),
    rec(E(ipv4(c, s, 6, tcp(1026, 21, 7, 9, 0x18, 1, [], ascii('USER anonymous\r\n'))))),
    rec(E(ipv4(c, s, 6, tcp(40001, 8080, 7, 9, 0x18, 1, [28, 4, 0x01, 0x2d, 254, 6, 0xf9, 0x89, 1, 2, 34, 2], ascii('POST /x HTTP/1.0'))))),
    rec(E(ipv4(c, s, 6, tcp(40002, 80, 7, 9, 0x10, 1, [99, 4, 1, 2, 2, 3, 1])))),
  ];
  const out = await same('tcp', 1, recs);
  assert.match(out, /Flags \[S\.\], seq 5000, ack 1001, win 65535/);
  assert.match(out, /length 47: HTTP: GET \/index\.html HTTP\/1\.1/);
  assert.match(out, /sack 1 \{/);
});

test('IPv6 TCP, UDP, DNS queries and answers, ICMP, ICMPv6, ARP', { skip: tcpdumpSkip() }, async () => {
  const a = '2001:db8::1', b = '2001:db8:0:1::53';
  const q = dns(0x1234, 0x0100, [['example.com', 1]]);
  const ans = dns(0x1234, 0x8180, [['example.com', 1]], [
    rr(5, 60, dnsName('www.example.com')), rr(1, 60, ip4('93.184.216.34')), rr(28, 60, ip6('2606:2800:220:1::1946')),
  ]);
  const nx = dns(7, 0x8183, [['nope.invalid', 28]]);
  const recs = [
    rec(E(ipv6(a, '2001:db8::2', 6, tcp(443, 50000, 1, 2, 0x12, 100, OPTS_SYN)), 0x86dd)),
    rec(E(ipv6(a, '2001:db8::2', 6, tcp(443, 50000, 2, 3, 0x10, 100)), 0x86dd)),
    rec(E(ipv4('10.1.1.1', '10.1.1.2', 17, udp(5000, 5001, [1, 2, 3, 4, 5])))),
    rec(E(ipv4('10.1.1.1', '8.8.8.8', 17, udp(53000, 53, q)))),
    rec(E(ipv4('8.8.8.8', '10.1.1.1', 17, udp(53, 53000, ans)))),
    rec(E(ipv6(b, a, 17, udp(53, 40000, nx)), 0x86dd)),
    rec(E(ipv4('10.1.1.1', '10.1.1.2', 1, [8, 0, 0, 0, ...be16(77), ...be16(3), ...new Array(56).fill(0x61)]))),
    rec(E(ipv4('10.1.1.2', '10.1.1.1', 1, [0, 0, 0, 0, ...be16(77), ...be16(3), ...new Array(56).fill(0x61)]))),
    rec(E(ipv4('10.1.1.2', '10.1.1.1', 1, [3, 3, 0, 0, 0, 0, 0, 0, ...ipv4('10.1.1.1', '10.1.1.2', 17, udp(5000, 9999, [])).slice(0, 28)]))),
    rec(E(ipv4('10.1.1.2', '10.1.1.1', 1, [11, 0, 0, 0, 0, 0, 0, 0, ...ipv4('10.1.1.1', '10.9.9.9', 6, tcp(1, 2, 3, 4, 2, 5)).slice(0, 28)]))),
    rec(E(ipv6(a, b, 58, [128, 0, 0, 0, ...be16(1), ...be16(2), 1, 2, 3, 4]), 0x86dd)),
    rec(E(ipv6('fe80::1', 'ff02::1:ff00:2', 58, [135, 0, 0, 0, 0, 0, 0, 0, ...ip6('fe80::2')]), 0x86dd)),
    rec(E(ipv6('fe80::2', 'fe80::1', 58, [136, 0, 0, 0, 0x60, 0, 0, 0, ...ip6('fe80::2')]), 0x86dd)),
    rec(ether('ff:ff:ff:ff:ff:ff', '00:11:22:33:44:55', 0x0806, [0, 1, 8, 0, 6, 4, 0, 1, ...mac('00:11:22:33:44:55'), ...ip4('192.168.1.10'), 0, 0, 0, 0, 0, 0, ...ip4('192.168.1.1'), ...new Array(18).fill(0)])),
    rec(ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0806, [0, 1, 8, 0, 6, 4, 0, 2, ...mac('66:77:88:99:aa:bb'), ...ip4('192.168.1.1'), ...mac('00:11:22:33:44:55'), ...ip4('192.168.1.10')])),
  ];
  const out = await same('mixed', 1, recs);
  assert.match(out, /4660\+ A\? example\.com\. \(29\)/);
  assert.match(out, /ARP, Request who-has 192\.168\.1\.1 tell 192\.168\.1\.10, length 46/);
});

test('fragments, VLAN/QinQ, unknown ethertype hex dump, odd timestamps and invalid headers', { skip: tcpdumpSkip() }, async () => {
  const payload = udp(1234, 5678, new Array(40).fill(7));
  const recs: Rec[] = [
    rec(E(ipv4('10.0.0.1', '10.0.0.2', 17, payload.slice(0, 24), { id: 99, frag: 0x2000, totalLen: 44 }))),
    rec(E(ipv4('10.0.0.1', '10.0.0.2', 17, payload.slice(24), { id: 99, frag: 3 }))),
    rec(ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, [9])), [[0x8100, 100]])),
    rec(ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, [9])), [[0x88a8, 10], [0x8100, 20]])),
    rec(ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x7878, ascii('Hello, unknown ethertype payload with some bytes!\x01\x02\x03'))),
    { ts: 0x80000001, usec: 5, data: E(ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, []))) },
    { ts: 1700000000, usec: 1234567, data: E(ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, []))) },
    { ts: 1700000001, usec: 0, data: new Uint8Array(0) },
    { ts: 1700000002, usec: 0, data: E(ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, []))), origlen: 10 },
  ];
  await same('misc', 1, recs);
});

test('link types: Linux SLL, NULL, LOOP, RAW, IPv4 (228), IPv6 (229)', { skip: tcpdumpSkip() }, async () => {
  const v4 = ipv4('192.0.2.1', '198.51.100.2', 6, tcp(1, 2, 3, 4, 0x18, 5, [], ascii('hi')));
  const v6 = ipv6('2001:db8::a', '2001:db8::b', 17, udp(7, 9, [1]));
  const sll = (proto: number, p: number[]) => Uint8Array.from([0, 0, 0, 1, 0, 6, ...mac('00:11:22:33:44:55'), 0, 0, ...be16(proto), ...p]);
  await same('sll', 113, [rec(sll(0x0800, v4)), rec(sll(0x86dd, v6)), rec(sll(0x1234, [1, 2, 3]))]);
  await same('null', 0, [rec(Uint8Array.from([2, 0, 0, 0, ...v4])), rec(Uint8Array.from([30, 0, 0, 0, ...v6]))]);
  await same('loop', 108, [rec(Uint8Array.from([0, 0, 0, 2, ...v4])), rec(Uint8Array.from([0, 0, 0, 24, ...v6]))]);
  await same('raw', 101, [rec(Uint8Array.from(v4)), rec(Uint8Array.from(v6))]);
  await same('ipv4', 228, [rec(Uint8Array.from(v4))]);
  await same('ipv6', 229, [rec(Uint8Array.from(v6))]);
});

test('every truncation of TCP, UDP/DNS, ICMP, ARP and IPv6 frames prints the same marks', { skip: tcpdumpSkip() }, async () => {
  const frames = [
    E(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(40000, 80, 1, 2, 0x18, 3, [...OPTS_SYN, 5, 10, ...be32(1), ...be32(2)], ascii('GET / HTTP/1.1\r\n')))),
    E(ipv4('10.0.0.1', '10.0.0.2', 17, udp(53, 5353, dns(1, 0x8180, [['a.example', 1]], [rr(1, 5, ip4('1.2.3.4')), rr(16, 5, [3, ...ascii('abc')])])))),
    E(ipv4('10.0.0.1', '10.0.0.2', 1, [3, 3, 0, 0, 0, 0, 0, 0, ...ipv4('10.0.0.2', '10.0.0.1', 17, udp(9, 10, [])).slice(0, 28)])),
    ether('ff:ff:ff:ff:ff:ff', '00:11:22:33:44:55', 0x0806, [0, 1, 8, 0, 6, 4, 0, 1, ...mac('00:11:22:33:44:55'), ...ip4('1.1.1.1'), 0, 0, 0, 0, 0, 0, ...ip4('2.2.2.2')]),
    E(ipv6('fe80::1', 'ff02::1', 0, [58, 0, 5, 2, 0, 0, 1, 0, 128, 0, 0, 0, 0, 1, 0, 2]), 0x86dd),
  ];
  const recs: Rec[] = [];
  for (const f of frames) for (let cap = 1; cap <= f.length; cap++) recs.push({ ts: 1_650_000_000, usec: cap, data: f, caplen: cap, origlen: f.length });
  await same('trunc', 1, recs);
});

test('output is latin1-exact for non-ASCII bytes in DNS names', { skip: tcpdumpSkip() }, async () => {
  const name = [3, 0xe9, 0x80, 0x0a, 3, ...ascii('com'), 0];
  const q = [...be16(5), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1];
  const out = await same('latin1', 1, [rec(E(ipv4('10.0.0.1', '10.0.0.2', 17, udp(1000, 53, q))))]);
  assert.match(out, /M-i/);
  void readFileSync;
});
