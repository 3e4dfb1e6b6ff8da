// Split sink: writes one classic pcap per flow (packets in capture order, original ns timestamps and link type),
// named from the flow's Community ID digest (hex) or its flow_id. Open descriptors are bounded by an LRU (files
// are reopened in append mode); buffered bytes are bounded too. Packets in no flow go to other-<linktype>.pcap.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pcapFileHeader, putRecordHeader } from '../pcap/writer.js';
import type { PacketBatch } from '../pcap/batch.js';
import type { FlowRecord } from '../flow/record.js';
import type { FlowSink, PacketContext, SinkContext, SinkSpec } from './sink.js';

export interface SplitOptions {
  /** Output directory (created when missing). */
  out: string;
  /** File names: hex of the Community ID digest (default; flows of one tuple share a file) or the flow_id. */
  name?: 'community-id' | 'flow-id';
  /** Descriptors open at once per worker (default 128). */
  maxOpen?: number;
  /** Bytes buffered per worker before everything is written out (default 32 MiB). */
  maxBuffered?: number;
}

/** Totals of one worker's split sink. */
export interface SplitResult { files: number; packets: number; bytes: number; opens: number; reopens: number; linkTypeMismatch: number }

/** SinkSpec for runFlows() that loads this module in every worker. */
export function splitSinkSpec(o: SplitOptions): SinkSpec {
  return { module: fileURLToPath(import.meta.url), options: o };
}

/** File name (without directory) of a flow's pcap. */
export function splitFileName(flow: FlowRecord, name: SplitOptions['name'] = 'community-id'): string {
  if (name === 'flow-id') return `${flow.flowId.toString(16).padStart(16, '0')}.pcap`;
  const c = flow.communityId.slice(2);
  // The hex flavour is already hex; the base64 one is decoded to hex (case-insensitive file systems stay safe).
  const hex = /^[0-9a-f]{40}$/.test(c) ? c : Buffer.from(c, 'base64').toString('hex');
  return `${hex}.pcap`;
}

class OutFile {
  fd = -1;
  buf: Uint8Array = EMPTY;
  /** View of `buf` for the record headers (one per buffer). */
  dv = EMPTY_DV;
  pos = 0;
  constructor(readonly path: string, readonly linkType: number, public created: boolean) {}
}

const EMPTY = new Uint8Array(0);
const EMPTY_DV = new DataView(new ArrayBuffer(0));

/** Module entry for runFlows(): one SplitSink per worker. */
export function createSink(options: unknown, _ctx: SinkContext): FlowSink<SplitResult> {
  return new SplitSink(options as SplitOptions);
}

/** See the module comment. */
export class SplitSink implements FlowSink<SplitResult> {
  readonly result: SplitResult = { files: 0, packets: 0, bytes: 0, opens: 0, reopens: 0, linkTypeMismatch: 0 };
  readonly #o: Required<SplitOptions>;
  readonly #byFlow = new Map<FlowRecord, OutFile>();
  readonly #other = new Map<number, OutFile>();
  /** Files holding an open descriptor, least recently used first. */
  readonly #lru = new Map<OutFile, true>();
  /** Names already created in this run (later flows with the same name append). */
  readonly #created = new Set<string>();
  /** Bytes of records waiting in buffers, and the files holding them. */
  #buffered = 0;
  readonly #reuse: boolean;
  readonly #dirty = new Set<OutFile>();
  /** The batch bytes last copied from, as a Buffer. */
  #srcOf: Uint8Array | null = null;
  #src: Buffer = Buffer.alloc(0);

  constructor(o: SplitOptions) {
    this.#o = { name: 'community-id', maxOpen: 128, maxBuffered: 32 << 20, ...o };
    this.#reuse = this.#o.name === 'community-id';
    mkdirSync(o.out, { recursive: true });
  }

