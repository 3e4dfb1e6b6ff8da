// tcpdump's non-verbose DNS summary (print-domain.c without -v): "ID[flags] [counts] TYPE? name. (len)" for
// queries, "ID[flags] q/a/n/ar answers… (len)" for responses. Writes into an AsciiPrinter's output.

import { HEX2, ipv4String, ipv6String } from './format.js';

/** The part of AsciiPrinter the DNS printer uses (its output and bounded reads). */
export interface DnsSink {
  o: string;
  b: Uint8Array;
  end: number;
  proto: string;
  u8(p: number): number;
  u16(p: number): number;
  u32(p: number): number;
  trunc(): void;
  need(p: number, n: number): void;
}

const NS_OPS = ['', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7', ' op8', ' updateA', ' updateD',
  ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef'];
const NS_RESP = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet',
  ' NotAuth', ' NotZone', ' Resp11', ' Resp12', ' Resp13', ' Resp14', ' NoChange', ' BadVers', 'Resp17', ' Resp18',
  ' Resp19', ' Resp20', 'Resp21', ' Resp22', ' BadCookie'];
const TYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS', 12: 'PTR',
  13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25', 20: 'ISDN', 21: 'RT', 22: 'NSAP',
  23: 'NSAP_PTR', 24: 'SIG', 25: 'KEY', 26: 'PX', 27: 'GPOS', 28: 'AAAA', 29: 'LOC', 30: 'NXT', 31: 'EID', 32: 'NIMLOC',
  33: 'SRV', 34: 'ATMA', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 38: 'A6', 39: 'DNAME', 40: 'SINK', 41: 'OPT', 42: 'APL',
  43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 99: 'SPF', 100: 'UINFO', 101: 'UID',
  102: 'GID', 103: 'UNSPEC', 104: 'UNSPECA', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR', 253: 'MAILB',
  254: 'MAILA', 255: 'ANY', 256: 'URI',
};
const CLASSES: Record<number, string> = { 1: 'IN', 3: 'CHAOS', 4: 'HS', 255: 'ANY' };
const MAXCDNAME = 255;

const typeName = (t: number) => TYPES[t] ?? `Type${t}`;
const className = (c: number) => CLASSES[c] ?? `(Class ${c})`;

/** fn_print_char: printable ASCII as is, else M- and ^ escapes. */
function fnChar(c: number): string {
  let s = '';
  if (c >= 0x80) { c &= 0x7f; s = 'M-'; }
  if (c < 0x20 || c > 0x7e) { c ^= 0x40; s += '^'; }
  return s + String.fromCharCode(c);
}

/** nd_printn: print n bytes; true when the capture ended first. */
function printn(s: DnsSink, p: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (p + i >= s.end) return true;
    s.o += fnChar(s.b[p + i]!);
  }
  return false;
}

/** ns_nskip: index after the name at p, or -1. */
function nskip(s: DnsSink, p: number): number {
  if (p >= s.end) return -1;
  let i = s.b[p]!;
  p++;
  while (i) {
    switch (i & 0xc0) {
      case 0xc0: return p + 1;
      case 0x40: {
        if ((i & 0x3f) !== 1) return -1;
        if (p >= s.end) return -1;
        let bitlen = s.b[p]!;
        if (bitlen === 0) bitlen = 256;
        p++;
        p += Math.floor((bitlen + 7) / 8);
        break;
      }
      case 0x80: return -1;
      default: p += i;
    }
    if (p >= s.end) return -1;
    i = s.b[p]!;
    p++;
  }
  return p;
}

function labellen(s: DnsSink, p: number): number {
  if (p >= s.end) return -1;
  const i = s.b[p]!;
  switch (i & 0xc0) {
    case 0x40: {
      const elt = i & 0x3f;
      if (elt !== 1) { s.o += `<ELT ${elt}>`; return -1; }
      if (p + 1 >= s.end) return -1;
      let bitlen = s.b[p + 1]!;
      if (bitlen === 0) bitlen = 256;
      return Math.floor((bitlen + 7) / 8) + 1;
    }
    case 0xc0: case 0: return i;
    default: s.o += '<BAD LABEL TYPE>'; return -1;
  }
}

function blabel(s: DnsSink, p: number): number {
  if (p >= s.end) return -1;
  let bitlen = s.b[p]!;
  if (bitlen === 0) bitlen = 256;
  const slen = Math.floor((bitlen + 3) / 4);
  const lim = p + 1 + slen;
  s.o += '\\[x';
  let bp = p + 1, b = bitlen;
  for (; bp < lim && b > 7; b -= 8, bp++) s.o += HEX2[s.u8(bp)];
  if (b > 4) { const tc = s.u8(bp); s.o += HEX2[tc & (0xff << (8 - b)) & 0xff]; }
  else if (b > 0) { const tc = s.u8(bp); s.o += (((tc >> 4) & 0x0f) & (0x0f << (4 - b))).toString(16); }
  s.o += `/${bitlen}]`;
  return lim;
}

