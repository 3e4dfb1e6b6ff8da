// Finding an alert's flow in a store through the segment indexes only (no segment scan): binary search of
// each index's flow table by tuple hash, grouping of entries into flow instances, choice of the instance
// whose lifetime holds the alert time (flow.start narrows it).

import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { alertHash, type Alert } from '../eve/alert.js';
import { INDEX_ENTRIES_AT, INDEX_ENTRY, INDEX_HEADER, INDEX_MAGIC, INDEX_VERSION, REBUILD_GAP_US, indexSize, type IndexEntry } from '../store/index-file.js';
import { listSegments, loadIndex, type SegmentInfo } from '../store/segments.js';

/** One segment's part of a located flow. */
export interface FlowPart {
  segment: SegmentInfo;
  entry: IndexEntry;
}

/** A flow instance found in the store. */
export interface LocatedFlow {
  parts: FlowPart[];
  flowId: string | null;
  flowStartUs: number;
  firstUs: number;
  lastUs: number;
  /** Packets stored before the earliest remaining part (their segments were deleted). */
  missingPackets: number;
}

function pread(fd: number, len: number, pos: number): Uint8Array {
  const b = new Uint8Array(len);
  let o = 0;
  while (o < len) {
    const n = readSync(fd, b, o, len - o, pos + o);
    if (n === 0) break;
    o += n;
  }
  return o === len ? b : b.subarray(0, o);
}

/**
 * Entries of one segment's index whose tuple hash is (hi, lo), reading only the header and fanout, one fanout
 * bucket of entries and the matching offsets (the crc is checked when a store is opened, not per carve). Falls back to a full load (rebuild in memory) when the index is missing or malformed.
 */
