// Capture summary in the manner of capinfos: format, byte order, resolution, link types, interfaces, packet and
// byte counts, first/last timestamps, duration and averages. Reads the input once through CaptureReader.

import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { FlowcarveError } from '../errors.js';
import { linkTypeName, type CaptureFormat } from './format.js';
import { CaptureReader, type ReadOptions } from './reader.js';

/** A timestamp as read from the capture (sub-second part in ns, kept raw). */
export interface InfoTime { sec: number; nsec: number }

/** What `flowcarve info` reports about one input. */
export interface CaptureInfo {
  file: string;
  /** 'pcap' | 'pcapng', or null when not even the file header could be read. */
  format: CaptureFormat['kind'] | null;
  gzip: boolean;
  byteOrder: 'LE' | 'BE' | null;
  version: string | null;
  /** Time resolution: 'usec', 'nsec' or pcapng's `base^-exp` (of the first interface). */
  resolution: string | null;
  snaplen: number | null;
  /** Link types with their tcpdump names and packet counts, in order of first appearance. */
  linkTypes: Array<{ linkType: number; name: string; packets: number }>;
  /** Every interface of every section (classic files: one). */
  interfaces: Array<{ linkType: number; name: string; ifName?: string; snaplen: number; resolution: string; tsoffset: number }>;
  packets: number;
  capturedBytes: number;
  wireBytes: number;
  /** Packets captured shorter than they were on the wire (caplen < origlen). */
  truncatedPackets: number;
  /** Size of the file on disk (compressed size for gzip), null for stdin/streams. */
  fileBytes: number | null;
  /** Bytes of capture data read (after decompression). */
  dataBytes: number;
  first: InfoTime | null;
  last: InfoTime | null;
  /** Seconds between the earliest and the latest packet. */
  duration: number;
  /** Mean captured bytes per packet (0 when no packets). */
  averagePacketSize: number;
  /** Captured bytes per second over the capture duration (0 when it lasts no time). */
  bytesPerSecond: number;
  /** True when no packet is older than the one before it. */
  strictTimeOrder: boolean;
  /** The fault that stopped reading, if any (counts above cover every packet before it). */
  error: { code: string; message: string; offset: number | null } | null;
}

function resolutionText(base: number, exp: number): string {
  if (base === 10 && exp === 6) return 'usec';
  if (base === 10 && exp === 9) return 'nsec';
  return `${base}^-${exp}`;
}

/** Read `input` (path, '-' or stream) to the end and summarise it; format faults are reported in `error`, not thrown. */
export async function captureInfo(input: string | Readable, name?: string, opts: ReadOptions = {}): Promise<CaptureInfo> {
  const reader = new CaptureReader(input, name, opts);
  const lt = new Map<number, number>();
  let packets = 0, captured = 0, wire = 0, truncated = 0;
  let fSec = Infinity, fNs = 0, lSec = -Infinity, lNs = 0, pSec = -Infinity, pNs = 0;
  let ordered = true;
  let error: CaptureInfo['error'] = null;
  try {
    for await (const b of reader.batches()) {
      const n = b.count;
      for (let i = 0; i < n; i++) {
        const s = b.tsSec[i]!, ns = b.tsNsec[i]!, cl = b.caplen[i]!, ol = b.origlen[i]!;
        captured += cl; wire += ol;
        if (cl < ol) truncated++;
        if (s < fSec || (s === fSec && ns < fNs)) { fSec = s; fNs = ns; }
        if (s > lSec || (s === lSec && ns > lNs)) { lSec = s; lNs = ns; }
        if (s < pSec || (s === pSec && ns < pNs)) ordered = false;
        pSec = s; pNs = ns;
        const t = b.linkType[i]!;
        lt.set(t, (lt.get(t) ?? 0) + 1);
      }
      packets += n;
    }
  } catch (e) {
    if (!(e instanceof FlowcarveError)) throw e;
    error = { code: e.code, message: e.message, offset: e.offset ?? null };
  }
  const p = reader.parser;
  const f = p.format;
  let fileBytes: number | null = null;
  if (typeof input === 'string' && input !== '-') {
    try { fileBytes = (await stat(input)).size; } catch { /* reported as ERR_INPUT above */ }
  }
  const duration = packets ? (lSec - fSec) + (lNs - fNs) / 1e9 : 0;
  return {
    file: reader.source,
    format: f ? f.kind : null,
    gzip: reader.gzip,
    byteOrder: f ? f.byteOrder : null,
    version: f ? `${f.versionMajor}.${f.versionMinor}` : null,
    resolution: f ? f.resolution : null,
    snaplen: f ? f.snaplen : null,
    linkTypes: [...lt].map(([linkType, count]) => ({ linkType, name: linkTypeName(linkType), packets: count })),
    interfaces: p.allInterfaces.map((i) => ({
      linkType: i.linkType, name: linkTypeName(i.linkType), ...(i.name !== undefined ? { ifName: i.name } : {}),
      snaplen: i.snaplen, resolution: resolutionText(i.tsresolBase, i.tsresolExp), tsoffset: i.tsoffset,
    })),
    packets, capturedBytes: captured, wireBytes: wire, truncatedPackets: truncated,
    fileBytes, dataBytes: p.consumed,
    first: packets ? { sec: fSec, nsec: fNs } : null,
    last: packets ? { sec: lSec, nsec: lNs } : null,
    duration,
    averagePacketSize: packets ? captured / packets : 0,
    bytesPerSecond: duration > 0 ? captured / duration : 0,
    strictTimeOrder: ordered,
    error,
  };
}

