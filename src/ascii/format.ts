// Text building blocks for the tcpdump-exact printer: address strings (with bounded caches), hex tables,
// tcpdump's hex+ASCII dump layout. Pure functions over byte arrays; nothing here allocates per byte.

/** "00".."ff" for every byte value. */
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Entries kept in each address-string cache before it is cleared (bounds memory on hostile captures). */
export const ADDR_CACHE_CAP = 1 << 16;

// Direct-mapped cache (size fixed at 2^16 slots): a slot holds the last address that hashed to it.
const V4_SLOTS = 1 << 16;
const v4keys = new Int32Array(V4_SLOTS);
const v4vals: (string | undefined)[] = new Array<string | undefined>(V4_SLOTS).fill(undefined);

/** Dotted-quad string of the IPv4 address at b[o..o+4) (cached by its 32-bit value). */
export function ipv4String(b: Uint8Array, o: number): string {
  const a0 = b[o]!, a1 = b[o + 1]!, a2 = b[o + 2]!, a3 = b[o + 3]!;
  const k = (a0 << 24) | (a1 << 16) | (a2 << 8) | a3;
  const slot = (k ^ (k >>> 16) ^ (a0 << 7)) & (V4_SLOTS - 1);
  const v = v4vals[slot];
  if (v !== undefined && v4keys[slot] === k) return v;
  const s = DEC[a0] + '.' + DEC[a1] + '.' + DEC[a2] + '.' + DEC[a3];
  v4keys[slot] = k;
  v4vals[slot] = s;
  return s;
}

/** "0".."255". */
const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

const v6cache = new Map<string, string>();

/** IPv6 text as tcpdump's addrtostr6 writes it (longest zero run ≥ 2 words as '::', v4-mapped/compat tail dotted). */
export function ipv6String(b: Uint8Array, o: number): string {
  // Cache key: the raw 16 bytes as a latin1 string (cheap, exact).
  const key = String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!,
    b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!, b[o + 14]!, b[o + 15]!);
  let s = v6cache.get(key);
  if (s !== undefined) return s;
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) { curBase = i; curLen = 1; } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
      break;
    }
    out += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  if (v6cache.size >= ADDR_CACHE_CAP) v6cache.clear();
  v6cache.set(key, out);
  return out;
}

/** MAC address "aa:bb:cc:dd:ee:ff" at b[o..o+6). */
export function macString(b: Uint8Array, o: number): string {
  return `${HEX2[b[o]!]}:${HEX2[b[o + 1]!]}:${HEX2[b[o + 2]!]}:${HEX2[b[o + 3]!]}:${HEX2[b[o + 4]!]}:${HEX2[b[o + 5]!]}`;
}

/** Link-layer address of any length as tcpdump's linkaddr_string writes it (6 bytes: MAC; else hex bytes joined by ':'). */
export function linkaddrString(b: Uint8Array, o: number, len: number): string {
  if (len === 6) return macString(b, o);
  if (len === 0) return '<empty>';
  let s = HEX2[b[o]!]!;
  for (let i = 1; i < len; i++) s += ':' + HEX2[b[o + i]!]!;
  return s;
}

/** Characters ND_ASCII_ISGRAPH keeps in a hex dump; everything else becomes '.'. */
const DUMPCHAR: readonly string[] = Array.from({ length: 256 }, (_, c) => (c > 0x20 && c <= 0x7e ? String.fromCharCode(c) : '.'));

/**
 * tcpdump's hex_and_ascii_print body for b[p..p+n): lines "\n\t0xOOOO:  hhhh hhhh …  ascii". The caller handles
 * truncation (n already clipped to what was captured).
 */
export function hexAsciiDump(b: Uint8Array, p: number, n: number): string {
  let out = '';
  let off = 0;
  while (off < n) {
    const lineLen = Math.min(16, n - off);
    let hex = '';
    let asc = '';
    let i = 0;
    for (; i + 1 < lineLen; i += 2) {
      const s1 = b[p + off + i]!, s2 = b[p + off + i + 1]!;
      hex += ' ' + HEX2[s1] + HEX2[s2];
      asc += DUMPCHAR[s1]! + DUMPCHAR[s2]!;
    }
    if (i < lineLen) {
      const s1 = b[p + off + i]!;
      hex += ' ' + HEX2[s1];
      asc += DUMPCHAR[s1]!;
    }
    out += '\n\t0x' + (off < 0x10000 ? off.toString(16).padStart(4, '0') : off.toString(16)) + ': ' + hex.padEnd(40) + '  ' + asc;
    off += 16;
  }
  return out;
}

/** Zero-padded 6-digit microseconds (as "%06u"). */
export function pad6(n: number): string {
  if (n >= 100000) return String(n);
  return String(1000000 + n).slice(1);
}
