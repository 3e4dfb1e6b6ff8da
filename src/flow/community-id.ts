// Community ID v1 (https://github.com/corelight/community-id-spec): SHA-1 over seed, ordered addresses,
// protocol and ports, printed as "1:" + base64 (or hex). The `suricata` flavour reproduces Suricata's output:
// one-way ICMP types get counterpart 0 and are ordered like any tuple; port-less protocols hash 4 zero port bytes.

import { PROTO_ICMP, PROTO_ICMPV6, type PacketView } from '../decode/view.js';
import { hasPorts, icmpCounterpart } from './key.js';

export interface CommunityIdOptions {
  /** 16-bit seed (default 0). */
  seed?: number;
  /** Base64 digest (default true); false prints lowercase hex. */
  base64?: boolean;
  /** 'spec' (default) or 'suricata'. */
  flavour?: 'spec' | 'suricata';
}

/**
 * Community ID of a tuple. For ICMP/ICMPv6 pass the type as `sport` and the code as `dport` (mapped here).
 * `saddr`/`daddr` are 4- or 16-byte addresses.
 */
export function communityId(proto: number, saddr: Uint8Array, daddr: Uint8Array, sport: number, dport: number, o: CommunityIdOptions = {}): string {
  return idString(digest(proto, saddr, 0, daddr, 0, saddr.length, sport, dport, o), o);
}

/** communityId() of the addresses at `so` and `dOff` of `b` (`alen` bytes each). */
export function communityIdAt(proto: number, b: Uint8Array, so: number, dOff: number, alen: number, sport: number, dport: number, o: CommunityIdOptions = {}): string {
  return idString(digest(proto, b, so, b, dOff, alen, sport, dport, o), o);
}

/**
 * communityId() of the addresses at `so` and `dOff` of `b` (`alen` bytes each), written as ASCII into `out` at
 * `p`; returns the end. No string is made (the flows output's path).
 */
export function writeCommunityId(proto: number, b: Uint8Array, so: number, dOff: number, alen: number, sport: number, dport: number, o: CommunityIdOptions, out: Uint8Array, p: number): number {
  return putId(digest(proto, b, so, b, dOff, alen, sport, dport, o), o, out, p);
}

/** "1:" + the digest `d` in base64 (or hex, per `o`) as ASCII into `out` at `p`; returns the end. */
function putId(d: Uint8Array, o: CommunityIdOptions, out: Uint8Array, p: number): number {
  out[p] = 49; out[p + 1] = 58;
  p += 2;
  if (o.base64 === false) {
    for (let i = 0; i < 20; i++) { out[p++] = HEX[d[i]! >> 4]!; out[p++] = HEX[d[i]! & 15]!; }
    return p;
  }
  for (let i = 0; i < 18; i += 3) {
    const n = (d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!;
    out[p] = B64[n >> 18]!; out[p + 1] = B64[(n >> 12) & 63]!; out[p + 2] = B64[(n >> 6) & 63]!; out[p + 3] = B64[n & 63]!;
    p += 4;
  }
  const n = (d[18]! << 16) | (d[19]! << 8);
  out[p] = B64[n >> 18]!; out[p + 1] = B64[(n >> 12) & 63]!; out[p + 2] = B64[(n >> 6) & 63]!; out[p + 3] = 61;
  return p + 4;
}

/** The SHA-1 digest of a tuple's Community ID input (reused array): addresses at `so` of `sb` and `dOff` of `db`. */
function digest(proto: number, sb: Uint8Array, so: number, db: Uint8Array, dOff: number, alen: number, sport: number, dport: number, o: CommunityIdOptions): Uint8Array {
  const suri = o.flavour === 'suricata';
  let oneWay = false;
  if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    const c = icmpCounterpart(proto, sport);
    if (c >= 0) dport = c;
    else if (suri) dport = 0;
    else oneWay = true;
  }
  const ports = hasPorts(proto);
  let swap = false;
  if (!oneWay) {
    let cmp = 0;
    for (let i = 0; i < alen; i++) { const x = sb[so + i]!, y = db[dOff + i]!; if (x !== y) { cmp = x < y ? -1 : 1; break; } }
    swap = cmp > 0 || (cmp === 0 && ports && sport > dport);
  }
  const withPorts = ports || suri;
  // One reused scratch buffer (at most 2 + 32 + 2 + 4 bytes): no allocation per flow.
  const buf = CID_BUF;
  const seed = o.seed ?? 0;
  buf[0] = (seed >> 8) & 0xff; buf[1] = seed & 0xff;
  const ab = swap ? db : sb, ao = swap ? dOff : so, bb = swap ? sb : db, bo = swap ? so : dOff;
  for (let i = 0; i < alen; i++) { buf[2 + i] = ab[ao + i]!; buf[2 + alen + i] = bb[bo + i]!; }
  let p = 2 + alen * 2;
  buf[p++] = proto & 0xff; buf[p++] = 0;
  if (withPorts) {
    const pa = !ports ? 0 : swap ? dport : sport, pb = !ports ? 0 : swap ? sport : dport;
    buf[p++] = pa >> 8; buf[p++] = pa & 0xff; buf[p++] = pb >> 8; buf[p++] = pb & 0xff;
  }
  return sha1(buf, p);
}

