// The per-segment index (`<segment>.idx`): flow → packet record offsets and time range, binary and compact.
// Layout (little-endian): 64-byte header, a 1024-slot fanout (u32 count of entries whose hash's top 10 bits
// are ≤ slot, as git's pack index), flow entries sorted by tuple hash (56 bytes each), u32 record offsets
// grouped per flow, then crc32 of everything before and the end magic. A lookup reads header + fanout, one
// fanout bucket of entries and the matching offsets. Also the rebuild-by-scan
// used when an index is missing or damaged (flow instances are then inferred from gaps and TCP SYN/FIN).

import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { decodePacket, PacketView, PROTO_TCP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/index.js';
import { tupleHashAt } from '../eve/alert.js';
import { ERR, FlowcarveError } from '../errors.js';

export const INDEX_MAGIC = 0x58494346; // 'FCIX'
export const INDEX_END = 0x45494346; // 'FCIE'
export const INDEX_VERSION = 2;
export const INDEX_HEADER = 64;
export const INDEX_ENTRY = 56;
/** Fanout slots (top 10 bits of the hash's high word). */
export const INDEX_FANOUT = 1024;
/** Bytes before the first entry: header + fanout. */
export const INDEX_ENTRIES_AT = INDEX_HEADER + INDEX_FANOUT * 4;

/** Total index size for a flow and packet count. */
export function indexSize(flows: number, packets: number): number {
  return INDEX_ENTRIES_AT + flows * INDEX_ENTRY + packets * 4 + 8;
}
/** Flag: the index was rebuilt by scanning its segment (flow ids unknown). */
export const INDEX_REBUILT = 1;
/** Gap (µs) that splits two instances of one tuple when an index is rebuilt by scanning. */
export const REBUILD_GAP_US = 60e6;

/** One flow's packets inside one segment. */
export interface IndexEntry {
  hashHi: number;
  hashLo: number;
  /** Our 64-bit flow id as two words (0,0 when unknown: rebuilt index). */
  fidHi: number;
  fidLo: number;
  /** Start of the flow (first packet the flow table saw), µs. */
  flowStartUs: number;
  firstUs: number;
  lastUs: number;
  /** Packets of this flow stored in earlier segments (lost if those were deleted). */
  prior: number;
  vlan: number;
  proto: number;
  /** Record offsets in the segment, ascending. */
  offsets: number[];
}

/** A decoded index. */
export interface SegmentIndex {
  flags: number;
  segmentBytes: number;
  packets: number;
  linkType: number;
  nsec: boolean;
  firstUs: number;
  lastUs: number;
  entries: IndexEntry[];
}

function cmpEntry(a: IndexEntry, b: IndexEntry): number {
  return a.hashHi - b.hashHi || a.hashLo - b.hashLo || a.flowStartUs - b.flowStartUs;
}

/** Serialise an index (entries are sorted here). */
export function encodeIndex(ix: SegmentIndex): Uint8Array {
  const entries = ix.entries.slice().sort(cmpEntry);
  let packets = 0;
  for (const e of entries) packets += e.offsets.length;
  const size = indexSize(entries.length, packets);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, INDEX_MAGIC, true);
  dv.setUint16(4, INDEX_VERSION, true);
  dv.setUint16(6, ix.flags, true);
  dv.setFloat64(8, ix.segmentBytes, true);
  dv.setUint32(16, packets, true);
  dv.setUint32(20, entries.length, true);
  dv.setUint32(24, ix.linkType, true);
  dv.setUint8(28, ix.nsec ? 1 : 0);
  dv.setFloat64(32, ix.firstUs, true);
  dv.setFloat64(40, ix.lastUs, true);
  let k = 0;
  for (let slot = 0; slot < INDEX_FANOUT; slot++) {
    while (k < entries.length && entries[k]!.hashHi >>> 22 <= slot) k++;
    dv.setUint32(INDEX_HEADER + slot * 4, k, true);
  }
  let p = INDEX_ENTRIES_AT;
  let off = 0;
  for (const e of entries) {
    dv.setUint32(p, e.hashHi, true); dv.setUint32(p + 4, e.hashLo, true);
    dv.setUint32(p + 8, e.fidHi, true); dv.setUint32(p + 12, e.fidLo, true);
    dv.setFloat64(p + 16, e.flowStartUs, true); dv.setFloat64(p + 24, e.firstUs, true); dv.setFloat64(p + 32, e.lastUs, true);
    dv.setUint32(p + 40, e.offsets.length, true); dv.setUint32(p + 44, off, true);
    dv.setUint16(p + 48, e.vlan, true); dv.setUint8(p + 50, e.proto & 0xff); dv.setUint32(p + 52, e.prior, true);
    off += e.offsets.length;
    p += INDEX_ENTRY;
  }
  for (const e of entries) for (const o of e.offsets) { dv.setUint32(p, o, true); p += 4; }
  dv.setUint32(p, crc32(b.subarray(0, p)), true);
  dv.setUint32(p + 4, INDEX_END, true);
  return b;
}

