// Tunnel decapsulation (GRE v0 with IP / Ethernet payloads, Geneve, VXLAN, nested): the view ends on the
// innermost packet, as Suricata tracks flows; a cut tunnel header leaves the outer packet decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketView, decodePacket, decapsulate, ipv4String, LINKTYPE_ETHERNET } from '../../src/decode/index.js';
import { cat, ether, ipv4, tcp, udp } from '../../fixtures/make/packet.js';

const innerTcp = ipv4({ src: '10.2.0.1', dst: '10.2.0.2', proto: 6 }, tcp('10.2.0.1', '10.2.0.2', { sport: 39198, dport: 1234, seq: 7, flags: 0x02 }));
const gre = (type: number, payload: Uint8Array, flags = 0) => cat(Uint8Array.of(flags >> 8, flags & 0xff, type >> 8, type & 0xff), flags & 0x2000 ? Uint8Array.of(0, 0, 0, 9) : new Uint8Array(0), payload);

function decode(frame: Uint8Array): PacketView {
  const v = new PacketView();
  decodePacket(v, frame, 0, frame.length, LINKTYPE_ETHERNET);
  decapsulate(v);
  return v;
}

test('GRE with an IPv4 payload and a key', () => {
  const v = decode(ether(0x0800, ipv4({ src: '192.168.0.23', dst: '192.168.0.20', proto: 47 }, gre(0x0800, innerTcp, 0x2000))));
  assert.equal(v.tunnelDepth, 1);
  assert.equal(ipv4String(v.buf, v.src), '10.2.0.1');
  assert.equal(v.dstPort, 1234);
  assert.equal(v.tcpFlags, 0x02);
});

test('Geneve carrying IPv4 carrying GRE carrying TCP (two layers)', () => {
  const gen = cat(Uint8Array.of(0x02, 0, 0x08, 0x00, 0, 0, 0, 0), new Uint8Array(8), ipv4({ src: '10.0.1.72', dst: '10.0.2.31', proto: 47 }, gre(0x0800, innerTcp)));
  const outer = ether(0x0800, ipv4({ src: '10.0.10.74', dst: '10.0.8.64', proto: 17 }, udp('10.0.10.74', '10.0.8.64', 60276, 6081, gen)));
  const v = decode(outer);
  assert.equal(v.tunnelDepth, 2);
  assert.equal(ipv4String(v.buf, v.dst), '10.2.0.2');
  assert.equal(v.srcPort, 39198);
});

test('VXLAN and transparent-Ethernet GRE open to the inner Ethernet frame', () => {
  const inner = ether(0x0800, innerTcp);
  const vx = decode(ether(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17 }, udp('1.1.1.1', '2.2.2.2', 5000, 4789, cat(Uint8Array.of(0x08, 0, 0, 0, 0, 0, 1, 0), inner)))));
  assert.equal(vx.tunnelDepth, 1);
  assert.equal(vx.dstPort, 1234);
  const teb = decode(ether(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 47 }, gre(0x6558, inner))));
  assert.equal(teb.tunnelDepth, 1);
  assert.equal(ipv4String(teb.buf, teb.src), '10.2.0.1');
});

test('a cut or foreign tunnel header leaves the outer packet', () => {
  const cut = decode(ether(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 47 }, Uint8Array.of(0, 0))));
  assert.equal(cut.tunnelDepth, 0);
  assert.equal(cut.proto, 47);
  const pptp = decode(ether(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 47 }, gre(0x880b, new Uint8Array(8), 0x0001))));
  assert.equal(pptp.tunnelDepth, 0);
  assert.equal(ipv4String(pptp.buf, pptp.src), '1.1.1.1');
  const dns = decode(ether(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17 }, udp('1.1.1.1', '2.2.2.2', 5000, 53, new Uint8Array(12)))));
  assert.equal(dns.tunnelDepth, 0);
  assert.equal(dns.dstPort, 53);
});
