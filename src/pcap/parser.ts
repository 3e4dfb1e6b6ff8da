// Sans-IO capture parser: feed it chunks of a classic pcap or pcapng byte stream, get PacketBatches back.
// Records are indexed in place (zero-copy); only a record that straddles two chunks is copied.
// On a fault it keeps every packet before it and sets `error` (file + byte offset); later input is ignored.

import { CaptureFormatError, ERR } from '../errors.js';
import { INDEX_BYTES_PER_PACKET, allocBatch, batchCapacity, growBatch, viewBatch, type PacketBatch } from './batch.js';
import {
  LINKTYPE_MASK, PCAPNG_BOM, PCAPNG_MAX_BLOCK, PCAPNG_SHB, PCAP_MAGIC_MODIFIED, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, maxCaplenFor,
  type CaptureFormat, type CaptureInterface,
} from './format.js';

const TWO32 = 4294967296;

/** Caller-owned memory for a batch index (region mode), laid out as allocBatch's. */
export interface IndexSpace { buffer: ArrayBufferLike }

/** Incremental parser for one capture input. */
export class CaptureParser {
  readonly source: string;
  format: CaptureFormat | undefined;
  /** Interfaces seen so far (classic: one; pcapng: per section, ids restart at each SHB). */
  interfaces: CaptureInterface[] = [];
  /** Every interface of every section, in order of appearance (for reporting). */
  allInterfaces: CaptureInterface[] = [];
  /** First fault met; packets before it were delivered. */
  error: CaptureFormatError | undefined;
  /** Packets delivered so far. */
  packets = 0;
  /** Absolute offset (in the decompressed input) of the next byte not yet consumed. */
  consumed = 0;
  #pending: Uint8Array | null = null;
  /** Buffer `#pending` views (its capacity may exceed the pending bytes). */
  #pbuf: Uint8Array | null = null;
  #le = true;
  #nsec = false;
  #recHdr = 16;
  #linkType = 1;
  #isNg = false;
  #headerDone = false;

  constructor(source = '-') {
    this.source = source;
  }

  /** Feed the next chunk; returns the batches of records completed by it (possibly none). */
  push(chunk: Uint8Array): PacketBatch[] {
    const out: PacketBatch[] = [];
    if (this.error || chunk.length === 0) return out;
    if (!this.#headerDone) {
      const all = this.#pending ? concat(this.#pending, chunk) : chunk;
      this.#pending = null;
      const used = this.#parseFileHeader(all);
      if (this.error) return out;
      if (used < 0) {
        this.#pending = copy(all);
        return out;
      }
      this.#headerDone = true;
      this.consumed += used;
      chunk = all.subarray(used);
      if (chunk.length === 0) return out;
    }
    if (this.#pending) {
      const p = this.#pending;
      const hdrNeed = this.#isNg ? 12 : this.#recHdr;
      const head = p.length >= hdrNeed ? p : concat(p, chunk.subarray(0, hdrNeed - p.length));
      if (head.length < hdrNeed) {
        this.#appendPending(chunk, hdrNeed);
        return out;
      }
      const recLen = this.#recordLength(head, this.consumed);
      if (recLen < 0) return out; // error set
      if (p.length + chunk.length < recLen) {
        this.#appendPending(chunk, recLen);
        return out;
      }
      const take = recLen - p.length;
      this.#appendPending(chunk.subarray(0, take), recLen);
      const rec = this.#pending!;
      // The record's buffer now belongs to the batch that indexes it: never reuse it for later pending bytes.
      this.#pending = null;
      this.#pbuf = null;
      this.#region(rec, out);
      if (this.error) return out;
      chunk = chunk.subarray(take);
    }
    const used = this.#region(chunk, out);
    if (!this.error && used < chunk.length) {
      this.#pending = copy(chunk.subarray(used));
      this.#pbuf = this.#pending;
    }
    return out;
  }

