// Deterministic "realistic" benchmark capture (classic pcap, Ethernet, µs): hundreds of thousands of interleaved
// flows — HTTP downloads of files with real request/response headers, short HTTP/TLS exchanges, DNS, ICMP echo,
// NTP — giving a size mix of about a third tiny ACKs and a fifth full 1514-byte frames. Written straight into a
// large buffer (no object per packet, valid IPv4/TCP/UDP/ICMP checksums) so 1 GiB takes seconds, into a cache
// directory and reused while its sidecar `.json` says it is complete. `<capture>.files.tsv` lists every HTTP body
// served (size, sha256, whether the capture holds all of it) so file-extraction benches can verify their output.
//
//   node dist/bench/gen-capture.js [--size 1GiB] [--dir /tmp/flowcarve-bench] [--seed 1]

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';

/** Where generated captures are cached (FLOWCARVE_BENCH_DIR overrides). */
export const BENCH_DIR = process.env.FLOWCARVE_BENCH_DIR ?? '/tmp/flowcarve-bench';
/** Default capture size: 1 GiB (FLOWCARVE_BENCH_SIZE overrides, e.g. `256MiB`). */
export const DEFAULT_SIZE = 1 << 30;
const FORMAT_VERSION = 3;

export interface CaptureStats {
  path: string;
  bytes: number;
  packets: number;
  flows: number;
  /** Packets whose frame is at most 66 bytes (bare ACK/FIN/RST, with or without timestamps). */
  tinyPackets: number;
  /** Packets of exactly 1514 bytes. */
  fullPackets: number;
  httpFiles: number;
  /** `<capture>.files.tsv`: every HTTP file served (client, server, host, uri, type, size, sha256, complete). */
  filesTsv: string;
  seed: number;
  generatedInMs: number;
}

/** Parse `1GiB`, `256MiB`, `100MB`, `4096`. */
export function parseBenchSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(s);
  if (!m) throw new Error(`bad size '${s}'`);
  const pow = m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * (m[3] ? 1024 : 1000) ** pow);
}

/** Path of the cached capture for `size` bytes and `seed`, generating it first when absent or incomplete. */
export function ensureCapture(o: { size?: number; dir?: string; seed?: number; log?: (s: string) => void } = {}): CaptureStats {
  const size = o.size ?? (process.env.FLOWCARVE_BENCH_SIZE ? parseBenchSize(process.env.FLOWCARVE_BENCH_SIZE) : DEFAULT_SIZE);
  const dir = o.dir ?? BENCH_DIR;
  const seed = o.seed ?? 1;
  const path = join(dir, `bench-v${FORMAT_VERSION}-${size}-s${seed}.pcap`);
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta)) {
    const st = JSON.parse(readFileSync(meta, 'utf8')) as CaptureStats;
    if (statSync(path).size === st.bytes && existsSync(st.filesTsv)) return st;
  }
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const tmp = `${path}.tmp-${process.pid}`;
  const { files, ...st } = generate(tmp, size, seed);
  const filesTsv = `${path}.files.tsv`;
  writeFileSync(filesTsv, 'client\tserver\thost\turi\tcontent_type\tsize\tsha256\tcomplete\n' + files.map((f) =>
    [f.client, f.server, f.host, f.uri, f.ctype, f.size, f.sha256, f.complete ? 1 : 0].join('\t') + '\n').join(''));
  renameSync(tmp, path);
  const stats: CaptureStats = { ...st, path, filesTsv, seed, generatedInMs: Math.round(performance.now() - t0) };
  writeFileSync(meta, JSON.stringify(stats, null, 1) + '\n');
  o.log?.(`generated ${path}: ${stats.bytes} bytes, ${stats.packets} packets, ${stats.flows} flows in ${stats.generatedInMs} ms`);
  return stats;
}

// ---- the generator ---------------------------------------------------------------------------------------------