/** fqdn_print: prints the name at p (compression relative to `base`); returns the index after it, or -1. */
function fqdn(s: DnsSink, p: number, base: number): number {
  let l = labellen(s, p);
  if (l === -1) return -1;
  if (p >= s.end) return -1;
  let maxOffset = p - base;
  let i = s.b[p]!;
  p++;
  let compress = false;
  let rp = -1;
  let chars = 0;
  if ((i & 0xc0) !== 0xc0) rp = p + l;
  if (i !== 0) {
    while (i && p < s.end) {
      switch (i & 0xc0) {
        case 0xc0: {
          if (!compress) { rp = p + 1; compress = true; }
          if (p >= s.end) return -1;
          const off = ((i << 8) | s.b[p]!) & 0x3fff;
          if (off >= maxOffset) { s.o += '<BAD PTR>'; return -1; }
          maxOffset = off;
          p = base + off;
          if (p >= s.end) return -1;
          i = s.b[p]!;
          l = labellen(s, p);
          if (l === -1) return -1;
          p++;
          continue;
        }
        case 0x40: {
          const elt = i & 0x3f;
          if (elt === 1) { if (blabel(s, p) === -1) return -1; }
          else { s.o += `<ELT ${elt}>`; return -1; }
          break;
        }
        case 0x80: s.o += '<BAD LABEL TYPE>'; return -1;
        default:
          if (chars + l <= MAXCDNAME) { if (printn(s, p, l)) return -1; }
          else if (chars < MAXCDNAME) { if (printn(s, p, MAXCDNAME - chars)) return -1; }
          chars += l;
      }
      p += l;
      if (chars <= MAXCDNAME) s.o += '.';
      chars++;
      if (p >= s.end) return -1;
      i = s.b[p]!;
      l = labellen(s, p);
      if (l === -1) return -1;
      p++;
      if (!compress) rp += l + 1;
    }
    if (chars > MAXCDNAME) s.o += '<DOMAIN NAME TOO LONG>';
  } else s.o += '.';
  return rp;
}

function qprint(s: DnsSink, p: number, base: number, mdns: boolean): number {
  const np = p;
  const cp = nskip(s, p);
  if (cp === -1 || cp + 4 > s.end) return -1;
  s.o += ' ' + typeName(s.u16(cp));
  const i = s.u16(cp + 2);
  const cls = mdns ? i & ~0x8000 : i;
  if (cls !== 1) s.o += ' ' + className(cls);
  if (mdns) s.o += i & 0x8000 ? ' (QU)' : ' (QM)';
  s.o += '? ';
  const r = fqdn(s, np, base);
  return r === -1 ? -1 : r + 4;
}

/** ns_rprint without -v: returns the index after the record, s.end when the header is cut, -1 on failure. */
function rprint(s: DnsSink, p: number, base: number, mdns: boolean): number {
  let cp = nskip(s, p);
  if (cp === -1 || cp + 10 > s.end) return s.end;
  const typ = s.u16(cp);
  const i = s.u16(cp + 2);
  cp += 4;
  const cls = mdns ? i & ~0x8000 : i;
  if (cls !== 1 && typ !== 41) s.o += ' ' + className(cls);
  if (mdns && i & 0x8000) s.o += ' (Cache flush)';
  let optFlags = 0;
  if (typ === 41) { cp += 2; optFlags = s.u16(cp); cp += 2; } else cp += 4;
  const len = s.u16(cp);
  cp += 2;
  const rp = cp + len;
  s.o += ' ' + typeName(typ);
  if (rp > s.end) return -1;
  switch (typ) {
    case 1:
      if (cp + 4 > s.end) return -1;
      s.o += ' ' + ipv4String(s.b, cp);
      break;
    case 2: case 5: case 12: case 39:
      s.o += ' ';
      if (fqdn(s, cp, base) === -1) return -1;
      break;
    case 15:
      s.o += ' ';
      if (cp + 2 > s.end) return -1;
      if (fqdn(s, cp + 2, base) === -1) return -1;
      s.o += ' ' + s.u16(cp);
      break;
    case 16:
      while (cp < rp) {
        s.o += ' "';
        if (cp >= s.end) return -1;
        const n = s.b[cp]!;
        if (printn(s, cp + 1, n)) return -1;
        cp += 1 + n;
        s.o += '"';
      }
      break;
    case 33:
      s.o += ' ';
      if (cp + 6 > s.end) return -1;
      if (fqdn(s, cp + 6, base) === -1) return -1;
      s.o += `:${s.u16(cp + 4)} ${s.u16(cp)} ${s.u16(cp + 2)}`;
      break;
    case 28:
      if (cp + 16 > s.end) return -1;
      s.o += ' ' + ipv6String(s.b, cp);
      break;
    case 41:
      s.o += ` UDPsize=${cls}`;
      if (optFlags & 0x8000) s.o += ' DO';
      break;
    case 104:
      if (cp + len > s.end) return -1;
      if (printn(s, cp, len)) return -1;
      break;
    default:
      break;
  }
  return rp;
}

