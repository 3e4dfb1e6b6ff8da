// fileinfo events, as Suricata's EVE `fileinfo`: the event object built when a file closes, its JSON line
// (flow ids as bare 64-bit numbers), and the deterministic output order (timestamp, flow, tx_id, file_id) that
// makes the output identical for any worker count.

import { eveTime } from '../flow/eve.js';
import type { FileState, FlowInfo } from './protocols/contract.js';

/** The `fileinfo` object of an event. */
export interface FileInfoBody {
  filename: string;
  gaps: boolean;
  state: FileState;
  md5?: string;
  sha1?: string;
  sha256: string;
  stored: boolean;
  file_id: number;
  size: number;
  start?: number;
  end?: number;
  tx_id: number;
}

/** One fileinfo event (flow ids as decimal strings; see fileinfoJson). */
export interface FileEvent {
  timestamp: string;
  flow_id: string;
  event_type: 'fileinfo';
  src_ip: string;
  src_port: number;
  dest_ip: string;
  dest_port: number;
  proto: string;
  community_id: string;
  app_proto: string;
  fileinfo: FileInfoBody;
  /** Protocol metadata (http, email, smtp, ftp_data, parent_id, …). */
  [meta: string]: unknown;
}

/** Sort key of an event: close time, flow id, tx id, per-flow file sequence. */
export interface FileOrder { sec: number; nsec: number; flowId: string; txId: number; seq: number }

const PROTO: Record<number, string> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

/** Build an event. `download` (direction 1) puts the server as src, as Suricata does for files to the client. */
export function makeEvent(o: {
  flow: FlowInfo; direction: 0 | 1; sec: number; nsec: number; appProto: string; meta: Record<string, unknown>; body: FileInfoBody;
}): FileEvent {
  const f = o.flow, down = o.direction === 1;
  const ev = {
    timestamp: eveTime(o.sec, o.nsec),
    flow_id: f.flowId,
    event_type: 'fileinfo',
    src_ip: down ? f.dstIp : f.srcIp,
    src_port: down ? f.dstPort : f.srcPort,
    dest_ip: down ? f.srcIp : f.dstIp,
    dest_port: down ? f.srcPort : f.dstPort,
    proto: PROTO[f.proto] ?? String(f.proto),
    community_id: f.communityId,
  } as FileEvent;
  // Metadata never replaces a field (nor app_proto/fileinfo); app_proto and fileinfo last, as in Suricata's output.
  for (const k of Object.keys(o.meta)) if (!(k in ev) && k !== 'app_proto' && k !== 'fileinfo') ev[k] = o.meta[k];
  ev.app_proto = o.appProto;
  ev.fileinfo = o.body;
  return ev;
}

const BIG_ID = /"(flow_id|parent_id)":"(\d+)"/g;
const FLOW_ID = '"flow_id":"';
const PARENT_ID = '"parent_id":"';
const ANY_ID = '_id":"';

/** One JSON line (no newline): flow_id and parent_id as bare integers like EVE. */
export function fileinfoJson(ev: FileEvent): string {
  return bareIds(JSON.stringify(ev));
}

/**
 * The EVE line of an event kept as its `JSON.stringify` text (see PackedFiles), with fileinfo.file_id set to
 * `fileId`: the same text fileinfoJson() gives for the event with that file_id.
 */
export function fileinfoLine(json: string, fileId: number): string {
  return bareIds(withFileId(json, fileId));
}

const FILE_ID = ',"file_id":';

/**
 * `json` (an event's JSON.stringify text) with fileinfo.file_id replaced by `fileId`. fileinfo is the event's
 * last member and file_id its last member but numbers, so the last structural `,"file_id":` is the one (a quote
 * inside a string value is always escaped).
 */
function withFileId(json: string, fileId: number): string {
  const k = json.lastIndexOf(FILE_ID);
  if (k < 0) throw new RangeError('fileinfo JSON without file_id');
  const a = k + FILE_ID.length;
  let b = a;
  while (b < json.length) { const c = json.charCodeAt(b); if (c < 0x30 || c > 0x39) break; b++; }
  return json.slice(0, a) + fileId + json.slice(b);
}

/** Unquote the digits of flow_id and parent_id in an event's JSON. */
function bareIds(s: string): string {
  // Fast path: flow_id follows the fixed-format timestamp, so its first occurrence is the field; unquote its
  // digits. Any other id to unquote (parent_id, a nested flow_id: both contain `_id":"`) takes the general replace.
  const k = s.indexOf(FLOW_ID);
  if (k < 0) return s.replace(BIG_ID, '"$1":$2');
  const a = k + FLOW_ID.length, b = s.indexOf('"', a);
  if (b <= a || s.indexOf(ANY_ID, b) >= 0 || s.lastIndexOf(PARENT_ID, k) >= 0) return s.replace(BIG_ID, '"$1":$2');
  for (let i = a; i < b; i++) { const c = s.charCodeAt(i); if (c < 0x30 || c > 0x39) return s.replace(BIG_ID, '"$1":$2'); }
  return s.slice(0, a - 1) + s.slice(a, b) + s.slice(b + 1);
}

/** Output order: close time, flow id (numeric), tx_id, per-flow file sequence. */
export function compareFileOrder(a: FileOrder, b: FileOrder): number {
  return a.sec - b.sec || a.nsec - b.nsec || (a.flowId.length - b.flowId.length) || (a.flowId < b.flowId ? -1 : a.flowId > b.flowId ? 1 : 0) || a.txId - b.txId || a.seq - b.seq;
}
