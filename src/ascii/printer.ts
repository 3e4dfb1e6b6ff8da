// The tcpdump-exact text printer: PacketBatch → the stdout `tcpdump -tt -n -r FILE` (tcpdump 4.99.3) writes.
// Owns the per-packet dissection into text, tcpdump's truncation marks (" [|proto]"), and the bounded
// per-connection TCP sequence table used for relative seq/ack. Pure: no I/O; one string per batch.
//
// Exact (checked against tcpdump on the corpus and in test/ascii): timestamps (µs, ns→µs, invalid fields,
// [Error converting time], invalid headers), Ethernet + 802.1Q/QinQ + MACsec (integrity only), Linux SLL, NULL/LOOP,
// RAW/IPv4/IPv6 link types, IPv4 (fragments, truncation notes), IPv6 (HBH/DSTOPT/frag/routing headers), TCP
// (flags, relative seq/ack, every option incl. SACK/MPTCP/TFO/md5/uto, [bad opt], truncation), the first line of
// HTTP/FTP/SMTP/RTSP, BGP/OpenFlow headers, UDP, DNS (tcp and udp), ICMP, ICMPv6 (common types), ARP, ESP and
// UDP-encapsulated ESP, SCTP chunk summaries, GRE, Geneve/VXLAN, DHCPv6, sFlow, unknown ethertypes (hex dump).
// Approximations beyond the address/port prefix: NFS/RPC bodies, RESP, LLC/STP, DCCP details and tcpdump's many
// routing/management protocol printers (PIM, OSPF, VRRP, HSRP, …).
// Bound: TCP sequence state per IP version is capped (DEFAULT_TCP_SEQ_CAP conversations, oldest forgotten first);
// tcpdump's own table grows without limit, so output differs only for conversations evicted at the cap.

import type { PacketBatch } from '../pcap/batch.js';
import { HEX2, hexAsciiDump, ipv4String, ipv6String, linkaddrString, macString } from './format.js';
import { printDomain } from './dns.js';
import { TcpSeqTable4 } from './tcpseq.js';

/** "000".."999" (microseconds are printed as two of these). */
const D3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Decimal text of a port number, made once per port value. */
const PORTS: (string | undefined)[] = new Array<string | undefined>(65536).fill(undefined);
function portText(p: number): string {
  return PORTS[p] ?? (PORTS[p] = String(p));
}

/** Thrown (never escapes the printer) when a read runs past the captured bytes: tcpdump's longjmp. */
class Trunc {}
const TRUNC = new Trunc();

/** tcpdump's MAXIMUM_SNAPLEN: records claiming more are reported as invalid headers. */
const MAXIMUM_SNAPLEN = 262144;

/** Default cap of the TCP sequence table (tcpdump's is unbounded); the oldest connection is evicted beyond it. */
export const DEFAULT_TCP_SEQ_CAP = 1 << 18;

export interface AsciiPrinterOptions {
  /** Conversations remembered per IP version for relative TCP seq/ack (default 262144); beyond it the oldest is forgotten. */
  tcpSeqCap?: number;
}

/** Counters the printer keeps. */
export interface AsciiPrinterStats {
  packets: number;
  /** TCP conversations evicted from the sequence table because it reached its cap. */
  tcpSeqEvicted: number;
}

interface SeqEntry { seq: number; ack: number }

const TCP_FLAGS: readonly string[] = Array.from({ length: 256 }, (_, f) => {
  let s = '';
  const names = ['F', 'S', 'R', 'P', '.', 'U', 'E', 'W'];
  for (let i = 0; i < 8; i++) if (f & (1 << i)) s += names[i];
  return s || 'none';
});

const TCP_OPT_NAMES: Record<number, string> = {
  0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 6: 'echo', 7: 'echoreply', 8: 'TS', 11: 'cc',
  12: 'ccnew', 13: '', 19: 'md5', 20: 'scps', 28: 'uto', 29: 'tcp-ao', 30: 'mptcp', 34: 'tfo', 254: 'exp',
};

const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: 'IPv4', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast', 0x86dd: 'IPv6', 0x8100: '802.1Q', 0x9100: '802.1Q-9100',
  0x88a8: '802.1Q-QinQ', 0x9200: '802.1Q-9200', 0x88e5: '802.1AE MACsec', 0x8181: 'VMAN', 0x0200: 'PUP', 0x0806: 'ARP',
  0x8035: 'Reverse ARP', 0x0600: 'NS', 0x0500: 'Sprite', 0x1000: 'Trail', 0x6001: 'MOP DL', 0x6002: 'MOP RC', 0x6003: 'DN',
  0x6004: 'LAT', 0x6007: 'SCA', 0x6558: 'TEB', 0x8038: 'Lanbridge', 0x803c: 'DEC DNS', 0x803e: 'DEC DTS', 0x805b: 'VEXP',
  0x805c: 'VPROD', 0x809b: 'Appletalk', 0x80f3: 'Appletalk ARP', 0x8137: 'IPX', 0x880b: 'PPP', 0x8808: 'MPCP',
  0x8809: 'Slow Protocols', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S', 0x888e: 'EAPOL', 0x8899: 'Realtek protocols',
  0x886f: 'MS NLB heartbeat', 0x8870: 'Jumbo', 0x894f: 'NSH', 0x9000: 'Loopback', 0xfefe: 'OSI', 0xa3ff: 'GRE-OSI',
  0xabcd: 'CFM (old)', 0x8902: 'CFM', 0x893a: 'IEEE1905.1', 0x88cc: 'LLDP', 0x88ca: 'TIPC', 0x0707: 'GeoNet (old)',
  0x8947: 'GeoNet', 0x1111: 'CALM FAST', 0x88a2: 'AoE', 0x88f7: 'PTP', 0xd28b: 'Arista Vendor Specific Protocol',
};

const ICMP2STR: Record<number, string> = {
  0: 'echo reply', 4: 'source quench', 8: 'echo request', 10: 'router solicitation', 13: 'time stamp request',
  14: 'time stamp reply', 15: 'information request', 16: 'information reply', 17: 'address mask request',
};

const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report',
  132: 'multicast listener done', 133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation',
  136: 'neighbor advertisement', 137: 'redirect', 138: 'router renumbering', 141: 'inverse neighbor solicitation',
  142: 'inverse neighbor advertisement', 143: 'multicast listener report v2', 144: 'ha discovery request',
  145: 'ha discovery reply', 146: 'mobile router solicitation', 147: 'mobile router advertisement',
  139: 'node information query', 140: 'node information reply', 200: 'mtrace message', 201: 'mtrace response', 155: 'RPL',
};
// tcpdump names 139/140 "who-are-you" too; its table lists those first (WRUREQUEST = 139, WRUREPLY = 140).
ICMP6_TYPES[139] = 'who-are-you request';
ICMP6_TYPES[140] = 'who-are-you reply';

const ICMP6_UNREACH: Record<number, string> = {
  0: 'unreachable route', 1: ' unreachable prohibited', 2: 'beyond scope', 3: 'unreachable address', 4: 'unreachable port',
};

const ARP_OPS: Record<number, string> = {
  1: 'Request', 2: 'Reply', 3: 'Reverse Request', 4: 'Reverse Reply', 8: 'Inverse Request', 9: 'Inverse Reply', 10: 'NACK Reply',
};
const ARPHRD: Record<number, string> = {
  1: 'Ethernet', 6: 'TokenRing', 7: 'ArcNet', 15: 'FrameRelay', 16: 'ATM', 19: 'ATM', 32: 'InfiniBand', 24: 'IEEE1394',
  0x0d: 'Strip',
};

const HTTP_CMDS = new Set(['GET', 'PUT', 'COPY', 'HEAD', 'LOCK', 'MOVE', 'POLL', 'POST', 'BCOPY', 'BMOVE', 'MKCOL', 'TRACE',
  'LABEL', 'MERGE', 'DELETE', 'SEARCH', 'UNLOCK', 'REPORT', 'UPDATE', 'NOTIFY', 'BDELETE', 'CONNECT', 'OPTIONS', 'CHECKIN',
  'PROPFIND', 'CHECKOUT', 'CCM_POST', 'SUBSCRIBE', 'PROPPATCH', 'BPROPFIND', 'BPROPPATCH', 'UNCHECKOUT', 'MKACTIVITY',
  'MKWORKSPACE', 'UNSUBSCRIBE', 'RPC_CONNECT', 'VERSION-CONTROL', 'BASELINE-CONTROL']);
const RTSP_CMDS = new Set(['DESCRIBE', 'ANNOUNCE', 'GET_PARAMETER', 'OPTIONS', 'PAUSE', 'PLAY', 'RECORD', 'REDIRECT', 'SETUP',
  'SET_PARAMETER', 'TEARDOWN']);

/** fn_print_char: printable ASCII as is, else M- and ^ escapes. */
function fnChar(c: number): string {
  let s = '';
  if (c >= 0x80) { c &= 0x7f; s = 'M-'; }
  if (c < 0x20 || c > 0x7e) { c ^= 0x40; s += '^'; }
  return s + String.fromCharCode(c);
}

/** Latin-1 text of b[s..e) (tcpdump prints raw bytes; the printable-ASCII checks run before this is used). */
function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i += 4096) out += String.fromCharCode.apply(null, b.subarray(i, Math.min(e, i + 4096)) as unknown as number[]);
  return out;
}

/**
 * Turns PacketBatches into tcpdump's text. One instance per output stream: it carries TCP sequence state across
 * batches (and across inputs, as `tcpdump -r a -r b` would not; use one per input to mimic separate runs).
 */
export class AsciiPrinter {
  /** Output being built for the current packet/batch. */
  o = '';
  /** Bytes of the current batch and the current end of captured data (tcpdump's snapend). */
  b: Uint8Array = new Uint8Array(0);
  end = 0;
  /** tcpdump's ndo_protocol, used in truncation marks. */
  proto = '';
  #packets = 0;
  #lastBytes = 0;
  #lastSec = -1;
  #lastSecText = '';
  #evicted6 = 0;
  #seq4: TcpSeqTable4;
  #seq6 = new Map<string, SeqEntry>();
  #seqCap: number;

  constructor(opts: AsciiPrinterOptions = {}) {
    this.#seqCap = Math.max(1, opts.tcpSeqCap ?? DEFAULT_TCP_SEQ_CAP);
    this.#seq4 = new TcpSeqTable4(this.#seqCap);
  }

