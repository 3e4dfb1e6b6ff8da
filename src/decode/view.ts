// PacketView: one reusable struct that decodePacket() fills in place for each packet (no object per packet).
// Offsets index the batch buffer the packet lives in: the view is valid only until that buffer is released.

/** Layers a lax decode can stop in. */
export const enum Layer {
  None = 0,
  Link = 1,
  Vlan = 2,
  IPv4 = 3,
  IPv6 = 4,
  IPv6Ext = 5,
  TCP = 6,
  UDP = 7,
  ICMP = 8,
  ICMPv6 = 9,
  SCTP = 10,
  ARP = 11,
}

/** Names of Layer values, for messages and JSON. */
export const LAYER_NAMES = ['none', 'link', 'vlan', 'ipv4', 'ipv6', 'ipv6-ext', 'tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'arp'] as const;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
export const PROTO_SCTP = 132;

/** TCP flag bits as in the header's flags byte. */
export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10, TCP_URG = 0x20, TCP_ECE = 0x40, TCP_CWR = 0x80;

/** Decoded fields of the current packet. All offsets are into `buf`; -1 means absent. */
export class PacketView {
  buf: Uint8Array = new Uint8Array(0);
  /** First byte of the packet and one past its last captured byte. */
  start = 0;
  end = 0;
  linkType = 0;
  /** Number of 802.1Q/802.1ad tags seen (up to 2 recorded). */
  vlanCount = 0;
  /** Outer and inner VLAN ids (0 when absent). */
  vlan0 = 0;
  vlan1 = 0;
  /** EtherType (or SLL protocol / equivalent) of the network layer; 0 when unknown. */
  etherType = 0;
  /** Offset of the network-layer header, -1 when none. */
  l3 = -1;
  /** 4 or 6 for IP, 0 otherwise (ARP sets etherType 0x0806). */
  ipVersion = 0;
  /** Offset of the source and destination addresses (4 or 16 bytes each), -1 when absent. */
  src = -1;
  dst = -1;
  /** One past the last byte of the IP datagram as captured (min of total length and capture). */
  ipEnd = 0;
  /** Total length of the IP datagram from its header (IPv6: 40 + payload length). */
  ipTotalLen = 0;
  ttl = 0;
  /** IPv4 identification or IPv6 fragment-header identification. */
  fragId = 0;
  /** Fragment offset in bytes, and the more-fragments flag. */
  fragOffset = 0;
  moreFragments = false;
  /** True when this is a fragment (offset > 0 or MF set, or an IPv6 fragment header). */
  isFragment = false;
  /** Final upper-layer protocol number (after IPv6 extension headers). */
  proto = -1;
  /** Offset of the transport header, -1 when absent (e.g. non-first fragment). */
  l4 = -1;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWin = 0;
  tcpHdrLen = 0;
  icmpType = -1;
  icmpCode = -1;
  /** Transport payload: offset and captured length (bounded by the IP length), -1/0 when absent. */
  payload = -1;
  payloadLen = 0;
  /** Payload length the headers announce (may exceed what was captured). */
  payloadWireLen = 0;
  /** Layer where decoding stopped early (Layer.None when complete) and the byte offset of the shortfall. */
  truncLayer: Layer = Layer.None;
  truncAt = -1;
  /** Tunnel layers removed by decapsulate() (0: the packet as captured). */
  tunnelDepth = 0;

  /** Reset every field for a new packet. */
  reset(buf: Uint8Array, start: number, end: number, linkType: number): void {
    this.buf = buf; this.start = start; this.end = end; this.linkType = linkType;
    this.vlanCount = 0; this.vlan0 = 0; this.vlan1 = 0; this.etherType = 0; this.l3 = -1; this.ipVersion = 0;
    this.src = -1; this.dst = -1; this.ipEnd = 0; this.ipTotalLen = 0; this.ttl = 0; this.fragId = 0; this.fragOffset = 0;
    this.moreFragments = false; this.isFragment = false; this.proto = -1; this.l4 = -1; this.srcPort = 0; this.dstPort = 0;
    this.tcpFlags = 0; this.tcpSeq = 0; this.tcpAck = 0; this.tcpWin = 0; this.tcpHdrLen = 0; this.icmpType = -1; this.icmpCode = -1;
    this.payload = -1; this.payloadLen = 0; this.payloadWireLen = 0; this.truncLayer = Layer.None; this.truncAt = -1;
    this.tunnelDepth = 0;
  }

  /** Address length in bytes (4 or 16; 0 when not IP). */
  get addrLen(): number {
    return this.ipVersion === 4 ? 4 : this.ipVersion === 6 ? 16 : 0;
  }
}
