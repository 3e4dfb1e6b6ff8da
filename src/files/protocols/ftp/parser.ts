// FTP control channel (RFC 959, 2428) sans-IO parser: commands and replies, the data port negotiated by
// PORT/EPRT (active) or PASV/EPSV replies 227/229 (passive), and for every RETR/STOR/APPE/STOU an expectation
// announced through ctx.expect — the data connection that will carry the file, named by the command
// argument as Suricata does (`<stou>` for a bare STOU). The data connection is another flow, resolved
// against these expectations by the file sink (see ./data.ts). AUTH TLS accepted (234) stops parsing.

import type { Direction, Expectation, ProtocolContext, ProtocolParser } from '../contract.js';
import { LineSplitter } from '../../mime/lines.js';
import { latin1 } from '../../mime/header.js';

/** Longest command or reply line acted upon (Suricata's ftp max-line-length default); longer are ignored. */
export const FTP_MAX_LINE = 4096;
/** Longest file name kept from a command argument (Suricata's SC_FILENAME_MAX - 1). */
export const FTP_MAX_FILENAME = 4095;
/** Commands awaiting their final reply (and transfers awaiting a 227/229); beyond it the oldest are forgotten (noted). */
export const FTP_MAX_PENDING = 256;

/** An expectation as announced by this parser: the contract's fields plus the transfer mode. */
export interface FtpExpectation extends Expectation {
  /** 'active': the control server connects to the client (PORT/EPRT); 'passive': the client connects. */
  mode: 'active' | 'passive';
  /** The control connection's client address (the FTP user's host). */
  controlClientIp: string;
}

type Mode = 'active' | 'passive';

interface Pending { cmd: string }

/** Statistics of one FTP control flow. */
export interface FtpStats { commands: number; replies: number; expectations: number; transfersWithoutPort: number }

const FILE_CMDS = new Set(['RETR', 'STOR', 'APPE', 'STOU']);
const LIST_CMDS = new Set(['LIST', 'NLST', 'MLSD']);

/** Port of `PORT h1,h2,h3,h4,p1,p2` (the argument), or 0. */
export function parsePortArg(arg: string): number {
  const m = /^\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*$/.exec(arg);
  if (!m) return 0;
  const v = m.slice(1).map(Number);
  if (v.some((x) => x > 255)) return 0;
  return v[4]! * 256 + v[5]!;
}

/** Port of `EPRT |af|addr|port|` (the argument, any delimiter), or 0. */
export function parseEprtArg(arg: string): number {
  const s = arg.trim();
  if (s.length < 7) return 0;
  const d = s[0]!;
  const parts = s.split(d);
  // ['', af, addr, port, '']
  if (parts.length < 5) return 0;
  const p = /^\s*(\d{1,5})\s*$/.exec(parts[3]!);
  if (!p) return 0;
  const port = Number(p[1]);
  return port > 0 && port <= 65535 ? port : 0;
}

