// SMTP (RFC 5321) sans-IO parser: client commands matched in order to server replies (pipelining included),
// transactions (envelope + message), DATA with dot-unstuffing up to `CRLF.CRLF`, BDAT chunks (RFC 3030, LAST),
// STARTTLS (parsing stops once the server accepts it). Message bodies go through the MIME parser; every
// attachment becomes a file with Suricata's `smtp` and `email` metadata. Client bytes after DATA wait for the
// server's reply (bounded): 354 makes them the message, any other reply makes them commands again, so a
// rejected DATA never produces a file; a reply that never comes (one-sided capture) counts as accepted.

import type { Direction, FileHandle, FileState, ProtocolContext, ProtocolParser } from '../contract.js';
import { LineSplitter, plainView } from '../../mime/lines.js';
import { MimeParser } from '../../mime/parser.js';
import { bytesToText, latin1 } from '../../mime/header.js';

/** Longest command or reply line acted upon (Suricata's SMTP_LINE_BUFFER_LIMIT); longer ones are ignored. */
export const SMTP_MAX_COMMAND_LINE = 4096;
/** Longest message line buffered before it is handled in fragments. */
export const SMTP_MAX_DATA_LINE = 64 * 1024;
/** Commands awaiting a reply; beyond it the oldest are dropped (counted as 'smtp-command-queue-overflow'). */
export const SMTP_MAX_PENDING_COMMANDS = 1024;
/** Client bytes held while the reply to DATA is awaited; beyond it DATA counts as accepted. */
export const SMTP_DATA_WAIT_CAP = 1024 * 1024;
/** Recipients kept per transaction. */
export const SMTP_MAX_RCPT = 1024;

const enum Cmd { Other, Data, DataEnd, Bdat, BdatLast, StartTls, Rset, Quit }
const enum Mode { Command, Wait, Data, Bdat, Tls }

interface Tx {
  id: number;
  mailFrom?: string;
  rcptTo: string[];
  /** The client finished its request (message end, or RSET/QUIT acknowledged). */
  complete: boolean;
  /** DATA was sent and not yet answered. */
  isData: boolean;
  mime: MimeParser | null;
}

interface Pending { cmd: Cmd; tx: Tx | null }

/** Statistics of one SMTP flow. */
export interface SmtpStats {
  commands: number;
  replies: number;
  messages: number;
  dataRejected: number;
  files: number;
}

const lower = (b: Uint8Array, n: number) => latin1(b.subarray(0, Math.min(n, b.length))).toLowerCase();

/** Parser of one SMTP connection. */
export class SmtpParser implements ProtocolParser {
  readonly stats: SmtpStats = { commands: 0, replies: 0, messages: 0, dataRejected: 0, files: 0 };
  helo: string | undefined;
  #ctx: ProtocolContext;
  #mode = Mode.Command;
  #tx: Tx | null = null;
  #txCount = 0;
  #pending: Pending[] = [];
  #firstReply = false;
  #tls = false;
  #client: LineSplitter;
  #server: LineSplitter;
  #held: Uint8Array[] = [];
  #heldLen = 0;
  #bdatLeft = 0;
  #bdatLast = false;
  #dataTx: Tx | null = null;
  #file: FileHandle | null = null;
  /** A gap cut the current part: ignore its remaining bytes. */
  #skipPart = false;
  #serverMulti = false;

  constructor(ctx: ProtocolContext) {
    this.#ctx = ctx;
    this.#client = new LineSplitter(SMTP_MAX_DATA_LINE, (f, c, complete) => this.#clientLine(f, c, complete));
    this.#server = new LineSplitter(SMTP_MAX_COMMAND_LINE, (f, c, complete) => this.#replyLine(f, c, complete));
  }

