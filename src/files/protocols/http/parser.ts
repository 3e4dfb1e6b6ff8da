// HTTP/1.x parser (sans-IO, incremental across segments): requests and responses per direction, pipelining
// (responses pair with requests in order), Content-Length, chunked, bodies until close, Content-Encoding
// gzip/deflate decoded before hashing, multipart/form-data uploads (a file per part with a filename), other
// POST/PUT bodies (one file each), 1xx/HEAD/204/304 without body, CONNECT/101 tunnels (parsing stops),
// Content-Range responses (start/end). Gaps inside a body of known length are passed to the file; elsewhere
// the side resynchronises on the next request or status line.

import type { Direction, FileHandle, ProtocolContext, ProtocolParser } from '../contract.js';
import { DecodingSink, LimitSink, MultipartSink, parseCodings, type BodySink, type PartHeaders } from './body.js';
import { HttpTx, dispositionFilename, parseContentRange, type Headers } from './state.js';

/** Longest request/status/header/chunk-size line kept (longer: the side stops parsing, counted). */
export const HTTP_MAX_LINE = 64 * 1024;
/** Header block size per message. */
export const HTTP_MAX_HEADERS = 256 * 1024;
/** Transactions waiting for their response (pipelining depth); older ones are dropped. */
export const HTTP_MAX_PENDING_TX = 512;

const enum S { Line, Headers, Body, ChunkSize, ChunkData, ChunkEnd, Trailers, Close, Finalize, Tunnel, Resync, Dead }

const HTTP_ = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/" (compared case-insensitively on letters)
const METHOD = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
/**
 * The header fields anything reads (body framing, file names, event metadata): only these are kept in a tx's
 * maps, so a flow holds no strings for the rest. Add a name here before reading it anywhere.
 */
const USED_HEADERS: ReadonlySet<string> = new Set(['content-disposition', 'content-encoding', 'content-length', 'content-range', 'content-type', 'host', 'location', 'referer', 'transfer-encoding', 'user-agent']);

/** Shared empty values of a fresh side (never written: replaced before the first write), so a flow costs few objects. */
const NO_CARRY: Uint8Array[] = [];
const NO_HEADERS: Headers = new Map();
const NO_BYTES = new Uint8Array(0);

class Side {
  state = S.Line;
  /** Partial line carried between segments (NO_CARRY when none: #carry starts a new array). */
  carry: Uint8Array[] = NO_CARRY;
  carryLen = 0;
  remaining = 0;
  sink: BodySink | null = null;
  tx: HttpTx | null = null;
  /** The current message's header map (its tx's; NO_HEADERS before the first message). */
  headers: Headers = NO_HEADERS;
  headerBytes = 0;
  lastHeader = '';
  /** The current message's body is the response (counts http.length). */
  isResp = false;
  /** Finalize: inside a non-status line being appended to the body; bytes peeked at a line start. */
  finMid = false;
  finPeek: Uint8Array = NO_BYTES;
}