export function lookupSegment(seg: SegmentInfo, hi: number, lo: number): IndexEntry[] {
  let fd = -1;
  try {
    fd = openSync(seg.path + '.idx', 'r');
    const size = fstatSync(fd).size;
    const h = pread(fd, INDEX_ENTRIES_AT, 0);
    if (h.length < INDEX_ENTRIES_AT) throw new Error('short');
    const dv = new DataView(h.buffer);
    const packets = dv.getUint32(16, true), flows = dv.getUint32(20, true);
    if (dv.getUint32(0, true) !== INDEX_MAGIC || dv.getUint16(4, true) !== INDEX_VERSION
      || indexSize(flows, packets) !== size || dv.getFloat64(8, true) !== statSync(seg.path).size) throw new Error('bad');
    // The fanout bucket of `hi` holds every candidate entry: one read.
    const slot = hi >>> 22;
    const from = slot ? dv.getUint32(INDEX_HEADER + (slot - 1) * 4, true) : 0, to = dv.getUint32(INDEX_HEADER + slot * 4, true);
    if (from > to || to > flows) throw new Error('fanout');
    const out: IndexEntry[] = [];
    if (to === from) return out;
    const bucket = pread(fd, (to - from) * INDEX_ENTRY, INDEX_ENTRIES_AT + from * INDEX_ENTRY);
    const tv = new DataView(bucket.buffer, 0, bucket.length);
    const offBase = INDEX_ENTRIES_AT + flows * INDEX_ENTRY;
    for (let p = 0; p + INDEX_ENTRY <= bucket.length; p += INDEX_ENTRY) {
      if (tv.getUint32(p, true) !== hi || tv.getUint32(p + 4, true) !== lo) continue;
      const n = tv.getUint32(p + 40, true), start = tv.getUint32(p + 44, true);
      if (start + n > packets) throw new Error('range');
      const ob = pread(fd, n * 4, offBase + start * 4);
      const ov = new DataView(ob.buffer, 0, ob.length);
      const offsets = new Array<number>(n);
      for (let j = 0; j < n; j++) offsets[j] = ov.getUint32(j * 4, true);
      out.push({
        hashHi: hi, hashLo: lo, fidHi: tv.getUint32(p + 8, true), fidLo: tv.getUint32(p + 12, true),
        flowStartUs: tv.getFloat64(p + 16, true), firstUs: tv.getFloat64(p + 24, true), lastUs: tv.getFloat64(p + 32, true),
        vlan: tv.getUint16(p + 48, true), proto: tv.getUint8(p + 50), prior: tv.getUint32(p + 52, true), offsets,
      });
    }
    return out;
  } catch {
    const ix = loadIndex(seg, false);
    return ix ? ix.entries.filter((e) => e.hashHi === hi && e.hashLo === lo) : [];
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}


/** All stored instances of the alert's tuple, oldest first. */
export function flowInstances(dir: string, alert: Alert): LocatedFlow[] {
  const [hi, lo] = alertHash(alert);
  const parts: FlowPart[] = [];
  for (const seg of listSegments(dir, false)) {
    for (const entry of lookupSegment(seg, hi, lo)) {
      if (alert.proto >= 0 && entry.proto !== (alert.proto & 0xff)) continue;
      if (alert.vlan.length && entry.vlan && entry.vlan !== alert.vlan[0]) continue;
      parts.push({ segment: seg, entry });
    }
  }
  const byId = new Map<string, LocatedFlow>();
  const out: LocatedFlow[] = [];
  const unknown: FlowPart[] = [];
  for (const p of parts) {
    const e = p.entry;
    if (e.fidHi === 0 && e.fidLo === 0) { unknown.push(p); continue; }
    const id = ((BigInt(e.fidHi) << 32n) | BigInt(e.fidLo)).toString() + '@' + e.flowStartUs;
    let f = byId.get(id);
    if (!f) {
      f = { parts: [], flowId: ((BigInt(e.fidHi) << 32n) | BigInt(e.fidLo)).toString(), flowStartUs: e.flowStartUs, firstUs: e.firstUs, lastUs: e.lastUs, missingPackets: e.prior };
      byId.set(id, f);
      out.push(f);
    }
    f.parts.push(p);
    f.firstUs = Math.min(f.firstUs, e.firstUs);
    f.lastUs = Math.max(f.lastUs, e.lastUs);
  }
  // Parts from rebuilt indexes (flow id unknown) continue a known instance when they start inside it or
  // within REBUILD_GAP_US after it; otherwise consecutive ones form instances of their own.
  let cur: LocatedFlow | null = null;
  for (const p of unknown) {
    const e = p.entry;
    let host = out.find((f) => f.flowId !== null && e.firstUs >= f.firstUs && e.firstUs <= f.lastUs + REBUILD_GAP_US
      && e.flowStartUs >= f.flowStartUs) ?? null;
    if (!host && cur && e.firstUs <= cur.lastUs + REBUILD_GAP_US && e.flowStartUs === e.firstUs && p.segment !== cur.parts[cur.parts.length - 1]!.segment) host = cur;
    if (!host) {
      host = { parts: [], flowId: null, flowStartUs: e.flowStartUs, firstUs: e.firstUs, lastUs: e.lastUs, missingPackets: 0 };
      out.push(host);
      cur = host;
    }
    host.parts.push(p);
    host.firstUs = Math.min(host.firstUs, e.firstUs);
    host.lastUs = Math.max(host.lastUs, e.lastUs);
  }
  for (const f of out) {
    f.parts.sort((x, y) => x.segment.sec - y.segment.sec || x.segment.usec - y.segment.usec);
    f.missingPackets = f.parts[0]!.entry.prior;
  }
  return out.sort((x, y) => x.flowStartUs - y.flowStartUs);
}

/** The stored instance an alert belongs to: its time inside the instance's lifetime; flow.start narrows it. */
export function locateFlow(dir: string, alert: Alert): LocatedFlow | null {
  const all = flowInstances(dir, alert);
  if (all.length === 0) return null;
  const t = alert.tsUs;
  let hits = all.filter((f) => t >= Math.min(f.flowStartUs, f.firstUs) && t <= f.lastUs);
  if (hits.length === 0) hits = all.filter((f) => t >= Math.min(f.flowStartUs, f.firstUs) - 1 && t <= f.lastUs + REBUILD_GAP_US);
  if (hits.length === 0) return null;
  if (hits.length === 1) return hits[0]!;
  if (alert.flowStartUs !== undefined) {
    const fs = alert.flowStartUs;
    return hits.reduce((best, f) => (Math.abs(f.flowStartUs - fs) < Math.abs(best.flowStartUs - fs) ? f : best));
  }
  // Latest start not after the alert.
  return hits.reduce((best, f) => (f.flowStartUs > best.flowStartUs ? f : best));
}
