// Lax zero-copy decoder: link (Ethernet + 802.1Q/802.1ad, SLL, SLL2, NULL/LOOP, RAW/IPv4/IPv6) → IPv4/IPv6
// (options, extension headers, fragments) → TCP/UDP/ICMP/ICMPv6/SCTP, and ARP. Fills a reused PacketView;
// a truncated packet decodes as far as it goes and records the layer and offset where it stopped.

import type { PacketBatch } from '../pcap/batch.js';
import { Layer, PacketView, PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from './view.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

/** Decode packet `i` of `batch` into `v`; with `decap`, tunnels (GRE, Geneve, VXLAN) are opened to the innermost packet. */
export function decodeBatchPacket(v: PacketView, batch: PacketBatch, i: number, decap = false): void {
  const o = batch.offset[i]!;
  decodePacket(v, batch.buf, o, o + batch.caplen[i]!, batch.linkType[i]!);
  if (decap) decapsulate(v);
}

/** Tunnels opened at most this deep (Geneve → GRE → IP is two). */
export const MAX_TUNNEL_DEPTH = 4;
export const PROTO_GRE = 47;
export const UDP_PORT_GENEVE = 6081;
export const UDP_PORT_VXLAN = 4789;

/**
 * Replace the decoded outer packet in `v` by the packet it tunnels (GRE v0 with IPv4/IPv6/Ethernet/ERSPAN II
 * payloads, Geneve, VXLAN), repeatedly, as Suricata does before flow tracking. `v.tunnelDepth` counts the
 * layers removed; a tunnel header that is cut short leaves the outer packet decoded.
 */
export function decapsulate(v: PacketView): void {
  for (let depth = 1; depth <= MAX_TUNNEL_DEPTH; depth++) {
    const inner = tunnelPayload(v);
    if (!inner) return;
    const buf = v.buf, end = v.ipEnd, outerStart = v.start, outerEnd = v.end;
    decodePacket(v, buf, inner.start, end, inner.linkType);
    v.start = outerStart;
    v.end = outerEnd;
    v.tunnelDepth = depth;
  }
}

/** Where the tunnelled packet starts and how to decode it, or null when `v` is not a tunnel we open. */
function tunnelPayload(v: PacketView): { start: number; linkType: number } | null {
  if (v.payload < 0 || v.isFragment || v.truncLayer !== Layer.None) return null;
  const b = v.buf, p = v.payload, end = v.ipEnd;
  if (v.proto === PROTO_GRE && v.l4 < 0) {
    if (end - p < 4) return null;
    const flags = (b[p]! << 8) | b[p + 1]!;
    if ((flags & 7) !== 0) return null; // only GRE version 0
    const type = (b[p + 2]! << 8) | b[p + 3]!;
    let q = p + 4 + (flags & 0xc000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
    if (type === 0x88be && flags & 0x1000) q += 8; // ERSPAN type II header
    if (q >= end) return null;
    if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return { start: q, linkType: LINKTYPE_RAW };
    if (type === 0x6558 || type === 0x88be) return { start: q, linkType: LINKTYPE_ETHERNET };
    return null;
  }
  if (v.proto === PROTO_UDP && v.l4 >= 0) {
    if (v.dstPort === UDP_PORT_GENEVE) {
      if (end - p < 8 || (b[p]! >> 6) !== 0) return null;
      const q = p + 8 + (b[p]! & 0x3f) * 4;
      const type = (b[p + 2]! << 8) | b[p + 3]!;
      if (q >= end) return null;
      if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return { start: q, linkType: LINKTYPE_RAW };
      if (type === 0x6558) return { start: q, linkType: LINKTYPE_ETHERNET };
      return null;
    }
    if (v.dstPort === UDP_PORT_VXLAN) {
      if (end - p < 8 + 14 || (b[p]! & 0x08) === 0) return null;
      return { start: p + 8, linkType: LINKTYPE_ETHERNET };
    }
  }
  return null;
}

/** Decode the packet occupying buf[start, end) captured on `linkType` into `v`. */
export function decodePacket(v: PacketView, buf: Uint8Array, start: number, end: number, linkType: number): void {
  v.reset(buf, start, end, linkType);
  let p = start;
  let et = 0;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (end - p < 14) return trunc(v, Layer.Link, p + 14);
      et = (buf[p + 12]! << 8) | buf[p + 13]!;
      p += 14;
      while (et === ETHERTYPE_VLAN || et === ETHERTYPE_QINQ || et === ETHERTYPE_QINQ_OLD) {
        if (end - p < 4) { v.etherType = et; return trunc(v, Layer.Vlan, p + 4); }
        const id = ((buf[p]! << 8) | buf[p + 1]!) & 0x0fff;
        if (v.vlanCount === 0) v.vlan0 = id; else if (v.vlanCount === 1) v.vlan1 = id;
        v.vlanCount++;
        et = (buf[p + 2]! << 8) | buf[p + 3]!;
        p += 4;
      }
      if (et <= 1500) et = 0; // 802.3 length field: LLC payload, not decoded here
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (end - p < 16) return trunc(v, Layer.Link, p + 16);
      et = (buf[p + 14]! << 8) | buf[p + 15]!;
      p += 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (end - p < 20) return trunc(v, Layer.Link, p + 20);
      et = (buf[p]! << 8) | buf[p + 1]!;
      p += 20;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (end - p < 4) return trunc(v, Layer.Link, p + 4);
      // NULL is host byte order, LOOP network order; accept both orders for either.
      const be = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      const le = ((buf[p + 3]! << 24) | (buf[p + 2]! << 16) | (buf[p + 1]! << 8) | buf[p]!) >>> 0;
      const af = linkType === LINKTYPE_LOOP ? be : (be & 0xffff0000) === 0 && be !== 0 ? be : le;
      et = af === 2 ? ETHERTYPE_IPV4 : af === 10 || af === 24 || af === 28 || af === 30 ? ETHERTYPE_IPV6 : 0;
      p += 4;
      break;
    }
    case LINKTYPE_RAW:
    case 12: // DLT_RAW on some BSDs
    case 14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      if (end - p < 1) return trunc(v, Layer.Link, p + 1);
      et = (buf[p]! >> 4) === 6 ? ETHERTYPE_IPV6 : (buf[p]! >> 4) === 4 ? ETHERTYPE_IPV4 : 0;
      break;
    default:
      return;
  }
  v.etherType = et;
  if (et === ETHERTYPE_IPV4) decodeIpv4(v, buf, p, end);
  else if (et === ETHERTYPE_IPV6) decodeIpv6(v, buf, p, end);
  else if (et === ETHERTYPE_ARP) {
    v.l3 = p;
    if (end - p < 8) trunc(v, Layer.ARP, p + 8);
    else {
      // Fixed part + sender and target hardware/protocol addresses (hln, pln bytes each).
      const need = 8 + 2 * (buf[p + 4]! + buf[p + 5]!);
      if (end - p < need) trunc(v, Layer.ARP, p + need);
    }
  }
}

