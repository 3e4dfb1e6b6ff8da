// HTTP body consumers (sans-IO): a decoder stage for Content-Encoding (gzip/deflate, decoded before hashing
// as libhtp does) and a streaming multipart/form-data splitter (each part with a filename is a file).

import { gunzipSync, inflateSync, inflateRawSync, constants as zc } from 'node:zlib';

/** Where body bytes go: data in order, gaps, end (complete = the message ended normally). */
export interface BodySink {
  data(b: Uint8Array): void;
  gap(len: number): void;
  end(complete: boolean): void;
}

/** Compressed bytes one body may buffer before decoding (beyond: the rest is a gap, the file TRUNCATED). */
export const HTTP_MAX_ENCODED_BODY = 32 * 1024 * 1024;
/** Decoded bytes one body may produce (decompression-bomb guard). */
export const HTTP_MAX_DECODED_BODY = 512 * 1024 * 1024;

type Coding = 'gzip' | 'deflate';

/** Parse a Content-Encoding value into the decoding steps to apply, outermost coding first. */
export function parseCodings(v: string | undefined): Coding[] {
  if (!v) return [];
  const out: Coding[] = [];
  for (const raw of v.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === 'gzip' || t === 'x-gzip') out.push('gzip');
    else if (t === 'deflate') out.push('deflate');
  }
  return out.reverse();
}

/** Decode one layer; returns null when the bytes do not decode at all. Truncated streams yield what decodes. */
export function decodeLayer(c: Coding, b: Uint8Array): Uint8Array | null {
  const o = { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: HTTP_MAX_DECODED_BODY };
  const tries = c === 'gzip' ? [gunzipSync, inflateSync, inflateRawSync] : [inflateSync, inflateRawSync, gunzipSync];
  for (const f of tries) {
    try { return f(b, o); } catch { /* next */ }
  }
  return null;
}

