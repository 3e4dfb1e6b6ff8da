// Streaming MIME message parser (RFC 2045/2046) for mail bodies: headers with folding, multipart of any depth,
// encapsulated message/* parts, base64 and quoted-printable decoding. Every part that carries a file name
// (Content-Disposition filename, else Content-Type name) becomes a file; its decoded bytes stream to the caller.
// Line-driven like Suricata's mime/smtp.rs so names, sizes and hashes agree with its fileinfo; memory per
// message is bounded (named caps below, overflow counted in `anomalies`).

import { Base64Decoder } from './base64.js';
import { QpDecoder } from './qp.js';
import { bytesToText, findParam, latin1, mediaType, parseHeaderLine, splitAddressList, type MimeHeader } from './header.js';
import { LineSplitter, plainView } from './lines.js';

/** Longest line buffered by `write` before it is handled in fragments. */
export const MIME_MAX_LINE = 64 * 1024;
/** Longest header value kept (folded lines appended beyond it are dropped). */
export const MIME_MAX_HEADER_VALUE = 16 * 1024;
/** Headers kept per part (the top-level message's and the current part's). */
export const MIME_MAX_HEADERS = 256;
/** Nesting depth of multipart boundaries tracked. */
export const MIME_MAX_DEPTH = 64;
/** Attachment names remembered per message. */
export const MIME_MAX_ATTACHMENTS = 1024;
/** Decoded bytes gathered before they are handed to fileData (fewer, larger writes: hashing per line is slow). */
export const MIME_OUT_CHUNK = 64 * 1024;

/** Receives the files found in a message. */
export interface MimeFileEvents {
  /** A part with a file name begins (`name` as text); `headers` are the part's own headers. */
  fileOpen(name: string, headers: readonly MimeHeader[]): void;
  /** Decoded bytes of the open file (a view valid during the call only). */
  fileData(bytes: Uint8Array): void;
  /** The open file's part ended (boundary or end of message). */
  fileClose(): void;
}

/** Anomaly counters (Suricata's MIME decoder events). */
export interface MimeAnomalies {
  invalidBase64: number;
  invalidQp: number;
  longLine: number;
  longHeaderValue: number;
  tooManyHeaders: number;
  longFilename: number;
  tooDeep: number;
  tooManyAttachments: number;
}

/** `email` metadata as Suricata's EVE logs it. */
export interface EmailMeta {
  from?: string;
  to?: string[];
  cc?: string[];
  subject?: string;
  status: 'PARSE_DONE';
  attachment?: string[];
}

const enum State { Start, Header, Body }
const enum Enc { Plain, Base64, Qp }

/** One message's MIME parser; feed lines (`line`) or raw bytes (`write`), then `end()`. */
export class MimeParser {
  readonly anomalies: MimeAnomalies = { invalidBase64: 0, invalidQp: 0, longLine: 0, longHeaderValue: 0, tooManyHeaders: 0, longFilename: 0, tooDeep: 0, tooManyAttachments: 0 };
  /** Headers of the top-level message (null until its header block ends). */
  mainHeaders: MimeHeader[] | null = null;
  /** Names of the attachments seen so far (as text), in order. */
  readonly attachments: string[] = [];
  /** Files opened so far. */
  filesOpened = 0;

  #state = State.Start;
  #headers: MimeHeader[] = [];
  #hdrLine = '';
  #hdrPartial = false;
  #boundaries: string[] = [];
  #enc = Enc.Plain;
  #b64 = new Base64Decoder();
  #qp = new QpDecoder();
  #fileOpen = false;
  /** End-of-line bytes held back in plain parts (CR LF at most, more of a bare-CR run is written through). */
  #eol = new Uint8Array(2);
  #eolLen = 0;
  #midLine = false;
  #splitter: LineSplitter | null = null;
  #ended = false;
  #out = new Uint8Array(MIME_OUT_CHUNK);
  #outLen = 0;

  constructor(private readonly events: MimeFileEvents) {}