const CID_BUF = new Uint8Array(40);

// SHA-1 of short inputs (≤ 55 bytes: one block, so Community ID tuples never need two). node:crypto costs
// a Hash object and a Buffer per call, which dominated flow creation; this is pure arithmetic on reused arrays.
const W = new Int32Array(80);
const DIGEST = new Uint8Array(20);

/** SHA-1 digest of the first `len` bytes of `m` (at most 55); the returned array is reused by the next call. */
export function sha1(m: Uint8Array, len = m.length): Uint8Array {
  if (len > 55) throw new RangeError('sha1: input longer than one block');
  W.fill(0, 0, 16);
  for (let i = 0; i < len; i++) W[i >> 2]! |= m[i]! << (24 - (i & 3) * 8);
  W[len >> 2]! |= 0x80 << (24 - (len & 3) * 8);
  W[15] = len * 8;
  for (let t = 16; t < 80; t++) { const x = W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!; W[t] = (x << 1) | (x >>> 31); }
  let a = 0x67452301, b = 0xefcdab89 | 0, c = 0x98badcfe | 0, d = 0x10325476, e = 0xc3d2e1f0 | 0, t = 0, x = 0;
  // The four 20-round stages as separate loops (no per-round branch on the stage).
  for (; t < 20; t++) { x = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[t]!) | 0; e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = x; }
  for (; t < 40; t++) { x = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[t]!) | 0; e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = x; }
  for (; t < 60; t++) { x = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + W[t]!) | 0; e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = x; }
  for (; t < 80; t++) { x = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + W[t]!) | 0; e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = x; }
  put32(0, (0x67452301 + a) | 0); put32(4, ((0xefcdab89 | 0) + b) | 0); put32(8, ((0x98badcfe | 0) + c) | 0);
  put32(12, (0x10325476 + d) | 0); put32(16, ((0xc3d2e1f0 | 0) + e) | 0);
  return DIGEST;
}
function put32(o: number, h: number): void {
  DIGEST[o] = h >>> 24; DIGEST[o + 1] = (h >>> 16) & 0xff; DIGEST[o + 2] = (h >>> 8) & 0xff; DIGEST[o + 3] = h & 0xff;
}

const B64 = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c) => c.charCodeAt(0));
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const ID_TEXT = Buffer.alloc(42);
/** putId() as a string. */
function idString(d: Uint8Array, o: CommunityIdOptions): string {
  return ID_TEXT.toString('latin1', 0, putId(d, o, ID_TEXT, 0));
}

/** Community ID of decoded packet `v` (IP only); `sport`/`dport` override the view's ports (e.g. after defrag). */
export function communityIdOfView(v: PacketView, o: CommunityIdOptions = {}, sport = v.srcPort, dport = v.dstPort): string {
  const alen = v.ipVersion === 4 ? 4 : 16;
  const s = v.buf.subarray(v.src, v.src + alen), d = v.buf.subarray(v.dst, v.dst + alen);
  if (v.proto === PROTO_ICMP || v.proto === PROTO_ICMPV6) { sport = Math.max(0, v.icmpType); dport = Math.max(0, v.icmpCode); }
  return communityId(v.proto, s, d, sport, dport, o);
}