  onPacket(ctx: PacketContext): void {
    let f = this.#byFlow.get(ctx.flow);
    if (!f) {
      const name = splitFileName(ctx.flow, this.#o.name);
      // Flow ids are unique per flow: only Community ID names can come back (same tuple, later flow).
      const again = this.#reuse && this.#created.has(name);
      f = new OutFile(join(this.#o.out, name), ctx.batch.linkType[ctx.i]!, again);
      if (this.#reuse && !again) this.#created.add(name);
      this.#byFlow.set(ctx.flow, f);
    }
    this.#add(f, ctx.batch, ctx.i);
  }

  onOtherPacket(batch: PacketBatch, i: number): void {
    const lt = batch.linkType[i]!;
    let f = this.#other.get(lt);
    if (!f) {
      const name = `other-${lt}.pcap`;
      f = new OutFile(join(this.#o.out, name), lt, false);
      this.#created.add(name);
      this.#other.set(lt, f);
    }
    this.#add(f, batch, i);
  }

  onFlowEnd(flow: FlowRecord): void {
    const f = this.#byFlow.get(flow);
    if (!f) return;
    this.#byFlow.delete(flow);
    this.#flush(f);
    this.#close(f);
  }

  finish(): SplitResult {
    for (const f of this.#byFlow.values()) { this.#flush(f); this.#close(f); }
    for (const f of this.#other.values()) { this.#flush(f); this.#close(f); }
    this.#byFlow.clear(); this.#other.clear();
    return this.result;
  }

  #add(f: OutFile, batch: PacketBatch, i: number): void {
    const o = batch.offset[i]!, n = batch.caplen[i]!;
    if (batch.linkType[i]! !== f.linkType) this.result.linkTypeMismatch++;
    const need = f.pos + 16 + n;
    if (need > f.buf.length) {
      // Room for the file header too: it is put in front of the first records when the file is created.
      const nb = Buffer.allocUnsafe(Math.max(need + 24, f.buf.length * 2));
      nb.set(f.buf.subarray(0, f.pos));
      f.buf = nb;
      f.dv = new DataView(nb.buffer, nb.byteOffset, nb.byteLength);
    }
    const b = f.buf, p = f.pos;
    putRecordHeader(f.dv, p, batch.tsSec[i]!, batch.tsNsec[i]!, n, batch.origlen[i]!);
    // One Buffer view per batch: packet bytes are copied without a view per packet.
    if (batch.buf !== this.#srcOf) { this.#srcOf = batch.buf; this.#src = Buffer.from(batch.buf.buffer, batch.buf.byteOffset, batch.buf.byteLength); }
    this.#src.copy(b, p + 16, o, o + n);
    f.pos += 16 + n;
    this.#buffered += 16 + n;
    this.#dirty.add(f);
    this.result.packets++;
    this.result.bytes += n;
    if (f.pos >= 64 << 10) this.#flush(f);
    if (this.#buffered > this.#o.maxBuffered) for (const g of [...this.#dirty]) this.#flush(g);
  }

  /** Write buffered records (opening or reopening the file through the LRU). */
  #flush(f: OutFile): void {
    if (f.pos === 0 && f.created) return;
    if (f.fd < 0) {
      if (this.#lru.size >= this.#o.maxOpen) { const old = this.#lru.keys().next().value!; this.#close(old); }
      f.fd = openSync(f.path, f.created ? 'a' : 'w');
      this.result.opens++;
      if (f.created) this.result.reopens++;
      else {
        // The file header goes out with the first records: one write instead of two.
        const h = pcapFileHeader({ linkType: f.linkType, nsec: true });
        if (f.pos + h.length <= f.buf.length) { f.buf.copyWithin(h.length, 0, f.pos); f.buf.set(h, 0); f.pos += h.length; this.#buffered += h.length; }
        else writeSync(f.fd, h);
        f.created = true;
        this.result.files++;
      }
    } else this.#lru.delete(f);
    this.#lru.set(f, true);
    if (f.pos > 0) writeSync(f.fd, f.buf, 0, f.pos);
    this.#buffered -= f.pos;
    f.pos = 0;
    this.#dirty.delete(f);
    // Give back big buffers: an idle flow keeps at most 4 KiB.
    if (f.buf.length > 4096) { f.buf = EMPTY; f.dv = EMPTY_DV; }
  }

  #close(f: OutFile): void {
    if (f.fd >= 0) { closeSync(f.fd); f.fd = -1; this.#lru.delete(f); }
  }
}
