// The `smb` protocol module: a content probe for NetBIOS session messages carrying SMB1/2/3 (or a NetBIOS
// session request on port 139) and the SmbParser factory. Registered in src/files/registry.ts.

import type { Direction, FlowInfo, ProbeResult, ProtocolContext, ProtocolModule } from '../contract.js';
import { SmbParser } from './parser.js';

export { SmbParser, smb2DialectName, fuidString, SMB_MAX_PDU, SMB_MAX_MAP, SMB_MAX_OPEN_FILES } from './parser.js';

/** Probe: NBSS session message (type 0) whose payload starts with 0xFF/0xFE/0xFD/0xFC 'SMB'. */
export function probeSmb(_dir: Direction, head: Uint8Array, flow: FlowInfo): ProbeResult {
  if (head.length < 8) return head.length > 0 && head[0] !== 0 && head[0] !== 0x81 && head[0] !== 0x85 ? 'no' : 'need-more';
  if (head[0] === 0x81 || head[0] === 0x82 || head[0] === 0x85) return flow.dstPort === 139 || flow.srcPort === 139 ? 'yes' : 'no';
  if (head[0] !== 0) return 'no';
  const p = head[4]!;
  return (p === 0xff || p === 0xfe || p === 0xfd || p === 0xfc) && head[5] === 0x53 && head[6] === 0x4d && head[7] === 0x42 ? 'yes' : 'no';
}

/** SMB over NetBIOS session service / direct TCP (139, 445). */
export const smb: ProtocolModule = {
  name: 'smb',
  transport: 'tcp',
  probe: probeSmb,
  create: (ctx: ProtocolContext) => new SmbParser(ctx),
};