function trunc(v: PacketView, layer: Layer, at: number): void {
  v.truncLayer = layer;
  v.truncAt = at;
}

/** Decode an IPv4 header at `p`. */
export function decodeIpv4(v: PacketView, b: Uint8Array, p: number, end: number): void {
  v.l3 = p;
  if (end - p < 20) return trunc(v, Layer.IPv4, p + 20);
  const ihl = (b[p]! & 0x0f) * 4;
  if ((b[p]! >> 4) !== 4 || ihl < 20) return trunc(v, Layer.IPv4, p);
  v.ipVersion = 4;
  v.src = p + 12;
  v.dst = p + 16;
  const total = (b[p + 2]! << 8) | b[p + 3]!;
  v.ipTotalLen = total;
  v.ipEnd = total >= ihl ? Math.min(end, p + total) : end;
  v.fragId = (b[p + 4]! << 8) | b[p + 5]!;
  const ff = (b[p + 6]! << 8) | b[p + 7]!;
  v.fragOffset = (ff & 0x1fff) * 8;
  v.moreFragments = (ff & 0x2000) !== 0;
  v.isFragment = v.fragOffset > 0 || v.moreFragments;
  v.ttl = b[p + 8]!;
  v.proto = b[p + 9]!;
  if (end - p < ihl) return trunc(v, Layer.IPv4, p + ihl);
  if (v.fragOffset > 0) {
    v.payload = p + ihl;
    v.payloadLen = Math.max(0, v.ipEnd - v.payload);
    v.payloadWireLen = Math.max(0, total - ihl);
    return;
  }
  decodeL4(v, b, p + ihl, v.ipEnd, total >= ihl ? p + total : p + ihl + (end - p - ihl));
}