/** `sec.fraction` with 6 digits when `resolution` is 'usec' and 9 otherwise, plus the UTC date when representable. */
export function formatInfoTime(t: InfoTime, resolution: string | null): string {
  const digits = resolution === 'usec' ? 6 : 9;
  const frac = digits === 6 ? Math.floor(t.nsec / 1000) : t.nsec;
  const text = `${t.sec}.${String(frac).padStart(digits, '0')}`;
  const d = new Date(t.sec * 1000);
  if (Number.isNaN(d.getTime()) || t.nsec >= 1e9) return text;
  return `${text} (${d.toISOString().slice(0, 19).replace('T', ' ')} UTC)`;
}

/** capinfos-like text block for one input. */
export function formatInfo(i: CaptureInfo): string {
  // Print µs digits only when every interface is µs (a ns interface anywhere needs 9 digits).
  const res = i.interfaces.length && i.interfaces.every((x) => x.resolution === 'usec') ? 'usec' : 'nsec';
  const rows: Array<[string, string]> = [];
  const add = (k: string, v: string) => rows.push([k, v]);
  add('File name', i.file);
  add('Format', i.format ? `${i.format}${i.gzip ? ' (gzip-compressed)' : ''}` : 'unknown');
  if (i.format) {
    add('Byte order', i.byteOrder === 'LE' ? 'little-endian' : 'big-endian');
    add('Version', i.version!);
    add('Time resolution', i.resolution === 'usec' ? 'microseconds' : i.resolution === 'nsec' ? 'nanoseconds' : `${i.resolution} s`);
    add('Snapshot length', String(i.snaplen));
  }
  add('Link types', i.linkTypes.length ? i.linkTypes.map((l) => `${l.name}: ${l.packets} packets`).join(', ') : i.interfaces.map((x) => x.name).join(', ') || '-');
  add('Interfaces', String(i.interfaces.length));
  i.interfaces.forEach((x, k) => add(`  #${k}`, `${x.name}${x.ifName ? ` "${x.ifName}"` : ''}, snaplen ${x.snaplen}, resolution ${x.resolution}${x.tsoffset ? `, tsoffset ${x.tsoffset} s` : ''}`));
  add('Packets', String(i.packets));
  add('Captured bytes', String(i.capturedBytes));
  add('On-wire bytes', String(i.wireBytes));
  add('Truncated packets', `${i.truncatedPackets} (captured shorter than on the wire)`);
  if (i.fileBytes !== null) add('File size', `${i.fileBytes} bytes${i.gzip ? ` (${i.dataBytes} decompressed)` : ''}`);
  else add('Data read', `${i.dataBytes} bytes`);
  add('First packet time', i.first ? formatInfoTime(i.first, res) : '-');
  add('Last packet time', i.last ? formatInfoTime(i.last, res) : '-');
  add('Duration', `${i.duration.toFixed(res === 'usec' ? 6 : 9)} seconds`);
  add('Average packet size', `${i.averagePacketSize.toFixed(2)} bytes`);
  add('Average data rate', `${i.bytesPerSecond.toFixed(2)} bytes/s`);
  add('Strict time order', i.strictTimeOrder ? 'yes' : 'no');
  if (i.error) add('Error', `${i.error.offset !== null ? `offset ${i.error.offset}: ` : ''}${i.error.message} [${i.error.code}]`);
  const w = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${(k + ':').padEnd(w)}${v}`).join('\n') + '\n';
}