const OUT_BUF = 16 << 20;
// 1448 = 1500 - 20 (IP) - 32 (TCP with timestamps): full segments make 1514-byte frames.
const MSS = 1448;
const ACTIVE_FLOWS = 4096;
const SYN = 0x02, FIN = 0x01, RST = 0x04, PSH = 0x08, ACK = 0x10;
const POOL_SIZE = 4 << 20;
const enc = new TextEncoder();

/** File types served by the HTTP flows: extension, content type, magic bytes at the start of the body. */
const FILE_TYPES: Array<[string, string, Uint8Array]> = [
  ['pdf', 'application/pdf', enc.encode('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')],
  ['png', 'image/png', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52)],
  ['zip', 'application/zip', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0)],
  ['exe', 'application/octet-stream', enc.encode('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff')],
  ['jpg', 'image/jpeg', Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0)],
  ['js', 'application/javascript', enc.encode('/*! bench bundle */\n(function(){"use strict";')],
];

class Gen {
  #fd: number;
  #buf = Buffer.allocUnsafe(OUT_BUF);
  #dv = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length);
  #pos = 0;
  #s: number;
  /** Capture clock in µs. */
  #t = 1700000000 * 1e6;
  bytes = 0;
  packets = 0;
  httpFiles = 0;
  /** HTTP files served, in the order their flows started. */
  readonly files: ServedFile[] = [];
  tiny = 0;
  full = 0;
  readonly pool: Uint8Array;

  constructor(path: string, seed: number) {
    this.#fd = openSync(path, 'w');
    this.#s = (seed * 2654435761) >>> 0 || 1;
    this.pool = new Uint8Array(POOL_SIZE);
    const pv = new Uint32Array(this.pool.buffer);
    for (let i = 0; i < pv.length; i++) pv[i] = this.rnd();
    const h = this.#dv;
    h.setUint32(0, 0xa1b2c3d4, true); h.setUint16(4, 2, true); h.setUint16(6, 4, true);
    h.setUint32(8, 0, true); h.setUint32(12, 0, true); h.setUint32(16, 262144, true); h.setUint32(20, 1, true);
    this.#pos = 24;
  }

  /** xorshift32. */
  rnd(): number {
    let x = this.#s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.#s = x;
    return x;
  }
  /** Uniform integer in [a, b]. */
  int(a: number, b: number): number { return a + (this.rnd() % (b - a + 1)); }