  /**
   * Append `more` to the pending (straddling) bytes, in a buffer of at least `cap` bytes (the record's length once
   * known), so a big record arriving in many small chunks is copied once, not once per chunk.
   */
  #appendPending(more: Uint8Array, cap: number): void {
    const p = this.#pending!;
    const need = p.length + more.length;
    let buf = this.#pbuf;
    if (!buf || buf.buffer !== p.buffer || p.byteOffset !== buf.byteOffset || buf.length < need) {
      buf = new Uint8Array(Math.max(need, cap, buf && buf.length < need ? buf.length * 2 : 0));
      buf.set(p, 0);
      this.#pbuf = buf;
    }
    buf.set(more, p.length);
    this.#pending = buf.subarray(0, need);
  }

  /** Signal end of input: leftover bytes are a truncated record (sets `error`). */
  end(): void {
    if (this.error) return;
    if (!this.#headerDone) {
      const have = this.#pending ? this.#pending.length : 0;
      this.error = new CaptureFormatError(have === 0 ? ERR.EMPTY : ERR.TRUNCATED_HEADER,
        have === 0 ? 'empty capture file' : `truncated capture file header: ${have} bytes`, { file: this.source, offset: 0 });
      return;
    }
    if (this.#pending && this.#pending.length > 0) {
      const p = this.#pending;
      let msg = `truncated ${this.#isNg ? 'block' : 'record'}: ${p.length} bytes at end of input`;
      const hdrNeed = this.#isNg ? 12 : this.#recHdr;
      if (p.length >= hdrNeed) {
        const dv = dview(p);
        const want = this.#isNg ? dv.getUint32(4, this.#le) : this.#recHdr + dv.getUint32(8, this.#le);
        msg = `truncated ${this.#isNg ? 'block' : 'record'}: needs ${want} bytes, only ${p.length} left`;
      }
      this.error = new CaptureFormatError(this.#isNg ? ERR.TRUNCATED_BLOCK : ERR.TRUNCATED_RECORD, msg,
        { file: this.source, offset: this.consumed });
      this.#pending = null;
    }
  }

  /**
   * Index capacity for a region of `bytes`: sized from the packet density seen so far (+25%), so a 1 MiB chunk of
   * average traffic allocates ~100 KB of index instead of one slot per 64 bytes; growBatch covers a denser chunk.
   */
  #capacityFor(bytes: number): number {
    if (this.packets < 64 || this.consumed === 0) return (bytes >>> 6) + 16;
    return Math.min((bytes >>> 4) + 16, Math.ceil((bytes * this.packets * 1.25) / this.consumed) + 64);
  }

  #fail(code: string, msg: string, offset: number): void {
    this.error = new CaptureFormatError(code, msg, { file: this.source, offset });
  }

  /** Parse the file header at the start of `b`; returns bytes used, -1 when more input is needed. */
  #parseFileHeader(b: Uint8Array): number {
    if (b.length < 4) return -1;
    const dv = dview(b);
    const m = dv.getUint32(0, false);
    if (m === PCAPNG_SHB) {
      this.#isNg = true;
      if (b.length < 12) return -1;
      // The SHB is parsed by the region loop; nothing is consumed here.
      const bom = dv.getUint32(8, true);
      if (bom !== PCAPNG_BOM && dv.getUint32(8, false) !== PCAPNG_BOM) {
        this.#fail(ERR.BAD_MAGIC, 'pcapng section header with bad byte-order magic', 8);
        return 0;
      }
      return 0;
    }
    let le: boolean;
    const mle = dv.getUint32(0, true);
    if (m === PCAP_MAGIC_USEC || m === PCAP_MAGIC_NSEC || m === PCAP_MAGIC_MODIFIED) le = false;
    else if (mle === PCAP_MAGIC_USEC || mle === PCAP_MAGIC_NSEC || mle === PCAP_MAGIC_MODIFIED) le = true;
    else {
      this.#fail(ERR.BAD_MAGIC, `unknown file format (magic 0x${m.toString(16).padStart(8, '0')})`, 0);
      return 0;
    }
    if (b.length < 24) return -1;
    const magic = dv.getUint32(0, le);
    this.#le = le;
    this.#nsec = magic === PCAP_MAGIC_NSEC;
    this.#recHdr = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
    const snaplen = dv.getUint32(16, le);
    this.#linkType = dv.getUint32(20, le) & LINKTYPE_MASK;
    const iface: CaptureInterface = { linkType: this.#linkType, snaplen, tsresolBase: 10, tsresolExp: this.#nsec ? 9 : 6, tsoffset: 0 };
    this.interfaces = [iface];
    this.allInterfaces = [iface];
    this.format = {
      kind: 'pcap', byteOrder: le ? 'LE' : 'BE', resolution: this.#nsec ? 'nsec' : 'usec',
      versionMajor: dv.getUint16(4, le), versionMinor: dv.getUint16(6, le), snaplen, linkType: this.#linkType, gzip: false,
    };
    return 24;
  }

  /** Total length of the record/block whose header starts `head`; -1 (and error) when it is invalid. */
  #recordLength(head: Uint8Array, absOffset: number): number {
    const dv = dview(head);
    if (!this.#isNg) {
      const caplen = dv.getUint32(8, this.#le);
      if (caplen > maxCaplenFor(this.#linkType)) {
        this.#fail(ERR.BAD_CAPLEN, `invalid packet capture length ${caplen}, bigger than maximum of ${maxCaplenFor(this.#linkType)}`, absOffset);
        return -1;
      }
      return this.#recHdr + caplen;
    }
    let le = this.#le;
    if (dv.getUint32(0, true) === PCAPNG_SHB) le = dv.getUint32(8, true) === PCAPNG_BOM;
    const len = dv.getUint32(4, le);
    if (len < 12 || len % 4 !== 0 || len > PCAPNG_MAX_BLOCK) {
      this.#fail(ERR.BAD_BLOCK, blockLengthMessage(len), absOffset);
      return -1;
    }
    return len;
  }

  /** Parse whole records in `b`; append packets to the last batch of `out`; return bytes consumed. */
  #region(b: Uint8Array, out: PacketBatch[], index?: IndexSpace): number {
    return this.#isNg ? this.#regionNg(b, out, index) : this.#regionClassic(b, out, index);
  }

  /** A batch for a region of `b`: its index in `index` when given and big enough, else a new one. */
  #newBatch(b: Uint8Array, index: IndexSpace | undefined): PacketBatch {
    const want = this.#capacityFor(b.length);
    if (index === undefined) return allocBatch(b, want, this.source, this.packets);
    const cap = Math.floor(index.buffer.byteLength / INDEX_BYTES_PER_PACKET);
    return cap >= want || cap >= (b.length >>> 4) + 1
      ? viewBatch(b, index.buffer as ArrayBuffer, cap, 0, this.source, this.packets)
      : allocBatch(b, want, this.source, this.packets);
  }

  /**
   * Region mode, for a caller that owns the buffers (e.g. a shared ring): index the whole records at the start of
   * `b` in place, parsing the file header first when it has not been seen. Returns the batch (null when no
   * packet was complete) and the bytes consumed; the caller passes the unconsumed tail again at the start of its
   * next region, followed by new input, and calls regionEnd() at end of input. The batch's index lives in
   * `index.buffer` when that holds capacityFor-many packets (see indexBytesFor), else in a new ArrayBuffer.
   */
  pushRegion(b: Uint8Array, index?: IndexSpace): { batch: PacketBatch | null; used: number } {
    if (this.error) return { batch: null, used: 0 };
    let used = 0;
    if (!this.#headerDone) {
      used = this.#parseFileHeader(b);
      if (this.error || used < 0) return { batch: null, used: 0 };
      this.#headerDone = true;
      this.consumed += used;
    }
    const out: PacketBatch[] = [];
    used += this.#region(used ? b.subarray(used) : b, out, index);
    const batch = out.length ? out[0]! : null;
    // Offsets of a batch are relative to its buffer: with a header skipped, shift them to `b`.
    if (batch && batch.buf !== b) {
      const off = b.length - batch.buf.length;
      for (let i = 0; i < batch.count; i++) batch.offset[i] += off;
      batch.buf = b;
    }
    return { batch, used };
  }

  /** Region mode's end of input: `left` bytes were not consumed (a truncated record or header: sets `error`). */
  regionEnd(left: Uint8Array): void {
    if (this.error) return;
    this.#pending = left.length ? copy(left) : null;
    this.end();
  }

  /** Index bytes a region of `bytes` needs in region mode to avoid a fresh index (at the current packet density). */
  indexBytesFor(bytes: number): number {
    return this.#capacityFor(bytes) * INDEX_BYTES_PER_PACKET;
  }

  #regionClassic(b: Uint8Array, out: PacketBatch[], index?: IndexSpace): number {
    const dv = dview(b);
    const le = this.#le;
    const end = b.length;
    const hdr = this.#recHdr;
    const maxCap = maxCaplenFor(this.#linkType);
    const mult = this.#nsec ? 1 : 1000;
    const lt = this.#linkType;
    const base = this.consumed;
    let batch = this.#newBatch(b, index);
    let cap = batchCapacity(batch);
    let n = 0;
    let pos = 0;
    while (pos + hdr <= end) {
      const caplen = dv.getUint32(pos + 8, le);
      if (caplen > maxCap) {
        this.#fail(ERR.BAD_CAPLEN, `invalid packet capture length ${caplen}, bigger than maximum of ${maxCap}`, base + pos);
        break;
      }
      if (pos + hdr + caplen > end) break;
      if (n === cap) {
        batch.count = n;
        batch = growBatch(batch);
        cap = batchCapacity(batch);
      }
      batch.tsSec[n] = dv.getUint32(pos, le);
      batch.tsNsec[n] = dv.getUint32(pos + 4, le) * mult;
      batch.caplen[n] = caplen;
      batch.origlen[n] = dv.getUint32(pos + 12, le);
      batch.offset[n] = pos + hdr;
      batch.recOffset[n] = base + pos;
      batch.linkType[n] = lt;
      batch.iface[n] = 0;
      n++;
      pos += hdr + caplen;
    }
    batch.count = n;
    if (n > 0) out.push(batch);
    this.packets += n;
    this.consumed += pos;
    return pos;
  }

  #regionNg(b: Uint8Array, out: PacketBatch[], index?: IndexSpace): number {
    let dv = dview(b);
    const end = b.length;
    const base = this.consumed;
    let batch = this.#newBatch(b, index);
    let cap = batchCapacity(batch);
    let n = 0;
    let pos = 0;
    while (pos + 12 <= end) {
      let le = this.#le;
      const rawType = dv.getUint32(pos, true);
      const isShb = rawType === PCAPNG_SHB;
      if (isShb) {
        const bomLe = dv.getUint32(pos + 8, true);
        if (bomLe === PCAPNG_BOM) le = true;
        else if (dv.getUint32(pos + 8, false) === PCAPNG_BOM) le = false;
        else {
          this.#fail(ERR.BAD_MAGIC, 'pcapng section header with bad byte-order magic', base + pos + 8);
          break;
        }
      }
      const type = dv.getUint32(pos, le);
      const len = dv.getUint32(pos + 4, le);
      if (len < 12 || len % 4 !== 0 || len > PCAPNG_MAX_BLOCK) {
        this.#fail(ERR.BAD_BLOCK, blockLengthMessage(len), base + pos);
        break;
      }
      if (pos + len > end) break;
      if (dv.getUint32(pos + len - 4, le) !== len) {
        this.#fail(ERR.BAD_BLOCK, `pcapng block trailing length ${dv.getUint32(pos + len - 4, le)} differs from leading length ${len}`, base + pos);
        break;
      }
      if (isShb) {
        this.#le = le;
        this.interfaces = [];
        if (!this.format) {
          this.format = { kind: 'pcapng', byteOrder: le ? 'LE' : 'BE', resolution: 'usec', versionMajor: dv.getUint16(pos + 12, le),
            versionMinor: dv.getUint16(pos + 14, le), snaplen: 0, linkType: -1, gzip: false };
        }
      } else if (type === 1) {
        const iface = this.#parseIdb(dv, pos, len, le);
        if (!iface) break;
        this.interfaces.push(iface);
        this.allInterfaces.push(iface);
        if (this.format && this.format.linkType === -1) {
          this.format.linkType = iface.linkType;
          this.format.snaplen = iface.snaplen;
          this.format.resolution = iface.tsresolBase === 10 && iface.tsresolExp === 6 ? 'usec'
            : iface.tsresolBase === 10 && iface.tsresolExp === 9 ? 'nsec' : `${iface.tsresolBase}^-${iface.tsresolExp}`;
        }
      } else if (type === 6 || type === 3 || type === 2) {
        let ifId: number, caplen: number, origlen: number, data: number, hi = 0, lo = 0;
        if (type === 3) {
          ifId = 0;
          origlen = dv.getUint32(pos + 8, le);
          data = pos + 12;
          caplen = Math.min(origlen, len - 16);
          const i0 = this.interfaces[0];
          if (i0 && i0.snaplen > 0) caplen = Math.min(caplen, i0.snaplen);
        } else {
          ifId = type === 6 ? dv.getUint32(pos + 8, le) : dv.getUint16(pos + 8, le);
          hi = dv.getUint32(pos + 12, le);
          lo = dv.getUint32(pos + 16, le);
          caplen = dv.getUint32(pos + 20, le);
          origlen = dv.getUint32(pos + 24, le);
          data = pos + 28;
          if (data + caplen > pos + len - 4) {
            this.#fail(ERR.BAD_BLOCK, `pcapng packet block caplen ${caplen} exceeds its block length ${len}`, base + pos);
            break;
          }
        }
        const iface = this.interfaces[ifId];
        if (!iface) {
          this.#fail(ERR.NO_INTERFACE, `pcapng packet block refers to interface ${ifId}, not described by an IDB`, base + pos);
          break;
        }
        if (n === cap) {
          batch.count = n;
          batch = growBatch(batch);
          cap = batchCapacity(batch);
        }
        tsFromTicks(iface, hi, lo, batch, n);
        batch.caplen[n] = caplen;
        batch.origlen[n] = origlen;
        batch.offset[n] = data;
        batch.recOffset[n] = base + pos;
        batch.linkType[n] = iface.linkType;
        batch.iface[n] = ifId;
        n++;
      }
      pos += len;
    }
    batch.count = n;
    if (n > 0) out.push(batch);
    this.packets += n;
    this.consumed += pos;
    dv = null as unknown as DataView;
    return pos;
  }

  #parseIdb(dv: DataView, pos: number, len: number, le: boolean): CaptureInterface | null {
    if (len < 20) {
      this.#fail(ERR.BAD_BLOCK, `pcapng interface description block too short (${len})`, this.consumed + pos);
      return null;
    }
    const iface: CaptureInterface = { linkType: dv.getUint16(pos + 8, le), snaplen: dv.getUint32(pos + 12, le), tsresolBase: 10, tsresolExp: 6, tsoffset: 0 };
    let o = pos + 16;
    const end = pos + len - 4;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      const v = o + 4;
      if (code === 0 || v + olen > end) break;
      if (code === 9 && olen >= 1) {
        const r = dv.getUint8(v);
        if (r & 0x80) { iface.tsresolBase = 2; iface.tsresolExp = r & 0x7f; } else { iface.tsresolBase = 10; iface.tsresolExp = r; }
      } else if (code === 14 && olen >= 8) {
        iface.tsoffset = Number(dv.getBigInt64(v, le));
      } else if (code === 2) {
        iface.name = new TextDecoder().decode(new Uint8Array(dv.buffer, dv.byteOffset + v, olen)).replace(/\0+$/, '');
      }
      o = v + ((olen + 3) & ~3);
    }
    return iface;
  }
}

