// Shared by files-smb.test.ts and files-nfs.test.ts: a strict form of a suricata-verify fileinfo check — the
// base fields (files-common eventMatches) plus every field of the check's other_match (app_proto, addresses,
// smb.* / nfs.* / rpc.* metadata, fileinfo.tx_id). Fields driven by Suricata's rules or packet counters
// (fileinfo.stored, pcap_cnt) are not compared.
import type { FileEvent } from '../../src/files/fileinfo.js';
import { eventMatches, type ExpectRow } from './files-common.js';

const NOT_COMPARED = new Set(['pcap_cnt', 'fileinfo.stored']);

/** Value at a dotted path of an event (undefined when absent). */
export function fieldAt(e: FileEvent, path: string): unknown {
  let cur: unknown = e;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Parsed other_match JSON of a row (CSV-quoted in the TSV). */
export function otherMatch(r: ExpectRow): Record<string, unknown> {
  const s = r.other_match;
  if (!s) return {};
  return JSON.parse(s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s) as Record<string, unknown>;
}

/** Events satisfying the row's base fields and all comparable other_match fields. */
export function strictCount(r: ExpectRow, events: FileEvent[]): number {
  const om = Object.entries(otherMatch(r)).filter(([k]) => !NOT_COMPARED.has(k));
  return events.filter((e) => eventMatches(r, e) && om.every(([k, v]) => fieldAt(e, k) === v)).length;
}