/** Decode an IPv6 header and its extension headers at `p`. */
export function decodeIpv6(v: PacketView, b: Uint8Array, p: number, end: number): void {
  v.l3 = p;
  if (end - p < 40) return trunc(v, Layer.IPv6, p + 40);
  if ((b[p]! >> 4) !== 6) return trunc(v, Layer.IPv6, p);
  v.ipVersion = 6;
  v.src = p + 8;
  v.dst = p + 24;
  const plen = (b[p + 4]! << 8) | b[p + 5]!;
  v.ipTotalLen = 40 + plen;
  // A zero payload length (jumbogram or TSO capture) means "to the end of the capture".
  const wireEnd = plen === 0 ? end : p + 40 + plen;
  v.ipEnd = Math.min(end, wireEnd);
  v.ttl = b[p + 7]!;
  let nh = b[p + 6]!;
  let q = p + 40;
  for (let guard = 0; guard < 16; guard++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 135 || nh === 139 || nh === 140) {
      if (v.ipEnd - q < 8) { v.proto = nh; return trunc(v, Layer.IPv6Ext, q + 8); }
      const len = (b[q + 1]! + 1) * 8;
      // A header cut inside its body stops here, at its own end (not at the next header's).
      if (v.ipEnd - q < len) { v.proto = nh; return trunc(v, Layer.IPv6Ext, q + len); }
      nh = b[q]!;
      q += len;
    } else if (nh === 51) {
      if (v.ipEnd - q < 8) { v.proto = nh; return trunc(v, Layer.IPv6Ext, q + 8); }
      const len = (b[q + 1]! + 2) * 4;
      if (v.ipEnd - q < len) { v.proto = nh; return trunc(v, Layer.IPv6Ext, q + len); }
      nh = b[q]!;
      q += len;
    } else if (nh === 44) {
      if (v.ipEnd - q < 8) { v.proto = nh; return trunc(v, Layer.IPv6Ext, q + 8); }
      const fo = (b[q + 2]! << 8) | b[q + 3]!;
      v.fragOffset = fo & 0xfff8;
      v.moreFragments = (fo & 1) !== 0;
      v.isFragment = true;
      v.fragId = ((b[q + 4]! << 24) | (b[q + 5]! << 16) | (b[q + 6]! << 8) | b[q + 7]!) >>> 0;
      nh = b[q]!;
      q += 8;
      if (v.fragOffset > 0) {
        v.proto = nh;
        v.payload = q;
        v.payloadLen = Math.max(0, v.ipEnd - q);
        v.payloadWireLen = Math.max(0, wireEnd - q);
        return;
      }
    } else break;
  }
  v.proto = nh;
  if (q > v.ipEnd) return trunc(v, Layer.IPv6Ext, q);
  decodeL4(v, b, q, v.ipEnd, wireEnd);
}

/** Decode the transport header at `p`; `end` is the captured end of the datagram, `wireEnd` its announced end. */
function decodeL4(v: PacketView, b: Uint8Array, p: number, end: number, wireEnd: number): void {
  const proto = v.proto;
  if (proto === PROTO_TCP) {
    v.l4 = p;
    if (end - p < 20) return trunc(v, Layer.TCP, p + 20);
    v.srcPort = (b[p]! << 8) | b[p + 1]!;
    v.dstPort = (b[p + 2]! << 8) | b[p + 3]!;
    v.tcpSeq = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    v.tcpAck = ((b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!) >>> 0;
    const hl = (b[p + 12]! >> 4) * 4;
    v.tcpHdrLen = hl;
    v.tcpFlags = b[p + 13]!;
    v.tcpWin = (b[p + 14]! << 8) | b[p + 15]!;
    if (hl < 20) return trunc(v, Layer.TCP, p + 12);
    if (end - p < hl) return trunc(v, Layer.TCP, p + hl);
    v.payload = p + hl;
    v.payloadLen = end - v.payload;
    v.payloadWireLen = Math.max(0, wireEnd - v.payload);
  } else if (proto === PROTO_UDP) {
    v.l4 = p;
    if (end - p < 8) return trunc(v, Layer.UDP, p + 8);
    v.srcPort = (b[p]! << 8) | b[p + 1]!;
    v.dstPort = (b[p + 2]! << 8) | b[p + 3]!;
    v.payload = p + 8;
    v.payloadLen = end - v.payload;
    v.payloadWireLen = Math.max(0, wireEnd - v.payload);
  } else if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    v.l4 = p;
    if (end - p < 4) return trunc(v, proto === PROTO_ICMP ? Layer.ICMP : Layer.ICMPv6, p + 4);
    v.icmpType = b[p]!;
    v.icmpCode = b[p + 1]!;
    v.payload = Math.min(p + 8, end);
    v.payloadLen = end - v.payload;
    v.payloadWireLen = Math.max(0, wireEnd - p - 8);
    if (end - p < 8) trunc(v, proto === PROTO_ICMP ? Layer.ICMP : Layer.ICMPv6, p + 8);
  } else if (proto === PROTO_SCTP) {
    v.l4 = p;
    if (end - p < 12) return trunc(v, Layer.SCTP, p + 12);
    v.srcPort = (b[p]! << 8) | b[p + 1]!;
    v.dstPort = (b[p + 2]! << 8) | b[p + 3]!;
    v.payload = p + 12;
    v.payloadLen = end - v.payload;
    v.payloadWireLen = Math.max(0, wireEnd - v.payload);
  } else {
    v.payload = p;
    v.payloadLen = Math.max(0, end - p);
    v.payloadWireLen = Math.max(0, wireEnd - p);
  }
}
