// The `nfs` protocol module (TCP and UDP): a content probe for ONC RPC calls to program 100003 (or replies on
// port 2049) and the NfsParser factory. Registered in src/files/registry.ts.

import type { Direction, FlowInfo, ProbeResult, ProtocolContext, ProtocolModule } from '../contract.js';
import { be32, looksLikeRpc } from '../rpc/rpc.js';
import { NFS_PROGRAM, NfsParser } from './parser.js';

export { NfsParser, handleHash, nfsStatusName, NFS_PROGRAM, NFS_MAX_NAMES, NFS_MAX_OPEN_FILES } from './parser.js';

/** Probe: an RPC call (after the record mark on TCP) for NFS v2–v4, or an RPC reply from port 2049. */
export function probeNfs(dir: Direction, head: Uint8Array, flow: FlowInfo): ProbeResult {
  const off = flow.proto === 17 ? 0 : 4;
  if (head.length < off + 24) return head.length < off + 12 || dir === 0 ? (head.length >= 64 ? 'no' : 'need-more') : replyVerdict(head, off, flow);
  if (off === 4 && (((head[0]! & 0x7f) << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0 < 24) return 'no';
  const mtype = be32(head, off + 4);
  if (mtype === 0) {
    if (be32(head, off + 8) !== 2 || be32(head, off + 12) !== NFS_PROGRAM) return 'no';
    const vers = be32(head, off + 16);
    return vers >= 2 && vers <= 4 ? 'yes' : 'no';
  }
  return replyVerdict(head, off, flow);
}

function replyVerdict(head: Uint8Array, off: number, flow: FlowInfo): ProbeResult {
  if (!looksLikeRpc(head, off)) return 'no';
  return flow.srcPort === 2049 || flow.dstPort === 2049 ? 'yes' : 'no';
}

/** NFS over ONC RPC. */
export const nfs: ProtocolModule = {
  name: 'nfs',
  transport: 'both',
  probe: probeNfs,
  create: (ctx: ProtocolContext) => new NfsParser(ctx),
};