  /** Transactions started so far. */
  get transactions(): number { return this.#txCount; }

  /** Reassembled bytes of one direction (0 = commands and message, 1 = replies). */
  data(dir: Direction, bytes: Uint8Array): void {
    if (this.#tls || bytes.length === 0) return;
    if (dir === 1) { this.#server.write(bytes); return; }
    this.#clientBytes(plainView(bytes));
  }

  /** `len` bytes lost: the open file is marked and closed TRUNCATED, line parsing resynchronises. */
  gap(dir: Direction, len: number): void {
    if (this.#tls) return;
    if (dir === 1) { this.#server.reset(); this.#serverMulti = false; return; }
    this.#client.reset();
    if (this.#mode === Mode.Wait) { this.#held = []; this.#heldLen = 0; }
    if (this.#mode === Mode.Bdat) {
      const skip = Math.min(len, this.#bdatLeft);
      this.#bdatLeft -= skip;
    }
    if (this.#file) {
      this.#dataTx?.mime?.flushData();
      this.#file.gap(len);
      this.#file.close('TRUNCATED');
      this.#file = null;
      this.#skipPart = true;
    }
    if (this.#mode === Mode.Bdat && this.#bdatLeft === 0) this.#bdatChunkDone();
    this.#ctx.note('smtp-gap', { len });
  }

  /** Flow end: an unanswered DATA counts as accepted, an unfinished message's open file ends TRUNCATED. */
  close(): void {
    if (this.#tls) return;
    if (this.#mode === Mode.Wait) this.#acceptData('smtp-data-reply-missing');
    this.#client.flush();
    this.#closing = 'TRUNCATED';
    const tx = this.#dataTx;
    if (tx?.mime) {
      tx.mime.end();
      tx.mime = null;
    }
    if (this.#file) { this.#file.close('TRUNCATED'); this.#file = null; }
  }

  // ---- client side ----

  #clientBytes(bytes: Uint8Array): void {
    let off = 0;
    const n = bytes.length;
    while (off < n && !this.#tls) {
      if (this.#mode === Mode.Bdat) {
        const take = Math.min(this.#bdatLeft, n - off);
        this.#message(bytes.subarray(off, off + take));
        off += take;
        this.#bdatLeft -= take;
        if (this.#bdatLeft === 0) this.#bdatChunkDone();
        continue;
      }
      if (this.#mode === Mode.Wait) {
        const rest = bytes.subarray(off);
        if (this.#heldLen + rest.length > SMTP_DATA_WAIT_CAP) {
          this.#acceptData('smtp-data-wait-cap');
          continue;
        }
        this.#held.push(rest.slice());
        this.#heldLen += rest.length;
        return;
      }
      // Line modes: feed one line at a time so a mode change takes effect at the next byte.
      const lf = bytes.indexOf(0x0a, off);
      const end = lf < 0 ? n : lf + 1;
      this.#client.write(bytes.subarray(off, end));
      off = end;
    }
  }

  #clientLine(full: Uint8Array, contentLen: number, complete: boolean): void {
    if (this.#mode === Mode.Data) { this.#dataLine(full, contentLen, complete); return; }
    if (!complete || contentLen > SMTP_MAX_COMMAND_LINE) { this.#longCommand = true; return; }
    if (this.#longCommand) { this.#longCommand = false; return; }
    this.#command(full.subarray(0, contentLen));
  }
  #longCommand = false;
  #dataMidLine = false;

  #dataLine(full: Uint8Array, contentLen: number, complete: boolean): void {
    const cont = this.#dataMidLine;
    this.#dataMidLine = !complete;
    let f = full, c = contentLen;
    if (!cont && c >= 1 && f[0] === 0x2e) {
      if (c === 1 && complete) { this.#messageEnd(); return; }
      // Dot-unstuffing (RFC 5321 §4.5.2): a leading '.' was doubled by the client.
      f = f.subarray(1); c -= 1;
    }
    const tx = this.#dataTx;
    if (tx?.mime) tx.mime.line(f, c, complete);
  }

  #command(line: Uint8Array): void {
    this.stats.commands++;
    const l4 = lower(line, 4);
    const noNewTx = l4 === 'rset' || l4 === 'quit';
    if ((!this.#tx && (this.#txCount === 0 || !noNewTx)) || (this.#tx?.complete && !noNewTx)) this.#newTx();
    const tx = this.#tx;
    let cmd = Cmd.Other;
    if (lower(line, 8) === 'starttls') cmd = Cmd.StartTls;
    else if (l4 === 'data' && (line.length === 4 || line[4] === 0x20)) {
      if (tx && tx.isData) { this.#ctx.note('smtp-unparsable-content'); this.#push(Cmd.Other, tx); return; }
      cmd = Cmd.Data;
      if (tx) tx.isData = true;
      this.#push(cmd, tx);
      this.#dataTx = tx;
      this.#mode = Mode.Wait;
      return;
    } else if (l4 === 'bdat') {
      const m = /^bdat +(\d{1,10})(?: +(last))? *$/i.exec(latin1(line));
      if (!m) { this.#ctx.note('smtp-invalid-bdat'); cmd = Cmd.Other; }
      else {
        const len = Number(m[1]);
        const last = m[2] !== undefined;
        cmd = last ? Cmd.BdatLast : Cmd.Bdat;
        this.#push(cmd, tx);
        if (tx && !tx.mime) { tx.mime = this.#newMime(tx); this.#dataTx = tx; }
        this.#bdatLast = last;
        this.#bdatLeft = len;
        if (len > 0) this.#mode = Mode.Bdat;
        else if (last) this.#messageEnd();
        return;
      }
    } else if (l4 === 'helo' || l4 === 'ehlo') {
      if (this.helo === undefined) this.helo = param(line, 4);
      // A mid-session greeting resets the transaction like RSET (RFC 5321 §4.1.4).
      if (tx && (tx.mailFrom !== undefined || tx.rcptTo.length || tx.isData || tx.mime)) cmd = Cmd.Rset;
    } else if (lower(line, 9) === 'mail from') {
      if (tx && tx.mailFrom === undefined) tx.mailFrom = param(line, 9);
    } else if (lower(line, 7) === 'rcpt to') {
      if (tx) {
        if (tx.rcptTo.length < SMTP_MAX_RCPT) tx.rcptTo.push(param(line, 7));
        else this.#ctx.note('smtp-too-many-rcpt');
      }
    } else if (l4 === 'rset') cmd = Cmd.Rset;
    else if (l4 === 'quit') cmd = Cmd.Quit;
    this.#push(cmd, tx);
  }

  #newTx(): void {
    this.#tx = { id: this.#txCount++, rcptTo: [], complete: false, isData: false, mime: null };
  }

  #push(cmd: Cmd, tx: Tx | null): void {
    if (this.#pending.length >= SMTP_MAX_PENDING_COMMANDS) { this.#pending.shift(); this.#ctx.note('smtp-command-queue-overflow'); }
    this.#pending.push({ cmd, tx });
  }

  /** DATA accepted (354, or assumed): the held bytes are the message. */
  #acceptData(reason?: string): void {
    if (this.#mode !== Mode.Wait) return;
    if (reason) this.#ctx.note(reason);
    const tx = this.#dataTx;
    if (tx) { tx.isData = false; tx.mime = this.#newMime(tx); }
    this.#mode = Mode.Data;
    this.#dataMidLine = false;
    this.#replayHeld();
  }

  /** DATA rejected: the held bytes are commands again, no message. */
  #rejectData(): void {
    if (this.#mode !== Mode.Wait) return;
    this.stats.dataRejected++;
    this.#ctx.note('smtp-data-rejected');
    const tx = this.#dataTx;
    if (tx) tx.isData = false;
    this.#dataTx = null;
    this.#mode = Mode.Command;
    this.#replayHeld();
  }

  #replayHeld(): void {
    const held = this.#held;
    this.#held = [];
    this.#heldLen = 0;
    for (const b of held) this.#clientBytes(b);
  }

  #newMime(tx: Tx): MimeParser {
    this.stats.messages++;
    return new MimeParser({
      fileOpen: (name) => {
        this.#skipPart = false;
        this.stats.files++;
        this.#file = this.#ctx.files.open({ filename: name, direction: 0, txId: tx.id, appProto: 'smtp', meta: this.#meta(tx) });
      },
      fileData: (b) => { if (this.#file && !this.#skipPart) this.#file.write(b); },
      fileClose: () => {
        if (this.#file) {
          this.#file.setMeta(this.#meta(tx));
          this.#file.close(this.#closing);
          this.#file = null;
        }
        this.#skipPart = false;
      },
    });
  }
  /** State given to files closed by the message's end (TRUNCATED when the flow ends mid-message). */
  #closing: FileState | undefined = undefined;

  #meta(tx: Tx): Record<string, unknown> {
    const smtp: Record<string, unknown> = {};
    if (this.helo !== undefined) smtp.helo = bytesToText(this.helo);
    if (tx.mailFrom !== undefined) smtp.mail_from = bytesToText(tx.mailFrom);
    if (tx.rcptTo.length) smtp.rcpt_to = tx.rcptTo.map(bytesToText);
    const meta: Record<string, unknown> = { smtp };
    if (tx.mime) meta.email = tx.mime.emailMeta();
    return meta;
  }

  #message(bytes: Uint8Array): void {
    const tx = this.#dataTx;
    if (tx?.mime) tx.mime.write(bytes);
  }

  #bdatChunkDone(): void {
    this.#mode = Mode.Command;
    if (this.#bdatLast) this.#messageEnd();
  }

  #messageEnd(): void {
    const tx = this.#dataTx;
    this.#mode = Mode.Command;
    this.#dataMidLine = false;
    if (tx) {
      if (tx.mime) { tx.mime.end(); }
      tx.complete = true;
      tx.isData = false;
      this.#push(Cmd.DataEnd, tx);
    }
    this.#dataTx = null;
  }

  // ---- server side ----

  #replyLine(full: Uint8Array, contentLen: number, complete: boolean): void {
    if (!complete || contentLen < 3) return;
    const line = full.subarray(0, contentLen);
    for (let i = 0; i < 3; i++) if (line[i]! < 0x30 || line[i]! > 0x39) { this.#ctx.note('smtp-invalid-reply'); return; }
    const more = contentLen >= 4 && line[3] === 0x2d;
    if (more) { this.#serverMulti = true; return; }
    this.#serverMulti = false;
    const code = (line[0]! - 0x30) * 100 + (line[1]! - 0x30) * 10 + (line[2]! - 0x30);
    this.stats.replies++;
    this.#reply(code);
  }

  #reply(code: number): void {
    const head = this.#pending[0];
    if (!this.#firstReply && (!head || (code === 220 && head.cmd !== Cmd.StartTls))) {
      // The greeting, even when the client's first command was delivered before it.
      this.#firstReply = true;
      return;
    }
    this.#firstReply = true;
    const p = this.#pending.shift();
    if (!p) return;
    switch (p.cmd) {
      case Cmd.StartTls:
        if (code === 220) { this.#tls = true; this.#client.reset(); this.#server.reset(); this.#ctx.note('smtp-starttls'); }
        break;
      case Cmd.Data:
        if (code === 354) this.#acceptData();
        else this.#rejectData();
        break;
      case Cmd.Rset:
      case Cmd.Quit:
        if (p.tx && (code === 250 || code === 221)) p.tx.complete = true;
        break;
      default:
        break;
    }
  }
}

/** Argument of a command with a `prefix`-byte keyword: skip one separator and spaces, take up to a space. */
function param(line: Uint8Array, prefix: number): string {
  let i = prefix + 1;
  while (i < line.length && line[i] === 0x20) i++;
  let j = i;
  while (j < line.length && line[j] !== 0x20) j++;
  return latin1(line.subarray(i, j));
}