  /** Feed raw message bytes (lines are split here). */
  write(bytes: Uint8Array): void {
    if (!this.#splitter) this.#splitter = new LineSplitter(MIME_MAX_LINE, (f, c, complete) => this.line(f, c, complete));
    this.#splitter.write(plainView(bytes));
  }

  /** Feed one line: `full` = content + EOL, `contentLen` bytes of content; `complete` false for a fragment. */
  line(full: Uint8Array, contentLen: number, complete = true): void {
    if (this.#ended) return;
    const cont = this.#midLine;
    this.#midLine = !complete;
    if (!complete && !cont) this.anomalies.longLine++;
    const content = full.subarray(0, contentLen);
    if (this.#state !== State.Body) {
      // Header lines are small: accumulate fragments up to the value cap.
      if (cont || !complete) {
        if (this.#hdrLine.length < MIME_MAX_HEADER_VALUE) this.#hdrLine += latin1(content.subarray(0, MIME_MAX_HEADER_VALUE - this.#hdrLine.length));
        else this.anomalies.longHeaderValue++;
        this.#hdrPartial = true;
        if (!complete) return;
        const l = this.#hdrLine;
        this.#hdrLine = '';
        this.#hdrPartial = false;
        this.#headerLine(l);
        return;
      }
      this.#headerLine(latin1(content));
      return;
    }
    if (!cont && this.#boundaries.length && content.length >= 2 && content[0] === 0x2d && content[1] === 0x2d) {
      const k = this.#matchBoundary(content);
      if (k >= 0) { this.#boundary(k, content); return; }
    }
    if (!this.#fileOpen) return;
    const eol = full.subarray(contentLen);
    switch (this.#enc) {
      case Enc.Plain:
        // The EOL is held back: the one before a boundary belongs to the boundary (RFC 2046).
        if (this.#eolLen) this.#emit(this.#eol.subarray(0, this.#eolLen));
        if (content.length) this.#emit(content);
        this.#eolLen = eol.length;
        if (eol.length) this.#eol.set(eol);
        break;
      case Enc.Base64: {
        if (this.#outLen + Base64Decoder.maxOut(content.length) > this.#out.length) this.flushData();
        if (Base64Decoder.maxOut(content.length) > this.#out.length) { const d = this.#b64.decode(content); if (d.length) this.events.fileData(d); }
        else this.#outLen = this.#b64.decodeInto(content, this.#out, this.#outLen);
        break;
      }
      case Enc.Qp: {
        const d = this.#qp.line(content, eol);
        if (d.length) this.#emit(d);
        break;
      }
    }
  }

  /** Hand gathered decoded bytes of the open file to fileData now (before a gap, at the part's end). */
  flushData(): void {
    if (this.#outLen === 0) return;
    const n = this.#outLen;
    this.#outLen = 0;
    if (this.#fileOpen) this.events.fileData(this.#out.subarray(0, n));
  }

  #emit(b: Uint8Array): void {
    if (this.#outLen + b.length > this.#out.length) {
      this.flushData();
      if (b.length > this.#out.length) { this.events.fileData(b); return; }
    }
    this.#out.set(b, this.#outLen);
    this.#outLen += b.length;
  }

  /** End of message: close an open file (pending base64 bytes flushed). Idempotent. */
  end(): void {
    if (this.#ended) return;
    if (this.#splitter) this.#splitter.flush();
    if (this.#hdrPartial && this.#state !== State.Body) { const l = this.#hdrLine; this.#hdrLine = ''; this.#hdrPartial = false; this.#headerLine(l); }
    this.#closeFile();
    this.#ended = true;
  }

  /** Value of the first top-level header named `name` (case-insensitive), as text. */
  header(name: string): string | undefined {
    const n = name.toLowerCase();
    const h = (this.mainHeaders ?? this.#headers).find((x) => x.name.toLowerCase() === n);
    return h ? bytesToText(h.value) : undefined;
  }

  /** Suricata's `email` object for this message so far. */
  emailMeta(): EmailMeta {
    const m: EmailMeta = { status: 'PARSE_DONE' };
    const from = this.header('from');
    if (from !== undefined) m.from = from;
    const to = this.header('to');
    if (to !== undefined) { const l = splitAddressList(to); if (l.length) m.to = l; }
    const cc = this.header('cc');
    if (cc !== undefined) { const l = splitAddressList(cc); if (l.length) m.cc = l; }
    const subject = this.header('subject');
    if (subject !== undefined) m.subject = subject;
    if (this.attachments.length) m.attachment = this.attachments.slice();
    return {
      ...(m.from !== undefined ? { from: m.from } : {}),
      ...(m.to ? { to: m.to } : {}),
      ...(m.cc ? { cc: m.cc } : {}),
      status: m.status,
      ...(m.attachment ? { attachment: m.attachment } : {}),
      ...(m.subject !== undefined ? { subject: m.subject } : {}),
    };
  }

  #headerLine(l: string): void {
    if (l.length === 0) { this.#endHeaders(); return; }
    if (this.#boundaries.length && l.startsWith('--')) {
      // A boundary where headers were expected: an empty part.
      const k = this.#matchBoundaryStr(l);
      if (k >= 0) { this.#boundary(k, Buffer.from(l, 'latin1')); return; }
    }
    if (this.#state === State.Header && (l[0] === ' ' || l[0] === '\t')) {
      const h = this.#headers[this.#headers.length - 1];
      if (h) {
        if (h.value.length + l.length - 1 > MIME_MAX_HEADER_VALUE) this.anomalies.longHeaderValue++;
        else h.value += l.slice(1);
      }
      return;
    }
    const h = parseHeaderLine(l);
    if (!h) return;
    this.#state = State.Header;
    if (h.value.length > MIME_MAX_HEADER_VALUE) { h.value = h.value.slice(0, MIME_MAX_HEADER_VALUE); this.anomalies.longHeaderValue++; }
    if (this.#headers.length >= MIME_MAX_HEADERS) {
      this.anomalies.tooManyHeaders++;
      // Junk headers must not push the ones that shape the message out: a few Content-* still get in.
      if (this.#headers.length >= MIME_MAX_HEADERS + 16 || !/^content-(?:type|disposition|transfer-encoding)$/i.test(h.name)) return;
    }
    this.#headers.push(h);
  }

  #endHeaders(): void {
    let filename: string | null = null;
    let encap = false;
    for (const h of this.#headers) {
      const n = h.name.toLowerCase();
      if (n === 'content-disposition') {
        if (filename === null) filename = this.#nameParam(h.value, 'filename');
      } else if (n === 'content-transfer-encoding') {
        const v = h.value.trim().toLowerCase();
        if (v === 'base64') { this.#enc = Enc.Base64; this.#b64 = new Base64Decoder(); }
        else if (v === 'quoted-printable') { this.#enc = Enc.Qp; this.#qp.reset(); }
      } else if (n === 'content-type') {
        if (filename === null) filename = this.#nameParam(h.value, 'name');
        const b = findParam(h.value, 'boundary');
        if (b) {
          if (this.#boundaries.length >= MIME_MAX_DEPTH) this.anomalies.tooDeep++;
          else this.#boundaries.push('--' + b.value);
        }
        if (mediaType(h.value).startsWith('message/')) encap = true;
      }
    }
    if (this.mainHeaders === null) this.mainHeaders = this.#headers;
    if (encap) {
      // The encapsulated message's own headers follow: parse them as a new part.
      this.#restart();
      return;
    }
    this.#state = State.Body;
    if (filename !== null) {
      this.#fileOpen = true;
      this.filesOpened++;
      this.events.fileOpen(bytesToText(filename), this.#headers);
    }
  }

  #nameParam(value: string, param: string): string | null {
    const p = findParam(value, param);
    if (!p) return null;
    if (p.truncated) this.anomalies.longFilename++;
    if (this.attachments.length < MIME_MAX_ATTACHMENTS) this.attachments.push(bytesToText(p.value));
    else this.anomalies.tooManyAttachments++;
    return p.value;
  }

  #matchBoundary(content: Uint8Array): number {
    for (let k = this.#boundaries.length - 1; k >= 0; k--) {
      const b = this.#boundaries[k]!;
      if (content.length < b.length) continue;
      let ok = true;
      for (let i = 2; i < b.length; i++) if (content[i] !== b.charCodeAt(i)) { ok = false; break; }
      // The innermost boundary matches as a prefix (as Suricata); an outer one must end the line (RFC 2046
      // delimiter: boundary, optional "--", optional white space), so nested names that prefix each other work.
      if (ok && k < this.#boundaries.length - 1 && !delimiterEnd(content, b.length)) ok = false;
      if (ok) return k;
    }
    return -1;
  }

  #matchBoundaryStr(l: string): number {
    return this.#matchBoundary(Buffer.from(l, 'latin1'));
  }

  #boundary(k: number, content: Uint8Array): void {
    const b = this.#boundaries[k]!;
    const closing = content.length >= b.length + 2 && content[b.length] === 0x2d && content[b.length + 1] === 0x2d;
    // An outer boundary also ends every inner multipart left open.
    this.#boundaries.length = closing ? k : k + 1;
    this.#closeFile();
    this.#restart();
  }

  #closeFile(): void {
    if (!this.#fileOpen) return;
    if (this.#enc === Enc.Base64) {
      const d = this.#b64.flush();
      if (d.length) this.#emit(d);
    }
    this.flushData();
    this.#fileOpen = false;
    this.anomalies.invalidBase64 += this.#b64.invalidQuads;
    this.anomalies.invalidQp += this.#qp.invalid;
    this.#b64.invalidQuads = 0;
    this.#qp.invalid = 0;
    this.events.fileClose();
  }

  #restart(): void {
    this.#state = State.Start;
    this.#headers = [];
    this.#enc = Enc.Plain;
    this.#qp.reset();
    this.#eolLen = 0;
    this.#hdrLine = '';
    this.#hdrPartial = false;
  }
}

/** Does a delimiter line end properly after the boundary at `at` ("--" and/or white space only)? */
function delimiterEnd(c: Uint8Array, at: number): boolean {
  let i = at;
  if (c[i] === 0x2d && c[i + 1] === 0x2d) i += 2;
  for (; i < c.length; i++) if (c[i] !== 0x20 && c[i] !== 0x09) return false;
  return true;
}
