// HTTP transaction state: one request/response pair (Suricata's tx), its metadata for fileinfo events, and
// the file names Suricata reports (Content-Disposition filename, else the URI path without the query).

/** Header fields of a message: lower-case name → value (repeated fields joined with ", "). */
export type Headers = Map<string, string>;

/** One request/response exchange. */
export class HttpTx {
  method = '';
  uri = '';
  protocol = '';
  reqHeaders: Headers = new Map();
  status = 0;
  respProtocol = '';
  respHeaders: Headers | null = null;
  /** Response body bytes seen on the wire (Suricata's http.length). */
  respLen = 0;
  /** Request fully parsed / final response fully parsed. */
  reqDone = false;
  respDone = false;
  /** hostname() once the request is complete (its headers final), path() once (the URI is set with the tx). */
  #host: string | undefined;
  #path: string | undefined;
  constructor(readonly id: number) {}

  /** The `http` metadata object of fileinfo events, in Suricata's field order. */
  meta(): Record<string, unknown> {
    const m: Record<string, unknown> = {};
    const host = this.hostname();
    if (host) m.hostname = host;
    if (this.uri) m.url = this.uri;
    const ua = this.reqHeaders.get('user-agent');
    if (ua !== undefined) m.http_user_agent = ua;
    const ct = this.respHeaders?.get('content-type');
    if (ct !== undefined) m.http_content_type = ct.split(';')[0]!.trim();
    const ref = this.reqHeaders.get('referer');
    if (ref !== undefined) m.http_refer = ref;
    if (this.method) m.http_method = this.method;
    if (this.protocol) m.protocol = this.protocol;
    if (this.status) m.status = this.status;
    const loc = this.respHeaders?.get('location');
    if (loc !== undefined) m.redirect = loc;
    m.length = this.respLen;
    return m;
  }

  /** Host name: from an absolute URI, else the Host header; port and trailing dot removed, lower case. */
  hostname(): string {
    if (this.#host !== undefined) return this.#host;
    const h = this.#hostname();
    if (this.reqDone) this.#host = h;
    return h;
  }

  #hostname(): string {
    let h = '';
    const abs = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(this.uri);
    if (abs) h = abs[1]!.replace(/^[^@]*@/, '');
    else h = this.reqHeaders.get('host') ?? '';
    h = h.trim();
    if (h.startsWith('[')) { const e = h.indexOf(']'); return e > 0 ? h.slice(0, e + 1).toLowerCase() : h.toLowerCase(); }
    const c = h.lastIndexOf(':');
    if (c >= 0) h = h.slice(0, c);
    return h.replace(/\.$/, '').toLowerCase();
  }

  /** URI path without query/fragment (and without scheme://authority), percent-decoded as libhtp normalises it. */
  path(): string {
    return this.#path ??= this.#pathOf();
  }

  #pathOf(): string {
    let u = this.uri;
    const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(u);
    if (abs) u = u.slice(abs[0].length);
    const q = u.search(/[?#]/);
    if (q >= 0) u = u.slice(0, q);
    return percentDecode(u);
  }
}

/** Decode %XX escapes (invalid escapes kept as they are); bytes taken as latin1 then read as UTF-8 when valid. */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { out.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else out.push(c & 0xff);
  }
  return Buffer.from(out).toString('latin1');
}

/** filename (or filename*) parameter of a Content-Disposition value, quotes removed; undefined when absent. */
export function dispositionFilename(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const star = /(?:^|;)\s*filename\*\s*=\s*(?:[^']*'[^']*')?("?)([^";]*)\1/i.exec(v);
  if (star) { try { return decodeURIComponent(star[2]!); } catch { return star[2]!; } }
  const m = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;]*))/i.exec(v);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!.trim();
}

/** Parse `bytes START-END/TOTAL` of a Content-Range header; null when not a byte range. */
export function parseContentRange(v: string | undefined): { start: number; end: number; total: number } | null {
  if (!v) return null;
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)/i.exec(v);
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? -1 : Number(m[3]) };
}
