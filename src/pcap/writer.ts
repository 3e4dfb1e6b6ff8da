// Classic pcap writer: a sans-IO encoder that packs records into large buffers, and a file/stream writer
// that flushes those buffers honouring back-pressure.

import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import type { PacketBatch } from './batch.js';
import { PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './format.js';

export interface PcapWriterOptions {
  linkType: number;
  /** Header snaplen (default 262144). */
  snaplen?: number;
  /** Write ns timestamps (magic a1b23c4d) instead of µs. */
  nsec?: boolean;
  /** Byte order of the file (default LE). */
  byteOrder?: 'LE' | 'BE';
  versionMajor?: number;
  versionMinor?: number;
}

/** The 24-byte classic pcap file header. */
export function pcapFileHeader(o: PcapWriterOptions): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  const le = (o.byteOrder ?? 'LE') === 'LE';
  dv.setUint32(0, o.nsec ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, le);
  dv.setUint16(4, o.versionMajor ?? 2, le);
  dv.setUint16(6, o.versionMinor ?? 4, le);
  dv.setInt32(8, 0, le);
  dv.setUint32(12, 0, le);
  dv.setUint32(16, o.snaplen ?? 262144, le);
  dv.setUint32(20, o.linkType, le);
  return b;
}

/** Write a classic pcap record header at `p` of `dv`: seconds, sub-second part as the file stores it (µs or ns), caplen, origlen. */
export function putRecordHeader(dv: DataView, p: number, tsSec: number, tsSub: number, caplen: number, origlen: number, le = true): void {
  dv.setUint32(p, tsSec, le);
  dv.setUint32(p + 4, tsSub, le);
  dv.setUint32(p + 8, caplen, le);
  dv.setUint32(p + 12, origlen, le);
}

/** Packs pcap records into buffers of `bufSize` bytes; full buffers are handed to `sink`. */
export class PcapEncoder {
  readonly nsec: boolean;
  readonly le: boolean;
  #buf: Uint8Array;
  #dv: DataView;
  #pos = 0;
  #sink: (chunk: Uint8Array) => void;
  /** Records and bytes encoded so far (header excluded). */
  records = 0;
  bytes = 0;

  constructor(o: PcapWriterOptions, sink: (chunk: Uint8Array) => void, bufSize = 1 << 20) {
    this.nsec = !!o.nsec;
    this.le = (o.byteOrder ?? 'LE') === 'LE';
    this.#buf = new Uint8Array(bufSize);
    this.#dv = new DataView(this.#buf.buffer);
    this.#sink = sink;
  }

  /** Append one record; `tsNsec` is the sub-second part in ns (truncated to µs for µs files). */
  add(tsSec: number, tsNsec: number, data: Uint8Array, origlen: number): void {
    const need = 16 + data.length;
    if (this.#pos + need > this.#buf.length) {
      this.flush();
      if (need > this.#buf.length) {
        this.#buf = new Uint8Array(need);
        this.#dv = new DataView(this.#buf.buffer);
      }
    }
    const p = this.#pos;
    putRecordHeader(this.#dv, p, tsSec, this.nsec ? tsNsec : Math.floor(tsNsec / 1000), data.length, origlen, this.le);
    this.#buf.set(data, p + 16);
    this.#pos = p + need;
    this.records++;
    this.bytes += need;
  }

  /** Append packet `i` of `batch` with its original timestamp, caplen and origlen. */
  addFromBatch(batch: PacketBatch, i: number): void {
    const o = batch.offset[i]!;
    this.add(batch.tsSec[i]!, batch.tsNsec[i]!, batch.buf.subarray(o, o + batch.caplen[i]!), batch.origlen[i]!);
  }

  /** Hand buffered records to the sink (a copy: the encoder reuses its buffer). */
  flush(): void {
    if (this.#pos === 0) return;
    this.#sink(this.#buf.slice(0, this.#pos));
    this.#pos = 0;
  }
}

/** Writes a classic pcap to a path or stream; `write*` resolve when the destination has room again. */
export class PcapWriter {
  readonly #out: Writable;
  readonly #enc: PcapEncoder;
  #queued: Uint8Array[] = [];
  #ownStream: boolean;

  constructor(out: string | Writable, o: PcapWriterOptions) {
    this.#ownStream = typeof out === 'string';
    this.#out = typeof out === 'string' ? createWriteStream(out) : out;
    this.#enc = new PcapEncoder(o, (c) => this.#queued.push(c));
    this.#queued.push(pcapFileHeader(o));
  }

  get records(): number { return this.#enc.records; }

  /** Add one record (see PcapEncoder.add) and wait if the destination is full. */
  async write(tsSec: number, tsNsec: number, data: Uint8Array, origlen: number): Promise<void> {
    this.#enc.add(tsSec, tsNsec, data, origlen);
    if (this.#queued.length) await this.#drain();
  }

  /** Add packets of `batch` (all, or those whose index is listed) and wait if the destination is full. */
  async writeBatch(batch: PacketBatch, indexes?: ArrayLike<number>): Promise<void> {
    if (indexes) for (let k = 0; k < indexes.length; k++) this.#enc.addFromBatch(batch, indexes[k]!);
    else for (let i = 0; i < batch.count; i++) this.#enc.addFromBatch(batch, i);
    if (this.#queued.length) await this.#drain();
  }

  async #drain(): Promise<void> {
    const q = this.#queued;
    this.#queued = [];
    for (const c of q) {
      if (!this.#out.write(c)) await once(this.#out, 'drain');
    }
  }

  /** Flush everything and close the destination (if we opened it). */
  async close(): Promise<void> {
    this.#enc.flush();
    await this.#drain();
    if (this.#ownStream) {
      const ws = this.#out as WriteStream;
      ws.end();
      await once(ws, 'close');
    }
  }
}
