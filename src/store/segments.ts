// The global pcap store: a directory of classic pcap segments named as Suricata's pcap-log names them
// (`log.pcap.<secs>.<usecs>`, time of the segment's first packet), each with an index beside it.
// Owns rotation (before a write would pass fileSize, or on a link-type change), deletion of the oldest
// segments (total never above maxSize), crash repair on open, and the in-memory index of the open segment.
// Crash safety: an index is written to `.idx.tmp`, fsynced and renamed after its segment is fsynced; a
// segment without a valid index is rescanned; a torn last record is truncated away; stray temp files and
// indexes without a segment are removed.

import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ERR, FlowcarveError } from '../errors.js';
import { decodeIndex, encodeIndex, scanSegment, type IndexEntry, type SegmentIndex } from './index-file.js';
import { pcapFileHeader, putRecordHeader } from '../pcap/writer.js';

/** Suricata's default pcap-log file size. */
export const DEFAULT_FILE_SIZE = 100 * 1024 * 1024;
/** Segments are addressed with u32 offsets. */
export const MAX_FILE_SIZE = 0xffff0000;
const WRITE_BUF = 1 << 20;
const SEG_RE = /^log\.pcap\.(\d+)\.(\d+)$/;

/** Options of a store directory. */
export interface StoreOptions {
  /** Rotate before a write would pass this many bytes (default 100 MiB). */
  fileSize?: number;
  /** Delete the oldest segments so that the total (segments + indexes) stays at or below this (default: unlimited). */
  maxSize?: number;
  /** Write ns timestamps (default µs, as Suricata does). */
  nsec?: boolean;
}

/** The identity of one flow in the store (one per flow instance, shared by its entries in every segment). */
export interface StoredFlow {
  hashHi: number;
  hashLo: number;
  fidHi: number;
  fidLo: number;
  flowStartUs: number;
  vlan: number;
  proto: number;
  /** Packets stored so far (over all segments). */
  stored: number;
  /** The flow's index entry in the open segment and that segment's generation (writer-owned). */
  entry?: IndexEntry | null;
  gen?: number;
}

/** A segment on disk. */
export interface SegmentInfo {
  name: string;
  path: string;
  sec: number;
  usec: number;
  /** Segment + index bytes. */
  bytes: number;
}

/** What open() repaired. */
export interface RepairReport {
  rescanned: string[];
  truncated: Array<{ name: string; from: number; to: number }>;
  removed: string[];
}

/** Counters of a store writer. */
export interface StoreCounters {
  packets: number;
  bytes: number;
  segmentsWritten: number;
  segmentsDeleted: number;
  bytesDeleted: number;
}

/** List the segments of a store directory in time order (`sizes: false` skips the stat calls; bytes are then 0). */
export function listSegments(dir: string, sizes = true): SegmentInfo[] {
  if (!existsSync(dir)) return [];
  const out: SegmentInfo[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEG_RE.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    let bytes = 0;
    if (sizes) {
      try { bytes = statSync(path).size; } catch { continue; }
      try { bytes += statSync(path + '.idx').size; } catch { /* no index yet */ }
    }
    out.push({ name, path, sec: Number(m[1]), usec: Number(m[2]), bytes });
  }
  return out.sort((a, b) => a.sec - b.sec || a.usec - b.usec);
}

/** Load a segment's index; when missing or damaged, rebuild it by scanning (and save it, when `repair`). */
export function loadIndex(seg: SegmentInfo, repair = false, report?: RepairReport): SegmentIndex | null {
  const ip = seg.path + '.idx';
  let size = -1;
  try { size = statSync(seg.path).size; } catch { return null; }
  try {
    const ix = decodeIndex(readFileSync(ip), ip);
    if (ix.segmentBytes === size) return ix;
  } catch { /* missing or damaged: rescan */ }
  const r = scanSegment(seg.path);
  if (!r) {
    if (repair) { unlinkQuiet(seg.path); unlinkQuiet(ip); report?.removed.push(seg.name); }
    return null;
  }
  if (repair) {
    if (r.validBytes < size) {
      const fd = openSync(seg.path, 'r+');
      try { ftruncateSync(fd, r.validBytes); fsyncSync(fd); } finally { closeSync(fd); }
      report?.truncated.push({ name: seg.name, from: size, to: r.validBytes });
    }
    writeIndexFile(ip, r.index);
    report?.rescanned.push(seg.name);
  }
  return r.index;
}

