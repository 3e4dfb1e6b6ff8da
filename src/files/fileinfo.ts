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
  const ev: FileEvent = {
    timestamp: eveTime(o.sec, o.nsec),
    flow_id: f.flowId,
    event_type: 'fileinfo',
    src_ip: down ? f.dstIp : f.srcIp,
    src_port: down ? f.dstPort : f.srcPort,
    dest_ip: down ? f.srcIp : f.dstIp,
    dest_port: down ? f.srcPort : f.dstPort,
    proto: PROTO[f.proto] ?? String(f.proto),
    community_id: f.communityId,
    app_proto: o.appProto,
    fileinfo: o.body,
  };
  for (const k of Object.keys(o.meta)) if (!(k in ev)) ev[k] = o.meta[k];
  // app_proto and fileinfo last, as in Suricata's output.
  const { app_proto, fileinfo, ...head } = ev;
  return { ...head, app_proto, fileinfo } as FileEvent;
}

const BIG_ID = /"(flow_id|parent_id)":"(\d+)"/g;

/** One JSON line (no newline): flow_id and parent_id as bare integers like EVE. */
export function fileinfoJson(ev: FileEvent): string {
  return JSON.stringify(ev).replace(BIG_ID, '"$1":$2');
}

/** Output order: close time, flow id (numeric), tx_id, per-flow file sequence. */
export function compareFileOrder(a: FileOrder, b: FileOrder): number {
  return a.sec - b.sec || a.nsec - b.nsec || (a.flowId.length - b.flowId.length) || (a.flowId < b.flowId ? -1 : a.flowId > b.flowId ? 1 : 0) || a.txId - b.txId || a.seq - b.seq;
}