/** Convert a pcapng 64-bit tick count to (seconds, nanoseconds) for interface `iface`. */
function tsFromTicks(iface: CaptureInterface, hi: number, lo: number, batch: PacketBatch, i: number): void {
  if (iface.tsresolBase === 10 && iface.tsresolExp === 6 && hi < 0x200000) {
    const t = hi * TWO32 + lo;
    const s = Math.floor(t / 1e6);
    batch.tsSec[i] = s + iface.tsoffset;
    batch.tsNsec[i] = (t - s * 1e6) * 1000;
    return;
  }
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const units = iface.tsresolBase === 10 ? 10n ** BigInt(iface.tsresolExp) : 1n << BigInt(iface.tsresolExp);
  const s = t / units;
  const frac = t % units;
  batch.tsSec[i] = Number(s) + iface.tsoffset;
  batch.tsNsec[i] = Number((frac * 1000000000n) / units);
}

function blockLengthMessage(len: number): string {
  return len > PCAPNG_MAX_BLOCK ? `pcapng block total length ${len} exceeds the maximum of ${PCAPNG_MAX_BLOCK}`
    : `pcapng block total length ${len} is invalid`;
}

function dview(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a, 0);
  r.set(b, a.length);
  return r;
}

function copy(a: Uint8Array): Uint8Array {
  return a.slice();
}