/** Write an index next to its segment: temp file, fsync, rename (atomic on POSIX). */
export function writeIndexFile(path: string, ix: SegmentIndex): void {
  const tmp = path + '.tmp';
  const fd = openSync(tmp, 'w');
  try {
    const b = encodeIndex(ix);
    let o = 0;
    while (o < b.length) o += writeSync(fd, b, o, b.length - o);
    fsyncSync(fd);
  } finally { closeSync(fd); }
  renameSync(tmp, path);
}

function unlinkQuiet(p: string): void {
  try { unlinkSync(p); } catch { /* already gone */ }
}

/** Segment writer over one store directory; synchronous, single writer. */
export class SegmentStore {
  readonly dir: string;
  readonly fileSize: number;
  readonly maxSize: number;
  readonly nsec: boolean;
  readonly counters: StoreCounters = { packets: 0, bytes: 0, segmentsWritten: 0, segmentsDeleted: 0, bytesDeleted: 0 };
  /** Closed segments, oldest first. */
  readonly closed: SegmentInfo[] = [];
  #fd = -1;
  #seg: SegmentInfo | null = null;
  #segBytes = 0;
  #linkType = -1;
  #buf = new Uint8Array(WRITE_BUF);
  #dv = new DataView(this.#buf.buffer);
  #pos = 0;
  #entries: IndexEntry[] = [];
  /** Generation of the open segment (bumped at each open): StoredFlow.entry is valid when gen matches. */
  #gen = 0;
  #firstUs = NaN;
  #lastUs = NaN;
  #packets = 0;

  private constructor(dir: string, o: StoreOptions) {
    this.dir = dir;
    this.fileSize = Math.min(o.fileSize ?? DEFAULT_FILE_SIZE, MAX_FILE_SIZE);
    this.maxSize = o.maxSize ?? Infinity;
    this.nsec = !!o.nsec;
    if (this.fileSize < 24 + 16 + 64) throw new FlowcarveError(ERR.USAGE, `file size ${this.fileSize} is too small`);
  }

  /** Open (creating) a store directory, repairing what a crash left: torn segments, missing indexes, temp files. */
  static open(dir: string, o: StoreOptions = {}): { store: SegmentStore; repair: RepairReport } {
    mkdirSync(dir, { recursive: true });
    const s = new SegmentStore(dir, o);
    const repair: RepairReport = { rescanned: [], truncated: [], removed: [] };
    const names = new Set(readdirSync(dir));
    for (const n of names) {
      if (n.endsWith('.idx.tmp')) { unlinkQuiet(join(dir, n)); repair.removed.push(n); }
      else if (n.endsWith('.idx') && SEG_RE.test(n.slice(0, -4)) && !names.has(n.slice(0, -4))) { unlinkQuiet(join(dir, n)); repair.removed.push(n); }
    }
    const loaded = new Set<string>();
    for (const seg of listSegments(dir)) if (loadIndex(seg, true, repair)) loaded.add(seg.name);
    for (const seg of listSegments(dir)) if (loaded.has(seg.name)) s.closed.push(seg);
    return { store: s, repair };
  }

  /** Total bytes of closed segments and their indexes. */
  get closedBytes(): number {
    let n = 0;
    for (const c of this.closed) n += c.bytes;
    return n;
  }