/** Port of a `227 ... (h1,h2,h3,h4,p1,p2)` reply line, or 0. */
export function parsePasvReply(line: string): number {
  if (!line.startsWith('227')) return 0;
  const m = /\(?\s*(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)?/.exec(line.slice(3));
  if (!m) return 0;
  const v = m.slice(1).map(Number);
  if (v.some((x) => x > 255)) return 0;
  return v[4]! * 256 + v[5]!;
}

/** Port of a `229 ... (|||port|)` reply line, or 0. */
export function parseEpsvReply(line: string): number {
  if (!line.startsWith('229')) return 0;
  const m = /\((.)\1\1\s*(\d{1,5})\s*\1\)/.exec(line);
  if (!m) return 0;
  const port = Number(m[2]);
  return port > 0 && port <= 65535 ? port : 0;
}

/** Parser of one FTP control connection. */
export class FtpParser implements ProtocolParser {
  readonly stats: FtpStats = { commands: 0, replies: 0, expectations: 0, transfersWithoutPort: 0 };
  user: string | undefined;
  #ctx: ProtocolContext;
  #client: LineSplitter;
  #server: LineSplitter;
  #longClient = false;
  #longServer = false;
  #pending: Pending[] = [];
  #port = 0;
  #mode: Mode = 'passive';
  /** PORT/EPRT sent, reply not yet seen: the port it would set. */
  #activeOffer = 0;
  /** PASV/EPSV sent and unanswered: transfer commands wait for the port. */
  #passiveAsked = 0;
  #deferred: Array<{ cmd: string; filename: string; txId: number }> = [];
  #multi: string | null = null;
  #tls = false;
  #tx = 0;

  constructor(ctx: ProtocolContext) {
    this.#ctx = ctx;
    this.#client = new LineSplitter(FTP_MAX_LINE, (f, c, ok) => {
      if (!ok) { this.#longClient = true; return; }
      if (this.#longClient) { this.#longClient = false; return; }
      this.#command(f.subarray(0, c));
    });
    this.#server = new LineSplitter(FTP_MAX_LINE, (f, c, ok) => {
      if (!ok) { this.#longServer = true; return; }
      if (this.#longServer) { this.#longServer = false; return; }
      this.#reply(latin1(f.subarray(0, c)));
    });
  }

  /** Reassembled bytes of one direction (0 = commands, 1 = replies). */
  data(dir: Direction, bytes: Uint8Array): void {
    if (this.#tls) return;
    if (dir === 0) {
      // One line at a time, so a reply-driven change (AUTH TLS) is not overrun.
      this.#client.write(bytes);
    } else this.#server.write(bytes);
  }

  /** Bytes lost: drop the partial line of that direction. */
  gap(dir: Direction): void {
    if (dir === 0) this.#client.reset(); else { this.#server.reset(); this.#multi = null; }
    this.#ctx.note('ftp-gap');
  }

  /** Flow end: transfers still waiting for a passive port are dropped (noted). */
  close(): void {
    if (this.#deferred.length) this.#ctx.note('ftp-transfer-without-port', { count: this.#deferred.length });
    this.#deferred = [];
  }

  #command(line: Uint8Array): void {
    const s = latin1(line);
    const sp = s.indexOf(' ');
    const word = (sp < 0 ? s : s.slice(0, sp)).trim().toUpperCase();
    if (!/^[A-Z]{3,4}$/.test(word)) return;
    this.stats.commands++;
    const txId = this.#tx++;
    const arg = sp < 0 ? '' : s.slice(sp + 1);
    if (this.#pending.length >= FTP_MAX_PENDING) { this.#pending.shift(); this.#ctx.note('ftp-pending-overflow'); }
    this.#pending.push({ cmd: word });
    switch (word) {
      case 'USER': if (this.user === undefined) this.user = arg.trim(); return;
      case 'PORT': this.#activeOffer = parsePortArg(arg); this.#setActive(this.#activeOffer); return;
      case 'EPRT': this.#activeOffer = parseEprtArg(arg); this.#setActive(this.#activeOffer); return;
      case 'PASV': case 'EPSV': this.#passiveAsked++; return;
      default: break;
    }
    if (!FILE_CMDS.has(word) && !LIST_CMDS.has(word)) return;
    let filename: string | null = null;
    if (FILE_CMDS.has(word)) {
      // As Suricata: the name is the line after the 4-letter command and its separator.
      if (line.length >= 6) filename = latin1(line.subarray(5, 5 + FTP_MAX_FILENAME));
      else if (word === 'STOU') filename = '<stou>';
      else { this.#ctx.note('ftp-file-without-name', { command: word }); return; }
    }
    if (this.#port === 0) {
      if (this.#passiveAsked > 0 && filename !== null) {
        if (this.#deferred.length >= FTP_MAX_PENDING) { this.#deferred.shift(); this.#ctx.note('ftp-pending-overflow'); }
        this.#deferred.push({ cmd: word, filename, txId });
        return;
      }
      this.stats.transfersWithoutPort++;
      this.#ctx.note('ftp-file-before-port', { command: word });
      return;
    }
    if (filename !== null) this.#announce(word, filename, txId);
    // One data connection per negotiated port.
    this.#port = 0;
  }

  #setActive(port: number): void {
    if (port === 0) { this.#ctx.note('ftp-bad-port-command'); return; }
    this.#port = port;
    this.#mode = 'active';
  }

  #announce(cmd: string, filename: string, txId: number): void {
    const f = this.#ctx.flow;
    const active = this.#mode === 'active';
    const e: FtpExpectation = {
      ip: active ? f.srcIp : f.dstIp,
      port: this.#port,
      peerIp: active ? f.dstIp : f.srcIp,
      appProto: 'ftp-data',
      command: cmd,
      filename,
      direction: cmd === 'RETR' ? 1 : 0,
      parentFlowId: f.flowId,
      txId,
      mode: this.#mode,
      controlClientIp: f.srcIp,
    };
    this.stats.expectations++;
    this.#ctx.expect(e);
  }

  #reply(line: string): void {
    if (this.#multi !== null) {
      // Multi-line reply: ends with the same code followed by a space.
      if (line.length >= 4 && line.startsWith(this.#multi) && line[3] === ' ') this.#multi = null;
      else return;
    } else {
      if (line.length < 3 || !/^\d{3}/.test(line)) return;
      if (line[3] === '-') { this.#multi = line.slice(0, 3); return; }
    }
    this.stats.replies++;
    const code = Number(line.slice(0, 3));
    if (code >= 100 && code < 200) return; // preliminary: the command's final reply follows
    const p = this.#pending.shift();
    const cmd = p?.cmd;
    if (code === 227 || code === 229) {
      const port = code === 227 ? parsePasvReply(line) : parseEpsvReply(line);
      if (cmd === 'PASV' || cmd === 'EPSV') this.#passiveAsked = Math.max(0, this.#passiveAsked - 1);
      if (port) {
        this.#port = port;
        this.#mode = 'passive';
        const d = this.#deferred.shift();
        if (d) { this.#announce(d.cmd, d.filename, d.txId); this.#port = 0; }
      }
      return;
    }
    if ((cmd === 'PORT' || cmd === 'EPRT') && code >= 400 && this.#port === this.#activeOffer) {
      // The server refused the port: no data connection will come to it.
      this.#port = 0;
    } else if ((cmd === 'PASV' || cmd === 'EPSV') && code >= 400) {
      this.#passiveAsked = Math.max(0, this.#passiveAsked - 1);
      if (this.#passiveAsked === 0) this.#deferred = [];
    } else if (cmd === 'AUTH' && code === 234) {
      this.#tls = true;
      this.#ctx.note('ftp-auth-tls');
    }
  }
}
