// Suricata alert events as flowcarve sees them: the typed Alert, its normalisation from a parsed EVE object
// (exact 64-bit flow ids, microsecond timestamps, canonical addresses) and the canonical tuple key used to
// find an alert's flow in the flow table and in the store index.

import { ipString, parseIp } from '../decode/addr.js';

/** Suricata's flow_id: a 64-bit integer kept as its decimal text (it exceeds 2^53). */
export type SuricataFlowId = string;

/** One alert, normalised. Times are microseconds since the epoch (exact in a double up to year 2255). */
export interface Alert {
  /** Capture time of the packet that raised the alert, µs since the epoch. */
  tsUs: number;
  /** The original `timestamp` text. */
  timestamp: string;
  flowId?: SuricataFlowId;
  communityId?: string;
  srcIp: string;
  srcPort: number;
  destIp: string;
  destPort: number;
  /** IP protocol number (TCP 6, UDP 17, ICMP 1, IPv6-ICMP 58, SCTP 132, ...). */
  proto: number;
  /** VLAN ids, outer first (empty when none). */
  vlan: number[];
  /** `flow.start` in µs, when the event carries it. */
  flowStartUs?: number;
  /** Suricata's packet number (1-based) of the alert packet, when present. */
  pcapCnt?: number;
  host?: string;
  signatureId?: number;
  signature?: string;
  /** Where the alert came from: input name and 1-based line (JSON Lines) or array position (documents). */
  source?: string;
  line?: number;
}

const PROTO_NAMES: Record<string, number> = {
  tcp: 6, udp: 17, icmp: 1, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132, gre: 47, esp: 50, ah: 51, igmp: 2,
};

/** Protocol number from Suricata's `proto` field ("TCP", "IPV6-ICMP", "017", 6); -1 when unknown. */
export function protoNumber(p: unknown): number {
  if (typeof p === 'number') return p;
  if (typeof p !== 'string') return -1;
  const n = PROTO_NAMES[p.toLowerCase()];
  if (n !== undefined) return n;
  return /^\d+$/.test(p) ? Number(p) : -1;
}

/** True for protocols whose flows are keyed by ports. */
export function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132;
}

const TS_RE = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s*(Z|[+-]\d\d:?\d\d)?$/;

/** Parse an EVE timestamp (`2023-11-14T22:13:20.024000+0000`) to µs since the epoch; NaN when invalid. */
export function parseEveTime(s: string): number {
  const m = TS_RE.exec(s);
  if (!m) return NaN;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const frac = m[7] ? Math.floor(Number((m[7] + '000000').slice(0, 6))) : 0;
  let off = 0;
  const z = m[8];
  if (z && z !== 'Z') {
    const d = z.replace(':', '');
    off = (d[0] === '-' ? -1 : 1) * (Number(d.slice(1, 3)) * 60 + Number(d.slice(3, 5))) * 60;
  }
  return (ms / 1000 - off) * 1e6 + frac;
}