/** Opens the file of one body on first byte; closes it with the tx metadata of that moment. */
class FileBody implements BodySink {
  #file: FileHandle | null = null;
  constructor(readonly p: HttpParser, readonly tx: HttpTx, readonly dir: Direction, readonly filename: string, readonly range: { start: number; end: number } | null, readonly sizeHint = 0) {}
  #open(): FileHandle {
    if (!this.#file) {
      this.#file = this.p.ctx.files.open({
        filename: this.filename, direction: this.dir, txId: this.tx.id, appProto: 'http', meta: { http: this.tx.meta() },
        ...(this.range ? { start: this.range.start, end: this.range.end } : {}),
        ...(this.sizeHint > 0 ? { sizeHint: this.sizeHint } : {}),
      });
    }
    return this.#file;
  }
  data(b: Uint8Array): void { if (b.length) this.#open().write(b); }
  gap(len: number): void { this.#open().gap(len); }
  end(complete: boolean): void {
    const f = this.#file;
    if (!f || f.closed) return;
    f.setMeta({ http: this.tx.meta() });
    f.close(complete ? undefined : 'TRUNCATED');
  }
}

/** Splits body bytes to several sinks. */
class TeeSink implements BodySink {
  constructor(readonly a: BodySink, readonly b: BodySink) {}
  data(x: Uint8Array): void { this.a.data(x); this.b.data(x); }
  gap(n: number): void { this.a.gap(n); this.b.gap(n); }
  end(c: boolean): void { this.a.end(c); this.b.end(c); }
}

/**
 * The whole file behind 206 responses of one host + path (Suricata's range container, per flow): ranges are
 * held until every byte of the total is covered, then written as one file; incomplete assemblies are dropped.
 */
interface RangeFile { name: string; tx: HttpTx; total: number; covered: number; held: number; parts: Array<[number, Uint8Array]>; seen: Array<[number, number]> }

/** Bytes one flow may hold for range assembly (beyond: the assembly is abandoned, noted). */
export const HTTP_MAX_RANGE_HOLD = 64 * 1024 * 1024;

/** Holds one range's bytes for its whole-file assembly. */
class RangePart implements BodySink {
  #pos: number;
  #gap = false;
  constructor(readonly p: HttpParser, readonly key: string, readonly r: RangeFile, readonly start: number, readonly end_: number) { this.#pos = start; }
  data(b: Uint8Array): void {
    if (this.#pos + b.length > this.end_ + 1) b = b.subarray(0, Math.max(0, this.end_ + 1 - this.#pos));
    if (b.length && !this.#gap) {
      this.r.parts.push([this.#pos, b.slice()]);
      this.r.held += b.length;
      if (this.r.held > HTTP_MAX_RANGE_HOLD) this.p.dropRange(this.key, 'http-range-too-large');
    }
    this.#pos += b.length;
  }
  gap(n: number): void { this.#gap = true; this.#pos += n; }
  end(_complete: boolean): void {
    const r = this.r;
    if (this.#gap) return;
    // Count newly covered bytes (ranges may overlap or repeat).
    let lo = this.start;
    const hi = this.#pos;
    for (const [a, b] of [...r.seen].sort((x, y) => x[0] - y[0])) { if (a <= lo && b > lo) lo = b; }
    if (hi > lo) { r.covered += hi - lo; r.seen.push([this.start, hi]); }
    if (r.covered >= r.total) this.p.completeRange(this.key);
  }
}

/** HTTP/1.x over one TCP flow. */
export class HttpParser implements ProtocolParser {
  readonly ctx: ProtocolContext;
  /** Request side (direction 0) and response side (1). */
  readonly #s0 = new Side();
  readonly #s1 = new Side();
  /** Transactions in request order; responses take them from `#respNext`. */
  #txs: HttpTx[] = [];
  #txCount = 0;
  /** Whole files being assembled from 206 ranges, by host + path. */
  #ranges: Map<string, RangeFile> | null = null;

  constructor(ctx: ProtocolContext) { this.ctx = ctx; }

  data(dir: Direction, bytes: Uint8Array): void {
    const s = (dir === 0 ? this.#s0 : this.#s1);
    let p = 0;
    const n = bytes.length;
    while (p < n) {
      switch (s.state) {
        case S.Dead:
        case S.Tunnel:
          return;
        case S.Resync: {
          const at = this.#findStart(dir, bytes, p);
          if (at < 0) return;
          s.state = S.Line;
          p = at;
          break;
        }
        case S.Body:
        case S.ChunkData: {
          const take = Math.min(s.remaining, n - p);
          if (s.isResp && s.tx) s.tx.respLen += take;
          s.sink?.data(take === n ? bytes : bytes.subarray(p, p + take));
          p += take;
          s.remaining -= take;
          if (s.remaining === 0) {
            if (s.state === S.Body) this.#bodyDone(dir);
            else s.state = S.ChunkEnd;
          }
          break;
        }
        case S.Finalize: {
          // libhtp appends lines that follow a response body and are not a status line to that body.
          if (s.finMid) {
            const lf = bytes.indexOf(0x0a, p);
            const e = lf < 0 ? n : lf + 1;
            if (s.tx) s.tx.respLen += e - p;
            s.sink?.data(bytes.subarray(p, e));
            p = e;
            if (lf >= 0) s.finMid = false;
            break;
          }
          const take = Math.min(5 - s.finPeek.length, n - p);
          const peek = s.finPeek.length ? Buffer.concat([s.finPeek, bytes.subarray(p, p + take)]) : bytes.subarray(p, p + take);
          let k = 0;
          while (k < peek.length && (k < 4 ? peek[k]! & 0xdf : peek[k]) === HTTP_[k]) k++;
          if (k === peek.length && k < 5) { s.finPeek = peek.slice(); return; }
          const prev = s.finPeek;
          s.finPeek = NO_BYTES;
          if (k === 5) {
            this.#endBody(dir, true);
            if (prev.length) this.#carry(s, prev);
          } else {
            if (prev.length) { if (s.tx) s.tx.respLen += prev.length; s.sink?.data(prev); }
            s.finMid = true;
          }
          break;
        }
        case S.Close: {
          if (s.tx) s.tx.respLen += n - p;
          s.sink?.data(bytes.subarray(p));
          return;
        }
        default: {
          const lf = bytes.indexOf(0x0a, p);
          if (lf < 0) {
            this.#carry(s, bytes.subarray(p));
            return;
          }
          let line: Uint8Array = bytes, ls = p, le = lf;
          if (s.carryLen) { s.carry.push(bytes.subarray(p, lf)); line = Buffer.concat(s.carry, s.carryLen + lf - p); ls = 0; le = line.length; s.carry = NO_CARRY; s.carryLen = 0; }
          p = lf + 1;
          if (le > ls && line[le - 1] === 0x0d) le--;
          this.#line(dir, s, latin1(line, ls, le));
        }
      }
    }
  }

  gap(dir: Direction, len: number): void {
    const s = (dir === 0 ? this.#s0 : this.#s1);
    switch (s.state) {
      case S.Body:
      case S.ChunkData: {
        const take = Math.min(s.remaining, len);
        if (s.isResp && s.tx) s.tx.respLen += take;
        s.sink?.gap(take);
        s.remaining -= take;
        if (take < len || len === 0) {
          // The gap runs past this body (or its length is unknown): the message is cut, resynchronise.
          this.#endBody(dir, false);
          s.state = S.Resync;
        } else if (s.remaining === 0) {
          if (s.state === S.Body) this.#bodyDone(dir); else s.state = S.ChunkEnd;
        }
        return;
      }
      case S.Close:
        if (s.tx) s.tx.respLen += len;
        s.sink?.gap(len);
        return;
      case S.Finalize:
        this.#endBody(dir, true);
        s.state = S.Resync;
        return;
      case S.Dead:
      case S.Tunnel:
        return;
      default:
        if (s.sink) this.#endBody(dir, false);
        s.carry = NO_CARRY; s.carryLen = 0;
        s.state = S.Resync;
    }
  }

  close(): void {
    for (const dir of [0, 1] as const) {
      const s = (dir === 0 ? this.#s0 : this.#s1);
      if (s.sink) this.#endBody(dir, s.state === S.Close || s.state === S.Finalize);
      s.state = S.Dead;
    }
    if (this.#ranges) for (const key of [...this.#ranges.keys()]) this.dropRange(key, 'http-range-incomplete');
  }

  /** Every byte of the assembly for `key` is held: write it as one file (tx of the range that completed it). */
  completeRange(key: string): void {
    const r = this.#ranges?.get(key);
    if (!r) return;
    this.#ranges!.delete(key);
    const f = this.ctx.files.open({ filename: r.name, direction: 1, txId: r.tx.id, appProto: 'http', meta: { http: r.tx.meta() } });
    for (const [off, b] of r.parts) f.writeAt(off, b);
    f.close();
  }

  /** Abandon the assembly for `key` (noted). */
  dropRange(key: string, why: string): void {
    if (this.#ranges?.delete(key)) this.ctx.note(why);
  }

  // ---- lines ----

  #carry(s: Side, b: Uint8Array): void {
    if (s.carryLen + b.length > HTTP_MAX_LINE) {
      this.ctx.note('http-line-too-long');
      s.state = S.Dead; s.carry = NO_CARRY; s.carryLen = 0;
      if (s.sink) s.sink.end(false);
      return;
    }
    if (s.carry === NO_CARRY) s.carry = [];
    s.carry.push(b.slice());
    s.carryLen += b.length;
  }

  /** Offset of the next plausible start line in `b` from `p` (after carried bytes), -1 when none. */
  #findStart(dir: Direction, b: Uint8Array, p: number): number {
    const s = (dir === 0 ? this.#s0 : this.#s1);
    // A start line begins at a line start: search "\n" + token; the carried tail covers chunk edges.
    const hay = s.carryLen ? Buffer.concat([...s.carry, b.subarray(p)]) : Buffer.from(b.buffer, b.byteOffset + p, b.length - p);
    const re = dir === 1 ? /(?:^|\n)(HTTP\/\d\.\d )/g : /(?:^|\n)((?:GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND) \S)/g;
    const m = re.exec(hay.toString('latin1'));
    if (!m) {
      // Keep the last few bytes so a start line split across segments is still found.
      const tail = hay.subarray(Math.max(0, hay.length - 16));
      s.carry = [Uint8Array.prototype.slice.call(tail) as Uint8Array]; s.carryLen = tail.length;
      return -1;
    }
    const at = m.index + m[0].length - m[1]!.length - s.carryLen;
    if (at >= 0) { s.carry = NO_CARRY; s.carryLen = 0; }
    if (at < 0) {
      // Starts inside the carried tail: feed it back from there.
      const tail = hay.subarray(m.index + m[0].length - m[1]!.length, s.carryLen);
      s.carry = [tail.slice()]; s.carryLen = tail.length;
      return p;
    }
    return p + at;
  }

  #line(dir: Direction, s: Side, line: string): void {
    switch (s.state) {
      case S.Line:
        if (line.length === 0) return;
        if (dir === 0) this.#requestLine(s, line); else this.#statusLine(s, line);
        return;
      case S.Headers:
      case S.Trailers:
        if (line.length === 0) {
          if (s.state === S.Trailers) { this.#bodyDone(dir); return; }
          this.#headersDone(dir, s);
          return;
        }
        s.headerBytes += line.length;
        if (s.headerBytes > HTTP_MAX_HEADERS) { this.ctx.note('http-headers-too-long'); s.state = S.Resync; return; }
        if (s.state === S.Trailers) return;
        if ((line[0] === ' ' || line[0] === '\t') && s.lastHeader) {
          if (USED_HEADERS.has(s.lastHeader)) s.headers.set(s.lastHeader, `${s.headers.get(s.lastHeader)} ${line.trim()}`);
          return;
        }
        {
          const c = line.indexOf(':');
          if (c <= 0) return; // not a header field: ignored as libhtp does
          const name = line.slice(0, c).trim().toLowerCase();
          s.lastHeader = name;
          if (!USED_HEADERS.has(name)) return;
          const value = line.slice(c + 1).trim();
          const old = s.headers.get(name);
          s.headers.set(name, old === undefined ? value : name === 'content-length' ? old : `${old}, ${value}`);
        }
        return;
      case S.ChunkSize: {
        const m = /^\s*([0-9a-fA-F]+)/.exec(line);
        if (!m) { if (line.trim() === '') return; this.ctx.note('http-bad-chunk-size'); this.#endBody(dir, false); s.state = S.Resync; return; }
        const size = parseInt(m[1]!, 16);
        if (!Number.isSafeInteger(size)) { this.#endBody(dir, false); s.state = S.Resync; return; }
        if (size === 0) { s.state = S.Trailers; s.headerBytes = 0; return; }
        s.remaining = size;
        s.state = S.ChunkData;
        return;
      }
      case S.ChunkEnd:
        // The CRLF after chunk data (tolerate junk before it, as libhtp).
        s.state = S.ChunkSize;
        if (line.length) this.#line(dir, s, line);
        return;
      default:
        return;
    }
  }

  #requestLine(s: Side, line: string): void {
    const parts = line.split(/[ \t]+/);
    const method = parts[0]!;
    if (!METHOD.test(method) || parts.length < 2) { this.ctx.note('http-bad-request-line'); return; }
    const tx = new HttpTx(this.#txCount++);
    tx.method = method;
    tx.uri = parts[1]!;
    tx.protocol = parts.length >= 3 ? parts.slice(2).join(' ') : '';
    this.#txs.push(tx);
    if (this.#txs.length > HTTP_MAX_PENDING_TX) { this.#txs.shift(); this.ctx.note('http-too-many-pending'); }
    s.tx = tx;
    s.isResp = false;
    if (!tx.protocol) { tx.reqDone = true; return; } // HTTP/0.9: no headers, no body
    s.headers = tx.reqHeaders;
    s.headerBytes = 0; s.lastHeader = '';
    s.state = S.Headers;
  }

  #statusLine(s: Side, line: string): void {
    const m = /^(HTTP\/\S+)\s+(\d{3})/i.exec(line);
    if (!m) { this.ctx.note('http-bad-status-line'); s.state = S.Resync; return; }
    let tx = this.#txs.find((t) => !t.respDone);
    if (!tx) {
      // Response without a request (mid-stream pickup or lost request).
      tx = new HttpTx(this.#txCount++);
      tx.reqDone = true;
      this.#txs.push(tx);
    }
    tx.respProtocol = m[1]!;
    tx.status = Number(m[2]);
    tx.respHeaders = new Map();
    s.tx = tx;
    s.isResp = true;
    s.headers = tx.respHeaders;
    s.headerBytes = 0; s.lastHeader = '';
    s.state = S.Headers;
  }

  #headersDone(dir: Direction, s: Side): void {
    const tx = s.tx!;
    const h = s.headers;
    s.state = S.Line;
    if (dir === 0) {
      const method = tx.method.toUpperCase();
      const { kind, len } = bodyKind(h, false);
      if (kind === 'none' || (kind === 'length' && len === 0)) { tx.reqDone = true; return; }
      const sink = this.#requestSink(tx, h, method);
      const lim = this.ctx.limits?.httpRequestBody ?? 0;
      s.sink = sink && lim > 0 ? new LimitSink(lim, sink) : sink;
      this.#startBody(s, kind, len);
      return;
    }
    // Response.
    const st = tx.status;
    if (st >= 100 && st < 200 && st !== 101) { tx.respHeaders = null; tx.status = 0; return; } // interim: wait for the final response
    const method = tx.method.toUpperCase();
    if (st === 101 || (method === 'CONNECT' && st >= 200 && st < 300)) {
      this.#finishResp(tx);
      this.#s0.state = S.Tunnel; this.#s1.state = S.Tunnel;
      return;
    }
    if (method === 'HEAD' || st === 204 || st === 304) { this.#finishResp(tx); return; }
    const { kind, len } = bodyKind(h, true);
    if (kind === 'length' && len === 0) { this.#finishResp(tx); return; }
    const range = st === 206 ? parseContentRange(h.get('content-range')) : null;
    const name = dispositionFilename(h.get('content-disposition')) ?? tx.path();
    const codings = parseCodings(h.get('content-encoding'));
    // Content-Length sizes the stored file's buffer when the body is stored as sent (not decoded).
    let sink: BodySink = new FileBody(this, tx, 1, name, range ? { start: range.start, end: range.end } : null, kind === 'length' && codings.length === 0 ? len : 0);
    if (range && range.total > 0 && range.end >= range.start && range.end < range.total) {
      const key = `${tx.hostname()}\0${tx.path()}`;
      const ranges = this.#ranges ??= new Map();
      let r = ranges.get(key);
      if (!r || r.total !== range.total) {
        if (r) this.dropRange(key, 'http-range-total-changed');
        r = { name, tx, total: range.total, covered: 0, held: 0, parts: [], seen: [] };
        ranges.set(key, r);
      }
      sink = new TeeSink(sink, new RangePart(this, key, r, range.start, range.end));
    }
    // The limit counts decoded bytes, as libhtp's body callbacks see them.
    const lim = this.ctx.limits?.httpResponseBody ?? 0;
    if (lim > 0) sink = new LimitSink(lim, sink);
    if (codings.length) sink = new DecodingSink(codings, sink);
    s.sink = sink;
    this.#startBody(s, kind === 'none' ? 'close' : kind, len);
  }

  #requestSink(tx: HttpTx, h: Headers, method: string): BodySink | null {
    const ct = h.get('content-type') ?? '';
    const mp = /^\s*multipart\/form-data\s*;.*?boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
    if (mp && (method === 'POST' || method === 'PUT')) {
      const boundary = mp[1] ?? mp[2]!;
      return new MultipartSink(boundary, (ph: PartHeaders) => {
        const fn = dispositionFilename(ph.get('content-disposition'));
        if (fn === undefined) return null;
        return new FileBody(this, tx, 0, fn, null);
      });
    }
    if (method === 'POST' || method === 'PUT') return new FileBody(this, tx, 0, dispositionFilename(h.get('content-disposition')) ?? tx.path(), null);
    return null;
  }

  #startBody(s: Side, kind: 'length' | 'chunked' | 'close', len: number): void {
    if (kind === 'chunked') s.state = S.ChunkSize;
    else if (kind === 'length') { s.state = S.Body; s.remaining = len; }
    else s.state = S.Close;
  }

  /** A body ended normally: responses wait in Finalize for trailing non-status lines (libhtp), requests end. */
  #bodyDone(dir: Direction): void {
    const s = (dir === 0 ? this.#s0 : this.#s1);
    if (dir === 1 && s.sink) { s.state = S.Finalize; s.finMid = false; return; }
    this.#endBody(dir, true);
  }

  #endBody(dir: Direction, complete: boolean): void {
    const s = (dir === 0 ? this.#s0 : this.#s1);
    const sink = s.sink;
    s.sink = null;
    if (s.state !== S.Dead && s.state !== S.Tunnel) s.state = S.Line;
    const tx = s.tx;
    if (tx) { if (dir === 0) tx.reqDone = true; else tx.respDone = true; }
    sink?.end(complete);
    if (tx && dir === 1) this.#finishResp(tx);
  }

  #finishResp(tx: HttpTx): void {
    tx.respDone = true;
    // Forget finished transactions at the front (keeps memory bounded on long keep-alive flows).
    while (this.#txs.length && this.#txs[0]!.respDone && this.#txs[0]!.reqDone) this.#txs.shift();
  }
}

/** Bytes [start, end) of `b` as a latin1 string, without a view object when `b` is a Buffer. */
function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.isBuffer(b) ? b.toString('latin1', start, end) : Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/** How a message's body is delimited: chunked, by length, until close, or none (requests without length). */
function bodyKind(h: Headers, response: boolean): { kind: 'none' | 'length' | 'chunked' | 'close'; len: number } {
  const te = h.get('transfer-encoding');
  if (te && /chunked/i.test(te)) return { kind: 'chunked', len: 0 };
  const cl = h.get('content-length');
  if (cl !== undefined) {
    const m = /^\s*(\d+)/.exec(cl);
    if (m) return { kind: 'length', len: Number(m[1]) };
  }
  return { kind: response ? 'close' : 'none', len: 0 };
}
