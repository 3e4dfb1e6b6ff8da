// The SMTP protocol module: content probe (client greeting or mail commands, server banner naming SMTP or
// on a mail port) and the parser factory. Registered in src/files/registry.ts.

import type { Direction, FlowInfo, ProbeResult, ProtocolContext, ProtocolModule } from '../contract.js';
import { SmtpParser } from './parser.js';

export { SmtpParser } from './parser.js';

/** Ports where a bare `220` banner is taken as SMTP. */
export const SMTP_PORTS: ReadonlySet<number> = new Set([25, 465, 587, 2525]);

const CLIENT = /^(?:ehlo|helo|mail from:|rcpt to:|starttls|auth |bdat )/i;

/** First line of `head` as latin1, or null when no LF came yet. */
function firstLine(head: Uint8Array, max: number): string | null {
  const lf = head.indexOf(0x0a);
  if (lf < 0) return head.length >= max ? Buffer.from(head.subarray(0, max)).toString('latin1') : null;
  return Buffer.from(head.subarray(0, lf)).toString('latin1');
}

/** Content probe: 'yes' on an SMTP greeting/command or an SMTP banner. */
export function probeSmtp(dir: Direction, head: Uint8Array, flow: FlowInfo): ProbeResult {
  if (head.length < 4) return 'need-more';
  if (dir === 0) {
    const s = Buffer.from(head.subarray(0, 16)).toString('latin1');
    if (CLIENT.test(s)) return 'yes';
    if (head.length < 10 && /^(?:e|h|m|r|s|a|b)/i.test(s)) return 'need-more';
    return 'no';
  }
  if (head[0] !== 0x32 || head[1] !== 0x32 || head[2] !== 0x30 || (head[3] !== 0x20 && head[3] !== 0x2d)) return 'no';
  const line = firstLine(head, 512);
  if (line === null) return 'need-more';
  if (/smtp|mail|postfix|exim|sendmail/i.test(line) && !/ftp/i.test(line)) return 'yes';
  return SMTP_PORTS.has(flow.dstPort) ? 'yes' : 'no';
}

/** SMTP: mail transactions and their attachments. */
export const smtp: ProtocolModule = {
  name: 'smtp',
  transport: 'tcp',
  probe: probeSmtp,
  create: (ctx: ProtocolContext) => new SmtpParser(ctx),
};