const PLAIN_V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Canonical text of an address (RFC 5952 for IPv6), or the input when it does not parse. */
export function canonicalIp(s: string): string {
  if (PLAIN_V4.test(s)) return s;
  const b = parseIp(s);
  return b ? ipString(b, 0, b.length) : s;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

/** Turn a parsed EVE object into an Alert; null when it is not an alert event with addresses and a time. */
export function toAlert(o: Record<string, unknown>, rawFlowId?: string): Alert | null {
  if (!o || typeof o !== 'object') return null;
  if (o.event_type !== undefined && o.event_type !== 'alert') return null;
  const ts = typeof o.timestamp === 'string' ? parseEveTime(o.timestamp) : NaN;
  if (Number.isNaN(ts) || typeof o.src_ip !== 'string' || typeof o.dest_ip !== 'string') return null;
  const a: Alert = {
    tsUs: ts,
    timestamp: o.timestamp as string,
    srcIp: canonicalIp(o.src_ip),
    srcPort: num(o.src_port) ?? 0,
    destIp: canonicalIp(o.dest_ip),
    destPort: num(o.dest_port) ?? 0,
    proto: protoNumber(o.proto),
    vlan: Array.isArray(o.vlan) ? (o.vlan as unknown[]).map((v) => num(v) ?? 0) : [],
  };
  const fid = rawFlowId ?? (typeof o.flow_id === 'string' ? o.flow_id : typeof o.flow_id === 'number' ? String(o.flow_id) : undefined);
  if (fid !== undefined) a.flowId = fid;
  if (typeof o.community_id === 'string') a.communityId = o.community_id;
  const flow = o.flow as Record<string, unknown> | undefined;
  if (flow && typeof flow.start === 'string') {
    const fs = parseEveTime(flow.start);
    if (!Number.isNaN(fs)) a.flowStartUs = fs;
  }
  const pc = num(o.pcap_cnt);
  if (pc !== undefined) a.pcapCnt = pc;
  if (typeof o.host === 'string') a.host = o.host;
  const al = o.alert as Record<string, unknown> | undefined;
  if (al && typeof al === 'object') {
    const sid = num(al.signature_id);
    if (sid !== undefined) a.signatureId = sid;
    if (typeof al.signature === 'string') a.signature = al.signature;
  }
  return a;
}

/**
 * Canonical, direction-free tuple text `proto|ipA|portA|ipB|portB` (endpoints ordered; ports 0 for port-less
 * protocols). The store index and the alert matcher both key flows by it.
 */
export function tupleKey(proto: number, ip1: string, port1: number, ip2: string, port2: number): string {
  const a = canonicalIp(ip1), b = canonicalIp(ip2);
  if (!hasPorts(proto)) { port1 = 0; port2 = 0; }
  const first = cmpEndpoint(a, port1, b, port2) <= 0;
  return first ? `${proto}|${a}|${port1}|${b}|${port2}` : `${proto}|${b}|${port2}|${a}|${port1}`;
}

function cmpEndpoint(a: string, pa: number, b: string, pb: number): number {
  const ba = parseIp(a), bb = parseIp(b);
  if (ba && bb && ba.length === bb.length) {
    for (let i = 0; i < ba.length; i++) if (ba[i] !== bb[i]) return ba[i]! - bb[i]!;
  } else if (a !== b) return a < b ? -1 : 1;
  return pa - pb;
}

/** Tuple key of an alert. */
export function alertTupleKey(a: Alert): string {
  return tupleKey(a.proto, a.srcIp, a.srcPort, a.destIp, a.destPort);
}

const HBUF = new Uint8Array(38);

/**
 * 64-bit direction-free hash of a tuple as [hi, lo] u32 words: two FNV-1a-style passes over
 * proto ‖ lower (address padded to 16, port) ‖ higher (address, port); ports 0 for port-less protocols.
 * Addresses are read at a[ao..ao+alen) and b[bo..bo+blen). The store index keys flows by it.
 */
export function tupleHashAt(proto: number, a: ArrayLike<number>, ao: number, alen: number, pa: number, b: ArrayLike<number>, bo: number, blen: number, pb: number): [number, number] {
  if (!hasPorts(proto)) { pa = 0; pb = 0; }
  let cmp = 0;
  for (let i = 0; i < 16 && cmp === 0; i++) {
    const x = i < alen ? a[ao + i]! : 0, y = i < blen ? b[bo + i]! : 0;
    if (x !== y) cmp = x - y;
  }
  if (cmp === 0) cmp = pa - pb;
  const h = HBUF;
  h.fill(0);
  h[0] = proto & 0xff; h[1] = alen;
  const put = (src: ArrayLike<number>, so: number, len: number, port: number, at: number) => {
    for (let i = 0; i < len; i++) h[at + i] = src[so + i]!;
    h[at + 16] = port >> 8; h[at + 17] = port & 0xff;
  };
  if (cmp <= 0) { put(a, ao, alen, pa, 2); put(b, bo, blen, pb, 20); } else { put(b, bo, blen, pb, 2); put(a, ao, alen, pa, 20); }
  let x = 0x811c9dc5, y = 0x01000193 ^ 0x9747b28c;
  for (let i = 0; i < 38; i++) {
    x = Math.imul(x ^ h[i]!, 0x01000193);
    y = Math.imul(y ^ h[i]!, 0x5bd1e995);
    y ^= y >>> 15;
  }
  x ^= x >>> 16; x = Math.imul(x, 0x85ebca6b); x ^= x >>> 13;
  return [x >>> 0, y >>> 0];
}

/** tupleHashAt over two address strings; [0, 0] when one does not parse. */
export function tupleHashIps(proto: number, ip1: string, port1: number, ip2: string, port2: number): [number, number] {
  const a = parseIp(ip1), b = parseIp(ip2);
  if (!a || !b) return [0, 0];
  return tupleHashAt(proto, a, 0, a.length, port1, b, 0, b.length, port2);
}

/** Index hash of an alert's tuple. */
export function alertHash(a: Alert): [number, number] {
  return tupleHashIps(a.proto, a.srcIp, a.srcPort, a.destIp, a.destPort);
}
