// Decoder truncation loops: for a full packet of each shape, every caplen 0..n-1 stops at the exact layer and
// offset (the first header boundary the capture does not reach), and the full packet decodes completely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, Layer, LAYER_NAMES, PacketView } from '../../src/decode/index.js';
import {
  ACK, arp, cat, echoRest, ether, icmp, icmp6, ip6FragBody, ipv4, ipv6, nullLink, PSH, sctp, sctpChunk, sll, sll2, SYN, tcp, tcpopt, udp,
} from '../../fixtures/make/packet.js';

const A = '192.0.2.1', B = '198.51.100.2', A6 = '2001:db8::1', B6 = '2001:db8::2';
const ra6 = Uint8Array.of(5, 2, 0, 0, 1, 0);

/** A packet and its header boundaries: capture shorter than `need` stops in `layer` at offset `need`. */
interface Shape { name: string; linkType: number; bytes: Uint8Array; steps: Array<[Layer, number]> }

const tcpOpts = cat(tcpopt.mss(1460), tcpopt.sackOk(), tcpopt.ts(1, 2), tcpopt.nop(), tcpopt.wscale(7)); // 20 bytes → hl 40
const shapes: Shape[] = [
  { name: 'eth/ipv4+options/tcp+options', linkType: 1,
    bytes: ether(0x0800, ipv4({ src: A, dst: B, proto: 6, options: Uint8Array.of(0x94, 4, 0, 0) }, tcp(A, B, { sport: 1, dport: 2, seq: 3, flags: SYN, options: tcpOpts }, new Uint8Array(10)))),
    steps: [[Layer.Link, 14], [Layer.IPv4, 34], [Layer.IPv4, 38], [Layer.TCP, 58], [Layer.TCP, 78]] },
  { name: 'eth/qinq/ipv4/udp', linkType: 1,
    bytes: ether(0x0800, ipv4({ src: A, dst: B, proto: 17 }, udp(A, B, 53, 53, new Uint8Array(12))), { vlans: [5, 6], qinq: true }),
    steps: [[Layer.Link, 14], [Layer.Vlan, 18], [Layer.Vlan, 22], [Layer.IPv4, 42], [Layer.UDP, 50]] },
  { name: 'eth/ipv4/icmp echo', linkType: 1,
    bytes: ether(0x0800, ipv4({ src: A, dst: B, proto: 1 }, icmp(8, 0, echoRest(1, 1), new Uint8Array(16)))),
    steps: [[Layer.Link, 14], [Layer.IPv4, 34], [Layer.ICMP, 38], [Layer.ICMP, 42]] },
  { name: 'eth/ipv4/sctp', linkType: 1,
    bytes: ether(0x0800, ipv4({ src: A, dst: B, proto: 132 }, sctp(1, 2, 3, [sctpChunk(0, 3, new Uint8Array(12))]))),
    steps: [[Layer.Link, 14], [Layer.IPv4, 34], [Layer.SCTP, 46]] },
  { name: 'eth/arp', linkType: 1,
    bytes: ether(0x0806, arp(1, '00:00:5e:00:53:01', A, '00:00:00:00:00:00', B)),
    steps: [[Layer.Link, 14], [Layer.ARP, 22], [Layer.ARP, 42]] },
  { name: 'eth/ipv6/hop-by-hop/dest-opts/fragment/tcp', linkType: 1,
    bytes: ether(0x86dd, ipv6({ src: A6, dst: B6, nh: 6, ext: [{ type: 0, body: cat(ra6, new Uint8Array(8)) }, { type: 60, body: new Uint8Array(6) }, { type: 44, body: ip6FragBody(0, false, 1) }] },
      tcp(A6, B6, { sport: 7, dport: 8, seq: 1, flags: PSH | ACK }, new Uint8Array(4)))),
    // hop-by-hop is 16 bytes: its first 8 are needed to learn its length, then all 16.
    steps: [[Layer.Link, 14], [Layer.IPv6, 54], [Layer.IPv6Ext, 62], [Layer.IPv6Ext, 70], [Layer.IPv6Ext, 78], [Layer.IPv6Ext, 86], [Layer.TCP, 106]] },
  { name: 'eth/ipv6/icmpv6', linkType: 1,
    bytes: ether(0x86dd, ipv6({ src: A6, dst: B6, nh: 58 }, icmp6(A6, B6, 128, 0, echoRest(1, 2), new Uint8Array(8)))),
    steps: [[Layer.Link, 14], [Layer.IPv6, 54], [Layer.ICMPv6, 58], [Layer.ICMPv6, 62]] },
  { name: 'sll/ipv4/udp', linkType: 113, bytes: sll(0x0800, ipv4({ src: A, dst: B, proto: 17 }, udp(A, B, 1, 2, new Uint8Array(3)))),
    steps: [[Layer.Link, 16], [Layer.IPv4, 36], [Layer.UDP, 44]] },
  { name: 'sll2/ipv6/udp', linkType: 276, bytes: sll2(0x86dd, ipv6({ src: A6, dst: B6, nh: 17 }, udp(A6, B6, 1, 2, new Uint8Array(3)))),
    steps: [[Layer.Link, 20], [Layer.IPv6, 60], [Layer.UDP, 68]] },
  { name: 'null/ipv4/tcp', linkType: 0, bytes: nullLink(2, ipv4({ src: A, dst: B, proto: 6 }, tcp(A, B, { sport: 1, dport: 2, seq: 1, flags: ACK }))),
    steps: [[Layer.Link, 4], [Layer.IPv4, 24], [Layer.TCP, 44]] },
  { name: 'raw/ipv6/udp', linkType: 101, bytes: ipv6({ src: A6, dst: B6, nh: 17 }, udp(A6, B6, 1, 2, new Uint8Array(5))),
    steps: [[Layer.Link, 1], [Layer.IPv6, 40], [Layer.UDP, 48]] },
  { name: 'ipv4 linktype/icmp', linkType: 228, bytes: ipv4({ src: A, dst: B, proto: 1 }, icmp(0, 0, echoRest(1, 1))),
    steps: [[Layer.Link, 1], [Layer.IPv4, 20], [Layer.ICMP, 24], [Layer.ICMP, 28]] },
];

function expected(s: Shape, caplen: number): string {
  for (const [layer, need] of s.steps) if (caplen < need) return `${LAYER_NAMES[layer]}@${need}`;
  return 'none';
}

for (const s of shapes) {
  test(`truncation loop: ${s.name} (${s.bytes.length} bytes)`, () => {
    const v = new PacketView();
    // Put the packet at a non-zero offset of a bigger buffer, as in a batch; offsets are reported in that buffer.
    const buf = cat(new Uint8Array(11).fill(0xee), s.bytes, new Uint8Array(9).fill(0xee));
    for (let caplen = 0; caplen <= s.bytes.length; caplen++) {
      decodePacket(v, buf, 11, 11 + caplen, s.linkType);
      const got = v.truncLayer === Layer.None ? 'none' : `${LAYER_NAMES[v.truncLayer]}@${v.truncAt - 11}`;
      assert.equal(got, caplen === s.bytes.length ? 'none' : expected(s, caplen), `caplen ${caplen}`);
      if (v.truncLayer === Layer.None) assert.ok(v.payload <= v.end, 'payload inside the capture');
    }
    // Headers complete but payload cut: no truncation reported; payloadLen is what was captured.
    decodePacket(v, buf, 11, 11 + s.bytes.length, s.linkType);
    assert.equal(v.truncLayer, Layer.None);
    assert.ok(v.payloadLen >= 0 && v.payloadWireLen >= v.payloadLen);
  });
}