/** Parse and verify an index (sizes, crc32 over header, fanout, entries and offsets, end magic); throws ERR_STORE on any damage. */
export function decodeIndex(b: Uint8Array, file = '<index>'): SegmentIndex {
  const bad = (m: string, offset = 0) => new FlowcarveError(ERR.STORE, `damaged index: ${m}`, { file, offset });
  if (b.length < INDEX_HEADER + 8) throw bad(`${b.length} bytes is shorter than a header`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0, true) !== INDEX_MAGIC) throw bad('bad magic');
  if (dv.getUint16(4, true) !== INDEX_VERSION) throw bad(`unsupported version ${dv.getUint16(4, true)}`, 4);
  const packets = dv.getUint32(16, true), flows = dv.getUint32(20, true);
  const size = indexSize(flows, packets);
  if (size !== b.length) throw bad(`length ${b.length}, header says ${size}`);
  if (dv.getUint32(size - 4, true) !== INDEX_END) throw bad('bad end magic', size - 4);
  if (dv.getUint32(size - 8, true) !== crc32(b.subarray(0, size - 8))) throw bad('checksum mismatch', size - 8);
  const offBase = INDEX_ENTRIES_AT + flows * INDEX_ENTRY;
  const entries: IndexEntry[] = [];
  for (let k = 0, p = INDEX_ENTRIES_AT; k < flows; k++, p += INDEX_ENTRY) {
    const n = dv.getUint32(p + 40, true), start = dv.getUint32(p + 44, true);
    if (start + n > packets) throw bad(`entry ${k} offsets out of range`, p);
    const offsets = new Array<number>(n);
    for (let j = 0; j < n; j++) offsets[j] = dv.getUint32(offBase + (start + j) * 4, true);
    entries.push({
      hashHi: dv.getUint32(p, true), hashLo: dv.getUint32(p + 4, true), fidHi: dv.getUint32(p + 8, true), fidLo: dv.getUint32(p + 12, true),
      flowStartUs: dv.getFloat64(p + 16, true), firstUs: dv.getFloat64(p + 24, true), lastUs: dv.getFloat64(p + 32, true),
      vlan: dv.getUint16(p + 48, true), proto: dv.getUint8(p + 50), prior: dv.getUint32(p + 52, true), offsets,
    });
  }
  return {
    flags: dv.getUint16(6, true), segmentBytes: dv.getFloat64(8, true), packets, linkType: dv.getUint32(24, true),
    nsec: dv.getUint8(28) === 1, firstUs: dv.getFloat64(32, true), lastUs: dv.getFloat64(40, true), entries,
  };
}

/** Result of scanning a segment: its index and the length of its whole records (where a torn tail starts). */
export interface ScanResult {
  index: SegmentIndex;
  /** Bytes of header + whole records; the file is torn past this point when smaller than its size. */
  validBytes: number;
}

