// tcpdump text line parser: from `tcpdump -n` output (-tt epoch, default HH:MM:SS time of day, -tttt date and
// time, -t none) it extracts timestamp, IP version, addresses, ports, transport and `length N` straight from
// the line's bytes into a reused TextPacket. Lines it does not understand are classified, never fatal.

import { parseIpv4Bytes, parseIpv6Bytes } from './addr.js';

/** What parseTcpdumpLine made of a line. */
export const enum LineKind {
  /** An IP/IP6 packet line: the TextPacket is filled. */
  Ip = 1,
  /** A packet line that is not IP (ARP, STP, …). */
  NotIp = 2,
  /** An IP/IP6 line whose addresses could not be read (truncated header, unknown layout). */
  BadIp = 3,
  /** Not a packet line: continuation (-A, -X), blank, or text that does not start with a timestamp. */
  Other = 4,
  /** A `-v` IPv4 header line (`IP (tos …, length N)`) whose addresses follow on the next, indented line. */
  IpHeader = 5,
}

/** How far past the timestamp the `IP`/`IP6` token may start (room for `ifname Out` or -e link headers). */
export const MAX_TOKEN_SCAN = 200;

/** Fields of the last parsed line. `addr` holds the source at 0 and the destination at 16. */
export class TextPacket {
  /** µs since the epoch (dateKnown), µs since midnight (time of day only), or NaN when the line has no time. */
  tsUs = NaN;
  /** True when the timestamp carried a date (-tt, -tttt). */
  dateKnown = false;
  ipVersion: 0 | 4 | 6 = 0;
  readonly addr = new Uint8Array(32);
  /** Ports, -1 when the line shows none. */
  srcPort = -1;
  dstPort = -1;
  /** 6, 17, 1, 58, 132 when the line says so, else -1. */
  proto = -1;
  /** The first `length N` after the addresses (tcpdump's payload length), -1 when absent. */
  length = -1;
  /** Set by a -v IPv4 header line: the next indented line carries this packet's addresses. */
  pendingVersion: 0 | 4 | 6 = 0;
  pendingTsUs = NaN;
  pendingDateKnown = false;
}

/** Options for reading text timestamps. */
export interface TextTimeOptions {
  /** Minutes east of UTC of the clock that printed `-tttt` dates (default 0: the text was made with TZ=UTC). */
  tzOffsetMinutes?: number;
}