  /** Packets printed and TCP conversations forgotten at the sequence-table cap (IPv4 + IPv6 tables). */
  get stats(): AsciiPrinterStats {
    return { packets: this.#packets, tcpSeqEvicted: this.#seq4.evicted + this.#evicted6 };
  }

  /** Text for every packet of `batch` (each line ends in '\n'). */
  printBatch(batch: PacketBatch): string {
    this.b = batch.buf;
    const n = batch.count;
    this.o = '';
    for (let i = 0; i < n; i++) this.#packet(batch, i);
    const out = this.o;
    this.o = '';
    this.#packets += n;
    return out;
  }

  /**
   * The same text as latin1 bytes in a fresh Buffer (safe to hand to an async writer). Each packet's small string
   * is copied out while young, so no batch-sized string is ever built or flattened: the fast path for output.
   */
  printBatchBytes(batch: PacketBatch): Buffer {
    this.b = batch.buf;
    const n = batch.count;
    let out = Buffer.allocUnsafe(Math.max(1 << 16, this.#lastBytes + (this.#lastBytes >> 2)));
    let off = 0;
    for (let i = 0; i < n; i++) {
      this.o = '';
      this.#packet(batch, i);
      const s = this.o;
      if (off + s.length > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, off + s.length));
        out.copy(bigger, 0, 0, off);
        out = bigger;
      }
      off += out.write(s, off, 'latin1');
    }
    this.o = '';
    this.#packets += n;
    this.#lastBytes = off;
    return out.subarray(0, off);
  }

  #packet(batch: PacketBatch, i: number): void {
    const caplen = batch.caplen[i]!;
    const len = batch.origlen[i]!;
    if (caplen === 0 || len === 0 || len < caplen || caplen > MAXIMUM_SNAPLEN || len > MAXIMUM_SNAPLEN) {
      let s = '';
      let inv = false;
      if (caplen === 0) { inv = true; s = '[Invalid header: caplen==0'; }
      if (len === 0) { s += inv ? ',' : '[Invalid header:'; inv = true; s += ' len==0'; }
      else if (len < caplen) { s += inv ? ',' : '[Invalid header:'; inv = true; s += ` len(${len}) < caplen(${caplen})`; }
      if (caplen > MAXIMUM_SNAPLEN) { s += inv ? ',' : '[Invalid header:'; inv = true; s += ` caplen(${caplen}) > ${MAXIMUM_SNAPLEN}`; }
      if (len > MAXIMUM_SNAPLEN) { s += inv ? ',' : '[Invalid header:'; inv = true; s += ` len(${len}) > ${MAXIMUM_SNAPLEN}`; }
      this.o += s + ']\n';
      return;
    }
    const sec = batch.tsSec[i]!;
    // tcpdump gets tv_usec from libpcap: a µs field as is, a ns field as (int32)ns / 1000 (so a field ≥ 2^31 wraps).
    const nsec = batch.tsNsec[i]!;
    const usec = nsec >= 0x80000000 && nsec <= 0xffffffff ? Math.trunc((nsec | 0) / 1000) >>> 0 : Math.floor(nsec / 1000) >>> 0;
    if ((sec >>> 0) & 0x80000000 || sec < 0) this.o += '[Error converting time] ';
    else {
      // Consecutive packets usually share their second: keep its text.
      if (sec !== this.#lastSec) { this.#lastSec = sec; this.#lastSecText = (sec >>> 0) + '.'; }
      this.o += this.#lastSecText + (usec < 1000000 ? D3[(usec / 1000) | 0]! + D3[usec % 1000]! : String(usec)) + ' ';
    }
    const p = batch.offset[i]!;
    this.end = p + caplen;
    this.proto = '';
    try {
      this.#link(batch.linkType[i]!, p, len, caplen);
    } catch (e) {
      if (e !== TRUNC) throw e;
      this.o += ' [|' + this.proto + ']';
    }
    this.o += '\n';
  }

  // ---- bounded reads (throw TRUNC past the captured end, like tcpdump's GET_ macros) ----

  u8(p: number): number {
    if (p >= this.end || p < 0) throw TRUNC;
    return this.b[p]!;
  }
  u16(p: number): number {
    if (p + 2 > this.end) throw TRUNC;
    const b = this.b;
    return (b[p]! << 8) | b[p + 1]!;
  }
  u32(p: number): number {
    if (p + 4 > this.end) throw TRUNC;
    const b = this.b;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }
  /** Throw TRUNC unless n bytes at p were captured. */
  need(p: number, n: number): void {
    if (p + n > this.end) throw TRUNC;
  }
  trunc(): void {
    this.o += ' [|' + this.proto + ']';
  }
  ip4s(p: number): string {
    this.need(p, 4);
    return ipv4String(this.b, p);
  }
  ip6s(p: number): string {
    this.need(p, 16);
    return ipv6String(this.b, p);
  }
  /** ND_DEFAULTPRINT: hex+ASCII dump of up to `n` bytes; a dump cut by the capture ends in a truncation mark. */
  defaultPrint(p: number, n: number): void {
    const avail = this.end > p ? this.end - p : 0;
    if (n > avail) {
      this.o += hexAsciiDump(this.b, p, avail);
      throw TRUNC;
    }
    this.o += hexAsciiDump(this.b, p, n);
  }

  // ---- link layers ----

  #link(lt: number, p: number, len: number, caplen: number): void {
    switch (lt) {
      case 1: this.#ether(p, len, caplen); return;
      case 113: this.#sll(p, len, caplen); return;
      case 276: this.#sll2(p, len, caplen); return;
      case 0: case 108: this.#null(p, len, caplen, lt === 108); return;
      case 101: case 12: case 14: case 228: case 229: this.#raw(p, len); return;
      case 104: this.#chdlc(p, len, caplen); return;
      default:
        this.defaultPrint(p, caplen);
    }
  }

