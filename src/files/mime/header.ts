// MIME header lines and their parameters (`Content-Type: x; name="a"`), first exactly as Suricata reads them
// (so names agree with its fileinfo: RFC 2231 `name*0`, `name*1` sections concatenated raw, no charset
// decoding, case-sensitive parameter names), then — only when that finds nothing — a lenient RFC 2045/2231
// reading (case-insensitive names, `name*=charset''%XX` extended values) so such attachments are not lost.
// Header text is handled as latin1 "byte strings" (one char per byte); `bytesToText` turns them into UTF-8.

/** Longest parameter value kept (Suricata's RS_MIME_MAX_TOKEN_LEN); longer names are truncated. */
export const MIME_MAX_TOKEN_LEN = 255;

/** A header as read: name and value in latin1 byte-string form (value unfolded, leading spaces skipped). */
export interface MimeHeader { name: string; value: string }

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Bytes → latin1 byte string. */
export function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Latin1 byte string → text, decoding the bytes as UTF-8 with replacement (as Suricata logs names). */
export function bytesToText(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** Split a header line into name and value (`name:` then value after spaces); null without a colon. */
export function parseHeaderLine(line: string): MimeHeader | null {
  const colon = line.indexOf(':');
  if (colon < 0) return null;
  let v = colon + 1;
  while (v < line.length && isSpace(line.charCodeAt(v))) v++;
  return { name: line.slice(0, colon), value: line.slice(v) };
}

/** Parameters after the first ';' of a header value, parsed the way Suricata's nom parser does. */
function strictParams(value: string): Map<string, string> | null {
  const semi = value.indexOf(';');
  if (semi < 0) return null;
  const m = new Map<string, string>();
  let i = semi + 1;
  const n = value.length;
  while (i < n) {
    while (i < n && isSpace(value.charCodeAt(i))) i++;
    const eq = value.indexOf('=', i);
    if (eq < 0) break;
    const name = value.slice(i, eq);
    i = eq + 1;
    let val: string;
    if (value[i] === '"') {
      let j = i + 1, esc = false, end = -1;
      for (; j < n; j++) {
        const ch = value[j];
        if (ch === '\\') esc = true;
        else { if (ch === '"' && !esc) { end = j; break; } esc = false; }
      }
      if (end < 0) break;
      val = value.slice(i + 1, end);
      i = end + 1;
    } else {
      let j = value.indexOf(';', i);
      if (j < 0) j = n;
      let e = j;
      while (e > i && isSpace(value.charCodeAt(e - 1))) e--;
      val = value.slice(i, e);
      i = j;
    }
    while (i < n && isSpace(value.charCodeAt(i))) i++;
    if (value[i] === ';') i++;
    m.set(name, val);
  }
  return m;
}

/** A header parameter as Suricata finds it (exact name, else `name*0`, `name*1`... concatenated); null if absent. */
export function findParamStrict(value: string, param: string): string | null {
  const m = strictParams(value);
  if (!m) return null;
  const direct = m.get(param);
  if (direct !== undefined) return direct;
  let acc = m.get(`${param}*0`);
  if (acc === undefined) return null;
  for (let k = 1; ; k++) {
    const s = m.get(`${param}*${k}`);
    if (s === undefined) return acc;
    acc += s;
  }
}

/** Lenient parameter split: `;`-separated, quotes respected, names lower-cased, quoted values unescaped. */
function lenientParams(value: string): Map<string, string> {
  const m = new Map<string, string>();
  let i = value.indexOf(';');
  if (i < 0) return m;
  i++;
  const n = value.length;
  while (i < n) {
    while (i < n && (isSpace(value.charCodeAt(i)) || value[i] === ';')) i++;
    let j = i;
    while (j < n && value[j] !== '=' && value[j] !== ';') j++;
    const name = value.slice(i, j).trim().toLowerCase();
    if (j >= n || value[j] === ';') { i = j; continue; }
    j++;
    while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
    let val = '';
    if (value[j] === '"') {
      j++;
      while (j < n && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < n) j++;
        val += value[j];
        j++;
      }
      j++;
      while (j < n && value[j] !== ';') j++;
    } else {
      const k = value.indexOf(';', j);
      const e = k < 0 ? n : k;
      val = value.slice(j, e).trim();
      j = e;
    }
    if (name && !m.has(name)) m.set(name, val);
    i = j;
  }
  return m;
}

function pctDecode(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Decode an RFC 2231 extended value `charset'lang'%XX..` to a latin1 byte string of UTF-8 bytes. */
function decodeExtended(v: string): string {
  const a = v.indexOf("'");
  const b = a >= 0 ? v.indexOf("'", a + 1) : -1;
  if (a < 0 || b < 0) return pctDecode(v);
  const charset = v.slice(0, a).toLowerCase();
  const raw = pctDecode(v.slice(b + 1));
  // Single-byte charsets: re-encode the characters as UTF-8 bytes so bytesToText shows them.
  if (charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii' || charset === 'windows-1252') return Buffer.from(raw, 'utf8').toString('latin1');
  return raw;
}

/** A header parameter read leniently (RFC 2045 + 2231 extended and continued values); null if absent. */
export function findParamLenient(value: string, param: string): string | null {
  const m = lenientParams(value);
  const p = param.toLowerCase();
  const plain = m.get(p);
  if (plain !== undefined && plain !== '') return plain;
  const ext = m.get(`${p}*`);
  if (ext !== undefined) return decodeExtended(ext);
  if (!m.has(`${p}*0`) && !m.has(`${p}*0*`)) return null;
  let acc = '';
  let encoded = false;
  for (let k = 0; ; k++) {
    const e = m.get(`${p}*${k}*`);
    const r = m.get(`${p}*${k}`);
    if (e !== undefined) { if (k === 0) { acc += e; encoded = true; } else acc += e; }
    else if (r !== undefined) acc += r;
    else break;
  }
  return encoded ? decodeExtended(acc) : acc;
}

/** Parameter as Suricata reads it, else the lenient reading; truncated to MIME_MAX_TOKEN_LEN bytes. */
export function findParam(value: string, param: string): { value: string; truncated: boolean } | null {
  let v = findParamStrict(value, param);
  if (v === null || v === '') v = findParamLenient(value, param);
  if (v === null || v === '') return null;
  if (v.length > MIME_MAX_TOKEN_LEN) return { value: v.slice(0, MIME_MAX_TOKEN_LEN), truncated: true };
  return { value: v, truncated: false };
}

/** The media type of a Content-Type value (before ';'), lower-cased and trimmed. */
export function mediaType(value: string): string {
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** Split an address-list header (To, Cc) on commas outside quotes, as Suricata logs it; empty items dropped. */
export function splitAddressList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let state = 0; // 0 skipping leading space, 1 field, 2 quoted
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (state === 0) {
      if (ch === ' ' || ch === '\t') start++;
      else if (ch === '"') state = 2;
      else state = 1;
    } else if (state === 1) {
      if (ch === ',') {
        if (i > start) out.push(value.slice(start, i));
        start = i + 1;
        state = 0;
      } else if (ch === '"') state = 2;
    } else if (ch === '"') state = 1;
  }
  if (value.length > start) out.push(value.slice(start));
  return out;
}