  /** Name of the segment being written, if any. */
  get current(): string | null { return this.#seg ? this.#seg.name : null; }

  /** Append one packet of `flow`; `tsNsec` is the sub-second part in ns. Rotates first when needed. */
  write(flow: StoredFlow, tsSec: number, tsNsec: number, data: Uint8Array, origlen: number, linkType: number): void {
    const need = 16 + data.length;
    if (this.#fd >= 0 && ((this.#segBytes + need > this.fileSize && this.#packets > 0) || linkType !== this.#linkType)) this.rotate();
    if (this.#fd < 0) this.#openSegment(tsSec, tsNsec, linkType);
    if (this.#pos + need > this.#buf.length) {
      this.#flush();
      if (need > this.#buf.length) { this.#buf = new Uint8Array(need); this.#dv = new DataView(this.#buf.buffer); }
    }
    const p = this.#pos;
    putRecordHeader(this.#dv, p, tsSec, this.nsec ? tsNsec : Math.floor(tsNsec / 1000), data.length, origlen);
    this.#buf.set(data, p + 16);
    this.#pos = p + need;
    const off = this.#segBytes;
    this.#segBytes += need;
    const us = tsSec * 1e6 + Math.floor(tsNsec / 1000);
    let e = flow.gen === this.#gen ? flow.entry! : undefined;
    if (!e) {
      e = { hashHi: flow.hashHi, hashLo: flow.hashLo, fidHi: flow.fidHi, fidLo: flow.fidLo, flowStartUs: flow.flowStartUs,
        firstUs: us, lastUs: us, prior: flow.stored, vlan: flow.vlan, proto: flow.proto, offsets: [] };
      this.#entries.push(e);
      flow.entry = e;
      flow.gen = this.#gen;
    }
    e.offsets.push(off);
    if (us < e.firstUs) e.firstUs = us;
    if (us > e.lastUs) e.lastUs = us;
    if (!(us >= this.#firstUs)) this.#firstUs = us;
    if (!(us <= this.#lastUs)) this.#lastUs = us;
    this.#packets++;
    flow.stored++;
    this.counters.packets++;
    this.counters.bytes += need;
  }

  #openSegment(tsSec: number, tsNsec: number, linkType: number): void {
    // Keep the total under maxSize counting the new segment at its full size.
    while (this.closed.length && this.closedBytes + this.fileSize > this.maxSize) this.#deleteOldest();
    let usec = Math.floor(tsNsec / 1000);
    let name = `log.pcap.${tsSec}.${usec}`;
    // Two segments starting in the same microsecond: bump the later name so both exist and sort right.
    while (existsSync(join(this.dir, name))) { usec++; name = `log.pcap.${tsSec}.${usec}`; }
    const path = join(this.dir, name);
    this.#fd = openSync(path, 'wx');
    this.#seg = { name, path, sec: tsSec, usec, bytes: 0 };
    this.#buf.set(pcapFileHeader({ linkType, nsec: this.nsec }), 0);
    this.#pos = 24;
    this.#segBytes = 24;
    this.#linkType = linkType;
    this.#entries = [];
    this.#gen++;
    this.#firstUs = NaN; this.#lastUs = NaN; this.#packets = 0;
    this.counters.segmentsWritten++;
  }

  #flush(): void {
    let o = 0;
    while (o < this.#pos) o += writeSync(this.#fd, this.#buf, o, this.#pos - o);
    this.#pos = 0;
  }

  /** Push buffered records to the segment file (still open; no index yet). */
  flush(): void {
    if (this.#fd >= 0) this.#flush();
  }

  /** Close the current segment: flush, fsync, then write its index (temp + rename). */
  rotate(): void {
    if (this.#fd < 0 || !this.#seg) return;
    this.#flush();
    fsyncSync(this.#fd);
    const size = fstatSync(this.#fd).size;
    closeSync(this.#fd);
    this.#fd = -1;
    const ix: SegmentIndex = { flags: 0, segmentBytes: size, packets: this.#packets, linkType: this.#linkType, nsec: this.nsec,
      firstUs: this.#firstUs, lastUs: this.#lastUs, entries: this.#entries };
    writeIndexFile(this.#seg.path + '.idx', ix);
    let idxBytes = 0;
    try { idxBytes = statSync(this.#seg.path + '.idx').size; } catch { /* counted as 0 */ }
    this.closed.push({ ...this.#seg, bytes: size + idxBytes });
    this.#seg = null;
    this.#entries = [];
    this.#gen++;
  }

  #deleteOldest(): void {
    const old = this.closed.shift()!;
    // Segment first: a crash in between leaves an index without segment, which open() removes.
    unlinkQuiet(old.path);
    unlinkQuiet(old.path + '.idx');
    this.counters.segmentsDeleted++;
    this.counters.bytesDeleted += old.bytes;
  }

  /** Finish: close the current segment with its index. */
  close(): void {
    this.rotate();
  }
}
