// Helpers for tests over fixtures/foundation: the manifest the generator wrote, and a reader/parser harness that
// turns a capture into the same per-packet records (plus a hash of every packet's bytes and the error met).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync, constants as zc } from 'node:zlib';
import type { Readable } from 'node:stream';
import { FIXTURES } from '../_util.js';
import { CaptureParser } from '../../src/pcap/parser.js';
import { CaptureReader, type ReadOptions } from '../../src/pcap/reader.js';
import type { PacketBatch } from '../../src/pcap/batch.js';
import type { CaptureFormat, CaptureInterface } from '../../src/pcap/format.js';
import { decodeBatchPacket, PacketView } from '../../src/decode/index.js';
import type { FixtureExpect, PacketExpect } from '../../fixtures/make/foundation.js';
import { summarize } from '../decode/summary.js';

export type { FixtureExpect, PacketExpect };

/** fixtures/foundation. */
export const FOUNDATION = join(FIXTURES, 'foundation');

/** The generator's manifest.json. */
export function loadManifest(): FixtureExpect[] {
  return JSON.parse(readFileSync(join(FOUNDATION, 'manifest.json'), 'utf8')) as FixtureExpect[];
}

/** What one read produced. */
export interface ReadResult {
  list: PacketExpect[];
  sha256: string;
  format: CaptureFormat | undefined;
  interfaces: CaptureInterface[];
  error: (Error & { code?: string; offset?: number; file?: string }) | undefined;
  batches: number;
}

class Collector {
  list: PacketExpect[] = [];
  hash = createHash('sha256');
  batches = 0;
  view = new PacketView();
  add(b: PacketBatch): void {
    this.batches++;
    for (let i = 0; i < b.count; i++) {
      decodeBatchPacket(this.view, b, i);
      this.list.push({ sec: b.tsSec[i]!, nsec: b.tsNsec[i]!, caplen: b.caplen[i]!, origlen: b.origlen[i]!, lt: b.linkType[i]!, iface: b.iface[i]!, rec: b.recOffset[i]!, d: summarize(this.view) });
      this.hash.update(b.buf.subarray(b.offset[i]!, b.offset[i]! + b.caplen[i]!));
    }
  }
}

/** Read through CaptureReader (path, '-' or stream). */
export async function readWithReader(input: string | Readable, name: string, opts: ReadOptions = {}): Promise<ReadResult & { gzip: boolean }> {
  const r = new CaptureReader(input, name, opts);
  const c = new Collector();
  let error;
  try {
    for await (const b of r.batches()) c.add(b);
  } catch (e) {
    error = e as ReadResult['error'];
  }
  return { list: c.list, sha256: c.hash.digest('hex'), format: r.parser.format, interfaces: r.parser.allInterfaces, error, batches: c.batches, gzip: r.gzip };
}

/** Bytes the parser sees for a fixture (gzip fixtures inflated as far as zlib can). */
export function plainBytes(name: string): Uint8Array {
  const raw = readFileSync(join(FOUNDATION, name));
  return name.endsWith('.gz') ? gunzipSync(raw, { finishFlush: zc.Z_SYNC_FLUSH }) : raw;
}

/** Feed `bytes` to the sans-IO parser in chunks of `chunk` bytes. */
export function parseInChunks(bytes: Uint8Array, name: string, chunk: number): ReadResult {
  const p = new CaptureParser(name);
  const c = new Collector();
  for (let o = 0; o < bytes.length && !p.error; o += chunk) for (const b of p.push(bytes.subarray(o, Math.min(bytes.length, o + chunk)))) c.add(b);
  p.end();
  return { list: c.list, sha256: c.hash.digest('hex'), format: p.format, interfaces: p.allInterfaces, error: p.error, batches: c.batches };
}
