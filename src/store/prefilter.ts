// Offline prefilter: when every alert is known before the replay, only packets whose (direction-free) tuple
// is an alerted tuple need the flow table. A 32-bit symmetric hash computed from the packet bytes (no
// strings, no objects) is checked against the alerts' hashes; collisions only let extra packets through.
// Flow decisions stay the table's: it sees every packet of every alerted tuple (IP fragments always pass).

import { parseIp } from '../decode/addr.js';
import type { PacketView } from '../decode/view.js';
import { hasPorts, type Alert } from '../eve/alert.js';

function endpointHash(b: ArrayLike<number>, o: number, len: number, port: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ b[o + i]!, 0x01000193);
  h = Math.imul(h ^ (port & 0xff), 0x01000193);
  h = Math.imul(h ^ (port >>> 8), 0x01000193);
  return h >>> 0;
}

function combine(proto: number, a: number, b: number): number {
  // Commutative in (a, b) so both directions hash alike.
  return (Math.imul((a + b) >>> 0, 0x9e3779b1) ^ Math.imul(a ^ b, 0x85ebca77) ^ proto) >>> 0;
}

/** Direction-free hash of a decoded packet's tuple; -1 when it has none (not IP). */
export function packetTupleHash(v: PacketView): number {
  if (!v.ipVersion) return -1;
  const al = v.addrLen, ports = hasPorts(v.proto);
  return combine(v.proto, endpointHash(v.buf, v.src, al, ports ? v.srcPort : 0), endpointHash(v.buf, v.dst, al, ports ? v.dstPort : 0));
}

/** Direction-free hash of an alert's tuple (as packetTupleHash computes it); -1 when its addresses do not parse. */
export function alertTupleHash32(a: Alert): number {
  const s = parseIp(a.srcIp), d = parseIp(a.destIp);
  if (!s || !d || a.proto < 0) return -1;
  const ports = hasPorts(a.proto);
  return combine(a.proto, endpointHash(s, 0, s.length, ports ? a.srcPort : 0), endpointHash(d, 0, d.length, ports ? a.destPort : 0));
}

/** rawTupleHash result: the packet is not IP (never an alerted flow). */
export const RAW_NOT_IP = -1;
/** rawTupleHash result: the fast path cannot tell (fragment, IPv6 extension header, other link): decode fully. */
export const RAW_DECODE = -2;

/**
 * Direction-free tuple hash read straight from the bytes of an Ethernet (VLAN-tagged or not) or raw-IP
 * packet, the same value packetTupleHash gives: only the bytes it needs, no PacketView.
 */
export function rawTupleHash(b: Uint8Array, p: number, end: number, linkType: number): number {
  let v: number;
  if (linkType === 1) {
    if (end - p < 14) return RAW_NOT_IP;
    let et = (b[p + 12]! << 8) | b[p + 13]!;
    p += 14;
    while (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
      if (end - p < 4) return RAW_NOT_IP;
      et = (b[p + 2]! << 8) | b[p + 3]!;
      p += 4;
    }
    if (et === 0x0800) v = 4; else if (et === 0x86dd) v = 6; else return RAW_NOT_IP;
  } else if (linkType === 101 || linkType === 228 || linkType === 229) {
    if (end - p < 1) return RAW_NOT_IP;
    v = b[p]! >> 4;
    if (v !== 4 && v !== 6) return RAW_NOT_IP;
  } else return RAW_DECODE;
  let proto: number, src: number, dst: number, al: number, l4: number;
  if (v === 4) {
    if (end - p < 20) return RAW_DECODE;
    const ihl = (b[p]! & 0x0f) * 4;
    if ((b[p + 6]! & 0x3f) !== 0 || b[p + 7]! !== 0) return RAW_DECODE; // MF or offset: a fragment
    proto = b[p + 9]!; src = p + 12; dst = p + 16; al = 4; l4 = p + ihl;
  } else {
    if (end - p < 40) return RAW_DECODE;
    proto = b[p + 6]!; src = p + 8; dst = p + 24; al = 16; l4 = p + 40;
    if (proto === 0 || proto === 43 || proto === 44 || proto === 60 || proto === 51 || proto === 135 || proto === 139 || proto === 140) return RAW_DECODE;
  }
  let sp = 0, dp = 0;
  if (proto === 6 || proto === 17 || proto === 132) {
    if (end - l4 < 4) return RAW_DECODE;
    sp = (b[l4]! << 8) | b[l4 + 1]!;
    dp = (b[l4 + 2]! << 8) | b[l4 + 3]!;
  }
  return combine(proto, endpointHash(b, src, al, sp), endpointHash(b, dst, al, dp));
}

/** The set of alerted tuples; `passes(view)` says whether a packet must reach the flow table. */
export class TuplePrefilter {
  readonly #set = new Set<number>();
  /** One bit per low-20-bit hash value: a packet whose bit is clear is not alerted (one memory read). */
  readonly #bits = new Uint8Array(1 << 17);
  /** Packets let through and held back. */
  passed = 0;
  dropped = 0;

  constructor(alerts: readonly Alert[]) {
    for (const a of alerts) {
      const h = alertTupleHash32(a);
      if (h >= 0) { this.#set.add(h); this.#bits[(h & 0xfffff) >>> 3]! |= 1 << (h & 7); }
    }
  }

  /** True when the hash (from rawTupleHash / packetTupleHash) is an alerted tuple's. */
  has(h: number): boolean {
    return (this.#bits[(h & 0xfffff) >>> 3]! & (1 << (h & 7))) !== 0 && this.#set.has(h);
  }

  /** True when the packet may belong to an alerted flow (non-IP packets never do; fragments always pass). */
  passes(v: PacketView): boolean {
    if (v.isFragment) { this.passed++; return true; }
    const h = packetTupleHash(v);
    if (h >= 0 && this.#set.has(h)) { this.passed++; return true; }
    this.dropped++;
    return false;
  }
}
