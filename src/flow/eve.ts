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
  // ns parts ≥ 1e9 (raw µs files) carry into the seconds, as a timestamp value would.
  const extra = Math.floor(nsec / 1e9);
  const s = sec + extra;
  const us = Math.floor((nsec - extra * 1e9) / 1000);
  if (s !== lastSec) { lastSec = s; lastPrefix = new Date(s * 1000).toISOString().slice(0, 19); }
  return `${lastPrefix}.${String(us).padStart(6, '0')}+0000`;
}
// One-entry cache: consecutive flows mostly start and end within the same second.
let lastSec = NaN;
let lastPrefix = '';

/** Two-digit lowercase hex of a TCP flags byte, as EVE. */
export function hexFlags(f: number): string {
  return f.toString(16).padStart(2, '0');
}

/** One JSON line (no newline) for an ended flow. */
export function flowJson(r: FlowRecord): string {
  let s = `{"flow_id":${r.flowId},"community_id":${JSON.stringify(r.communityId)},"src_ip":${JSON.stringify(r.srcIp)},"src_port":${r.srcPort},` +
    `"dest_ip":${JSON.stringify(r.dstIp)},"dest_port":${r.dstPort},"proto":${JSON.stringify(protoName(r.proto))}`;
  if (r.vlan.length) s += `,"vlan":[${r.vlan.join(',')}]`;
  s += `,"start":"${eveTime(r.startSec, r.startNsec)}","end":"${eveTime(r.endSec, r.endNsec)}"` +
    `,"pkts_toserver":${r.pktsToServer},"pkts_toclient":${r.pktsToClient},"bytes_toserver":${r.bytesToServer},"bytes_toclient":${r.bytesToClient}` +
    `,"state":"${r.state}","reason":"${r.reason}"`;
  if (r.proto === PROTO_TCP) {
    s += `,"tcp_flags":"${hexFlags(r.tcpFlagsTs | r.tcpFlagsTc)}","tcp_flags_ts":"${hexFlags(r.tcpFlagsTs)}","tcp_flags_tc":"${hexFlags(r.tcpFlagsTc)}"`;
  }
  return s + '}';
}
