// Flow keys: the canonical bidirectional 5-tuple (+ VLAN ids) packed into a fixed-size byte array, its symmetric
// hash, and the ICMP/ICMPv6 type→port mapping of Community ID (echo request and reply are one flow).
//
// Layout (KEY_BYTES = 44): [0] ip version, [1] protocol, [2..3] outer VLAN, [4..5] inner VLAN, [6..7] port A,
// [8..9] port B, [10..11] zero, [12..27] address A, [28..43] address B (IPv4 in the first 4 bytes, rest zero).
// Endpoint A is the lower (address, port) pair, so both directions give the same bytes.

import { PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP, type PacketView } from '../decode/view.js';

export const KEY_BYTES = 44;
export const KEY_WORDS = KEY_BYTES / 4;

/** ICMPv4 types that have a reply counterpart (Community ID v1 table). */
const ICMP4_PAIRS: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17 };
/** ICMPv6 types that have a counterpart. */
const ICMP6_PAIRS: Record<number, number> = { 128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 144: 145, 145: 144, 139: 140, 140: 139 };

/** Counterpart of an ICMP(v6) type for two-way types, or -1 when the type is one-way. */
export function icmpCounterpart(proto: number, type: number): number {
  const t = proto === PROTO_ICMP ? ICMP4_PAIRS[type] : ICMP6_PAIRS[type];
  return t === undefined ? -1 : t;
}

/** True for protocols whose tuple has ports (or ICMP type/code mapped to ports). */
export function hasPorts(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP || proto === PROTO_ICMP || proto === PROTO_ICMPV6;
}

/**
 * Reusable key builder: fills `bytes` (and its word view) for a packet. After build(): `swapped` tells whether
 * the packet's source is endpoint B of the key, `sport`/`dport` are the packet's (mapped) ports.
 */
export class KeyBuilder {
  readonly bytes = new Uint8Array(KEY_BYTES);
  readonly words = new Uint32Array(this.bytes.buffer);
  swapped = false;
  sport = 0;
  dport = 0;
  /** True for ICMP types without a counterpart (Community ID "one-way"). */
  oneWay = false;
  constructor(readonly withVlan = true) {}

  /**
   * Build the key of decoded packet `v` with the given transport ports (already resolved through defrag);
   * ICMP types are mapped here. Returns false when the packet is not IP.
   */
  build(v: PacketView, sport: number, dport: number): boolean {
    const ver = v.ipVersion;
    if (ver !== 4 && ver !== 6) return false;
    const b = this.bytes, src = v.buf, alen = ver === 4 ? 4 : 16;
    const proto = v.proto;
    this.oneWay = false;
    if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
      if (v.icmpType >= 0) {
        const c = icmpCounterpart(proto, v.icmpType);
        sport = v.icmpType;
        if (c >= 0) dport = c; else { dport = v.icmpCode; this.oneWay = true; }
      }
    } else if (!hasPorts(proto)) { sport = 0; dport = 0; }
    this.sport = sport; this.dport = dport;
    // Order endpoints: compare addresses byte by byte, then ports.
    let cmp = 0;
    const s = v.src, d = v.dst;
    for (let i = 0; i < alen; i++) {
      const x = src[s + i]!, y = src[d + i]!;
      if (x !== y) { cmp = x < y ? -1 : 1; break; }
    }
    if (cmp === 0) cmp = sport < dport ? -1 : sport > dport ? 1 : 0;
    const swap = cmp > 0;
    this.swapped = swap;
    const w = this.words;
    for (let i = 0; i < KEY_WORDS; i++) w[i] = 0;
    b[0] = ver; b[1] = proto & 0xff;
    if (this.withVlan && v.vlanCount > 0) {
      b[2] = v.vlan0 >> 8; b[3] = v.vlan0 & 0xff;
      if (v.vlanCount > 1) { b[4] = v.vlan1 >> 8; b[5] = v.vlan1 & 0xff; }
    }
    const pa = swap ? dport : sport, pb = swap ? sport : dport;
    b[6] = pa >> 8; b[7] = pa & 0xff; b[8] = pb >> 8; b[9] = pb & 0xff;
    const aOff = swap ? d : s, bOff = swap ? s : d;
    for (let i = 0; i < alen; i++) { b[12 + i] = src[aOff + i]!; b[28 + i] = src[bOff + i]!; }
    return true;
  }

  /** Symmetric 32-bit hash of the current key (the key is canonical, so both directions hash alike). */
  hash(): number {
    return hashKeyWords(this.words);
  }
}

/** 32-bit hash of a key's words (murmur3-style mixing; identical in every thread). */
export function hashKeyWords(w: Uint32Array): number {
  let h = 0x2545f491;
  for (let i = 0; i < KEY_WORDS; i++) {
    let k = Math.imul(w[i]!, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= KEY_BYTES;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Shard of a flow hash among `workers`: from the hash's high bits (multiply-shift), so that each shard's flow
 * table, which buckets by the low bits, still uses all of its buckets.
 */
export function shardOf(hash: number, workers: number): number {
  return Math.floor((hash >>> 16) * workers / 65536);
}

/** True when two keys (as word views) are equal. */
export function keyEquals(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (a[i] !== b[i]) return false;
  return true;
}