  #ether(p: number, len: number, caplen: number): void {
    this.proto = 'ether';
    if (caplen < 14) { this.trunc(); return; }
    const src = p + 6, dst = p;
    let q = p + 12;
    let length = len - 12;
    let cap = caplen - 12;
    let et = this.u16(q);
    q += 2; length -= 2; cap -= 2;
    if (et === 0x88e5) {
      this.proto = 'macsec';
      if (cap < 6 || length < 6) { this.trunc(); return; }
      const tci = this.u8(q);
      const stl = tci & 0x20 ? 14 : 6;
      if (cap < stl || length < stl) { this.trunc(); return; }
      const sl = this.u8(q + 1);
      if ((sl & ~0x3f) !== 0 || tci & 0x80) { this.o += ' (invalid)'; return; }
      q += stl; length -= stl; cap -= stl;
      if (tci & 0x0c) {
        this.o += `${macString(this.b, src)} > ${macString(this.b, dst)} 802.1AE MACsec, an ${tci & 3}, pn ${this.u32(q - stl + 2)}, flags ${this.#macsecFlags(tci)}`;
        if (sl & 0x3f) this.o += `, sl ${sl & 0x3f}`;
        if (stl === 14) { this.o += ', sci '; for (let i = 0; i < 8; i++) this.o += HEX2[this.u8(q - 8 + i)]; }
        this.o += ', ';
        this.defaultPrint(q, cap);
        return;
      }
      if (length < 16 || cap < 16) { this.trunc(); return; }
      length -= 16; cap -= 16;
      this.end -= 16;
      const short = sl & 0x3f;
      if (short !== 0) {
        if (short > length || short > cap) { this.trunc(); return; }
        if (length > short) length = short;
        if (cap > short) cap = short;
      }
      this.proto = 'ether';
      et = this.u16(q);
      q += 2; length -= 2; cap -= 2;
    }
    while (et === 0x8100 || et === 0x9100 || et === 0x9200 || et === 0x88a8) {
      if (cap < 4 || length < 4) { this.proto = 'vlan'; this.trunc(); return; }
      et = this.u16(q + 2);
      q += 4; length -= 4; cap -= 4;
    }
    if (et <= 1500) {
      if (et < length) { length = et; if (cap > length) cap = length; }
      const save = this.end;
      if (q + length < this.end) this.end = q + length;
      this.#llc(q, length, cap);
      this.end = save;
      return;
    }
    if (!this.#ethertype(et, q, length, cap)) {
      this.o += `${macString(this.b, src)} > ${macString(this.b, dst)}, ethertype ${ETHERTYPE_NAMES[et] ?? 'Unknown'} (0x${et.toString(16).padStart(4, '0')}), length ${len}: `;
      this.defaultPrint(q, cap);
    }
  }

  #macsecFlags(tci: number): string {
    let f = '';
    if (tci & 0x40) f += 'E'; // ES
    if (tci & 0x20) f += 'S';
    if (tci & 0x10) f += 'B';
    if (tci & 0x08) f += 'E';
    if (tci & 0x04) f += 'C';
    return f || 'none';
  }

  /** 802.2 LLC frame (Ethernet length field): an approximation of tcpdump's llc_print for the common cases. */
  #llc(p: number, length: number, cap: number): void {
    this.proto = 'llc';
    if (cap < 3) { this.trunc(); return; }
    const dsap = this.u8(p), ssap = this.u8(p + 1);
    if (dsap === 0x42 && ssap === 0x42) {
      this.o += 'STP 802.1d';
      return;
    }
    if (dsap === 0xaa && ssap === 0xaa && cap >= 8) {
      const et = this.u16(p + 6);
      if (this.#ethertype(et, p + 8, length - 8, cap - 8)) return;
    }
    this.o += `LLC, dsap 0x${HEX2[dsap & 0xfe]}, ssap 0x${HEX2[ssap & 0xfe]}, length ${length}`;
  }

  /** ethertype_print: true when the type was printed. */
  #ethertype(et: number, p: number, length: number, cap: number): boolean {
    switch (et) {
      case 0x0800: this.#ip(p, length); return true;
      case 0x86dd: this.#ip6(p, length); return true;
      case 0x0806: case 0x8035: this.#arp(p, length, cap); return true;
      default: return false;
    }
  }

  #sll(p: number, len: number, caplen: number): void {
    this.proto = 'sll';
    this.need(p, 16);
    let et = this.u16(p + 14);
    const hatype = this.u16(p + 2);
    let q = p + 16, length = len - 16, cap = caplen - 16;
    if (hatype === 803) { this.defaultPrint(q, cap); return; }
    for (;;) {
      if (et <= 1500) {
        if (et === 4) this.#llc(q, length, cap);
        else this.defaultPrint(q, cap);
        return;
      }
      if (et === 0x8100) {
        if (cap < 4) { this.proto = 'vlan'; this.trunc(); return; }
        et = this.u16(q + 2);
        if (et <= 1500) et = 4;
        this.o += `ethertype ${ETHERTYPE_NAMES[et] ?? 'Unknown'}, `;
        q += 4; length -= 4; cap -= 4;
        continue;
      }
      if (!this.#ethertype(et, q, length, cap)) {
        this.#sllHeader(p, len);
        this.defaultPrint(q, cap);
      }
      return;
    }
  }

  /** sll_print (used for unknown protocols): direction, source link address, ethertype. */
  #sllHeader(p: number, len: number): void {
    const pkttype = this.u16(p);
    const dirs: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };
    this.o += `${(dirs[pkttype] ?? '?').padStart(3)} `;
    if (this.u16(p + 4) === 6) this.o += macString(this.b, p + 6) + ' ';
    const et = this.u16(p + 14);
    this.o += `ethertype ${ETHERTYPE_NAMES[et] ?? 'Unknown'} (0x${et.toString(16).padStart(4, '0')}), length ${len}: `;
  }

  #sll2(p: number, len: number, caplen: number): void {
    this.proto = 'sll2';
    this.need(p, 20);
    const et = this.u16(p);
    const ifindex = this.u32(p + 4);
    const pkttype = this.u8(p + 10);
    const dirs: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };
    // tcpdump names the interface through if_indextoname on the reading host; we print the index.
    this.o += `ifindex ${ifindex} ${pkttype === 4 ? 'Out' : (dirs[pkttype] ?? 'In')} `;
    if (!this.#ethertype(et, p + 20, len - 20, caplen - 20)) this.defaultPrint(p + 20, caplen - 20);
  }

  #null(p: number, len: number, caplen: number, loop: boolean): void {
    this.proto = 'null';
    this.need(p, 4);
    let fam = loop ? this.u32(p) : (this.b[p]! | (this.b[p + 1]! << 8) | (this.b[p + 2]! << 16) | (this.b[p + 3]! << 24)) >>> 0;
    if ((fam & 0xffff0000) !== 0) fam = (((fam & 0xff) << 24) | ((fam & 0xff00) << 8) | ((fam >>> 8) & 0xff00) | (fam >>> 24)) >>> 0;
    const q = p + 4, length = len - 4, cap = caplen - 4;
    switch (fam) {
      case 2: this.#ip(q, length); return;
      case 24: case 28: case 30: this.#ip6(q, length); return;
      default:
        this.o += `AF Unknown (${fam}), length ${len}: `;
        this.defaultPrint(q, cap);
    }
  }

  #raw(p: number, len: number): void {
    this.proto = 'raw';
    const v = this.u8(p) >> 4;
    if (v === 6) this.#ip6(p, len);
    else if (v === 4) this.#ip(p, len);
    else this.o += `IP${v}`;
  }

  #chdlc(p: number, len: number, caplen: number): void {
    this.proto = 'chdlc';
    const proto = this.u16(p + 2);
    if (proto === 0x0800) this.#ip(p + 4, len - 4);
    else if (proto === 0x86dd) this.#ip6(p + 4, len - 4);
    else this.defaultPrint(p + 4, caplen - 4);
  }

  // ---- IPv4 / IPv6 ----

  #ip(p: number, length: number): void {
    this.proto = 'ip';
    const v = this.u8(p) >> 4;
    if (v !== 4) {
      this.o += v === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${v} (invalid)`;
      return;
    }
    this.o += 'IP ';
    this.need(p, 20);
    if (length < 20) { this.o += `truncated-ip ${length}`; return; }
    const hlen = (this.b[p]! & 15) * 4;
    if (hlen < 20) { this.o += `bad-hlen ${hlen}`; return; }
    let len = this.u16(p + 2);
    if (length < len) this.o += `truncated-ip - ${len - length} bytes missing! `;
    if (len < hlen) { this.o += `bad-len ${len}`; return; }
    const save = this.end;
    if (p + len < this.end) this.end = p + len;
    len -= hlen;
    const off = this.u16(p + 6);
    const nh = this.u8(p + 9);
    if ((off & 0x1fff) === 0) {
      if (nh !== 6 && nh !== 17 && nh !== 132 && nh !== 33) this.o += ipv4String(this.b, p + 12) + ' > ' + ipv4String(this.b, p + 16) + ': ';
      if (p + hlen > this.end) {
        this.o += ` [remaining caplen(${this.end - p}) < header length(${hlen})]`;
        throw TRUNC;
      }
      this.#demux(p + hlen, len, 4, (off & 0x2000) !== 0, nh, p);
    } else {
      this.o += ipv4String(this.b, p + 12) + ' > ' + ipv4String(this.b, p + 16) + ': ip-proto-' + nh;
    }
    this.end = save;
  }

  #ip6(p: number, length: number): void {
    this.proto = 'ip6';
    this.need(p, 40);
    if (length < 40) { this.o += `truncated-ip6 ${length}`; return; }
    this.o += 'IP6 ';
    const v = this.b[p]! >> 4;
    if (v !== 6) { this.o += `version error: ${v} != 6`; return; }
    let payloadLen = this.u16(p + 4);
    let len: number;
    if (payloadLen !== 0) {
      len = payloadLen + 40;
      if (length < len) this.o += `truncated-ip6 - ${len - length} bytes missing!`;
    } else len = length + 40;
    let nh = this.b[p + 6]!;
    const save = this.end;
    if (p + len < this.end) this.end = p + len;
    let cp = p;
    let advance = 40;
    let total = 0;
    let fragmented = false;
    let foundExt = false;
    let foundHbh = false;
    let foundJumbo = false;
    let ph = 255;
    while (cp < this.end && advance > 0) {
      if (len < advance) { this.trunc(); this.end = save; return; }
      cp += advance; len -= advance; total += advance;
      if (cp === p + 40 && nh !== 6 && nh !== 17 && nh !== 33 && nh !== 132) {
        this.o += ipv6String(this.b, p + 8) + ' > ' + ipv6String(this.b, p + 24) + ': ';
      }
      switch (nh) {
        case 0: {
          if (foundHbh) { this.o += '[The Hop-by-Hop Options header was already found] (invalid)'; return; }
          if (ph !== 255) { this.o += "[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)"; return; }
          this.proto = 'hbhopt';
          const hl = (this.u8(cp + 1) + 1) << 3;
          if (cp + hl > this.end) { this.trunc(); return; }
          this.o += 'HBH ';
          let jumbo = false;
          const r = this.#ip6opts(cp + 2, hl - 2, payloadLen);
          if (r === -1) { this.trunc(); return; }
          if (r > 0) { jumbo = true; payloadLen = r; }
          if (payloadLen === 0 && !jumbo) { this.o += '[No valid Jumbo Payload Hop-by-Hop option found] (invalid)'; return; }
          advance = hl; foundExt = true; foundHbh = true;
          nh = this.u8(cp);
          if (jumbo) { foundJumbo = true; }
          break;
        }
        case 60: {
          this.proto = 'dstopt';
          const dl = (this.u8(cp + 1) + 1) << 3;
          if (cp + dl > this.end) { this.trunc(); return; }
          this.o += 'DSTOPT ';
          advance = dl; foundExt = true;
          nh = this.u8(cp);
          break;
        }
        case 44: {
          this.proto = 'frag6';
          const offlg = this.u16(cp + 2);
          const plen = this.u16(p + 4);
          this.o += `frag (${offlg & 0xfff8}|${(40 + plen - (cp - p) - 8) >>> 0})`;
          if ((offlg & 0xfff8) !== 0) { this.end = save; return; }
          this.o += ' ';
          advance = 8;
          if (this.end <= cp + advance) { this.end = save; return; }
          foundExt = true; fragmented = true;
          nh = this.u8(cp);
          break;
        }
        case 43: {
          this.proto = 'rt6';
          const r = this.#rt6(cp, p);
          if (r < 0) return;
          advance = r; foundExt = true;
          nh = this.u8(cp);
          break;
        }
        case 135: case 62:
          this.proto = 'mobility';
          this.o += 'mobility';
          return;
        default: {
          if (foundJumbo) {
            len = payloadLen + 40;
            if (len < total) { this.trunc(); return; }
            if (length < len) this.o += `truncated-ip6 - ${len - length} bytes missing!`;
            this.end = Math.min(save, p + len);
            len -= total;
          } else if (payloadLen === 0) {
            if (foundExt) { this.trunc(); return; }
            len = 40;
            this.end = Math.min(save, p + len);
            len -= total;
          }
          this.#demux(cp, len, 6, fragmented, nh, p);
          this.end = save;
          return;
        }
      }
      ph = nh;
      this.proto = 'ip6';
    }
    this.end = save;
  }

  /** ip6_opt_process without -v: -1 on a bad/cut option list, else the valid jumbo payload length (0 if none). */
  #ip6opts(p: number, len: number, payloadLen: number): number {
    let found = false;
    let result = 0;
    for (let i = 0, ol = 0; i < len; i += ol) {
      const t = this.u8(p + i);
      if (t === 0) ol = 1;
      else if (i + 1 < len) ol = this.u8(p + i + 1) + 2;
      else return -1;
      if (i + ol > len) return -1;
      switch (t) {
        case 1: if (len - i < 2) { this.o += '(padn: trunc)'; return -1; } break;
        case 5:
          if (len - i < 4) { this.o += '(rtalert: trunc)'; return -1; }
          if (this.u8(p + i + 1) !== 2) { this.o += `(rtalert: invalid len ${this.u8(p + i + 1)})`; return -1; }
          break;
        case 0xc2: {
          if (len - i < 6) { this.o += '(jumbo: trunc)'; return -1; }
          if (this.u8(p + i + 1) !== 4) { this.o += `(jumbo: invalid len ${this.u8(p + i + 1)})`; return -1; }
          const jl = this.u32(p + i + 2);
          if (!found) {
            found = true;
            if (payloadLen === 0 && jl >= 65536) result = jl;
          }
          break;
        }
        case 0xc9:
          if (len - i < 18) { this.o += '(homeaddr: trunc)'; return -1; }
          if (this.u8(p + i + 1) < 16) { this.o += `(homeaddr: invalid len ${this.u8(p + i + 1)})`; return -1; }
          break;
        default:
          if (len - i < 2) { this.o += `(type ${t}: trunc)`; return -1; }
      }
    }
    return result;
  }

  /** rt6_print without -v: "RT6 (len=N, type=T, segleft=S, [0]addr, …) "; -1 after " (invalid)". */
  #rt6(cp: number, _ip6: number): number {
    this.o += 'RT6';
    let len = this.u8(cp + 1);
    const type = this.u8(cp + 2);
    this.o += ` (len=${len}, type=${type}${type === 0 ? ' [Deprecated]' : ''}, segleft=${this.u8(cp + 3)}`;
    if (type === 0 || type === 2) {
      const rsv = this.u32(cp + 4);
      if (rsv) this.o += `, rsv=0x${rsv.toString(16)}`;
    } else if (type === 4) {
      this.o += `, last-entry=${this.u8(cp + 4)}`;
      const fl = this.u8(cp + 5);
      if (fl) this.o += `, flags=0x${fl.toString(16)}`;
      this.o += `, tag=${this.u16(cp + 6).toString(16)}`;
    } else { this.o += ' (unknown type) (invalid)'; return -1; }
    if (len % 2 === 1) { this.o += ` (invalid length ${len}) (invalid)`; return -1; }
    len >>= 1;
    for (let i = 0; i < len; i++) this.o += `, [${i}]${this.ip6s(cp + 8 + i * 16)}`;
    this.o += ') ';
    return (this.u8(cp + 1) + 1) << 3;
  }

  #demux(p: number, length: number, ver: number, fragmented: boolean, nh: number, iph: number): void {
    switch (nh) {
      case 6: this.#tcp(p, length, iph, ver); return;
      case 17: this.#udp(p, length, iph, ver, fragmented); return;
      case 1:
        if (ver === 4) this.#icmp(p, length, fragmented);
        else this.o += '[ICMP requires IPv4] (invalid)';
        return;
      case 58:
        if (ver === 6) this.#icmp6(p, length, iph);
        else this.o += '[ICMPv6 requires IPv6] (invalid)';
        return;
      case 4: this.#ip(p, length); return;
      case 41: this.#ip6(p, length); return;
      case 59: this.o += 'no next header'; return;
      case 143:
        if (ver === 6) this.#ether(p, length, Math.max(0, this.end - p));
        else this.o += '[Ethernet requires IPv6] (invalid)';
        return;
      case 2:
        if (ver === 4) this.#igmp(p, length);
        else this.o += '[IGMP requires IPv4] (invalid)';
        return;
      case 47: this.#gre(p, length); return;
      case 132: this.#sctp(p, length, iph, ver); return;
      case 33: this.#dccp(p, length, iph, ver); return;
      case 50: this.#esp(p, length); return;
      case 103: this.o += `PIMv${this.u8(p) >> 4}, length ${length}`; return;
      case 112: this.o += `VRRPv${this.u8(p) >> 4}, length ${length}`; return;
      default:
        this.o += ` ip-proto-${nh} ${length}`;
    }
  }

  #ports(iph: number, ver: number, sport: number, dport: number): string {
    const b = this.b;
    return ver === 6 ? `${ipv6String(b, iph + 8)}.${sport} > ${ipv6String(b, iph + 24)}.${dport}: `
      : `${ipv4String(b, iph + 12)}.${sport} > ${ipv4String(b, iph + 16)}.${dport}: `;
  }

  /** SCTP without -v: chunk list "(n) [NAME] details". */
  #sctp(p: number, length: number, iph: number, ver: number): void {
    this.proto = 'sctp';
    if (length < 12) { this.o += `truncated-sctp - ${12 - length} bytes missing!`; return; }
    this.need(p, 12);
    const sport = this.u16(p), dport = this.u16(p + 2);
    this.o += this.#ports(iph, ver, sport, dport) + 'sctp';
    const forces: Record<number, string> = { 6700: 'ForCES HP', 6701: 'ForCES MP', 6702: 'ForCES LP' };
    if (forces[sport]) this.o += `[${forces[sport]}]`;
    if (forces[dport]) this.o += `[${forces[dport]}]`;
    const names: Record<number, string> = { 0: 'DATA', 1: 'INIT', 2: 'INIT ACK', 3: 'SACK', 4: 'HB REQ', 5: 'HB ACK', 6: 'ABORT',
      7: 'SHUTDOWN', 8: 'SHUTDOWN ACK', 9: 'OP ERR', 10: 'COOKIE ECHO', 11: 'COOKIE ACK', 12: 'ECN ECHO', 13: 'ECN CWR',
      14: 'SHUTDOWN COMPLETE', 192: 'FOR CUM TSN', 193: 'REL CTRL', 194: 'REL CTRL ACK' };
    let q = p + 12;
    let rem = length - 12;
    let sep = ' (';
    for (let n = 0; rem > 0; n++) {
      if (rem < 4) { this.o += `${sep}${n + 1}) [chunk descriptor cut off at end of packet]`; return; }
      const id = this.u8(q), flags = this.u8(q + 1), clen = this.u16(q + 2);
      if (clen < 4) { this.o += `${sep}${n + 1}) [Bad chunk length ${clen}, < size of chunk descriptor]`; return; }
      if (clen > rem) { this.o += `${sep}${n + 1}) [Bad chunk length ${clen}, > remaining data in packet]`; return; }
      this.o += `${sep}${n + 1}) [${names[id] ?? 'Unknown chunk type: 0x' + id.toString(16)}] `;
      if (id === 0) {
        if (flags & 4) this.o += '(U)';
        if (flags & 2) this.o += '(B)';
        if (flags & 1) this.o += '(E)';
        if (flags & 7) this.o += ' ';
        this.o += `[TSN: ${this.u32(q + 4)}] [SID: ${this.u16(q + 8)}] [SSEQ ${this.u16(q + 10)}] [PPID 0x${this.u32(q + 12).toString(16)}] `;
      } else if (id === 1 || id === 2) {
        this.o += `[init tag: ${this.u32(q + 4)}] [rwnd: ${this.u32(q + 8)}] [OS: ${this.u16(q + 12)}] [MIS: ${this.u16(q + 14)}] [init TSN: ${this.u32(q + 16)}] `;
      } else if (id === 3) {
        this.o += `[cum ack ${this.u32(q + 4)}] [a_rwnd ${this.u32(q + 8)}] [#gap acks ${this.u16(q + 12)}] [#dup tsns ${this.u16(q + 14)}] `;
      }
      const padded = (clen + 3) & ~3;
      q += padded; rem -= padded;
      sep = ', (';
    }
  }

  /** DCCP without -v: the packet type (an approximation of tcpdump's dccp_print beyond the ports). */
  #dccp(p: number, length: number, iph: number, ver: number): void {
    this.proto = 'dccp';
    this.need(p, 12);
    const sport = this.u16(p), dport = this.u16(p + 2);
    this.o += this.#ports(iph, ver, sport, dport);
    const types = ['Request', 'Response', 'Data', 'Ack', 'DataAck', 'CloseReq', 'Close', 'Reset', 'Sync', 'SyncAck'];
    const t = (this.u8(p + 8) >> 1) & 0xf;
    this.o += `DCCP DCCP-${types[t] ?? 'Invalid'} `;
    void length;
  }

  #esp(p: number, length: number): void {
    this.proto = 'esp';
    const spi = this.u32(p);
    const seq = this.u32(p + 4);
    this.o += `ESP(spi=0x${spi.toString(16).padStart(8, '0')},seq=0x${seq.toString(16)}), length ${length}`;
  }

  #igmp(p: number, length: number): void {
    this.proto = 'igmp';
    const t = this.u8(p);
    switch (t) {
      case 0x11: {
        const mrt = this.u8(p + 1);
        if (length === 8) this.o += mrt === 0 ? 'igmp query v1' : `igmp query v2 [max resp time ${mrt}]`;
        else this.o += 'igmp query v3';
        const g = this.u32(p + 4);
        if (g !== 0) this.o += ` [gaddr ${this.ip4s(p + 4)}]`;
        if (length !== 8 && length < 12) this.o += ` [invalid len ${length}]`;
        return;
      }
      case 0x12: this.o += `igmp v1 report ${this.ip4s(p + 4)}`; return;
      case 0x16: this.o += `igmp v2 report ${this.ip4s(p + 4)}`; return;
      case 0x17: this.o += `igmp leave ${this.ip4s(p + 4)}`; return;
      case 0x22: {
        const ng = this.u16(p + 6);
        this.o += `igmp v3 report, ${ng} group record(s)`;
        return;
      }
      default: this.o += `igmp-${t}`;
    }
  }

  #gre(p: number, length: number): void {
    this.proto = 'gre';
    const flags = this.u16(p);
    const ver = flags & 7;
    this.o += `GREv${ver}`;
    if (ver !== 0) return;
    let q = p + 4;
    let len = length - 4;
    const proto = this.u16(p + 2);
    if (flags & 0x8000 || flags & 0x4000) { q += 4; len -= 4; }
    if (flags & 0x2000) { this.o += `, key=0x${this.u32(q).toString(16)}`; q += 4; len -= 4; }
    if (flags & 0x1000) { this.o += `, seq ${this.u32(q)}`; q += 4; len -= 4; }
    this.o += `, length ${length}: `;
    if (proto === 0x0800) this.#ip(q, len);
    else if (proto === 0x86dd) this.#ip6(q, len);
    else if (proto === 0x6558) this.#ether(q, len, Math.min(len, this.end - q));
    else this.o += `gre-proto-0x${proto.toString(16)}`;
  }

  // ---- TCP ----

  #tcp(p: number, length: number, iph: number, ver: number): void {
    this.proto = 'tcp';
    const b = this.b;
    const v6 = ver === 6;
    if (p + 4 > this.end) {
      this.o += (v6 ? ipv6String(b, iph + 8) + ' > ' + ipv6String(b, iph + 24) : ipv4String(b, iph + 12) + ' > ' + ipv4String(b, iph + 16)) + ':';
      this.trunc();
      return;
    }
    const sport = (b[p]! << 8) | b[p + 1]!;
    const dport = (b[p + 2]! << 8) | b[p + 3]!;
    let srcS = '', dstS = '';
    const direct = v6 ? b[iph + 6] === 6 : b[iph + 9] === 6;
    if (v6) { srcS = ipv6String(b, iph + 8); dstS = ipv6String(b, iph + 24); } else { srcS = ipv4String(b, iph + 12); dstS = ipv4String(b, iph + 16); }
    if (direct) this.o += srcS + '.' + portText(sport) + ' > ' + dstS + '.' + portText(dport) + ': ';
    else this.o += sport + ' > ' + dport + ': ';
    this.need(p, 20);
    let hlen = (b[p + 12]! >> 4) * 4;
    if (hlen < 20) { this.o += ` tcp ${length - hlen} [bad hdr length ${hlen} - too short, < 20]`; return; }
    let seq = this.u32(p + 4);
    let ack = this.u32(p + 8);
    const win = this.u16(p + 14);
    const urp = this.u16(p + 18);
    const flags = b[p + 13]!;
    this.o += 'Flags [' + TCP_FLAGS[flags] + ']';
    let rev = false;
    let thseq = 0, thack = 0;
    if (flags & 0x10) {
      if (sport > dport) rev = true;
      else if (sport === dport) rev = this.#addrGreater(iph + (v6 ? 8 : 12), iph + (v6 ? 24 : 16), v6 ? 16 : 4);
      if (!v6) {
        // tcpdump's struct tha: (lower-port side address, other address, ports), both directions share one entry.
        const sa = (b[iph + 12]! << 24) | (b[iph + 13]! << 16) | (b[iph + 14]! << 8) | b[iph + 15]!;
        const da = (b[iph + 16]! << 24) | (b[iph + 17]! << 16) | (b[iph + 18]! << 8) | b[iph + 19]!;
        const t = this.#seq4;
        const k1 = rev ? da : sa, k2 = rev ? sa : da, k3 = rev ? (dport << 16) | sport : (sport << 16) | dport;
        let slot = t.find(k1, k2, k3);
        if (slot < 0 || flags & 0x02) {
          if (slot < 0) slot = t.insert(k1, k2, k3);
          if (rev) { t.ack[slot] = seq; t.seq[slot] = (ack - 1) >>> 0; } else { t.seq[slot] = seq; t.ack[slot] = (ack - 1) >>> 0; }
        } else if (rev) {
          seq = (seq - t.ack[slot]!) >>> 0; ack = (ack - t.seq[slot]!) >>> 0;
        } else {
          seq = (seq - t.seq[slot]!) >>> 0; ack = (ack - t.ack[slot]!) >>> 0;
        }
        thseq = t.seq[slot]!; thack = t.ack[slot]!;
      } else {
        const key = rev ? dstS + ' ' + srcS + ' ' + (dport * 65536 + sport) : srcS + ' ' + dstS + ' ' + (sport * 65536 + dport);
        const tbl = this.#seq6;
        let th = tbl.get(key);
        if (th === undefined || flags & 0x02) {
          if (th === undefined) {
            if (tbl.size >= this.#seqCap) {
              // Map iterates in insertion order: the first key is the oldest conversation.
              tbl.delete(tbl.keys().next().value as string);
              this.#evicted6++;
            }
            th = { seq: 0, ack: 0 };
            tbl.set(key, th);
          }
          if (rev) { th.ack = seq; th.seq = (ack - 1) >>> 0; } else { th.seq = seq; th.ack = (ack - 1) >>> 0; }
        } else if (rev) {
          seq = (seq - th.ack) >>> 0; ack = (ack - th.seq) >>> 0;
        } else {
          seq = (seq - th.seq) >>> 0; ack = (ack - th.ack) >>> 0;
        }
        thseq = th.seq; thack = th.ack;
      }
    }
    if (hlen > length) { this.o += ` [bad hdr length ${hlen} - too long, > ${length}]`; return; }
    const dlen = length - hlen;
    if (dlen > 0 || flags & 0x07) {
      this.o += ', seq ' + seq;
      if (dlen > 0) this.o += ':' + ((seq + dlen) >>> 0);
    }
    if (flags & 0x10) this.o += ', ack ' + ack;
    this.o += ', win ' + win;
    if (flags & 0x20) this.o += ', urg ' + urp;
    if (hlen > 20) {
      let ch = '';
      this.o += ', options [';
      let h = hlen - 20;
      let cp = p + 20;
      try {
        while (h > 0) {
          this.o += ch;
          const opt = this.u8(cp); cp++;
          let len: number;
          if (opt === 0 || opt === 1) len = 1;
          else {
            len = this.u8(cp); cp++;
            if (len < 2 || len > h) { this.o += '[bad opt]'; if (ch !== '') this.o += ']'; return; }
            h--;
          }
          h--;
          let datalen = 0;
          const name = TCP_OPT_NAMES[opt];
          this.o += name ?? 'unknown-' + opt;
          switch (opt) {
            case 2: datalen = 2; this.#lencheck(2, h, cp); this.o += ' ' + this.u16(cp); break;
            case 3: datalen = 1; this.#lencheck(1, h, cp); this.o += ' ' + this.u8(cp); break;
            case 5:
              datalen = len - 2;
              if (datalen % 8 !== 0) this.o += ' invalid sack';
              else {
                this.o += ' ' + datalen / 8 + ' ';
                for (let i = 0; i < datalen; i += 8) {
                  this.#lencheck(i + 4, h, cp);
                  let s = this.u32(cp + i);
                  this.#lencheck(i + 8, h, cp);
                  let e = this.u32(cp + i + 4);
                  if (rev) { s = (s - thseq) >>> 0; e = (e - thseq) >>> 0; } else { s = (s - thack) >>> 0; e = (e - thack) >>> 0; }
                  this.o += '{' + s + ':' + e + '}';
                }
              }
              break;
            case 11: case 12: case 13: case 6: case 7:
              datalen = 4; this.#lencheck(4, h, cp); this.o += ' ' + this.u32(cp); break;
            case 8:
              datalen = 8; this.#lencheck(8, h, cp); this.o += ' val ' + this.u32(cp) + ' ecr ' + this.u32(cp + 4); break;
            case 19:
              // tcpdump is built with libcrypto: without -M it says why it cannot verify, then the digest.
              datalen = 16; this.#lencheck(16, h, cp); this.o += ' ';
              this.o += p + hlen + dlen > this.end ? 'snaplen too short, ' : 'shared secret not supplied with -M, ';
              this.o += "can't check - ";
              for (let i = 0; i < 16; i++) this.o += HEX2[this.u8(cp + i)];
              break;
            case 20:
              datalen = 2; this.#lencheck(2, h, cp); this.o += ` cap ${HEX2[this.u8(cp)]} id ${this.u8(cp + 1)}`; break;
            case 29:
              datalen = len - 2;
              if (datalen < 2) this.o += ' (invalid)';
              else {
                this.#lencheck(1, h, cp); this.o += ' keyid ' + this.u8(cp);
                this.#lencheck(2, h, cp); this.o += ' rnextkeyid ' + this.u8(cp + 1);
                if (datalen > 2) {
                  this.o += ' mac 0x';
                  for (let i = 2; i < datalen; i++) { this.#lencheck(i + 1, h, cp); this.o += HEX2[this.u8(cp + i)]; }
                }
              }
              break;
            case 0: case 1: case 4: break;
            case 28: {
              datalen = 2; this.#lencheck(2, h, cp);
              let u = this.u16(cp);
              this.o += ' 0x' + u.toString(16);
              u = u & 1 ? (u >> 1) * 60 : u >> 1;
              this.o += ' ' + u;
              break;
            }
            case 30:
              datalen = len - 2; this.#lencheck(datalen, h, cp); {
                const saveEnd = this.end;
                this.end = Math.min(cp - 2 + len, this.end);
                const ok = this.#mptcp(cp - 2, len, flags);
                this.end = saveEnd;
                if (!ok) throw BADOPT;
              }
              break;
            case 34:
              datalen = len - 2; this.#lencheck(datalen, h, cp); this.o += ' ';
              this.#tfo(cp, datalen, false);
              break;
            case 254: {
              datalen = len - 2; this.#lencheck(datalen, h, cp);
              if (datalen < 2) throw BADOPT;
              const magic = this.u16(cp);
              this.o += '-';
              if (magic === 0xf989) this.#tfo(cp + 2, datalen - 2, true);
              else this.o += magic.toString(16).padStart(4, '0');
              break;
            }
            default:
              datalen = len - 2;
              if (datalen) this.o += ' 0x';
              for (let i = 0; i < datalen; i++) { this.#lencheck(i + 1, h, cp); this.o += HEX2[this.u8(cp + i)]; }
          }
          cp += datalen;
          h -= datalen;
          datalen++;
          if (opt !== 0 && opt !== 1) datalen++;
          if (datalen !== len) this.o += '[len ' + len + ']';
          ch = ',';
          if (opt === 0) break;
        }
      } catch (e) {
        if (e === BADOPT) { this.o += '[bad opt]'; if (ch !== '') this.o += ']'; return; }
        if (e === TRUNCOPT) { this.trunc(); if (ch !== '') this.o += '>'; return; }
        throw e;
      }
      this.o += ']';
    }
    this.o += ', length ' + dlen;
    if (dlen === 0) return;
    if (p + hlen > this.end) {
      this.o += ` [remaining caplen(${this.end - p}) < header length(${hlen})]`;
      throw TRUNC;
    }
    const d = p + hlen;
    hlen = 0;
    // Same order as tcpdump's tcp_print (the first matching port wins).
    const port = (x: number) => sport === x || dport === x;
    if (port(23)) { /* telnet: only option negotiation is decoded by tcpdump; not printed here */ }
    else if (port(25)) { this.o += ': '; this.#txt(d, dlen, 'smtp', null); }
    else if (port(43)) { this.o += ': '; this.#txt(d, dlen, 'whois', null); }
    else if (port(179)) { this.proto = 'bgp'; this.o += ': BGP'; }
    else if (port(1723)) { /* pptp: not decoded */ }
    else if (port(6379)) this.#resp(d, dlen);
    else if (port(22)) this.#ssh(d, dlen);
    else if (port(139) || port(445) || port(10288)) { /* NetBIOS/SMB/BEEP: not decoded */ }
    else if (port(6633) || port(6653)) this.#openflow(d, dlen);
    else if (port(21)) { this.o += ': '; this.#txt(d, dlen, 'ftp', null); }
    else if (port(80) || port(8080)) { this.o += ': '; this.#txt(d, dlen, 'http', HTTP_CMDS); }
    else if (port(554) || port(8554)) { this.o += ': '; this.#txt(d, dlen, 'rtsp', RTSP_CMDS); }
    else if (port(53)) printDomain(this, d, dlen, true);
    else if (port(323)) { this.proto = 'rpki_rtr'; this.o += ', RPKI-RTR'; }
    else if ((sport === 2049 || dport === 2049) && dlen >= 4 && d + 4 <= this.end) this.#nfsTcp(d, dlen, sport, dport);
  }

  /** LENCHECK: the option claims fewer bytes than it needs ([bad opt]) or they were not captured ([|tcp]>). */
  #lencheck(l: number, h: number, cp: number): void {
    if (l > h) throw BADOPT;
    if (cp + l > this.end) throw TRUNCOPT;
  }

  #addrGreater(a: number, c: number, n: number): boolean {
    const b = this.b;
    for (let i = 0; i < n; i++) if (b[a + i] !== b[c + i]) return b[a + i]! > b[c + i]!;
    return false;
  }

  #tfo(cp: number, datalen: number, exp: boolean): void {
    if (exp) this.o += 'tfo';
    if (datalen === 0) this.o += ' cookiereq';
    else if (datalen % 2 !== 0 || datalen < 4 || datalen > 16) this.o += ' (invalid)';
    else {
      this.o += ' cookie ';
      for (let i = 0; i < datalen; i++) this.o += HEX2[this.u8(cp + i)];
    }
  }

  /** mptcp_print (tcpdump prints MPTCP details even without -v); false = "[bad opt]". */
  #mptcp(cp: number, len: number, flags: number): boolean {
    this.proto = 'mptcp';
    if (len < 3) return false;
    const sub = Math.min(this.u8(cp + 2) >> 4, 8);
    const names = ['capable', 'join', 'dss', 'add-addr', 'rem-addr', 'prio', 'fail', 'fast-close', 'unknown'];
    this.o += ` ${len} ${names[sub]}`;
    const u64 = (p: number) => (BigInt(this.u32(p)) << 32n) | BigInt(this.u32(p + 4));
    switch (sub) {
      case 0: {
        if (!((len === 12 || len === 4) && flags & 2) && !((len === 20 || len === 22) && (flags & 0x12) === 0x10)) return false;
        const v = this.u8(cp + 2) & 0xf;
        if (v > 1) { this.o += ` Unknown Version (${v})`; return true; }
        this.o += ` v${v}`;
        if (this.u8(cp + 3) & 0x80) this.o += ' csum';
        if (len === 12 || len >= 20) {
          this.o += ' {0x' + u64(cp + 4).toString(16);
          if (len >= 20) this.o += ',0x' + u64(cp + 12).toString(16);
          this.o += '}';
        }
        return true;
      }
      case 1: {
        if (!(len === 12 && flags & 2) && !(len === 16 && (flags & 0x12) === 0x12) && !(len === 24 && flags & 0x10)) return false;
        if (len !== 24) {
          if (this.u8(cp + 2) & 1) this.o += ' backup';
          this.o += ' id ' + this.u8(cp + 3);
        }
        if (len === 12) this.o += ` token 0x${this.u32(cp + 4).toString(16)} nonce 0x${this.u32(cp + 8).toString(16)}`;
        else if (len === 16) this.o += ` hmac 0x${u64(cp + 4).toString(16)} nonce 0x${this.u32(cp + 12).toString(16)}`;
        else { this.o += ' hmac 0x'; for (let i = 0; i < 20; i++) this.o += HEX2[this.u8(cp + 4 + i)]; }
        return true;
      }
      case 2: {
        if (len < 4 || flags & 2) return false;
        const f = this.u8(cp + 3);
        if (f & 0x10) this.o += ' fin';
        let o = cp + 4, l = len - 4;
        if (f & 1) {
          this.o += ' ack ';
          if (f & 2) { if (l < 8) return false; this.o += u64(o).toString(); o += 8; l -= 8; }
          else { if (l < 4) return false; this.o += this.u32(o); o += 4; l -= 4; }
        }
        if (f & 4) {
          this.o += ' seq ';
          if (f & 8) { if (l < 8) return false; this.o += u64(o).toString(); o += 8; l -= 8; }
          else { if (l < 4) return false; this.o += this.u32(o); o += 4; l -= 4; }
          if (l < 4) return false;
          this.o += ' subseq ' + this.u32(o); o += 4; l -= 4;
          if (l < 2) return false;
          this.o += ' len ' + this.u16(o); o += 2; l -= 2;
          if (l >= 2) { this.o += ' csum 0x' + this.u16(o).toString(16); l -= 2; }
        }
        return l === 0;
      }
      case 3: {
        if (![8, 10, 16, 18, 20, 22, 28, 30].includes(len)) return false;
        const se = this.u8(cp + 2) & 0xf;
        const names: Record<number, string> = { 6: 'v0-ip6', 4: 'v0-ip4', 1: 'v1-echo', 0: 'v1' };
        this.o += ' ' + (names[se] ?? '[bad version/echo]') + ' id ' + this.u8(cp + 3);
        if (len <= 18) {
          this.o += ' ' + this.ip4s(cp + 4);
          if (len === 10 || len === 18) this.o += ':' + this.u16(cp + 8);
          if (len === 16) this.o += ' hmac 0x' + u64(cp + 8).toString(16);
          if (len === 18) this.o += ' hmac 0x' + u64(cp + 10).toString(16);
        } else {
          this.o += ' ' + this.ip6s(cp + 4);
          if (len === 22 || len === 30) this.o += ':' + this.u16(cp + 20);
          if (len === 28) this.o += ' hmac 0x' + u64(cp + 20).toString(16);
          if (len === 30) this.o += ' hmac 0x' + u64(cp + 22).toString(16);
        }
        return true;
      }
      default:
        return true;
    }
  }

  /** OpenFlow without -v: one "version V, type T, length L, xid X" line per message. */
  #openflow(cp: number, len: number): void {
    this.proto = 'openflow';
    this.o += ': OpenFlow';
    const vers: Record<number, string> = { 1: '1.0', 2: '1.1', 3: '1.2', 4: '1.3', 5: '1.4', 6: '1.5' };
    while (len) {
      const version = this.u8(cp); cp++; len--;
      this.o += '\n\tversion ' + (vers[version] ?? `unknown (0x${HEX2[version]})`);
      if (len < 1) { this.o += ' (end of TCP payload)'; this.need(cp, len); return; }
      const type = this.u8(cp); cp++; len--;
      const names = version === 1 ? OF10_TYPES : version === 4 ? OF13_TYPES : null;
      const name = names?.[type];
      this.o += name ? ', type ' + name : `, type unknown (0x${HEX2[type]})`;
      if (len < 2) { this.o += ' (end of TCP payload)'; this.need(cp, len); return; }
      const length = this.u16(cp); cp += 2; len -= 2;
      this.o += `, length ${length}${length < 8 ? ' (too short!)' : ''}`;
      if (len < 4) { this.o += ' (end of TCP payload)'; this.need(cp, len); return; }
      this.o += `, xid 0x${this.u32(cp).toString(16).padStart(8, '0')}`;
      cp += 4; len -= 4;
      if (length < 8) { this.o += ' (invalid)'; this.need(cp, len); return; }
      this.need(cp, length - 8);
      if (length - 8 > len) break;
      cp += length - 8; len -= length - 8;
    }
  }

  /** ssh_print: the identification line ("SSH-…") when it is complete in this segment. */
  #ssh(d: number, len: number): void {
    this.proto = 'ssh';
    if (this.u8(d) !== 0x53 || this.u8(d + 1) !== 0x53 || this.u8(d + 2) !== 0x48 || this.u8(d + 3) !== 0x2d) return;
    for (let i = 4; i < len; i++) {
      const c = this.u8(d + i);
      if (c === 0x0a || (c === 0x0d && i + 1 < len && this.u8(d + i + 1) === 0x0a)) {
        this.o += ': SSH: ' + latin1(this.b, d, d + i);
        return;
      }
      if (c === 0x0d || c < 0x20 || c > 0x7e) return;
    }
  }

  // ---- RESP (Redis), resp_print ----

  #resp(bp: number, length: number): void {
    this.proto = 'resp';
    this.o += ': RESP';
    while (length > 0) {
      const r = this.#respParse(bp, length);
      if (r < 0) { this.trunc(); return; }
      bp += r; length -= r;
    }
  }

  #respParse(bp: number, length: number): number {
    if (length < 1) return -1;
    switch (this.u8(bp)) {
      case 0x2b: case 0x3a: case 0x2d: return this.#respLine(bp, length);
      case 0x24: return this.#respBulk(bp, length);
      case 0x2a: return this.#respArray(bp, length);
      default: return this.#respInline(bp, length);
    }
  }

  /** RESP_PRINT_SEGMENT: ` "text"`; false when the capture ended inside the text. */
  #respSeg(p: number, n: number): boolean {
    this.o += ' "';
    for (let i = 0; i < n; i++) {
      if (p + i >= this.end) return false;
      this.o += fnChar(this.b[p + i]!);
    }
    this.o += '"';
    return true;
  }

  /** FIND_CRLF: index of the next CRLF, or -1 (data or capture ran out). */
  #respCrlf(p: number, cur: number): number {
    for (;;) {
      if (cur < 2 || p + 2 > this.end) return -1;
      if (this.b[p] === 0x0d && this.b[p + 1] === 0x0a) return p;
      p++; cur--;
    }
  }

  #respLine(bp: number, length: number): number {
    const p = bp + 1;
    const q = this.#respCrlf(p, length - 1);
    if (q < 0) return -1;
    if (!this.#respSeg(p, q - p)) return -1;
    return 1 + (q - p) + 2;
  }

  /** resp_get_length: [value, end]; value -2 cut, -3 too large, -4 negative, -5 invalid. */
  #respLen(p: number, len: number): [number, number] {
    if (len === 0) return [-2, p];
    let neg = false, tooLarge = false, result = 0, saw = false;
    if (this.u8(p) === 0x2d) { neg = true; p++; len--; }
    for (;;) {
      if (len === 0) return [-2, p];
      const c = this.u8(p);
      if (c < 0x30 || c > 0x39) {
        if (!saw) return [-5, p + 1];
        break;
      }
      const dgt = c - 0x30;
      if (result > 214748364) tooLarge = true;
      else {
        result *= 10;
        if (result === 2147483640 && dgt > 7) tooLarge = true;
        else result += dgt;
      }
      p++; len--; saw = true;
    }
    if (this.u8(p) !== 0x0d) return [-5, p + 1];
    p++; len--;
    if (len === 0) return [-2, p];
    if (this.u8(p) !== 0x0a) return [-5, p + 1];
    p++;
    if (neg) return [tooLarge || result !== 1 ? -4 : -1, p];
    return [tooLarge ? -3 : result, p];
  }

  #respSpecial(v: number): boolean {
    switch (v) {
      case -1: this.o += ' null'; return true;
      case -2: return false;
      case -3: this.o += ' length too large'; return true;
      case -4: this.o += ' length negative and not -1'; return true;
      default: this.o += ' invalid'; return true;
    }
  }

  #respBulk(bp: number, length: number): number {
    let cur = length - 1;
    let p = bp + 1;
    const [n, e] = this.#respLen(p, cur);
    cur -= e - p; p = e;
    if (n >= 0) {
      if (n === 0) this.o += ' empty';
      else {
        if (cur < n || p + n > this.end) return -1;
        if (!this.#respSeg(p, n)) return -1;
        p += n; cur -= n;
      }
      const q = this.#respCrlf(p, cur);
      if (q < 0) return -1;
      cur -= q - p + 2;
    } else if (!this.#respSpecial(n)) return -1;
    return length - cur;
  }

  #respArray(bp: number, length: number): number {
    let cur = length - 1;
    let p = bp + 1;
    const [n, e] = this.#respLen(p, cur);
    cur -= e - p; p = e;
    if (n > 0) {
      for (let i = 0; i < n; i++) {
        const r = this.#respParse(p, cur);
        if (r < 0) return -1;
        p += r; cur -= r;
      }
    } else if (n === 0) this.o += ' empty';
    else if (!this.#respSpecial(n)) return -1;
    return length - cur;
  }

  #respInline(bp: number, length: number): number {
    let cur = length;
    // CONSUME_CR_OR_LF, FIND_CR_OR_LF, segment, CONSUME_CR_OR_LF.
    let found = false;
    for (;;) {
      if (cur === 0 || bp >= this.end) { if (found) break; return -1; }
      const c = this.b[bp]!;
      if (c !== 0x0d && c !== 0x0a) break;
      found = true; bp++; cur--;
    }
    let q = bp;
    for (;;) {
      if (cur < 1) return -1;
      const c = this.u8(q);
      if (c === 0x0d || c === 0x0a) break;
      q++; cur--;
    }
    if (!this.#respSeg(bp, q - bp)) return -1;
    found = false;
    for (;;) {
      if (cur === 0 || q >= this.end) { if (found) break; return -1; }
      const c = this.b[q]!;
      if (c !== 0x0d && c !== 0x0a) break;
      found = true; q++; cur--;
    }
    return length - cur;
  }

  #nfsTcp(d: number, dlen: number, sport: number, dport: number): void {
    const dir = d + 8 + 4 <= this.end ? this.u32(d + 8) : -1;
    if (dir < 0) return;
    if (dport === 2049 && dir === 0) this.o += `: NFS request xid ${this.u32(d + 4)} `;
    else if (sport === 2049 && dir === 1) this.o += `: NFS reply xid ${this.u32(d + 4)} `;
    void dlen;
  }

  /** txtproto_print without -v: protocol name in capitals, then the first line when it looks like the protocol. */
  #txt(d: number, len: number, proto: string, cmds: Set<string> | null): void {
    this.proto = proto;
    let printThis = cmds === null;
    if (cmds !== null) {
      const t1 = this.#token(d, 0, len);
      if (t1.idx !== 0) {
        if (cmds.has(t1.tok.toUpperCase())) printThis = true;
        const t2 = this.#token(d, t1.idx, len);
        if (t2.idx !== 0 && /^[0-9]{3}$/.test(t2.tok)) printThis = true;
      }
    }
    this.o += proto.toUpperCase();
    if (printThis) this.#txtLine(d, len);
  }

  /** fetch_token: returns the token and the index after it and its trailing blanks (idx 0 = no token). */
  #token(d: number, idx: number, len: number): { tok: string; idx: number } {
    const b = this.b;
    const start = idx;
    for (; idx < len; idx++) {
      if (d + idx >= this.end) return NOTOK;
      const c = b[d + idx]!;
      if (c >= 0x80) return NOTOK;
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
      if (c < 0x20 || c > 0x7e) return NOTOK;
      if (idx - start + 2 > 129) return NOTOK;
    }
    if (idx === start) return NOTOK;
    const tok = latin1(b, d + start, d + idx);
    for (; idx < len; idx++) {
      if (d + idx >= this.end) break;
      const c = b[d + idx]!;
      if (c === 0x0d || c === 0x0a) break;
      if (c < 0x20 || c > 0x7e) break;
      if (c !== 0x20 && c !== 0x09) break;
    }
    return { tok, idx };
  }

  /** print_txt_line(": ", …) from index 0. */
  #txtLine(d: number, len: number): void {
    let idx = 0;
    while (idx < len) {
      const c = this.u8(d + idx);
      if (c === 0x0a) { this.o += ': ' + latin1(this.b, d, d + idx); return; }
      if (c === 0x0d) {
        if (idx + 1 >= len) return;
        if (this.u8(d + idx + 1) === 0x0a) { this.o += ': ' + latin1(this.b, d, d + idx); return; }
        return;
      }
      if ((c < 0x20 || c > 0x7e) && c !== 0x09) return;
      idx++;
    }
    this.o += ': ' + latin1(this.b, d, d + idx);
    this.trunc();
  }

  // ---- UDP ----

  #udp(p: number, length: number, iph: number, ver: number, fragmented: boolean): void {
    this.proto = 'udp';
    const b = this.b;
    const v6 = ver === 6;
    const direct = v6 ? b[iph + 6] === 17 : b[iph + 9] === 17;
    const addrs = (sport: number, dport: number) => {
      if (direct) {
        const s = v6 ? ipv6String(b, iph + 8) : ipv4String(b, iph + 12);
        const d = v6 ? ipv6String(b, iph + 24) : ipv4String(b, iph + 16);
        this.o += sport < 0 ? s + ' > ' + d + ': ' : s + '.' + sport + ' > ' + d + '.' + dport + ': ';
      } else if (sport >= 0) this.o += sport + ' > ' + dport + ': ';
    };
    if (p + 4 > this.end) { addrs(-1, -1); this.trunc(); return; }
    const sport = (b[p]! << 8) | b[p + 1]!;
    const dport = (b[p + 2]! << 8) | b[p + 3]!;
    if (length < 8) { addrs(sport, dport); this.o += `truncated-udp ${length}`; return; }
    if (p + 6 > this.end) { addrs(sport, dport); this.trunc(); return; }
    let ulen = (b[p + 4]! << 8) | b[p + 5]!;
    if (ulen === 0 && length > 65535) ulen = length;
    if (ulen < 8) { addrs(sport, dport); this.o += `truncated-udplength ${ulen}`; return; }
    ulen -= 8;
    length -= 8;
    if (ulen < length) length = ulen;
    const cp = p + 8;
    if (cp > this.end) { addrs(sport, dport); this.trunc(); return; }
    addrs(sport, dport);
    // NFS over UDP (checked before the port table, as tcpdump does).
    if (cp + 8 <= this.end) {
      const dir = this.u32(cp + 4);
      if (dport === 2049 && dir === 0) { this.o += `NFS request xid ${this.u32(cp)} `; return; }
      if (sport === 2049 && dir === 1) { this.o += `NFS reply xid ${this.u32(cp)} `; return; }
    }
    const port = (x: number) => sport === x || dport === x;
    if ((sport === 53 || dport === 53)) { printDomain(this, cp, length, false); return; }
    if (port(5353)) { printDomain(this, cp, length, false); return; }
    if (port(4500)) {
      // isakmp_rfc3948_print: NAT keep-alive, non-ESP marker (IKE), else ESP in UDP.
      if (length === 1 && this.u8(cp) === 0xff) { this.o += 'isakmp-nat-keep-alive'; return; }
      if (length >= 4 && this.u32(cp) === 0) { this.o += 'NONESP-encap: isakmp'; return; }
      this.o += 'UDP-encap: ';
      this.#esp(cp, length);
      return;
    }
    if (port(67) || port(68)) { this.#bootp(cp, length); return; }
    if (port(123)) { this.#ntp(cp, length); return; }
    if (port(546) || port(547)) { this.#dhcp6(cp); return; }
    if (port(6081)) { this.#geneve(cp, length); return; }
    if (port(6343)) { this.#sflow(cp, length); return; }
    if (port(4789)) { this.#vxlan(cp, length); return; }
    if (ulen > length && !fragmented) this.o += `UDP, bad length ${ulen} > ${length}`;
    else this.o += `UDP, length ${ulen}`;
  }

  #dhcp6(p: number): void {
    this.proto = 'dhcp6';
    this.o += 'dhcp6';
    this.need(p, 4);
    const t = this.b[p]!;
    const names = ['', 'solicit', 'advertise', 'request', 'confirm', 'renew', 'rebind', 'reply', 'release', 'decline',
      'reconfigure', 'inf-req', 'relay-fwd', 'relay-reply', 'leasequery', 'leasequery-reply'];
    this.o += ' ' + (t >= 1 && t < names.length ? names[t] : `msgtype-${t}`);
  }

  #sflow(p: number, len: number): void {
    this.proto = 'sflow';
    const ipv = this.u32(p + 4);
    if ((len < 28 && ipv === 1) || (len < 40 && ipv === 2)) {
      this.o += `sFlowv${this.u32(p)} [length ${len} < 28] (invalid)`;
      return;
    }
    this.need(p, 28);
    const ver = this.u32(p);
    if (ver !== 5) { this.o += `sFlow version ${ver} packet not supported`; return; }
    this.o += `sFlowv5, ${ipv === 1 ? 'IPv4' : 'IPv6'} agent ${ipv === 1 ? this.ip4s(p + 8) : this.ip6s(p + 8)}, agent-id ${ipv === 1 ? this.u32(p + 12) : this.u32(p + 24)}, length ${len}`;
  }

  #bootp(p: number, length: number): void {
    this.proto = 'bootp';
    const op = this.u8(p);
    this.o += 'BOOTP/DHCP, ';
    if (op === 1) {
      this.o += 'Request';
      const hlen = this.u8(p + 2);
      const htype = this.u8(p + 1);
      if (htype === 1 && hlen === 6) this.o += ` from ${macString(this.b, p + 28)}`; // needs capture check
      this.need(p + 28, 6);
    } else if (op === 2) this.o += 'Reply';
    else this.o += `op-#${op}`;
    this.o += `, length ${length}`;
  }

  #ntp(p: number, length: number): void {
    this.proto = 'ntp';
    const f = this.u8(p);
    const vers = (f >> 3) & 7;
    const mode = f & 7;
    const modes = ['Reserved', 'Symmetric Active', 'Symmetric Passive', 'Client', 'Server', 'Broadcast', 'Control Message', 'Reserved'];
    this.o += `NTPv${vers}, ${modes[mode]}, length ${length}`;
  }

  #vxlan(p: number, length: number): void {
    this.proto = 'vxlan';
    this.need(p, 8);
    const flags = this.b[p]!;
    const vni = ((this.b[p + 4]! << 16) | (this.b[p + 5]! << 8) | this.b[p + 6]!) >>> 0;
    this.o += `VXLAN, flags [${flags & 0x08 ? 'I' : '.'}] (0x${HEX2[flags]}), vni ${vni}\n`;
    this.#ether(p + 8, length - 8, Math.min(length - 8, this.end - p - 8));
  }

  #geneve(p: number, length: number): void {
    this.proto = 'geneve';
    this.need(p, 8);
    const b = this.b;
    const ver = b[p]! >> 6;
    const optLen = (b[p]! & 0x3f) * 4;
    const flags = b[p + 1]!;
    const proto = (b[p + 2]! << 8) | b[p + 3]!;
    const vni = ((b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!) >>> 0;
    this.o += 'Geneve';
    if (ver !== 0) { this.o += ` [version ${ver}]`; return; }
    let f = '';
    if (flags & 0x80) f += 'O';
    if (flags & 0x40) f += 'C';
    this.o += `, Flags [${f || 'none'}], vni 0x${vni.toString(16)}`;
    if (optLen) this.o += `, options [${optLen} bytes]`;
    this.o += ': ';
    const q = p + 8 + optLen;
    const l = length - 8 - optLen;
    if (!this.#ethertype(proto === 0x6558 ? 0 : proto, q, l, this.end - q)) {
      if (proto === 0x6558) this.#ether(q, l, Math.min(l, this.end - q));
      else this.o += `ethertype ${ETHERTYPE_NAMES[proto] ?? 'Unknown'} (0x${proto.toString(16).padStart(4, '0')})`;
    }
  }

  // ---- ICMP ----

  #icmp(p: number, plen: number, _fragmented: boolean): void {
    this.proto = 'icmp';
    const type = this.u8(p);
    const code = this.u8(p + 1);
    let str: string;
    switch (type) {
      case 0: case 8:
        str = `echo ${type === 8 ? 'request' : 'reply'}, id ${this.u16(p + 4)}, seq ${this.u16(p + 6)}`;
        break;
      case 3: {
        const odst = p + 8 + 16;
        switch (code) {
          case 0: str = `net ${this.ip4s(odst)} unreachable`; break;
          case 1: str = `host ${this.ip4s(odst)} unreachable`; break;
          case 2: str = `${this.ip4s(odst)} protocol ${this.u8(p + 8 + 9)} unreachable`; break;
          case 3: {
            this.need(p + 8 + 9, 1);
            const ohl = (this.u8(p + 8) & 15) * 4;
            const dport = this.u16(p + 8 + ohl + 2);
            const op = this.u8(p + 8 + 9);
            const dst = this.ip4s(odst);
            if (op === 6) str = `${dst} tcp port ${dport} unreachable`;
            else if (op === 17) str = `${dst} udp port ${dport} unreachable`;
            else str = `${dst} protocol ${op} port ${dport} unreachable`;
            break;
          }
          case 4: {
            const mtu = this.u16(p + 6);
            str = mtu ? `${this.ip4s(odst)} unreachable - need to frag (mtu ${mtu})` : `${this.ip4s(odst)} unreachable - need to frag`;
            break;
          }
          case 5: str = `${this.ip4s(odst)} unreachable - source route failed`; break;
          case 6: str = `net ${this.ip4s(odst)} unreachable - unknown`; break;
          case 7: str = `host ${this.ip4s(odst)} unreachable - unknown`; break;
          case 8: str = `${this.ip4s(odst)} unreachable - source host isolated`; break;
          case 9: str = `net ${this.ip4s(odst)} unreachable - admin prohibited`; break;
          case 10: str = `host ${this.ip4s(odst)} unreachable - admin prohibited`; break;
          case 11: str = `net ${this.ip4s(odst)} unreachable - tos prohibited`; break;
          case 12: str = `host ${this.ip4s(odst)} unreachable - tos prohibited`; break;
          case 13: str = `host ${this.ip4s(odst)} unreachable - admin prohibited filter`; break;
          case 14: str = `host ${this.ip4s(odst)} unreachable - host precedence violation`; break;
          case 15: str = `host ${this.ip4s(odst)} unreachable - precedence cutoff`; break;
          default: str = `${this.ip4s(odst)} unreachable - #${code}`;
        }
        break;
      }
      case 5: {
        const odst = this.ip4s(p + 8 + 16);
        const gw = this.ip4s(p + 4);
        switch (code) {
          case 0: str = `redirect ${odst} to net ${gw}`; break;
          case 1: str = `redirect ${odst} to host ${gw}`; break;
          case 2: str = `redirect-tos ${odst} to net ${gw}`; break;
          case 3: str = `redirect-tos ${odst} to host ${gw}`; break;
          default: str = `redirect-#${code} ${odst} to ${gw}`;
        }
        break;
      }
      case 9: {
        str = 'router advertisement lifetime ';
        this.need(p + 4, 4);
        const life = this.u16(p + 6);
        if (life < 60) str += life;
        else if (life < 3600) str += `${Math.floor(life / 60)}:${String(life % 60).padStart(2, '0')}`;
        else str += `${Math.floor(life / 3600)}:${String(Math.floor((life % 3600) / 60)).padStart(2, '0')}:${String(life % 60).padStart(2, '0')}`;
        const num = this.u8(p + 4);
        str += ` ${num}:`;
        const size = this.u8(p + 5);
        if (size !== 2) { str += ` [size ${size}]`; break; }
        for (let i = 0; i < num; i++) {
          this.need(p + 8 + i * 8, 8);
          str += ` {${this.ip4s(p + 8 + i * 8)} ${this.u32(p + 12 + i * 8)}}`;
        }
        break;
      }
      case 11:
        this.need(p + 8 + 16, 4);
        str = code === 0 ? 'time exceeded in-transit' : code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${code}`;
        break;
      case 12:
        str = code ? `parameter problem - code ${code}` : `parameter problem - octet ${this.u8(p + 4)}`;
        break;
      case 18:
        str = `address mask is 0x${this.u32(p + 8).toString(16).padStart(8, '0')}`;
        break;
      case 13:
        str = `time stamp query id ${this.u16(p + 4)} seq ${this.u16(p + 6)}`;
        break;
      case 14: {
        this.need(p + 16, 4);
        const ts = (t: number) => {
          const ms = t % 1000, s = Math.floor(t / 1000);
          const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = s % 60;
          return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(ss).padStart(2, '0')}.${String(ms).padStart(3, '0')}`;
        };
        str = `time stamp reply id ${this.u16(p + 4)} seq ${this.u16(p + 6)}: org ${ts(this.u32(p + 8))}, recv ${ts(this.u32(p + 12))}, xmit ${ts(this.u32(p + 16))}`;
        break;
      }
      default:
        str = ICMP2STR[type] ?? `type-#${type}`;
    }
    this.o += `ICMP ${str}, length ${plen}`;
  }

  #icmp6(p: number, length: number, _iph: number): void {
    this.proto = 'icmp6';
    if (length === 0) { this.o += 'ICMP6, length 0 (invalid)'; return; }
    const type = this.u8(p);
    this.o += 'ICMP6, ' + (ICMP6_TYPES[type] ?? `unknown icmp6 type (${type})`);
    const code = this.u8(p + 1);
    const oip = p + 8;
    switch (type) {
      case 1:
        this.o += ', ' + (ICMP6_UNREACH[code] ?? `unknown unreach code (${code})`);
        switch (code) {
          case 0: case 1: case 3: this.o += ' ' + this.ip6s(oip + 24); break;
          case 2: this.o += ` ${this.ip6s(oip + 24)}, source address ${this.ip6s(oip + 8)}`; break;
          case 4: {
            const ul = this.#upperLayer(oip);
            if (ul === null) { this.trunc(); return; }
            const dport = this.u16(ul.p + 2);
            const dst = this.ip6s(oip + 24);
            if (ul.nh === 6) this.o += `, ${dst} tcp port ${dport}`;
            else if (ul.nh === 17) this.o += `, ${dst} udp port ${dport}`;
            else this.o += `, ${dst} protocol ${ul.nh} port ${dport} unreachable`;
            break;
          }
          default:
            this.o += hexAsciiDump(this.b, p, Math.min(length, Math.max(0, this.end - p)));
            return;
        }
        break;
      case 2: this.o += `, mtu ${this.u32(p + 4)}`; break;
      case 3:
        if (code === 0) this.o += ' for ' + this.ip6s(oip + 24);
        else if (code === 1) this.o += ' (reassembly)';
        else this.o += `, unknown code (${code})`;
        break;
      case 4: {
        this.need(oip + 24, 16);
        const ptr = this.u32(p + 4);
        const names: Record<number, string> = { 0: 'erroneous', 1: 'next header', 2: 'option', 3: 'incomplete header chain' };
        this.o += names[code] !== undefined ? `, ${names[code]} - octet ${ptr}` : `, code-#${code}`;
        break;
      }
      case 128: case 129: this.o += `, id ${this.u16(p + 4)}, seq ${this.u16(p + 6)}`; break;
      case 130:
        if (length === 24) this.#mld6(p);
        else if (length >= 28) { this.o += ' v2'; this.#mldv2Query(p, length); }
        else this.o += ` unknown-version (len ${length}) `;
        break;
      case 131: case 132: this.#mld6(p); break;
      case 133: case 134: case 141: case 142: break;
      case 135: this.o += ', who has ' + this.ip6s(p + 8); break;
      case 136: this.o += ', tgt is ' + this.ip6s(p + 8); break;
      case 137: this.o += ', ' + this.ip6s(p + 24) + ' to ' + this.ip6s(p + 8); break;
      case 143:
        if (length < 8) this.o += ` [invalid len ${length}]`;
        else this.o += `, ${this.u16(p + 6)} group record(s)`;
        break;
      case 144: case 146: this.o += `, id 0x${this.u16(p + 4).toString(16).padStart(4, '0')}`; break;
      case 145: case 147: break;
      default:
        this.o += `, length ${length}`;
        this.o += hexAsciiDump(this.b, p, Math.min(length, Math.max(0, this.end - p)));
        return;
    }
    this.o += `, length ${length}`;
  }

  #mld6(p: number): void {
    if (p + 24 > this.end) return;
    this.o += `max resp delay: ${this.u16(p + 4)} addr: ${this.ip6s(p + 8)}`;
  }

  #mldv2Query(p: number, len: number): void {
    if (len < 28) { this.o += ` [invalid len ${len}]`; return; }
    this.u16(p + 4);
    this.o += ` [gaddr ${this.ip6s(p + 8)}`;
    const nsrcs = this.u16(p + 26);
    if (nsrcs > 0) {
      if (len < 28 + nsrcs * 16) this.o += ' [invalid number of sources]';
      else this.o += `, ${nsrcs} source(s)`;
    }
    this.o += ']';
  }

  /** get_upperlayer: walk the quoted IPv6 header chain to the transport header. */
  #upperLayer(ip6: number): { p: number; nh: number } | null {
    if (ip6 + 40 > this.end) return null;
    let nh = this.b[ip6 + 6]!;
    let hl = 40;
    let cp = ip6;
    for (;;) {
      cp += hl;
      switch (nh) {
        case 6: case 17:
          if (cp + 4 > this.end) return null;
          return { p: cp, nh };
        case 0: case 60: case 43:
          if (cp + 2 > this.end) return null;
          nh = this.b[cp]!;
          hl = (this.b[cp + 1]! + 1) << 3;
          break;
        case 44:
          if (cp + 8 > this.end) return null;
          if (((this.b[cp + 2]! << 8) | this.b[cp + 3]!) & 0xfff8) return null;
          nh = this.b[cp]!;
          hl = 8;
          break;
        case 51:
          if (cp + 2 > this.end) return null;
          nh = this.b[cp]!;
          hl = (this.b[cp + 1]! + 2) << 2;
          break;
        default:
          return null;
      }
    }
  }

  // ---- ARP ----

  #arp(p: number, length: number, caplen: number): void {
    this.proto = 'arp';
    this.need(p, 8);
    const hrd = this.u16(p), pro = this.u16(p + 2);
    const hln = this.b[p + 4]!, pln = this.b[p + 5]!;
    const op = this.u16(p + 6);
    if (hrd === 19) { this.o += 'ATMARP'; return; }
    const sha = p + 8, spa = sha + hln, tha = spa + pln, tpa = tha + hln;
    this.need(tpa, pln);
    this.o += 'ARP, ';
    if ((pro !== 0x0800 && pro !== 0x1000) || pln !== 4 || hln === 0) {
      this.o += `${ARPHRD[hrd] ?? `Unknown Hardware (${hrd})`} (len ${hln}), ${ETHERTYPE_NAMES[pro] ?? `Unknown Protocol (0x${pro.toString(16).padStart(4, '0')})`} (len ${pln}), length ${length}`;
      return;
    }
    this.o += (ARP_OPS[op] ?? `Unknown (${op})`) + ' ';
    const la = (a: number) => { this.need(a, hln); return linkaddrString(this.b, a, hln); };
    switch (op) {
      case 1: {
        this.o += 'who-has ' + ipv4String(this.b, tpa);
        let nz = false;
        for (let i = 0; i < hln; i++) if (this.u8(tha + i) !== 0) { nz = true; break; }
        if (nz) this.o += ` (${la(tha)})`;
        this.o += ' tell ' + ipv4String(this.b, spa);
        break;
      }
      case 2: this.o += ipv4String(this.b, spa) + ' is-at ' + la(sha); break;
      case 3: case 8: this.o += `who-is ${la(tha)} tell ${la(sha)}`; break;
      case 4: this.o += `${la(tha)} at ${ipv4String(this.b, tpa)}`; break;
      case 9: this.o += `${la(sha)} at ${ipv4String(this.b, spa)}`; break;
      default:
        this.defaultPrint(p, caplen);
        return;
    }
    this.o += ', length ' + length;
  }
}

