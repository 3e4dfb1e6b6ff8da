// Decoder fields on hand-built packets: addresses, ports, TCP header fields, VLAN ids, fragments, payload bounds
// (Ethernet padding, IPv4 total length, IPv6 payload length), link-type variants; and every fixture packet's summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeBatchPacket, decodePacket, ipv4String, ipv6String, Layer, PacketView } from '../../src/decode/index.js';
import { CaptureReader } from '../../src/pcap/reader.js';
import {
  ACK, arp, cat, echoRest, ether, icmp, ip6FragBody, ipv4, ipv6, nullLink, PSH, tcp, tcpopt, udp,
} from '../../fixtures/make/packet.js';
import { FOUNDATION, loadManifest } from '../pcap/_foundation.js';
import { summarize } from './summary.js';

const v = new PacketView();
const dec = (b: Uint8Array, lt = 1) => { decodePacket(v, b, 0, b.length, lt); return v; };

test('TCP over IPv4 over 802.1Q: every header field', () => {
  const seg = tcp('10.1.2.3', '10.4.5.6', { sport: 40000, dport: 443, seq: 0xfffffff0, ack: 0x80000001, flags: PSH | ACK, win: 512, options: cat(tcpopt.nop(), tcpopt.nop(), tcpopt.ts(1, 2)) }, new Uint8Array(100));
  const p = dec(ether(0x0800, ipv4({ src: '10.1.2.3', dst: '10.4.5.6', proto: 6, ttl: 17, id: 0xbeef, df: true }, seg), { vlans: [42] }));
  assert.equal(v.vlanCount, 1); assert.equal(p.vlan0, 42); assert.equal(p.etherType, 0x0800);
  assert.equal(p.l3, 18); assert.equal(p.ipVersion, 4); assert.equal(ipv4String(p.buf, p.src), '10.1.2.3'); assert.equal(ipv4String(p.buf, p.dst), '10.4.5.6');
  assert.equal(p.ttl, 17); assert.equal(p.fragId, 0xbeef); assert.equal(p.isFragment, false); assert.equal(p.ipTotalLen, 20 + 32 + 100);
  assert.equal(p.proto, 6); assert.equal(p.l4, 38); assert.equal(p.srcPort, 40000); assert.equal(p.dstPort, 443);
  assert.equal(p.tcpSeq, 0xfffffff0); assert.equal(p.tcpAck, 0x80000001); assert.equal(p.tcpFlags, PSH | ACK); assert.equal(p.tcpWin, 512); assert.equal(p.tcpHdrLen, 32);
  assert.equal(p.payload, 70); assert.equal(p.payloadLen, 100); assert.equal(p.payloadWireLen, 100); assert.equal(p.truncLayer, Layer.None);
});

test('Ethernet padding past the IPv4 total length is not payload; snapped payload keeps its wire length', () => {
  const frame = cat(ether(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6 }, tcp('10.0.0.1', '10.0.0.2', { sport: 1, dport: 2, seq: 1, flags: ACK }))), new Uint8Array(6));
  assert.equal(frame.length, 60);
  const p = dec(frame);
  assert.equal(p.ipEnd, 54); assert.equal(p.payloadLen, 0); assert.equal(p.payloadWireLen, 0);
  const big = ether(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, udp('10.0.0.1', '10.0.0.2', 5, 6, new Uint8Array(1000))));
  decodePacket(v, big, 0, 100, 1);
  assert.equal(v.truncLayer, Layer.None); assert.equal(v.payloadLen, 100 - 42); assert.equal(v.payloadWireLen, 1000);
});

test('IPv4 fragments: first carries ports, later ones only payload', () => {
  const d = udp('10.0.0.1', '10.0.0.2', 7, 9, new Uint8Array(100));
  const first = dec(ether(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 77, mf: true, totalLength: 20 + 48 }, d.subarray(0, 48))));
  assert.deepEqual([first.isFragment, first.moreFragments, first.fragOffset, first.fragId, first.srcPort, first.l4], [true, true, 0, 77, 7, 34]);
  const later = dec(ether(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 77, fragOffset: 48 }, d.subarray(48))));
  assert.deepEqual([later.isFragment, later.moreFragments, later.fragOffset, later.srcPort, later.l4, later.payload, later.payloadLen], [true, false, 48, 0, -1, 34, 60]);
});

test('IPv6 fragment header and address text', () => {
  const d = udp('2001:db8::1', '2001:db8::2', 1, 2, new Uint8Array(40));
  const p = dec(ether(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17, ext: [{ type: 44, body: ip6FragBody(16, true, 0xdeadbeef) }] }, d.subarray(16))));
  assert.equal(ipv6String(p.buf, p.src), '2001:db8::1');
  assert.deepEqual([p.isFragment, p.fragOffset, p.moreFragments, p.fragId, p.proto, p.l4, p.payload, p.payloadLen], [true, 16, true, 0xdeadbeef, 17, -1, 14 + 48, 32]);
});

test('ICMP type/code and ARP network offset; NULL header in either byte order; 802.3 frames and unknown link types', () => {
  const i = dec(ether(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 1 }, icmp(3, 1, new Uint8Array(4), new Uint8Array(28)))));
  assert.deepEqual([i.icmpType, i.icmpCode, i.payload, i.payloadLen], [3, 1, 42, 28]);
  const a = dec(ether(0x0806, arp(2, '00:00:5e:00:53:01', '10.0.0.1', '00:00:5e:00:53:02', '10.0.0.2')));
  assert.deepEqual([a.etherType, a.l3, a.ipVersion, a.truncLayer], [0x0806, 14, 0, Layer.None]);
  const ip = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 1 }, icmp(8, 0, echoRest(1, 1)));
  for (const hdr of [nullLink(2, new Uint8Array(0)), Uint8Array.of(0, 0, 0, 2)]) assert.equal(dec(cat(hdr, ip), 0).ipVersion, 4);
  for (const af of [10, 24, 28, 30]) assert.equal(dec(nullLink(af, ipv6({ src: '::1', dst: '::1', nh: 59 }, new Uint8Array(0))), 0).ipVersion, 6, `AF ${af}`);
  const llc = cat(new Uint8Array(12), Uint8Array.of(0, 38), new Uint8Array(38));
  assert.deepEqual([dec(llc).etherType, v.l3, v.truncLayer], [0, -1, Layer.None]);
  assert.deepEqual([dec(ip, 147).etherType, v.l3], [0, -1]);
});

test('the view resets between packets (no field leaks from the previous one)', () => {
  dec(ether(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6 }, tcp('10.0.0.1', '10.0.0.2', { sport: 1, dport: 2, seq: 1, flags: ACK })), { vlans: [3] }));
  const p = dec(ether(0x0806, arp(1, '00:00:5e:00:53:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.2')));
  assert.deepEqual([p.vlanCount, p.srcPort, p.proto, p.l4, p.tcpSeq, p.ipVersion], [0, 0, -1, -1, 0, 0]);
});

test('every packet of every good fixture decodes to the summary the generator wrote', async () => {
  const view = new PacketView();
  let n = 0;
  for (const e of loadManifest().filter((m) => !m.error)) {
    const got: string[] = [];
    for await (const b of new CaptureReader(join(FOUNDATION, e.name)).batches()) {
      for (let i = 0; i < b.count; i++) { decodeBatchPacket(view, b, i); got.push(summarize(view)); }
    }
    assert.deepEqual(got, e.list.map((p) => p.d), e.name);
    n += got.length;
  }
  assert.ok(n > 150, `${n} packets`);
});
