// Carving: one alert in, that flow's stored packets out as their own pcap named by its sha256 (both
// directions, capture order, original timestamps and link type). Reads the indexes, then only the records
// of the flow (coalesced reads); the same flow carved twice gives the same single file.

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { toAlert, type Alert } from '../eve/alert.js';
import { ERR, FlowcarveError } from '../errors.js';
import { locateFlow } from './locate.js';

/** What a carve prints. */
export interface CarveResult {
  path: string;
  sha256: string;
  packets: number;
  bytes: number;
  /** Time of the first and last packet (ISO 8601, µs, UTC). */
  first: string;
  last: string;
  segments: string[];
  flow_id?: string;
  /** Present when some of the flow's stored packets were in segments deleted since. */
  missing_segments?: true;
  missing_packets?: number;
}

/** Where to carve from and to. */
export interface CarveOptions {
  store: string;
  out: string;
}

const WINDOW = 1 << 20;
/** Largest record accepted from a segment (libpcap's biggest per-link-type caplen is 128 MiB for D-Bus; we write ≤ 256 KiB). */
const MAX_RECORD = 16 << 20;

function isoUs(sec: number, frac: number, nsec: boolean): string {
  const us = nsec ? Math.floor(frac / 1000) : frac;
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(us).padStart(6, '0')}Z`);
}

/** Normalise a carve request: an Alert, or a raw EVE/API alert object. */
export function asAlert(a: Alert | Record<string, unknown>): Alert {
  if (typeof (a as Alert).tsUs === 'number' && typeof (a as Alert).srcIp === 'string') return a as Alert;
  const n = toAlert(a as Record<string, unknown>);
  if (!n) throw new FlowcarveError(ERR.CARVE, 'not an alert: timestamp, src_ip and dest_ip are required');
  return n;
}

/** Carve the flow of `alert` from the store into `<out>/<sha256>.pcap`; throws ERR_CARVE when it is not stored. */
export function carve(alert: Alert | Record<string, unknown>, o: CarveOptions): CarveResult {
  const a = asAlert(alert);
  const flow = locateFlow(o.store, a);
  if (!flow) {
    throw new FlowcarveError(ERR.CARVE, `no stored flow for alert ${a.srcIp}:${a.srcPort} -> ${a.destIp}:${a.destPort} proto ${a.proto} at ${a.timestamp}`, { file: o.store });
  }
  mkdirSync(o.out, { recursive: true });
  const tmp = join(o.out, `.carve-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  const ofd = openSync(tmp, 'w');
  let bytes = 0, packets = 0;
  let header: Uint8Array | null = null;
  let firstSec = 0, firstFrac = 0, lastSec = 0, lastFrac = 0;
  let nsec = false, le = true;
  const out = new Uint8Array(WINDOW);
  let opos = 0;
  const emit = (b: Uint8Array) => {
    if (opos + b.length > out.length) { flushOut(); }
    if (b.length > out.length) { hash.update(b); writeAll(ofd, b); bytes += b.length; return; }
    out.set(b, opos); opos += b.length;
  };
  const flushOut = () => {
    if (!opos) return;
    const v = out.subarray(0, opos);
    hash.update(v); writeAll(ofd, v); bytes += opos; opos = 0;
  };
  try {
    for (const part of flow.parts) {
      const fd = openSync(part.segment.path, 'r');
      try {
        const h = new Uint8Array(24);
        if (readSync(fd, h, 0, 24, 0) !== 24) throw new FlowcarveError(ERR.CARVE, 'segment header is truncated', { file: part.segment.path, offset: 0 });
        const hv = new DataView(h.buffer);
        const m = hv.getUint32(0, true);
        const segLe = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
        if (!header) {
          header = h; le = segLe; nsec = hv.getUint32(0, le) === 0xa1b23c4d;
          emit(h);
        } else if (h[20] !== header[20] || h[21] !== header[21] || hv.getUint32(0, true) !== new DataView(header.buffer).getUint32(0, true)) {
          throw new FlowcarveError(ERR.CARVE, 'flow spans segments with different link types or formats', { file: part.segment.path });
        }
        let win = new Uint8Array(WINDOW), wStart = 0, wLen = 0;
        const offs = part.entry.offsets;
        for (let k = 0; k < offs.length; k++) {
          const off = offs[k]!;
          if (off < wStart || off + 16 > wStart + wLen) {
            // Read this record and the following ones while they are close (gaps ≤ 64 KiB), at most WINDOW:
            // a sparse flow costs a few KiB per record, a dense run one large sequential read.
            let end = off + 2048, j = k + 1;
            while (j < offs.length && offs[j]! - off + 2048 <= win.length && offs[j]! - offs[j - 1]! <= 65536) end = offs[j++]! + 2048;
            const want = Math.min(win.length, Math.max(4096, end - off));
            wStart = off; wLen = readSync(fd, win, 0, want, off);
          }
          let dv = new DataView(win.buffer, 0, wLen);
          const caplen = dv.getUint32(off - wStart + 8, le);
          if (caplen > MAX_RECORD) throw new FlowcarveError(ERR.CARVE, `indexed record has an absurd caplen ${caplen}`, { file: part.segment.path, offset: off });
          const rl = 16 + caplen;
          if (off + rl > wStart + wLen) {
            if (rl > win.length) win = new Uint8Array(rl);
            wStart = off; wLen = readSync(fd, win, 0, Math.min(win.length, Math.max(rl, 4096)), off);
            dv = new DataView(win.buffer, 0, wLen);
            if (rl > wLen) throw new FlowcarveError(ERR.CARVE, 'indexed record runs past the end of its segment', { file: part.segment.path, offset: off });
          }
          const r = off - wStart;
          const sec = dv.getUint32(r, le), frac = dv.getUint32(r + 4, le);
          if (packets === 0) { firstSec = sec; firstFrac = frac; }
          lastSec = sec; lastFrac = frac;
          emit(win.subarray(r, r + rl));
          packets++;
        }
      } finally { closeSync(fd); }
    }
    // No fsync: a carve is re-derivable from the store; the rename alone makes the named file appear whole.
    flushOut();
  } catch (e) {
    closeSync(ofd);
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  closeSync(ofd);
  const sha256 = hash.digest('hex');
  const path = join(o.out, `${sha256}.pcap`);
  // Same content, same name: a second carve of the flow leaves the first file in place.
  if (existsSync(path)) unlinkSync(tmp); else renameSync(tmp, path);
  const res: CarveResult = {
    path, sha256, packets, bytes, first: isoUs(firstSec, firstFrac, nsec), last: isoUs(lastSec, lastFrac, nsec),
    segments: flow.parts.map((p) => p.segment.name),
  };
  if (flow.flowId !== null) res.flow_id = flow.flowId;
  if (flow.missingPackets > 0) { res.missing_segments = true; res.missing_packets = flow.missingPackets; }
  return res;
}

function writeAll(fd: number, b: Uint8Array): void {
  let o = 0;
  while (o < b.length) o += writeSync(fd, b, o, b.length - o);
}
