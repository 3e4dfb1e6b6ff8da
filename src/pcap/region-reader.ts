// Reads a plain capture file into caller-owned buffers (a ring of slots, shared or not), indexing whole records
// in place: each region is the previous region's unconsumed tail (copied to the slot's start) plus the next read.
// No buffer is allocated per read, and no packet byte is copied except a record cut by a read boundary. Inputs
// that are not plain files (stdin, gzip, unreadable paths) are left to CaptureReader, which words their errors.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { INDEX_BYTES_PER_PACKET, type PacketBatch } from './batch.js';
import { GZIP_MAGIC0, GZIP_MAGIC1 } from './format.js';
import { CaptureParser } from './parser.js';

/** One slot of a ring: packet bytes and a batch index (laid out as allocBatch's), replaced when they must grow. */
export interface RegionSlot { data: ArrayBufferLike; index: ArrayBufferLike; cap: number }

/** How the caller's ring is used: take a free slot, hand over a slot's batch, give back a slot with no packets. */
export interface RegionRing<S extends RegionSlot> {
  slots: S[];
  acquire(): Promise<number> | number;
  send(k: number, batch: PacketBatch): void;
  release(k: number): void;
  /** New buffer of `bytes` for a slot (SharedArrayBuffer for workers, ArrayBuffer in one thread). */
  alloc(bytes: number): ArrayBufferLike;
}

/**
 * Read plain capture file `path` through `ring`, `readSize` bytes per read. `handled` is false, with nothing
 * read, when the input is not a plain uncompressed file. A format error comes back after every complete packet
 * before it was sent.
 */
export async function readRegions<S extends RegionSlot>(path: string, ring: RegionRing<S>, readSize: number): Promise<{ handled: boolean; error?: unknown }> {
  if (path === '-') return { handled: false };
  let fh: FileHandle;
  try {
    if (!(await stat(path)).isFile()) return { handled: false };
    fh = await open(path, 'r');
  } catch { return { handled: false }; }
  try {
    const magic = new Uint8Array(2);
    const { bytesRead } = await fh.read(magic, 0, 2, 0);
    if (bytesRead === 2 && magic[0] === GZIP_MAGIC0 && magic[1] === GZIP_MAGIC1) return { handled: false };
    const parser = new CaptureParser(path);
    const step = Math.max(64, readSize);
    let pos = 0, eof = false;
    let tail: Uint8Array = new Uint8Array(0);
    for (;;) {
      const k = await ring.acquire();
      const s = ring.slots[k]!;
      // A record larger than the last region (nothing consumed from a full region) needs a bigger slot.
      const need = tail.length + step;
      if (s.data.byteLength < need) s.data = ring.alloc(Math.max(need, s.data.byteLength * 2));
      const view = new Uint8Array(s.data);
      if (tail.length) { if (tail.buffer === s.data) view.copyWithin(0, tail.byteOffset, tail.byteOffset + tail.length); else view.set(tail, 0); }
      let have = tail.length;
      while (!eof && have < need) {
        const r = await fh.read(view, have, need - have, pos);
        if (r.bytesRead === 0) eof = true;
        pos += r.bytesRead; have += r.bytesRead;
      }
      const region = view.subarray(0, have);
      const idxBytes = parser.indexBytesFor(have);
      if (s.index.byteLength < idxBytes) { s.index = ring.alloc(Math.max(idxBytes, s.index.byteLength * 2)); s.cap = Math.floor(s.index.byteLength / INDEX_BYTES_PER_PACKET); }
      const { batch, used } = parser.pushRegion(region, { buffer: s.index });
      tail = region.subarray(used);
      if (batch && batch.count > 0) ring.send(k, batch);
      else ring.release(k); // nothing to send: the tail stays readable until the next acquire reuses the slot
      if (parser.error) return { handled: true, error: parser.error };
      if (eof) { parser.regionEnd(tail); return { handled: true, ...(parser.error ? { error: parser.error } : {}) }; }
    }
  } finally {
    await fh.close();
  }
}
