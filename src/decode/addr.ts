// Address formatting and parsing: IPv4 dotted quads and IPv6 in RFC 5952 form (as inet_ntop prints).

/** Dotted-quad string of the 4 bytes at `o`. */
export function ipv4String(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `o` (longest run of ≥ 2 zero groups becomes `::`; IPv4-mapped printed dotted). */
export function ipv6String(b: Uint8Array, o: number): string {
  const g: number[] = new Array(8);
  for (let i = 0; i < 8; i++) g[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  // ::ffff:a.b.c.d and ::a.b.c.d (deprecated compat) print the last 32 bits dotted, as inet_ntop does.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    const prefix = bestLen === 5 ? '::ffff:' : '::';
    return prefix + ipv4String(b, o + 12);
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s.length && !s.endsWith(':')) s += ':';
    s += g[i]!.toString(16);
  }
  return s;
}

/** Text form of an IPv4 (4 bytes) or IPv6 (16 bytes) address at `o`. */
export function ipString(b: Uint8Array, o: number, len: number): string {
  return len === 4 ? ipv4String(b, o) : ipv6String(b, o);
}

/** ipString() of the address at `o` of `b`, written as ASCII into `out` at `p` (IPv4 without a string); returns the end. */
export function writeIpText(out: Uint8Array, p: number, b: Uint8Array, o: number, len: number): number {
  if (len !== 4) {
    const s = ipv6String(b, o);
    for (let i = 0; i < s.length; i++) out[p + i] = s.charCodeAt(i);
    return p + s.length;
  }
  for (let k = 0; k < 4; k++) {
    if (k) out[p++] = 46;
    const x = b[o + k]!;
    if (x >= 100) { const h = (x / 100) | 0, t = ((x - h * 100) / 10) | 0; out[p] = 48 + h; out[p + 1] = 48 + t; out[p + 2] = 48 + x - h * 100 - t * 10; p += 3; }
    else if (x >= 10) { const t = (x / 10) | 0; out[p] = 48 + t; out[p + 1] = 48 + x - t * 10; p += 2; }
    else out[p++] = 48 + x;
  }
  return p;
}

/** Parse an IPv4 or IPv6 address into 4 or 16 bytes; null when it is not one. */
export function parseIp(s: string): Uint8Array | null {
  if (s.includes(':')) return parseIpv6(s);
  return parseIpv4(s);
}

/** Parse a dotted quad; null when invalid. */
export function parseIpv4(s: string): Uint8Array | null {
  const p = s.split('.');
  if (p.length !== 4) return null;
  const r = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const t = p[i]!;
    if (!/^\d{1,3}$/.test(t)) return null;
    const v = Number(t);
    if (v > 255) return null;
    r[i] = v;
  }
  return r;
}

/** Parse IPv6 text (with `::` and an optional dotted IPv4 tail); null when invalid. */
export function parseIpv6(s: string): Uint8Array | null {
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const r = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return null;
  const parseSide = (t: string): number[] | null => {
    if (t === '') return [];
    const out: number[] = [];
    const parts = t.split(':');
    for (let i = 0; i < parts.length; i++) {
      const x = parts[i]!;
      if (i === parts.length - 1 && x.includes('.')) {
        const v4 = parseIpv4(x);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return null;
        out.push(parseInt(x, 16));
      }
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const a = parseSide(s.slice(0, dbl));
    const b = parseSide(s.slice(dbl + 2));
    if (!a || !b || a.length + b.length > 7) return null;
    groups = [...a, ...new Array(8 - a.length - b.length).fill(0), ...b];
  } else {
    const a = parseSide(s);
    if (!a || a.length !== 8) return null;
    groups = a;
  }
  for (let i = 0; i < 8; i++) { r[2 * i] = groups[i]! >> 8; r[2 * i + 1] = groups[i]! & 0xff; }
  return r;
}
