// Keys that tie alerts to flow records: the store-index hash of a flow's canonical key bytes and the
// Suricata-flavour Community ID that Suricata's alerts carry for ICMP and port-less protocols.

import { parseIp } from '../decode/addr.js';
import { communityId } from '../flow/community-id.js';
import type { FlowRecord } from '../flow/record.js';
import { tupleHashAt } from './alert.js';

/** Index hash of a flow from its canonical key bytes (src/flow/key.ts layout: [0] version, [1] proto, [6..9] ports, [12..43] addresses). */
export function flowKeyHash(key: Uint8Array): [number, number] {
  const alen = key[0] === 4 ? 4 : 16;
  return tupleHashAt(key[1]!, key, 12, alen, (key[6]! << 8) | key[7]!, key, 28, alen, (key[8]! << 8) | key[9]!);
}

/** Suricata-flavour Community ID of a flow (what Suricata's alerts carry for ICMP and port-less protocols). */
export function suricataCommunityId(flow: FlowRecord): string {
  const s = parseIp(flow.srcIp), d = parseIp(flow.dstIp);
  if (!s || !d) return '';
  const icmp = flow.proto === 1 || flow.proto === 58;
  return communityId(flow.proto, s, d, icmp ? Math.max(0, flow.icmpType) : flow.srcPort, icmp ? Math.max(0, flow.icmpCode) : flow.dstPort, { flavour: 'suricata' });
}

