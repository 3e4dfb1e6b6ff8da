// The ioc test capture, built from the deterministic packet builders in fixtures/make: IPv4 TCP, IPv6 TCP over
// VLAN 10, UDP, DNS, ICMP, a fragmented UDP datagram, ARP, link-local ICMPv6, public-to-public TCP and a
// truncated TCP header; plus the indicator list the tests match it against.
import { arp, byTime, echoRest, ether, icmp, icmp6, ipv4, ipv6, TcpConversation, udp, type Frame } from '../../fixtures/make/packet.js';

const T0 = 1700000000;

function frameAt(t: number, data: Uint8Array): Frame {
  const sec = Math.floor(t);
  return { sec, nsec: Math.round((t - sec) * 1e6) * 1000, data };
}

/** The test capture's frames (time-ordered). */
export function iocFrames(): Frame[] {
  const frames: Frame[] = [];
  const web = new TcpConversation({ ip: '192.168.1.23', port: 49152 }, { ip: '203.0.113.80', port: 80 }, { t0: T0, step: 0.01 });
  web.handshake().send(true, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').send(false, 'HTTP/1.1 200 OK\r\n\r\n' + 'z'.repeat(3000)).close();
  frames.push(...web.frames);
  const v6 = new TcpConversation({ ip: 'fd00::23', port: 50000 }, { ip: '2001:db8:bad::66', port: 443 }, { t0: T0 + 1, step: 0.02, vlans: [10] });
  v6.handshake().send(true, 'hello').send(false, 'world!').reset(false);
  frames.push(...v6.frames);
  const pub = new TcpConversation({ ip: '198.51.100.66', port: 8080 }, { ip: '203.0.113.80', port: 80 }, { t0: T0 + 2, step: 0.005 });
  pub.handshake();
  frames.push(...pub.frames);
  const c = '192.168.1.23', dns = '198.51.100.53', c2 = '198.51.100.66';
  const dnsQ = Uint8Array.of(0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 101, 118, 105, 108, 0, 0, 1, 0, 1);
  frames.push(frameAt(T0 + 3, ether(0x0800, ipv4({ src: c, dst: dns, proto: 17, id: 1 }, udp(c, dns, 33000, 53, dnsQ)))));
  frames.push(frameAt(T0 + 3.1, ether(0x0800, ipv4({ src: c, dst: c2, proto: 17, id: 2 }, udp(c, c2, 40000, 9999, new Uint8Array(100))))));
  frames.push(frameAt(T0 + 3.2, ether(0x0800, ipv4({ src: c, dst: c2, proto: 1, id: 3 }, icmp(8, 0, echoRest(7, 1), new Uint8Array(56))))));
  frames.push(frameAt(T0 + 3.3, ether(0x0800, ipv4({ src: c2, dst: c, proto: 1, id: 4 }, icmp(0, 0, echoRest(7, 1), new Uint8Array(56))))));
  // A UDP datagram in two fragments: the first carries the ports, the second does not.
  const dgram = udp(c, c2, 40001, 7777, new Uint8Array(1600).fill(0x61));
  frames.push(frameAt(T0 + 3.4, ether(0x0800, ipv4({ src: c, dst: c2, proto: 17, id: 99, mf: true }, dgram.subarray(0, 1480)))));
  frames.push(frameAt(T0 + 3.41, ether(0x0800, ipv4({ src: c, dst: c2, proto: 17, id: 99, fragOffset: 1480 }, dgram.subarray(1480)))));
  frames.push(frameAt(T0 + 3.5, ether(0x0806, arp(1, '00:00:5e:00:53:01', c, '00:00:00:00:00:00', '192.168.1.1'))));
  frames.push(frameAt(T0 + 3.6, ether(0x86dd, ipv6({ src: 'fe80::1', dst: '2001:db8:bad::99', nh: 58 }, icmp6('fe80::1', '2001:db8:bad::99', 128, 0, echoRest(1, 1))))));
  frames.push(frameAt(T0 + 3.7, ether(0x0800, ipv4({ src: '10.9.9.9', dst: '10.8.8.8', proto: 6, id: 5 }, new Uint8Array(8)))));
  return byTime(frames);
}

export const LIST = [
  '# test feed',
  '203.0.113.0/24,doc-net',
  '203.0.113.80,web',
  '198.51.100.66,c2',
  '198.51.100.53/32,resolver',
  '2001:db8:bad::/48,bad6',
  '10.8.8.8,inside',
].join('\n');