/** domain_print(…, over_tcp, is_mdns) without -v. */
export function printDomain(s: DnsSink, bp: number, length: number, overTcp: boolean, mdns = false): void {
  s.proto = 'domain';
  if (overTcp) {
    if (length < 2) { s.o += ` [DNS over TCP: length ${length} < 2] (invalid)`; return; }
    length -= 2;
    const pl = s.u16(bp);
    if (pl !== length) { s.o += ` [prefix length(${pl}) != length(${length})] (invalid)`; return; }
    bp += 2;
    s.o += ' ';
  }
  if (length < 12) { s.o += `domain [length ${length} < 12] (invalid)`; return; }
  s.need(bp, 12);
  const flags = s.u16(bp + 2);
  let qd = s.u16(bp + 4), an = s.u16(bp + 6);
  const ns = s.u16(bp + 8), ar = s.u16(bp + 10);
  let cp = bp + 12;
  let rcode = flags & 0xf;
  scan: {
    for (let i = 0; i < qd; i++) {
      if ((cp = nskip(s, cp)) === -1) break scan;
      cp += 4;
      if (cp >= s.end) break scan;
    }
    for (let i = 0; i < an + ns; i++) {
      if ((cp = nskip(s, cp)) === -1) break scan;
      cp += 8;
      if (cp + 2 > s.end) break scan;
      cp += 2 + s.u16(cp);
      if (cp >= s.end) break scan;
    }
    for (let i = 0; i < ar; i++) {
      if ((cp = nskip(s, cp)) === -1) break scan;
      if (cp + 2 > s.end) break scan;
      const type = s.u16(cp);
      cp += 4;
      if (cp + 1 > s.end) break scan;
      if (type === 41) { rcode |= s.u8(cp) << 4; break scan; }
      cp += 4;
      if (cp + 2 > s.end) break scan;
      cp += 2 + s.u16(cp);
      if (cp >= s.end) break scan;
    }
  }
  const id = s.u16(bp);
  const opcode = (flags >> 11) & 0xf;
  if (flags & 0x8000) {
    s.o += id + NS_OPS[opcode]! + (rcode < NS_RESP.length ? NS_RESP[rcode] : ` Resp${rcode & 0xfff}`) +
      (flags & 0x0400 ? '*' : '') + (flags & 0x0080 ? '' : '-') + (flags & 0x0200 ? '|' : '') + (flags & 0x0020 ? '$' : '');
    if (qd !== 1) s.o += ` [${qd}q]`;
    cp = bp + 12;
    for (let i = 0; i < qd; i++) {
      if (i !== 0) s.o += ',';
      if ((cp = nskip(s, cp)) === -1) { s.trunc(); return; }
      cp += 4;
    }
    s.o += ` ${an}/${ns}/${ar}`;
    if (an) {
      if ((cp = rprint(s, cp, bp, mdns)) === -1) { s.trunc(); return; }
      an--;
      while (cp < s.end && an) {
        s.o += ',';
        if ((cp = rprint(s, cp, bp, mdns)) === -1) { s.trunc(); return; }
        an--;
      }
    }
    if (an) { s.trunc(); return; }
  } else {
    s.o += id + NS_OPS[opcode]! + (flags & 0x0100 ? '+' : '') + (flags & 0x0010 ? '%' : '');
    if (flags & 0x6cf) s.o += ` [b2&3=0x${flags.toString(16)}]`;
    if (opcode === 1) {
      if (qd) s.o += ` [${qd}q]`;
      if (an !== 1) s.o += ` [${an}a]`;
    } else {
      if (an) s.o += ` [${an}a]`;
      if (qd !== 1) s.o += ` [${qd}q]`;
    }
    if (ns) s.o += ` [${ns}n]`;
    if (ar) s.o += ` [${ar}au]`;
    cp = bp + 12;
    if (qd) {
      cp = qprint(s, cp, bp, mdns);
      if (cp === -1) { s.trunc(); return; }
      qd--;
      while (cp < s.end && qd) {
        cp = qprint(s, cp, bp, mdns);
        if (cp === -1) { s.trunc(); return; }
        qd--;
      }
    }
    if (qd) { s.trunc(); return; }
  }
  s.o += ` (${length})`;
}
