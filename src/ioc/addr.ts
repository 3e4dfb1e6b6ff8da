// Byte-level address parsing for indicator lists and tcpdump text: dotted quads and IPv6 text straight from
// bytes or strings into a caller's scratch buffer, without allocating per call.

/** Parse a dotted quad from b[s, e) into out[o..o+3]; false when it is not exactly one. */
export function parseIpv4Bytes(b: Uint8Array, s: number, e: number, out: Uint8Array, o: number): boolean {
  let part = 0, val = 0, digits = 0;
  for (let p = s; p < e; p++) {
    const c = b[p]!;
    if (c >= 48 && c <= 57) {
      val = val * 10 + (c - 48);
      if (++digits > 3 || val > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || part === 3) return false;
      out[o + part++] = val; val = 0; digits = 0;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[o + 3] = val;
  return true;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parse IPv6 text from b[s, e) (with `::`, an optional dotted IPv4 tail, a `%zone` ignored) into out[o..o+15];
 * false when invalid.
 */
export function parseIpv6Bytes(b: Uint8Array, s: number, e: number, out: Uint8Array, o: number): boolean {
  for (let p = s; p < e; p++) if (b[p] === 37) { e = p; break; } // '%zone'
  if (e - s < 2) return false;
  let g = 0; // groups written
  let dbl = -1; // group index where '::' was
  let p = s;
  if (b[p] === 58) {
    if (b[p + 1] !== 58) return false;
    dbl = 0; p += 2;
    if (p === e) { out.fill(0, o, o + 16); return true; }
  }
  while (p < e) {
    // One group: hex digits, or a dotted IPv4 tail when a '.' follows within this token.
    let q = p, val = 0, nd = 0;
    while (q < e) {
      const h = hexVal(b[q]!);
      if (h < 0) break;
      val = (val << 4) | h; nd++; q++;
    }
    if (q < e && b[q] === 46) {
      if (g > 6) return false;
      if (!parseIpv4Bytes(b, p, e, out, o + 2 * g)) return false;
      g += 2;
      p = e;
      break;
    }
    if (nd === 0 || nd > 4) return false;
    if (g >= 8) return false;
    out[o + 2 * g] = val >> 8; out[o + 2 * g + 1] = val & 0xff; g++;
    p = q;
    if (p === e) break;
    if (b[p] !== 58) return false;
    p++;
    if (p < e && b[p] === 58) {
      if (dbl >= 0) return false;
      dbl = g; p++;
      if (p === e) break;
    } else if (p === e) return false; // trailing single ':'
  }
  if (dbl < 0) return g === 8;
  if (g > 7) return false;
  // Move the groups after '::' to the end and zero the gap.
  const tail = g - dbl;
  for (let k = tail - 1; k >= 0; k--) {
    out[o + 2 * (8 - tail + k)] = out[o + 2 * (dbl + k)]!;
    out[o + 2 * (8 - tail + k) + 1] = out[o + 2 * (dbl + k) + 1]!;
  }
  out.fill(0, o + 2 * dbl, o + 2 * (8 - tail));
  return true;
}

const enc = new TextEncoder();

/** Result of parseCidr: the family and prefix (the address bytes are in the caller's buffer). */
export interface CidrParse {
  /** 4 or 6; 0 when the text is not an address or block. */
  version: 0 | 4 | 6;
  prefix: number;
  /** Why it failed (when version is 0). */
  error?: string;
}

/** Dotted quad from text[s, e) into out[o..o+3] (charCode level, no allocation); false when invalid. */
export function parseIpv4Str(t: string, s: number, e: number, out: Uint8Array, o: number): boolean {
  let part = 0, val = 0, digits = 0;
  for (let p = s; p < e; p++) {
    const c = t.charCodeAt(p);
    if (c >= 48 && c <= 57) {
      val = val * 10 + (c - 48);
      if (++digits > 3 || val > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || part === 3) return false;
      out[o + part++] = val; val = 0; digits = 0;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[o + 3] = val;
  return true;
}

/** Parse `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32` or `[2001:db8::1]` into out[0..15] (v4 uses out[0..3]). */
export function parseCidr(text: string, out: Uint8Array): CidrParse {
  let s = 0, e = text.length;
  while (s < e && text.charCodeAt(s) <= 32) s++;
  while (e > s && text.charCodeAt(e - 1) <= 32) e--;
  if (s < e && text.charCodeAt(s) === 91) return parseCidr(unbracket(text.slice(s, e)), out);
  let slash = text.indexOf('/', s);
  if (slash >= e) slash = -1;
  const ae = slash < 0 ? e : slash;
  if (ae === s) return { version: 0, prefix: 0, error: 'empty address' };
  let version: 4 | 6;
  if (text.indexOf(':', s) >= 0 && text.indexOf(':', s) < ae) {
    const a = text.slice(s, ae);
    const bytes = enc.encode(a);
    if (!parseIpv6Bytes(bytes, 0, bytes.length, out, 0)) return { version: 0, prefix: 0, error: `not an IPv6 address: '${clip(a)}'` };
    version = 6;
  } else {
    if (!parseIpv4Str(text, s, ae, out, 0)) return { version: 0, prefix: 0, error: `not an IP address or CIDR: '${clip(text.slice(s, e))}'` };
    version = 4;
  }
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    let v = 0, nd = 0;
    for (let p = slash + 1; p < e; p++) {
      const c = text.charCodeAt(p) - 48;
      if (c < 0 || c > 9 || ++nd > 3) { nd = 0; break; }
      v = v * 10 + c;
    }
    if (nd === 0) return { version: 0, prefix: 0, error: `bad prefix length '/${clip(text.slice(slash + 1, e))}'` };
    if (v > max) return { version: 0, prefix: 0, error: `prefix length /${v} exceeds ${max}` };
    prefix = v;
  }
  return { version, prefix };
}

function unbracket(t: string): string {
  const close = t.indexOf(']');
  return close < 0 ? t.slice(1) : t.slice(1, close) + t.slice(close + 1);
}

/** Shorten text for messages. */
export function clip(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

/** Big-endian u32 at b[o]. */
export function u32At(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
