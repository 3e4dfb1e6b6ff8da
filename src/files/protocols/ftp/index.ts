// The FTP protocol modules: `ftp` (control channel: content probe + parser announcing data connections) and
// `ftp-data` (data connections, resolved against those announcements; see ./data.ts). Registered in
// src/files/registry.ts.

import type { Direction, FlowInfo, ProbeResult, ProtocolContext, ProtocolModule } from '../contract.js';
import { FtpParser } from './parser.js';

export { FtpParser, parsePortArg, parseEprtArg, parsePasvReply, parseEpsvReply, type FtpExpectation } from './parser.js';
export { ftpData, FtpDataParser, FtpDataCandidateParser, resolveFtpData, ftpDataMeta, ftpDataDirection, ftpDataFits, FTP_EXPECTATION_TIMEOUT, type DataCandidate, type TimedExpectation, type FtpDataMatch, type FallbackModule } from './data.js';

/** Ports where a bare `220` banner is taken as FTP. */
export const FTP_PORTS: ReadonlySet<number> = new Set([21, 990, 2121]);

const CLIENT = /^(?:USER |FEAT\r?\n|PORT |EPRT |PASV\r?\n|EPSV|AUTH TLS|AUTH SSL|SYST\r?\n|OPTS |TYPE [AI])/i;

/** Content probe: 'yes' on FTP client commands or a 220 banner naming FTP (or on an FTP port). */
export function probeFtp(dir: Direction, head: Uint8Array, flow: FlowInfo): ProbeResult {
  if (head.length < 4) return 'need-more';
  if (dir === 0) {
    const s = Buffer.from(head.subarray(0, 16)).toString('latin1');
    if (CLIENT.test(s)) {
      // POP3 also says USER: only claim it away from the POP3 port.
      if (/^USER /i.test(s) && (flow.dstPort === 110 || flow.dstPort === 995)) return 'no';
      return 'yes';
    }
    if (head.length < 6 && /^(?:U|F|P|E|A|S|O|T)/i.test(s)) return 'need-more';
    return 'no';
  }
  if (head[0] !== 0x32 || head[1] !== 0x32 || head[2] !== 0x30 || (head[3] !== 0x20 && head[3] !== 0x2d)) return 'no';
  const lf = head.indexOf(0x0a);
  if (lf < 0) return head.length >= 512 ? (FTP_PORTS.has(flow.dstPort) ? 'yes' : 'no') : 'need-more';
  const line = Buffer.from(head.subarray(0, lf)).toString('latin1');
  if (/ftp/i.test(line) && !/smtp/i.test(line)) return 'yes';
  return FTP_PORTS.has(flow.dstPort) ? 'yes' : 'no';
}

/** FTP control channel. */
export const ftp: ProtocolModule = {
  name: 'ftp',
  transport: 'tcp',
  probe: probeFtp,
  create: (ctx: ProtocolContext) => new FtpParser(ctx),
};
