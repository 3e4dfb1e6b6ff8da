// A PacketBatch is the unit that moves through the pipeline: one byte buffer plus a typed-array index,
// never an object per packet. Views into `buf` are valid only as long as the batch is alive.

/** Bytes of index per packet: offset u32, caplen u32, origlen u32, tsSec f64, tsNsec f64, recOffset f64, linkType u16, iface u16. */
export const INDEX_BYTES_PER_PACKET = 4 + 4 + 4 + 8 + 8 + 8 + 2 + 2;

/** One buffer of packet bytes and the index of the packets inside it. */
export interface PacketBatch {
  /** Bytes the packets point into (a chunk of the input or a copy); offsets below index it. */
  buf: Uint8Array;
  /** Number of packets in the batch. */
  count: number;
  /** Start of each packet's captured bytes in `buf`. */
  offset: Uint32Array;
  /** Captured length of each packet. */
  caplen: Uint32Array;
  /** Original (on-the-wire) length of each packet. */
  origlen: Uint32Array;
  /** Whole seconds since the epoch. */
  tsSec: Float64Array;
  /** Sub-second part in nanoseconds (µs files: usec*1000, kept raw even when ≥ 1e9, as tcpdump prints it). */
  tsNsec: Float64Array;
  /** Byte offset of each packet's record (classic) or block (pcapng) in the decompressed input. */
  recOffset: Float64Array;
  /** DLT/LINKTYPE of each packet (masked as libpcap does). */
  linkType: Uint16Array;
  /** pcapng interface id (0 for classic pcap). */
  iface: Uint16Array;
  /** Index of the first packet of this batch in its input (0-based). */
  firstIndex: number;
  /** Name of the input this batch came from. */
  source: string;
}

/** Allocate an empty batch whose index can hold `capacity` packets (one ArrayBuffer, transferable). */
export function allocBatch(buf: Uint8Array, capacity: number, source: string, firstIndex: number): PacketBatch {
  const ab = new ArrayBuffer(capacity * INDEX_BYTES_PER_PACKET);
  return viewBatch(buf, ab, capacity, 0, source, firstIndex);
}

/** Rebuild a batch around an index ArrayBuffer laid out by allocBatch (e.g. after a worker transfer). */
export function viewBatch(buf: Uint8Array, index: ArrayBuffer, capacity: number, count: number, source: string, firstIndex: number): PacketBatch {
  let o = 0;
  const tsSec = new Float64Array(index, o, capacity); o += capacity * 8;
  const tsNsec = new Float64Array(index, o, capacity); o += capacity * 8;
  const recOffset = new Float64Array(index, o, capacity); o += capacity * 8;
  const offset = new Uint32Array(index, o, capacity); o += capacity * 4;
  const caplen = new Uint32Array(index, o, capacity); o += capacity * 4;
  const origlen = new Uint32Array(index, o, capacity); o += capacity * 4;
  const linkType = new Uint16Array(index, o, capacity); o += capacity * 2;
  const iface = new Uint16Array(index, o, capacity);
  return { buf, count, offset, caplen, origlen, tsSec, tsNsec, recOffset, linkType, iface, firstIndex, source };
}

/** Capacity of a batch's index (packets it can hold). */
export function batchCapacity(b: PacketBatch): number {
  return b.offset.length;
}

/** Return a batch with twice the index capacity and the same packets. */
export function growBatch(b: PacketBatch): PacketBatch {
  const cap = batchCapacity(b);
  const n = allocBatch(b.buf, Math.max(64, cap * 2), b.source, b.firstIndex);
  n.count = b.count;
  n.offset.set(b.offset.subarray(0, b.count));
  n.caplen.set(b.caplen.subarray(0, b.count));
  n.origlen.set(b.origlen.subarray(0, b.count));
  n.tsSec.set(b.tsSec.subarray(0, b.count));
  n.tsNsec.set(b.tsNsec.subarray(0, b.count));
  n.recOffset.set(b.recOffset.subarray(0, b.count));
  n.linkType.set(b.linkType.subarray(0, b.count));
  n.iface.set(b.iface.subarray(0, b.count));
  return n;
}

/** Bytes of packet `i` (a view, valid while the batch lives). */
export function packetBytes(b: PacketBatch, i: number): Uint8Array {
  const o = b.offset[i]!;
  return b.buf.subarray(o, o + b.caplen[i]!);
}