  /** Start a packet of `len` frame bytes: record header written, Ethernet header too; returns the frame offset. */
  #begin(len: number, c2s: boolean, etherType: number): number {
    if (this.#pos + 16 + len > OUT_BUF) this.flush();
    this.#t += 1 + (this.rnd() % 120);
    const dv = this.#dv, p = this.#pos, sec = Math.floor(this.#t / 1e6);
    dv.setUint32(p, sec, true); dv.setUint32(p + 4, this.#t - sec * 1e6, true); dv.setUint32(p + 8, len, true); dv.setUint32(p + 12, len, true);
    const f = p + 16, b = this.#buf;
    // Client side 00:16:3e:.., gateway 00:1b:21:..
    b[f] = 0x00; b[f + 1] = c2s ? 0x1b : 0x16; b[f + 2] = c2s ? 0x21 : 0x3e; b[f + 3] = 0x0a; b[f + 4] = 0x0b; b[f + 5] = 0x0c;
    b[f + 6] = 0x00; b[f + 7] = c2s ? 0x16 : 0x1b; b[f + 8] = c2s ? 0x3e : 0x21; b[f + 9] = 0x0a; b[f + 10] = 0x0b; b[f + 11] = 0x0d;
    b[f + 12] = etherType >> 8; b[f + 13] = etherType & 0xff;
    this.#pos = f + len;
    this.packets++;
    this.bytes += 16 + len;
    if (len <= 66) this.tiny++;
    else if (len === 1514) this.full++;
    return f;
  }

  #ipv4(f: number, totalLen: number, proto: number, src: number, dst: number, id: number): number {
    const dv = this.#dv, q = f + 14;
    dv.setUint32(q, 0x45000000 | totalLen); dv.setUint32(q + 4, (id << 16) | 0x4000); dv.setUint32(q + 8, (64 << 24) | (proto << 16));
    dv.setUint32(q + 12, src); dv.setUint32(q + 16, dst);
    dv.setUint16(q + 10, fold(sum16(this.#buf, q, q + 20, 0)));
    return q + 20;
  }

  /** Sum of the pseudo header and the transport segment at [l4, end); returns the checksum. */
  #l4sum(src: number, dst: number, proto: number, l4: number, end: number): number {
    const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + (end - l4);
    return fold(sum16(this.#buf, l4, end, pseudo));
  }

  /** One TCP segment; payload taken from `parts` (a byte stream made of several arrays) at [off, off+len). */
  tcp(c: Flow, c2s: boolean, flags: number, seq: number, ack: number, parts: Uint8Array[] | null, off: number, len: number): void {
    const opt = flags & SYN ? 20 : 12; // SYN: mss, sackOK, TS, nop, wscale; others: nop, nop, TS
    const hl = 20 + opt;
    const frameLen = 14 + 20 + hl + len;
    const f = this.#begin(frameLen, c2s, 0x0800);
    const src = c2s ? c.cIp : c.sIp, dst = c2s ? c.sIp : c.cIp;
    const t = this.#ipv4(f, 20 + hl + len, 6, src, dst, c.ipId++ & 0xffff);
    const dv = this.#dv, b = this.#buf;
    dv.setUint16(t, c2s ? c.cPort : c.sPort); dv.setUint16(t + 2, c2s ? c.sPort : c.cPort);
    dv.setUint32(t + 4, seq >>> 0); dv.setUint32(t + 8, flags & ACK ? ack >>> 0 : 0);
    dv.setUint16(t + 12, ((hl / 4) << 12) | flags); dv.setUint16(t + 14, c2s ? 502 : 509); dv.setUint32(t + 16, 0);
    const tsv = Math.floor(this.#t / 1000) >>> 0;
    let o = t + 20;
    if (flags & SYN) {
      dv.setUint32(o, 0x020405b4); dv.setUint16(o + 4, 0x0402); o += 6; // mss 1460, sackOK
    } else {
      dv.setUint16(o, 0x0101); o += 2;
    }
    dv.setUint16(o, 0x080a); dv.setUint32(o + 2, tsv); dv.setUint32(o + 6, flags & ACK ? (c2s ? c.tsC : c.tsS) : 0); o += 10;
    if (flags & SYN) { dv.setUint32(o, 0x01030307); o += 4; } // nop, wscale 7
    if (parts) o = copyParts(b, o, parts, off, len);
    dv.setUint16(t + 16, this.#l4sum(src, dst, 6, t, o));
  }

  /** One UDP datagram with `payload`. */
  udp(c: Flow, c2s: boolean, payload: Uint8Array): void {
    const f = this.#begin(14 + 28 + payload.length, c2s, 0x0800);
    const src = c2s ? c.cIp : c.sIp, dst = c2s ? c.sIp : c.cIp;
    const u = this.#ipv4(f, 28 + payload.length, 17, src, dst, c.ipId++ & 0xffff);
    const dv = this.#dv;
    dv.setUint16(u, c2s ? c.cPort : c.sPort); dv.setUint16(u + 2, c2s ? c.sPort : c.cPort); dv.setUint32(u + 4, (8 + payload.length) << 16);
    this.#buf.set(payload, u + 8);
    const s = this.#l4sum(src, dst, 17, u, u + 8 + payload.length);
    dv.setUint16(u + 6, s === 0 ? 0xffff : s);
  }

  /** ICMP echo request (type 8) or reply (0) with 56 bytes of data. */
  echo(c: Flow, c2s: boolean, seq: number): void {
    const f = this.#begin(14 + 20 + 64, c2s, 0x0800);
    const src = c2s ? c.cIp : c.sIp, dst = c2s ? c.sIp : c.cIp;
    const m = this.#ipv4(f, 84, 1, src, dst, c.ipId++ & 0xffff);
    const dv = this.#dv;
    dv.setUint32(m, (c2s ? 8 : 0) << 24); dv.setUint16(m + 4, c.cPort); dv.setUint16(m + 6, seq);
    this.#buf.set(this.pool.subarray(c.poolOff, c.poolOff + 56), m + 8);
    dv.setUint16(m + 2, fold(sum16(this.#buf, m, m + 64, 0)));
  }

  flush(): void {
    if (this.#pos) writeSync(this.#fd, this.#buf, 0, this.#pos);
    this.#pos = 0;
  }
  close(): void { this.flush(); closeSync(this.#fd); }
}

function sum16(b: Uint8Array, from: number, to: number, init: number): number {
  let s = init;
  let i = from;
  for (; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < to) s += b[i]! << 8;
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

/** Copy [off, off+len) of the concatenation of `parts` to b[o..]; returns the end offset. */
function copyParts(b: Uint8Array, o: number, parts: Uint8Array[], off: number, len: number): number {
  let skip = off, need = len;
  for (const p of parts) {
    if (need === 0) break;
    if (skip >= p.length) { skip -= p.length; continue; }
    const n = Math.min(p.length - skip, need);
    b.set(p.subarray(skip, skip + n), o);
    o += n; need -= n; skip = 0;
  }
  return o;
}

/** One HTTP response body the capture carries (complete = every segment made it into the capture). */
interface ServedFile { client: string; server: string; host: string; uri: string; ctype: string; size: number; sha256: string; complete: boolean }

const ipText = (a: number) => `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;

interface Flow { cIp: number; sIp: number; cPort: number; sPort: number; ipId: number; tsC: number; tsS: number; poolOff: number }

function newFlow(g: Gen, sPort: number): Flow {
  return {
    cIp: (10 << 24) | (g.rnd() & 0xffffff), sIp: (198 << 24) | (18 << 16) | (g.rnd() & 0x1ffff),
    cPort: g.int(32768, 60999), sPort, ipId: g.rnd() & 0xffff, tsC: g.rnd(), tsS: g.rnd(), poolOff: g.int(0, POOL_SIZE - 70000),
  };
}

const HOSTS = ['cdn.example.com', 'downloads.example.net', 'static.example.org', 'files.example.com', 'updates.example.net'];
const DATE = 'Tue, 14 Nov 2023 22:13:20 GMT';

/** HTTP GET of one file: handshake, request, response headers + body in MSS segments, delayed ACKs, FIN. */
function* httpFlow(g: Gen, bodyLen: number): Generator<void, void, void> {
  const c = newFlow(g, 80);
  g.httpFiles++;
  const [ext, ctype, magic] = FILE_TYPES[g.rnd() % FILE_TYPES.length]!;
  const name = `f${(g.rnd() >>> 8).toString(36)}.${ext}`;
  const host = HOSTS[g.rnd() % HOSTS.length]!;
  const req = enc.encode(`GET /files/${name} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n`);
  const hdr = enc.encode(`HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: ${DATE}\r\nContent-Type: ${ctype}\r\nContent-Length: ${bodyLen}\r\nLast-Modified: Mon, 13 Nov 2023 08:00:00 GMT\r\nETag: "${(g.rnd() >>> 0).toString(16)}"\r\nAccept-Ranges: bytes\r\nConnection: keep-alive\r\n\r\n`);
  // The body's bytes come from the pool; its offset is pulled back so that the whole body fits (a body cut by the
  // pool's end would be sent padded while files.tsv hashed the short one).
  const rest = Math.max(0, bodyLen - magic.length), from = Math.min(c.poolOff, POOL_SIZE - rest);
  const body = [magic.subarray(0, Math.min(magic.length, bodyLen)), g.pool.subarray(from, from + rest)];
  const resp = [hdr, ...body];
  const total = hdr.length + bodyLen;
  const file: ServedFile = {
    client: `${ipText(c.cIp)}:${c.cPort}`, server: `${ipText(c.sIp)}:${c.sPort}`, host, uri: `/files/${name}`, ctype, size: bodyLen,
    sha256: createHash('sha256').update(body[0]!).update(body[1]!).digest('hex'), complete: false,
  };
  g.files.push(file);
  const ci = g.rnd(), si = g.rnd();
  yield* handshake(g, c, ci, si);
  g.tcp(c, true, PSH | ACK, ci + 1, si + 1, [req], 0, req.length); yield;
  const cs = ci + 1 + req.length;
  g.tcp(c, false, ACK, si + 1, cs, null, 0, 0); yield;
  let seg = 0;
  for (let o = 0; o < total; o += MSS) {
    const n = Math.min(MSS, total - o);
    const last = o + n >= total;
    g.tcp(c, false, ACK | (last ? PSH : 0), si + 1 + o, cs, resp, o, n); yield;
    if (last) file.complete = true;
    if (++seg % 2 === 0 || last) { g.tcp(c, true, ACK, cs, si + 1 + o + n, null, 0, 0); yield; }
  }
  yield* close(g, c, cs, si + 1 + total);
}

/** A short exchange: HTTP with a small JSON body on 80/8080, or opaque TLS-like records on 443. */
function* shortFlow(g: Gen): Generator<void, void, void> {
  const tls = g.rnd() % 3 === 0;
  const c = newFlow(g, tls ? 443 : g.rnd() % 4 === 0 ? 8080 : 80);
  let req: Uint8Array[], resp: Uint8Array[];
  if (tls) {
    req = [Uint8Array.of(0x16, 3, 1, 0, 200), g.pool.subarray(c.poolOff, c.poolOff + g.int(150, 500))];
    resp = [Uint8Array.of(0x16, 3, 3, 4, 0), g.pool.subarray(c.poolOff + 1000, c.poolOff + 1000 + g.int(300, 1300))];
  } else {
    const body = `{"id":${g.rnd() % 100000},"status":"ok","items":[${'1,'.repeat(g.int(1, 60))}0]}`;
    req = [enc.encode(`GET /api/v1/items/${g.rnd() % 10000}?fields=all HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8.4.0\r\nAccept: application/json\r\n\r\n`)];
    resp = [enc.encode(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nServer: bench\r\n\r\n${body}`)];
  }
  const rl = req.reduce((s, p) => s + p.length, 0), pl = Math.min(MSS, resp.reduce((s, p) => s + p.length, 0));
  const ci = g.rnd(), si = g.rnd();
  yield* handshake(g, c, ci, si);
  g.tcp(c, true, PSH | ACK, ci + 1, si + 1, req, 0, rl); yield;
  g.tcp(c, false, PSH | ACK, si + 1, ci + 1 + rl, resp, 0, pl); yield;
  g.tcp(c, true, ACK, ci + 1 + rl, si + 1 + pl, null, 0, 0); yield;
  if (g.rnd() % 10 === 0) { g.tcp(c, true, RST | ACK, ci + 1 + rl, si + 1 + pl, null, 0, 0); return; }
  yield* close(g, c, ci + 1 + rl, si + 1 + pl);
}

function* handshake(g: Gen, c: Flow, ci: number, si: number): Generator<void, void, void> {
  g.tcp(c, true, SYN, ci, 0, null, 0, 0); yield;
  g.tcp(c, false, SYN | ACK, si, ci + 1, null, 0, 0); yield;
  g.tcp(c, true, ACK, ci + 1, si + 1, null, 0, 0); yield;
}

function* close(g: Gen, c: Flow, cs: number, ss: number): Generator<void, void, void> {
  g.tcp(c, true, FIN | ACK, cs, ss, null, 0, 0); yield;
  g.tcp(c, false, FIN | ACK, ss, cs + 1, null, 0, 0); yield;
  g.tcp(c, true, ACK, cs + 1, ss + 1, null, 0, 0); yield;
}

const DNS_NAMES = ['www.example.com', 'mail.example.org', 'api.example.net', 'cdn.example.com', 'login.example.org', 'telemetry.example.net'];

function* dnsFlow(g: Gen): Generator<void, void, void> {
  const c = newFlow(g, 53);
  const name = DNS_NAMES[g.rnd() % DNS_NAMES.length]!;
  const id = g.rnd() & 0xffff;
  const q = [...name.split('.').flatMap((l) => [l.length, ...enc.encode(l)]), 0, 0, 1, 0, 1];
  const hdr = (resp: boolean, an: number) => [id >> 8, id & 0xff, resp ? 0x81 : 0x01, resp ? 0x80 : 0, 0, 1, 0, an, 0, 0, 0, 0];
  g.udp(c, true, Uint8Array.from([...hdr(false, 0), ...q])); yield;
  const an = g.int(1, 4);
  const answers: number[] = [];
  for (let k = 0; k < an; k++) answers.push(0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 18, g.rnd() & 0xff, g.rnd() & 0xff);
  g.udp(c, false, Uint8Array.from([...hdr(true, an), ...q, ...answers]));
}

function* pingFlow(g: Gen): Generator<void, void, void> {
  const c = newFlow(g, 0);
  g.echo(c, true, 1); yield;
  g.echo(c, false, 1);
}

function* ntpFlow(g: Gen): Generator<void, void, void> {
  const c = newFlow(g, 123);
  const m = new Uint8Array(48); m[0] = 0x23;
  g.udp(c, true, m); yield;
  const r = g.pool.slice(c.poolOff, c.poolOff + 48); r[0] = 0x24; r[1] = 2;
  g.udp(c, false, r);
}

/** Pick the next flow: weights tuned for ~1/3 tiny ACKs and ~1/5 full frames by packet count. */
function spawn(g: Gen): Generator<void, void, void> {
  const r = g.rnd() % 1000;
  if (r < 37) {
    // Log-uniform body size, 2 KiB .. 256 KiB.
    const size = Math.floor(2048 * Math.pow(128, (g.rnd() % 10000) / 10000));
    return httpFlow(g, size);
  }
  if (r < 241) return shortFlow(g);
  if (r < 700) return dnsFlow(g);
  if (r < 850) return pingFlow(g);
  return ntpFlow(g);
}

function generate(path: string, size: number, seed: number): Omit<CaptureStats, 'path' | 'seed' | 'generatedInMs' | 'filesTsv'> & { files: ServedFile[] } {
  const g = new Gen(path, seed);
  const active: Array<Generator<void, void, void>> = [];
  let flows = 0;
  const start = () => { const f = spawn(g); flows++; return f; };
  for (let i = 0; i < ACTIVE_FLOWS; i++) active.push(start());
  while (g.bytes + 24 < size) {
    const k = g.rnd() % ACTIVE_FLOWS;
    const f = active[k]!;
    if (f.next().done) {
      active[k] = start();
    }
  }
  g.close(); // flows still active are simply cut by the end of the capture
  return { bytes: g.bytes + 24, packets: g.packets, flows, tinyPackets: g.tiny, fullPackets: g.full, httpFiles: g.httpFiles, files: g.files };
}

// ---- CLI -------------------------------------------------------------------------------------------------------

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (k: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
  const size = opt('--size');
  const st = ensureCapture({ size: size ? parseBenchSize(size) : undefined, dir: opt('--dir'), seed: opt('--seed') ? Number(opt('--seed')) : undefined, log: (s) => console.error(s) });
  console.log(JSON.stringify(st));
}
