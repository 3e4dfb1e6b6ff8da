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
  return latin1(SCRATCH, putTime(SCRATCH, viewOf(SCRATCH), 0, sec, nsec));
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
/** A constant as big-endian 32-bit words (zero-padded) and its length: written 4 bytes at a time (see putK). */
interface Words { w: Uint32Array; n: number }
function words(s: string): Words {
  const b = new Uint8Array((s.length + 3) & ~3);
  b.set(enc(s));
  const d = new DataView(b.buffer);
  return { w: Uint32Array.from({ length: b.length >> 2 }, (_, i) => d.getUint32(i * 4, false)), n: s.length };
}
const K_FLOW_ID = words('{"flow_id":'), K_CID = words(',"community_id":"'), K_SRC_IP = words('","src_ip":"'), K_SRC_PORT = words('","src_port":');
const K_DST_IP = words(',"dest_ip":"'), K_DST_PORT = words('","dest_port":'), K_PROTO = words(',"proto":'), K_VLAN = words(',"vlan":[');
const K_START = words(',"start":"'), K_END = words('","end":"'), K_PTS = words('","pkts_toserver":'), K_PTC = words(',"pkts_toclient":');
const K_BTS = words(',"bytes_toserver":'), K_BTC = words(',"bytes_toclient":');
const K_FLAGS = words(',"tcp_flags":"'), K_FLAGS_TS = words('","tcp_flags_ts":"'), K_FLAGS_TC = words('","tcp_flags_tc":"');
const K_OFFSET = words('+0000');
/** The proto member with its name, per protoName(); the state member with the reason key; reasons closed. */
const K_PROTO_NAMED = new Map<number, Words>([PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP].map((n) => [n, words(`,"proto":"${protoName(n) as string}"`)]));
const K_STATE_NEW = words(',"state":"new","reason":"'), K_STATE_EST = words(',"state":"established","reason":"'), K_STATE_CLOSED = words(',"state":"closed","reason":"');
const K_R_TIMEOUT = words('timeout"'), K_R_SHUTDOWN = words('shutdown"'), K_R_FORCED = words('forced"'), K_R_REUSE = words('tcp_reuse"');
function protoKey(p: number): Words | null {
  return p === PROTO_TCP || p === PROTO_UDP || p === PROTO_ICMP || p === PROTO_ICMPV6 || p === PROTO_SCTP ? K_PROTO_NAMED.get(p)! : null;
}
const K_ALERTED_T = words(',"alerted":true'), K_ALERTED_F = words(',"alerted":false');
const HEX = enc('0123456789abcdef');
let lastDayB = NaN;
let dayWords = words('1970-01-01T');
/** DataView of the last output buffer (one per buffer, not per line). */
let dvOut: Uint8Array | null = null;
let dv: DataView = new DataView(new ArrayBuffer(0));
function viewOf(out: Uint8Array): DataView {
  if (out !== dvOut) { dvOut = out; dv = new DataView(out.buffer, out.byteOffset, out.byteLength); }
  return dv;
}
/** Write constant `k` at `p` in whole words: up to 3 bytes past its end are scratch the next write covers. */
function putK(d: DataView, p: number, k: Words): number {
  const w = k.w;
  for (let i = 0; i < w.length; i++) d.setUint32(p + (i << 2), w[i]!);
  return p + k.n;
}
const SCRATCH = Buffer.alloc(MAX_FLOW_LINE);
/** The first `n` bytes of `b` as text (every byte written here is ASCII). */
function latin1(b: Buffer, n: number): string {
  return b.toString('latin1', 0, n);
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
function putTime(out: Uint8Array, d: DataView, p: number, sec: number, nsec: number): number {
  const extra = Math.floor(nsec / 1e9);
  const s = sec + extra;
  let us = Math.floor((nsec - extra * 1e9) / 1000);
  const day = Math.floor(s / 86400);
  if (day !== lastDayB) { lastDayB = day; dayWords = words(new Date(day * 86400000).toISOString().slice(0, 11)); }
  p = putK(d, p, dayWords);
  const t = (s - day * 86400) | 0;
  const h = (t / 3600) | 0, m = ((t - h * 3600) / 60) | 0;
  p = put2(out, p, h); out[p++] = 58;
  p = put2(out, p, m); out[p++] = 58;
  p = put2(out, p, t - h * 3600 - m * 60); out[p++] = 46;
  // Six digits of µs, two at a time.
  for (let i = p + 4; i >= p; i -= 2) { const q = (us / 100) | 0; put2(out, i, us - q * 100); us = q; }
  return putK(d, p + 6, K_OFFSET);
}
function putHex2(out: Uint8Array, p: number, f: number): number {
  out[p] = HEX[(f >> 4) & 15]!; out[p + 1] = HEX[f & 15]!;
  return p + 2;
}

/**
 * Writes the text fields of a flow (Community ID, client and server address) straight into bytes, for a record
 * whose strings were left empty (the flow table's scratch record: no strings per flow). Each returns the end.
 */
export interface FlowText {
  communityId(out: Uint8Array, p: number): number;
  srcIp(out: Uint8Array, p: number): number;
  dstIp(out: Uint8Array, p: number): number;
}

/**
 * Write flowJson(r) and a newline into `out` at `p` (at least MAX_FLOW_LINE bytes free); returns the end. With
 * `text`, the Community ID and addresses come from it, not from the record's strings.
 */
export function writeFlowLine(r: FlowRecord, out: Uint8Array, p: number, text: FlowText | null = null): number {
  const d = viewOf(out);
  p = putK(d, p, K_FLOW_ID);
  p = putStr(out, p, r.flowId.toString());
  p = putK(d, p, K_CID); p = text ? text.communityId(out, p) : putStr(out, p, r.communityId);
  p = putK(d, p, K_SRC_IP); p = text ? text.srcIp(out, p) : putStr(out, p, r.srcIp);
  p = putK(d, p, K_SRC_PORT); p = putUint(out, p, r.srcPort);
  p = putK(d, p, K_DST_IP); p = text ? text.dstIp(out, p) : putStr(out, p, r.dstIp);
  p = putK(d, p, K_DST_PORT); p = putUint(out, p, r.dstPort);
  const pk = protoKey(r.proto);
  if (pk !== null) p = putK(d, p, pk); else { p = putK(d, p, K_PROTO); p = putUint(out, p, r.proto); }
  if (r.vlan.length) {
    p = putK(d, p, K_VLAN);
    for (let i = 0; i < r.vlan.length; i++) { if (i) out[p++] = 44; p = putUint(out, p, r.vlan[i]!); }
    out[p++] = 93;
  }
  p = putK(d, p, K_START); p = putTime(out, d, p, r.startSec, r.startNsec);
  p = putK(d, p, K_END); p = putTime(out, d, p, r.endSec, r.endNsec);
  p = putK(d, p, K_PTS); p = putUint(out, p, r.pktsToServer);
  p = putK(d, p, K_PTC); p = putUint(out, p, r.pktsToClient);
  p = putK(d, p, K_BTS); p = putUint(out, p, r.bytesToServer);
  p = putK(d, p, K_BTC); p = putUint(out, p, r.bytesToClient);
  p = putK(d, p, r.state === 'closed' ? K_STATE_CLOSED : r.state === 'established' ? K_STATE_EST : K_STATE_NEW);
  const rs = r.reason;
  p = putK(d, p, rs === 'timeout' ? K_R_TIMEOUT : rs === 'shutdown' ? K_R_SHUTDOWN : rs === 'forced' ? K_R_FORCED : K_R_REUSE);
  if (r.alerted !== undefined) p = putK(d, p, r.alerted ? K_ALERTED_T : K_ALERTED_F);
  if (r.proto === PROTO_TCP) {
    p = putK(d, p, K_FLAGS); p = putHex2(out, p, r.tcpFlagsTs | r.tcpFlagsTc);
    p = putK(d, p, K_FLAGS_TS); p = putHex2(out, p, r.tcpFlagsTs);
    p = putK(d, p, K_FLAGS_TC); p = putHex2(out, p, r.tcpFlagsTc); out[p++] = 34;
  }
  out[p++] = 125; out[p++] = 10;
  return p;
}