// Days from 1970-01-01 to the civil date (proleptic Gregorian; Howard Hinnant's algorithm).
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const FRAC_SCALE = [1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/**
 * Parse one line b[s, e) (no trailing newline; a trailing CR is ignored) into `out`.
 * `tzOffsetUs` is subtracted from -tttt times to get UTC.
 */
export function parseTcpdumpLine(b: Uint8Array, s: number, e: number, out: TextPacket, tzOffsetUs = 0): LineKind {
  if (e > s && b[e - 1] === 13) e--;
  out.tsUs = NaN; out.dateKnown = false; out.ipVersion = 0; out.srcPort = -1; out.dstPort = -1; out.proto = -1; out.length = -1;
  const pending = out.pendingVersion;
  out.pendingVersion = 0;
  if (s >= e) return LineKind.Other;
  let p = s;
  let c = b[p]!;
  if (pending !== 0 && (c === 32 || c === 9)) {
    // The indented second line of a -v packet: `    a.b.c.d.p > e.f.g.h.q: …`.
    while (p < e && (b[p] === 32 || b[p] === 9)) p++;
    out.tsUs = out.pendingTsUs;
    out.dateKnown = out.pendingDateKnown;
    out.ipVersion = pending;
    return endpoints(b, p, e, out, pending);
  }
  if (c >= 48 && c <= 57) {
    // Timestamp: `SEC.FRAC`, `YYYY-MM-DD HH:MM:SS.FRAC` or `HH:MM:SS.FRAC`.
    let n1 = 0;
    while (p < e && (c = b[p]!) >= 48 && c <= 57) { n1 = n1 * 10 + (c - 48); p++; }
    if (p >= e) return LineKind.Other;
    if (c === 46) { // '.': epoch seconds
      p++;
      const frac = readFrac(b, p, e);
      if (frac < 0) return LineKind.Other;
      p = fracEnd;
      out.tsUs = n1 * 1e6 + frac;
      out.dateKnown = true;
    } else if (c === 45) { // '-': date
      if (e - p < 16) return LineKind.Other;
      const mo = two(b, p + 1), d = two(b, p + 4);
      if (mo < 0 || d < 0 || b[p + 3] !== 45 || b[p + 6] !== 32) return LineKind.Other;
      p += 7;
      const tod = readTimeOfDay(b, p, e);
      if (tod < 0) return LineKind.Other;
      p = fracEnd;
      out.tsUs = daysFromCivil(n1, mo, d) * 86400e6 + tod - tzOffsetUs;
      out.dateKnown = true;
    } else if (c === 58) { // ':': time of day
      const tod = readTimeOfDay(b, s, e);
      if (tod < 0) return LineKind.Other;
      p = fracEnd;
      out.tsUs = tod;
    } else return LineKind.Other;
    if (p >= e || b[p] !== 32) return LineKind.Other;
    p++;
  } else if (c !== 73) {
    return LineKind.Other; // continuation lines start with whitespace; -t lines start with the protocol
  }
  // Find the `IP ` or `IP6 ` token (it may follow an interface name and direction, or -e link headers).
  const limit = Math.min(e - 3, p + MAX_TOKEN_SCAN);
  let q = p;
  let ver: 0 | 4 | 6 = 0;
  for (; q < limit; q++) {
    const c0 = b[q];
    if (c0 === 101 && (q === p || b[q - 1] === 32) && isEthertypeIp(b, q, e)) {
      // -e: `…, ethertype IPv4 (0x0800), length N: a > b: …` (after any 802.1Q `vlan …,` parts).
      ver = b[q + 13] === 52 ? 4 : 6;
      q += 24; // past `ethertype IPvX (0xNNNN),`
      while (q < e && b[q] === 32) q++;
      if (b[q] === 108 && b[q + 1] === 101 && b[q + 2] === 110) { // `length N: `
        while (q < e && b[q] !== 58) q++;
        q += 2;
      }
      break;
    }
    if (c0 !== 73 || b[q + 1] !== 80 || (q > p && b[q - 1] !== 32)) continue;
    const c2 = b[q + 2];
    if (c2 === 32) { ver = 4; q += 3; break; }
    if (c2 === 54 && b[q + 3] === 32) { ver = 6; q += 4; break; }
  }
  if (ver === 0 || q >= e) return LineKind.NotIp;
  out.ipVersion = ver;
  if (b[q] === 40) {
    // -v: `IP (tos …, length N)` then the addresses on the next line, or `IP6 (hlim …) a > b: …` on this one.
    let depth = 0, k = q;
    for (; k < e; k++) {
      if (b[k] === 40) depth++;
      else if (b[k] === 41 && --depth === 0) break;
    }
    if (k >= e) return LineKind.BadIp;
    q = k + 1;
    while (q < e && b[q] === 32) q++;
    if (q >= e) {
      out.pendingVersion = ver;
      out.pendingTsUs = out.tsUs;
      out.pendingDateKnown = out.dateKnown;
      return LineKind.IpHeader;
    }
  }
  return endpoints(b, q, e, out, ver);
}

/** Parse `SRC > DST: info` from b[q, e) for an IP line of version `ver` into `out`. */
function endpoints(b: Uint8Array, q: number, e: number, out: TextPacket, ver: 4 | 6): LineKind {
  let c = 0;
  // `IP truncated-ip - N bytes missing! a > b: …`
  if (b[q] === 116 && b[q + 1] === 114) {
    let k = q;
    const stop = Math.min(e, q + 48);
    while (k < stop && b[k] !== 33) k++;
    if (k >= stop || b[k + 1] !== 32) return LineKind.BadIp;
    q = k + 2;
  }
  // Source endpoint up to ' > '.
  let sp = q;
  while (sp < e && b[sp] !== 32) sp++;
  if (sp + 3 > e || b[sp + 1] !== 62 || b[sp + 2] !== 32) return LineKind.BadIp;
  const dStart = sp + 3;
  // Destination endpoint up to ':' followed by a space or the end of line (IPv6 text itself has colons).
  let dp = dStart;
  const dLimit = Math.min(e, dStart + 64);
  for (; dp < dLimit; dp++) {
    const ch = b[dp];
    if (ch === 58 && (dp + 1 === e || b[dp + 1] === 32)) break;
    if (ch === 32) return LineKind.BadIp;
  }
  if (dp >= dLimit) return LineKind.BadIp;
  const addr = out.addr;
  if (ver === 4) {
    out.srcPort = endpoint4(b, q, sp, addr, 0);
    if (out.srcPort === -2) return LineKind.BadIp;
    out.dstPort = endpoint4(b, dStart, dp, addr, 16);
    if (out.dstPort === -2) return LineKind.BadIp;
  } else {
    out.srcPort = endpoint6(b, q, sp, addr, 0);
    if (out.srcPort === -2) return LineKind.BadIp;
    out.dstPort = endpoint6(b, dStart, dp, addr, 16);
    if (out.dstPort === -2) return LineKind.BadIp;
  }
  // What follows names the transport; then the first `length N`.
  let r = dp + 2;
  if (r + 4 < e) {
    const c0 = b[r]!;
    if (c0 === 70 && b[r + 1] === 108 && b[r + 5] === 32 && b[r + 6] === 91) out.proto = 6; // 'Flags ['
    else if (c0 === 85 && b[r + 1] === 68 && b[r + 2] === 80 && b[r + 3] === 44) out.proto = 17; // 'UDP,'
    else if (c0 === 73 && b[r + 1] === 67 && b[r + 2] === 77 && b[r + 3] === 80) out.proto = b[r + 4] === 54 ? 58 : 1; // 'ICMP' / 'ICMP6'
    else if (c0 === 115 && b[r + 1] === 99 && b[r + 2] === 116 && b[r + 3] === 112) out.proto = 132; // 'sctp'
  }
  // `length ` preceded by a space and followed by digits.
  const le = e - 7;
  for (; r < le; r++) {
    if (b[r] !== 108 || b[r + 1] !== 101 || b[r + 2] !== 110 || b[r + 6] !== 32 || b[r - 1] !== 32) continue;
    if (b[r + 3] !== 103 || b[r + 4] !== 116 || b[r + 5] !== 104) continue;
    let k = r + 7, v = 0, nd = 0;
    while (k < e && (c = b[k]!) >= 48 && c <= 57 && nd < 10) { v = v * 10 + (c - 48); k++; nd++; }
    if (nd > 0) { out.length = v; break; }
  }
  return LineKind.Ip;
}

const ETHERTYPE_IP = Array.from('ethertype IPv', (ch) => ch.charCodeAt(0));

/** `ethertype IPv4 (0x0800),` or `ethertype IPv6 (0x86dd),` at b[q]. */
function isEthertypeIp(b: Uint8Array, q: number, e: number): boolean {
  if (e - q < 24) return false;
  for (let k = 0; k < 13; k++) if (b[q + k] !== ETHERTYPE_IP[k]) return false;
  const v = b[q + 13];
  return (v === 52 || v === 54) && b[q + 14] === 32 && b[q + 15] === 40 && b[q + 22] === 41 && b[q + 23] === 44;
}

/** End offset of the last readFrac/readTimeOfDay call (avoids returning pairs). */
let fracEnd = 0;

/** Fraction digits at p (1..9, truncated to µs) → µs; sets fracEnd; -1 when none. */
function readFrac(b: Uint8Array, p: number, e: number): number {
  let v = 0, nd = 0, c = 0;
  while (p < e && (c = b[p]!) >= 48 && c <= 57) {
    if (nd < 6) v = v * 10 + (c - 48);
    nd++; p++;
  }
  if (nd === 0) return -1;
  fracEnd = p;
  return nd >= 6 ? v : v * FRAC_SCALE[nd]!;
}

function two(b: Uint8Array, p: number): number {
  const x = b[p]! - 48, y = b[p + 1]! - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/** `HH:MM:SS[.frac]` at p → µs since midnight; sets fracEnd; -1 when malformed. */
function readTimeOfDay(b: Uint8Array, p: number, e: number): number {
  if (e - p < 8) return -1;
  const h = two(b, p), m = two(b, p + 3), sec = two(b, p + 6);
  if (h < 0 || m < 0 || sec < 0 || b[p + 2] !== 58 || b[p + 5] !== 58) return -1;
  let us = ((h * 60 + m) * 60 + sec) * 1e6;
  p += 8;
  if (p < e && b[p] === 46) {
    const f = readFrac(b, p + 1, e);
    if (f < 0) return -1;
    us += f;
  } else fracEnd = p;
  return us;
}

/** Port digits b[s, e) → 0..65535, or -1 when not a port number. */
function portAt(b: Uint8Array, s: number, e: number): number {
  if (s >= e || e - s > 5) return -1;
  let v = 0;
  for (let p = s; p < e; p++) {
    const c = b[p]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v > 65535 ? -1 : v;
}

/** IPv4 endpoint `a.b.c.d` or `a.b.c.d.port` → address into out[o..], returns the port, -1 (none) or -2 (bad). */
function endpoint4(b: Uint8Array, s: number, e: number, out: Uint8Array, o: number): number {
  let dots = 0, lastDot = -1;
  for (let p = s; p < e; p++) if (b[p] === 46) { dots++; lastDot = p; }
  if (dots === 3) return parseIpv4Bytes(b, s, e, out, o) ? -1 : -2;
  if (dots !== 4) return -2;
  if (!parseIpv4Bytes(b, s, lastDot, out, o)) return -2;
  return portAt(b, lastDot + 1, e); // a service name (without -n) leaves the port unknown
}

/** IPv6 endpoint `addr` or `addr.port` (the address may end in a dotted IPv4) → see endpoint4. */
function endpoint6(b: Uint8Array, s: number, e: number, out: Uint8Array, o: number): number {
  let lastColon = -1;
  for (let p = e - 1; p >= s; p--) if (b[p] === 58) { lastColon = p; break; }
  if (lastColon < 0) return -2;
  let dots = 0, lastDot = -1;
  for (let p = lastColon + 1; p < e; p++) if (b[p] === 46) { dots++; lastDot = p; }
  if (dots === 0 || dots === 3) return parseIpv6Bytes(b, s, e, out, o) ? -1 : -2;
  if (dots !== 1 && dots !== 4) return -2;
  if (!parseIpv6Bytes(b, s, lastDot, out, o)) return -2;
  return portAt(b, lastDot + 1, e);
}