/** Buffers an encoded body (up to HTTP_MAX_ENCODED_BODY), decodes it at the end and passes the result on. */
export class DecodingSink implements BodySink {
  #chunks: Uint8Array[] = [];
  #len = 0;
  #gap = false;
  #over = false;
  constructor(readonly codings: Coding[], readonly next: BodySink) {}
  data(b: Uint8Array): void {
    if (this.#gap || this.#over) return;
    if (this.#len + b.length > HTTP_MAX_ENCODED_BODY) { this.#over = true; return; }
    this.#chunks.push(b.slice());
    this.#len += b.length;
  }
  gap(_len: number): void { this.#gap = true; }
  end(complete: boolean): void {
    let buf: Uint8Array = Buffer.concat(this.#chunks, this.#len);
    this.#chunks = [];
    for (const c of this.codings) {
      const d = decodeLayer(c, buf);
      if (d === null) break; // not actually encoded: keep what we have (libhtp passes it through)
      buf = d;
    }
    if (buf.length) this.next.data(buf);
    if (this.#gap || this.#over) this.next.gap(0);
    this.next.end(complete && !this.#gap && !this.#over);
  }
}

/**
 * Passes body data on up to `limit` bytes; gaps pass uncounted (Suricata's handling of libhtp's body limits).
 * Data beyond the limit ends the body as incomplete, its file TRUNCATED, and nothing more goes through; a body
 * ending exactly at the limit is complete.
 */
export class LimitSink implements BodySink {
  #seen = 0;
  #cut = false;
  constructor(readonly limit: number, readonly next: BodySink) {}
  data(b: Uint8Array): void {
    if (this.#cut || b.length === 0) return;
    const room = this.limit - this.#seen;
    if (b.length > room) {
      if (room > 0) this.next.data(b.subarray(0, room));
      this.#seen = this.limit;
      this.#cut = true;
      this.next.end(false);
      return;
    }
    this.#seen += b.length;
    this.next.data(b);
  }
  gap(len: number): void { if (!this.#cut) this.next.gap(len); }
  end(complete: boolean): void { if (!this.#cut) this.next.end(complete); }
}

/** Header fields of one multipart part (lower-case names). */
export type PartHeaders = Map<string, string>;

/** Opens a sink for a part, or null to skip it. */
export type PartOpener = (h: PartHeaders) => BodySink | null;

const MAX_PART_HEADERS = 64 * 1024;

/** Streaming multipart splitter over a body: finds `--boundary` delimiters across chunk edges. */
export class MultipartSink implements BodySink {
  #delim: Uint8Array; // "\r\n--boundary"
  #buf: Uint8Array = new Uint8Array(0);
  #state: 'preamble' | 'headers' | 'data' | 'after' | 'done' = 'preamble';
  #part: BodySink | null = null;
  constructor(boundary: string, readonly opener: PartOpener) {
    // Start with a virtual CRLF so a delimiter at the very start matches too.
    this.#delim = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.#buf = Buffer.from('\r\n', 'latin1');
  }

  data(b: Uint8Array): void {
    if (this.#state === 'done') return;
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, b]) : b.slice();
    this.#run();
  }

  gap(len: number): void {
    if (this.#state === 'data' && this.#part) {
      this.#flushData(this.#buf.length);
      this.#part.gap(len);
    } else if (this.#state !== 'done') {
      this.#buf = new Uint8Array(0);
    }
  }

  end(complete: boolean): void {
    if (this.#state === 'data') this.#flushData(this.#buf.length);
    if (this.#part) { this.#part.end(false); this.#part = null; }
    void complete;
    this.#state = 'done';
  }

  #run(): void {
    const d = this.#delim;
    for (;;) {
      const buf = this.#buf;
      if (this.#state === 'preamble' || this.#state === 'data') {
        let from = 0, at = -1;
        // A delimiter counts only when followed by "--", CRLF or transport padding (RFC 2046).
        for (;;) {
          at = indexOf(buf, d, from);
          if (at < 0 || at + d.length + 2 > buf.length) break;
          const c0 = buf[at + d.length]!, c1 = buf[at + d.length + 1]!;
          if ((c0 === 0x2d && c1 === 0x2d) || c0 === 0x0d || c0 === 0x0a || c0 === 0x20 || c0 === 0x09) break;
          from = at + 1;
        }
        if (at < 0 || at + d.length + 2 > buf.length) {
          // Keep what may still become a delimiter (a partial match, or one not yet followed by 2 bytes).
          const keep = at >= 0 ? buf.length - at : Math.min(buf.length, d.length + 1);
          if (this.#state === 'data') this.#flushData(buf.length - keep);
          else this.#buf = buf.subarray(buf.length - keep);
          return;
        }
        if (this.#state === 'data') {
          this.#flushData(at);
          this.#part!.end(true);
          this.#part = null;
          this.#buf = this.#buf.subarray(d.length);
        } else this.#buf = buf.subarray(at + d.length);
        this.#state = 'after';
        continue;
      }
      if (this.#state === 'after') {
        if (buf.length < 2) return;
        if (buf[0] === 0x2d && buf[1] === 0x2d) { this.#state = 'done'; this.#buf = new Uint8Array(0); return; }
        const lf = buf.indexOf(0x0a);
        if (lf < 0) { if (buf.length > MAX_PART_HEADERS) this.#state = 'done'; return; }
        this.#buf = buf.subarray(lf + 1);
        this.#state = 'headers';
        continue;
      }
      if (this.#state === 'headers') {
        const e = headerEnd(buf);
        if (!e) { if (buf.length > MAX_PART_HEADERS) this.#state = 'done'; return; }
        const h = parsePartHeaders(Buffer.from(buf.buffer, buf.byteOffset, e[0]).toString('latin1'));
        this.#buf = buf.subarray(e[1]);
        this.#part = this.opener(h) ?? nullSink;
        this.#state = 'data';
        continue;
      }
      return;
    }
  }

  #flushData(n: number): void {
    if (n <= 0) return;
    const buf = this.#buf;
    this.#part?.data(buf.subarray(0, n));
    this.#buf = buf.subarray(n);
  }
}

const nullSink: BodySink = { data() {}, gap() {}, end() {} };

/** End of a header block: [length of the header text, bytes to skip past the blank line], null when incomplete. */
function headerEnd(b: Uint8Array): [number, number] | null {
  if (b.length >= 1 && b[0] === 0x0a) return [0, 1];
  if (b.length >= 2 && b[0] === 0x0d && b[1] === 0x0a) return [0, 2];
  for (let i = b.indexOf(0x0a); i >= 0 && i + 1 < b.length; i = b.indexOf(0x0a, i + 1)) {
    if (b[i + 1] === 0x0a) return [i, i + 2];
    if (b[i + 1] === 0x0d) { if (i + 2 >= b.length) return null; if (b[i + 2] === 0x0a) return [i, i + 3]; }
  }
  return null;
}

function parsePartHeaders(s: string): PartHeaders {
  const h: PartHeaders = new Map();
  for (const line of s.split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    h.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return h;
}

/** First index of `needle` in `hay` at or after `from`, -1 when absent. */
export function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(needle, from);
}