const OF10_TYPES = ['HELLO', 'ERROR', 'ECHO_REQUEST', 'ECHO_REPLY', 'VENDOR', 'FEATURES_REQUEST', 'FEATURES_REPLY',
  'GET_CONFIG_REQUEST', 'GET_CONFIG_REPLY', 'SET_CONFIG', 'PACKET_IN', 'FLOW_REMOVED', 'PORT_STATUS', 'PACKET_OUT', 'FLOW_MOD',
  'PORT_MOD', 'STATS_REQUEST', 'STATS_REPLY', 'BARRIER_REQUEST', 'BARRIER_REPLY', 'QUEUE_GET_CONFIG_REQUEST',
  'QUEUE_GET_CONFIG_REPLY'];
const OF13_TYPES = ['HELLO', 'ERROR', 'ECHO_REQUEST', 'ECHO_REPLY', 'EXPERIMENTER', 'FEATURES_REQUEST', 'FEATURES_REPLY',
  'GET_CONFIG_REQUEST', 'GET_CONFIG_REPLY', 'SET_CONFIG', 'PACKET_IN', 'FLOW_REMOVED', 'PORT_STATUS', 'PACKET_OUT', 'FLOW_MOD',
  'GROUP_MOD', 'PORT_MOD', 'TABLE_MOD', 'MULTIPART_REQUEST', 'MULTIPART_REPLY', 'BARRIER_REQUEST', 'BARRIER_REPLY',
  'QUEUE_GET_CONFIG_REQUEST', 'QUEUE_GET_CONFIG_REPLY', 'ROLE_REQUEST', 'ROLE_REPLY', 'GET_ASYNC_REQUEST', 'GET_ASYNC_REPLY',
  'SET_ASYNC', 'METER_MOD'];

class BadOpt {}
const BADOPT = new BadOpt();
const TRUNCOPT = new BadOpt();
const NOTOK = { tok: '', idx: 0 };
