// Flow records as Suricata-style EVE flow JSON lines: names, hex TCP flags, ISO 8601 times with µs and +0000.

import { PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from '../decode/view.js';
import type { FlowRecord } from './record.js';

/** Protocol name as Suricata writes it, or the number. */
export function protoName(p: number): string | number {
  switch (p) {
    case PROTO_TCP: return 'TCP';
    case PROTO_UDP: return 'UDP';
    case PROTO_ICMP: return 'ICMP';
    case PROTO_ICMPV6: return 'IPv6-ICMP';
    case PROTO_SCTP: return 'SCTP';
    default: return p;
  }
}

/** `2023-01-01T00:00:00.123456+0000` for a capture time (UTC, µs truncated). */
export function eveTime(sec: number, nsec: number): string {
  return latin1(SCRATCH, putTime(SCRATCH, 0, sec, nsec));
}

/** One JSON line (no newline) for an ended flow: writeFlowLine()'s bytes as text. */
export function flowJson(r: FlowRecord): string {
  return latin1(SCRATCH, writeFlowLine(r, SCRATCH, 0) - 1);
}

// ---- the line written straight into bytes (no intermediate strings): the flows output's hot path, and the one
// definition of the format (flowJson and eveTime read it back as text) ----

/** Room writeFlowLine() may need for one line: callers keep at least this much free. */
export const MAX_FLOW_LINE = 1024;

const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const K_FLOW_ID = enc('{"flow_id":'), K_CID = enc(',"community_id":"'), K_SRC_IP = enc('","src_ip":"'), K_SRC_PORT = enc('","src_port":');
const K_DST_IP = enc(',"dest_ip":"'), K_DST_PORT = enc('","dest_port":'), K_PROTO = enc(',"proto":'), K_VLAN = enc(',"vlan":[');
const K_START = enc(',"start":"'), K_END = enc('","end":"'), K_PTS = enc('","pkts_toserver":'), K_PTC = enc(',"pkts_toclient":');
const K_BTS = enc(',"bytes_toserver":'), K_BTC = enc(',"bytes_toclient":'), K_STATE = enc(',"state":"'), K_REASON = enc('","reason":"');
const K_FLAGS = enc(',"tcp_flags":"'), K_FLAGS_TS = enc('","tcp_flags_ts":"'), K_FLAGS_TC = enc('","tcp_flags_tc":"');
const K_OFFSET = enc('+0000');
const K_ALERTED_T = enc(',"alerted":true'), K_ALERTED_F = enc(',"alerted":false');
const HEX = enc('0123456789abcdef');
let lastDayB = NaN;
const dayBytes = new Uint8Array(11);
const SCRATCH = Buffer.alloc(MAX_FLOW_LINE);
/** The first `n` bytes of `b` as text (every byte written here is ASCII). */
function latin1(b: Buffer, n: number): string {
  return b.toString('latin1', 0, n);
}

function put(out: Uint8Array, p: number, k: Uint8Array): number {
  for (let i = 0; i < k.length; i++) out[p + i] = k[i]!;
  return p + k.length;
}
function putStr(out: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[p + i] = s.charCodeAt(i);
  return p + s.length;
}
/** ASCII digit pairs "00".."99": two digits per division. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));
/** Decimal digits of a non-negative integer (exact up to 2^53; 32-bit values take the integer path). */
function putUint(out: Uint8Array, p: number, n: number): number {
  if (n < 10) { out[p] = 48 + n; return p + 1; }
  if (n >= 4294967296) {
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    for (let i = p + len - 1; i >= p; i--) { const q = Math.floor(n / 10); out[i] = 48 + (n - q * 10); n = q; }
    return p + len;
  }
  const len = n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
  let i = p + len, x = n >>> 0;
  while (x >= 100) { const q = (x / 100) >>> 0, r = (x - q * 100) << 1; out[--i] = PAIRS[r + 1]!; out[--i] = PAIRS[r]!; x = q; }
  if (x >= 10) { out[--i] = PAIRS[(x << 1) + 1]!; out[--i] = PAIRS[x << 1]!; } else out[--i] = 48 + x;
  return p + len;
}
/** Two digits of 0..99. */
function put2(out: Uint8Array, p: number, n: number): number {
  out[p] = PAIRS[n << 1]!; out[p + 1] = PAIRS[(n << 1) + 1]!;
  return p + 2;
}
/**
 * EVE time (`2023-01-01T00:00:00.123456+0000`, UTC, µs truncated; ns parts ≥ 1e9 of raw µs files carry into the
 * seconds). The date is cached per day (start and end of a flow mostly share it); the time of day is arithmetic.
 */
function putTime(out: Uint8Array, p: number, sec: number, nsec: number): number {
  const extra = Math.floor(nsec / 1e9);
  const s = sec + extra;
  let us = Math.floor((nsec - extra * 1e9) / 1000);
  const day = Math.floor(s / 86400);
  if (day !== lastDayB) { lastDayB = day; putStr(dayBytes, 0, new Date(day * 86400000).toISOString().slice(0, 11)); }
  p = put(out, p, dayBytes);
  const t = (s - day * 86400) | 0;
  const h = (t / 3600) | 0, m = ((t - h * 3600) / 60) | 0;
  p = put2(out, p, h); out[p++] = 58;
  p = put2(out, p, m); out[p++] = 58;
  p = put2(out, p, t - h * 3600 - m * 60); out[p++] = 46;
  // Six digits of µs, two at a time.
  for (let i = p + 4; i >= p; i -= 2) { const q = (us / 100) | 0; put2(out, i, us - q * 100); us = q; }
  return put(out, p + 6, K_OFFSET);
}
function putHex2(out: Uint8Array, p: number, f: number): number {
  out[p] = HEX[(f >> 4) & 15]!; out[p + 1] = HEX[f & 15]!;
  return p + 2;
}

/** Write flowJson(r) and a newline into `out` at `p` (at least MAX_FLOW_LINE bytes free); returns the end. */
export function writeFlowLine(r: FlowRecord, out: Uint8Array, p: number): number {
  p = put(out, p, K_FLOW_ID);
  p = putStr(out, p, r.flowId.toString());
  p = put(out, p, K_CID); p = putStr(out, p, r.communityId);
  p = put(out, p, K_SRC_IP); p = putStr(out, p, r.srcIp);
  p = put(out, p, K_SRC_PORT); p = putUint(out, p, r.srcPort);
  p = put(out, p, K_DST_IP); p = putStr(out, p, r.dstIp);
  p = put(out, p, K_DST_PORT); p = putUint(out, p, r.dstPort);
  p = put(out, p, K_PROTO);
  const pn = protoName(r.proto);
  if (typeof pn === 'string') { out[p++] = 34; p = putStr(out, p, pn); out[p++] = 34; } else p = putUint(out, p, pn);
  if (r.vlan.length) {
    p = put(out, p, K_VLAN);
    for (let i = 0; i < r.vlan.length; i++) { if (i) out[p++] = 44; p = putUint(out, p, r.vlan[i]!); }
    out[p++] = 93;
  }
  p = put(out, p, K_START); p = putTime(out, p, r.startSec, r.startNsec);
  p = put(out, p, K_END); p = putTime(out, p, r.endSec, r.endNsec);
  p = put(out, p, K_PTS); p = putUint(out, p, r.pktsToServer);
  p = put(out, p, K_PTC); p = putUint(out, p, r.pktsToClient);
  p = put(out, p, K_BTS); p = putUint(out, p, r.bytesToServer);
  p = put(out, p, K_BTC); p = putUint(out, p, r.bytesToClient);
  p = put(out, p, K_STATE); p = putStr(out, p, r.state);
  p = put(out, p, K_REASON); p = putStr(out, p, r.reason); out[p++] = 34;
  if (r.alerted !== undefined) p = put(out, p, r.alerted ? K_ALERTED_T : K_ALERTED_F);
  if (r.proto === PROTO_TCP) {
    p = put(out, p, K_FLAGS); p = putHex2(out, p, r.tcpFlagsTs | r.tcpFlagsTc);
    p = put(out, p, K_FLAGS_TS); p = putHex2(out, p, r.tcpFlagsTs);
    p = put(out, p, K_FLAGS_TC); p = putHex2(out, p, r.tcpFlagsTc); out[p++] = 34;
  }
  out[p++] = 125; out[p++] = 10;
  return p;
}