/**
 * Rebuild the index of a classic pcap segment by reading it once. Flow instances of one tuple are split at a
 * gap over REBUILD_GAP_US or at a bare SYN after a FIN/RST; their flow ids are unknown (0).
 * Returns null when the file has no valid pcap header.
 */
export function scanSegment(path: string): ScanResult | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const hdr = new Uint8Array(24);
    if (size < 24 || readSync(fd, hdr, 0, 24, 0) !== 24) return null;
    const hv = new DataView(hdr.buffer);
    const m = hv.getUint32(0, true);
    let le: boolean;
    if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) le = true;
    else if (hv.getUint32(0, false) === 0xa1b2c3d4 || hv.getUint32(0, false) === 0xa1b23c4d) le = false;
    else return null;
    const nsec = hv.getUint32(0, le) === 0xa1b23c4d;
    const linkType = hv.getUint32(20, le) & 0x03ffffff;
    const view = new PacketView();
    const groups = new Map<string, { e: IndexEntry; finRst: boolean }>();
    const entries: IndexEntry[] = [];
    const CH = 4 << 20;
    let buf = new Uint8Array(CH);
    let pos = 24;
    let firstUs = NaN, lastUs = NaN, packets = 0;
    while (pos + 16 <= size) {
      // Read a window starting at pos; grow it when a record does not fit.
      const want = Math.min(buf.length, size - pos);
      const got = readSync(fd, buf, 0, want, pos);
      const dv = new DataView(buf.buffer, 0, got);
      let q = 0;
      while (q + 16 <= got) {
        const caplen = dv.getUint32(q + 8, le);
        if (caplen > 262144 * 4) { q = -1; break; }
        if (q + 16 + caplen > got) break;
        const sec = dv.getUint32(q, le), frac = dv.getUint32(q + 4, le);
        const us = sec * 1e6 + (nsec ? Math.floor(frac / 1000) : frac);
        decodePacket(view, buf, q + 16, q + 16 + caplen, linkType);
        let hi = 0, lo = 0;
        if (view.ipVersion) {
          const al = view.addrLen;
          [hi, lo] = tupleHashAt(view.proto, buf, view.src, al, view.srcPort, buf, view.dst, al, view.dstPort);
        }
        const key = `${hi}:${lo}:${view.vlan0}:${view.ipVersion ? view.proto : -1}`;
        let g = groups.get(key);
        const syn = view.proto === PROTO_TCP && (view.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
        if (!g || us - g.e.lastUs > REBUILD_GAP_US || (syn && g.finRst)) {
          g = { e: { hashHi: hi, hashLo: lo, fidHi: 0, fidLo: 0, flowStartUs: us, firstUs: us, lastUs: us, prior: 0,
            vlan: view.vlan0, proto: view.proto < 0 ? 0 : view.proto, offsets: [] }, finRst: false };
          groups.set(key, g);
          entries.push(g.e);
        }
        if (view.proto === PROTO_TCP && (view.tcpFlags & (TCP_FIN | TCP_RST))) g.finRst = true;
        g.e.offsets.push(pos + q);
        g.e.lastUs = us;
        if (!(us >= firstUs)) firstUs = us;
        if (!(us <= lastUs)) lastUs = us;
        packets++;
        q += 16 + caplen;
      }
      if (q < 0) break; // absurd caplen: treat as the torn tail
      if (q === 0) {
        if (got < want || pos + 16 + dv.getUint32(8, le) > size) break; // torn last record
        buf = new Uint8Array(buf.length * 2);
        continue;
      }
      pos += q;
    }
    const index: SegmentIndex = { flags: INDEX_REBUILT, segmentBytes: pos, packets, linkType, nsec, firstUs, lastUs, entries };
    return { index, validBytes: pos };
  } finally {
    closeSync(fd);
  }
}
