// ShardCore: the per-worker heart of the pipeline. It walks every packet of every batch (decode, defrag, key,
// hash) so all shards share one capture clock, and handles only the packets whose flow hash maps to its shard:
// flow table, sinks, and the ended flows for the output (EndedFlows: EVE lines written as flows end, or records). The
// sequential mode is one ShardCore with workers = 1 in the calling thread. ShardMapper is the main thread's
// packet → shard map for the parallel mode; for runs without sinks it also hands each plain IPv4 TCP/UDP/ICMP
// packet's key to its shard, which then skips decoding it.

import { decodeBatchPacket, UDP_PORT_GENEVE, UDP_PORT_VXLAN } from '../decode/decode.js';
import { PROTO_ICMP, PacketView } from '../decode/view.js';
import type { PacketBatch } from '../pcap/batch.js';
import { DefragTracker, Frag, type DefragCounters, type DefragOptions, type HeldFragment } from '../flow/defrag.js';
import { KEY_WORDS, KeyBuilder, hashKeyWords, icmpCounterpart, shardOf } from '../flow/key.js';
import type { FlowRecord } from '../flow/record.js';
import { FlowTable, type FlowIdFn, type FlowTableCounters, type FlowTableOptions } from '../flow/table.js';
import type { FlowSink, PacketContext } from './sink.js';
import type { Alert } from '../eve/alert.js';
import { AlertedIndex } from '../eve/alerted.js';
import { EndedFlows } from './ended-flows.js';
import type { PackedFlows } from './packed.js';

export interface CoreOptions {
  worker: number;
  workers: number;
  table?: FlowTableOptions;
  defrag?: DefragOptions;
  /**
   * Keep ended flows for the caller (takeEnded, finish): as EVE lines ('eve', written as each flow ends, no record
   * object per flow) or as records ('records'); absent, flows end for the sinks only.
   */
  output?: 'eve' | 'records';
  /** Alerts known for this input: every ended flow gets `alerted` (true when one of them fired on it). */
  alerts?: Alert[];
}

/** Counters of one shard (packets walked, packets owned, non-IP) plus its table's and defrag's. */
export interface CoreCounters {
  /** Packets walked (every packet of the input, in every shard). */
  packets: number;
  /** Packets walked that are not IPv4/IPv6 (ARP, other link payloads, undecodable): in no flow. */
  nonIp: number;
  /** Bytes (captured) of non-IP packets. */
  nonIpBytes: number;
  table: FlowTableCounters;
  defrag: DefragCounters;
}

/** Processes batches for shard `worker` of `workers`; see the module comment. */
export class ShardCore {
  readonly table: FlowTable;
  readonly defrag: DefragTracker;
  /** Ended flows not yet taken (with an output), or null. */
  readonly #ended: EndedFlows | null;
  #packets = 0;
  #nonIp = 0;
  #nonIpBytes = 0;
  #defragCheck = 0;
  readonly #v = new PacketView();
  readonly #hv = new PacketView();
  readonly #kb: KeyBuilder;
  readonly #ctx: PacketContext;
  /** Per flow slot: bit k set when sink k ignores the flow (see PacketContext.ignore). */
  #ignored = new Int32Array(1024);
  readonly #allIgnored: number;
  #slot = 0;
  #sinkNo = 0;
  readonly #sinks: FlowSink[];
  readonly #other: FlowSink[];
  readonly #worker: number;
  readonly #workers: number;

  constructor(o: CoreOptions, sinks: FlowSink[], flowId: FlowIdFn) {
    this.#worker = o.worker;
    this.#workers = Math.max(1, o.workers);
    this.#sinks = sinks;
    this.#other = sinks.filter((s) => typeof s.onOtherPacket === 'function');
    this.#kb = new KeyBuilder(o.table?.vlan ?? true);
    const ended = this.#ended = o.output ? new EndedFlows(o.output) : null;
    const alerted = o.alerts ? new AlertedIndex(o.alerts) : null;
    // Only the first 31 sinks can ignore flows; with more, no mask is ever "all" (2^31 is not an int32).
    const all = this.#allIgnored = sinks.length <= 31 ? (1 << sinks.length) - 1 : 2 ** 31;
    this.table = new FlowTable(o.table ?? {}, (rec, slot, text) => {
      if (alerted) rec.alerted = alerted.alerted(rec);
      const mask = slot < this.#ignored.length ? this.#ignored[slot]! : 0;
      for (let k = 0; k < sinks.length; k++) if (k >= 31 || (mask & (1 << k)) === 0) sinks[k]!.onFlowEnd(rec, slot);
      if (ended) ended.add(rec, text);
    }, flowId,
    // A record is built at a flow's end only for the records output or for a sink that did not ignore the flow;
    // the EVE output reads the others from the table's scratch record, whose text fields are written straight
    // into the line unless alerts must be matched (by Community ID or addresses) first.
    o.output === 'records' ? null : (slot) => sinks.length > 0 && (slot < this.#ignored.length ? this.#ignored[slot]! : 0) !== all,
    o.output === 'eve' ? (alerted ? 'record' : 'text') : 'none');
    this.defrag = new DefragTracker(o.defrag);
    const table = this.table;
    this.#ctx = {
      batch: null as unknown as PacketBatch, i: 0, view: this.#v, slot: 0, toServer: true, packetIndex: 0,
      get flow(): FlowRecord { return table.record(this.slot); },
      ignore: () => { if (this.#sinkNo < 31) this.#ignored[this.#slot] |= 1 << this.#sinkNo; },
    };
  }

  /**
   * Walk every packet of `batch` (batches must come in input order). With `shards` (ShardMapper's output),
   * packets mapped to another shard only move the clock: they are not decoded again. With `keys` (ShardMapper's
   * keyed packets) and no sinks, a keyed packet of this shard goes to the table without being decoded.
   */
  processBatch(batch: PacketBatch, shards?: Uint8Array, keys?: Uint32Array): void {
    const v = this.#v, kb = this.#kb, table = this.table, defrag = this.defrag;
    const n = batch.count, tsSec = batch.tsSec, tsNsec = batch.tsNsec;
    const workers = this.#workers, me = this.#worker;
    const keyed = this.#sinks.length === 0 ? keys : undefined, kw = kb.words;
    for (let i = 0; i < n; i++) {
      const idx = this.#packets++;
      const t = tsSec[i]! + tsNsec[i]! * 1e-9;
      table.advance(t);
      if (defrag.size > 0 && table.clock - this.#defragCheck >= 1) {
        this.#defragCheck = table.clock;
        defrag.expire(table.clock);
        if (defrag.out.length) this.#held(defrag.out);
      }
      if (shards !== undefined) { const sh = shards[i]!; if (sh !== me && sh !== SHARD_ALL) continue; }
      if (keyed !== undefined) {
        const k = i * MAPPED_KEY_WORDS, m = keyed[k + 5]!;
        if (m !== 0) {
          // The table reads the key, its hash and side, the protocol and the TCP flags: all mapped already.
          const proto = (m >>> 16) & 0xff;
          kw[0] = 4 | (proto << 8); kw[1] = keyed[k + 1]!; kw[2] = keyed[k + 2]!; kw[3] = keyed[k + 3]!; kw[7] = keyed[k + 4]!;
          kw[4] = 0; kw[5] = 0; kw[6] = 0; kw[8] = 0; kw[9] = 0; kw[10] = 0;
          kb.swapped = (m & 2) !== 0;
          v.proto = proto; v.tcpFlags = (m >>> 8) & 0xff;
          if (proto === PROTO_ICMP) { v.tcpFlags = 0; v.icmpType = (m >>> 8) & 0xff; v.icmpCode = m >>> 24; }
          table.packet(kb, keyed[k]!, v, batch, i);
          continue;
        }
      }
      decodeBatchPacket(v, batch, i, true);
      if (v.ipVersion === 0) {
        this.#nonIp++; this.#nonIpBytes += batch.caplen[i]!;
        if (me === 0 && this.#other.length) for (const s of this.#other) s.onOtherPacket!(batch, i, idx);
        continue;
      }
      if (v.isFragment) {
        const r = defrag.resolve(v, batch, i, idx, table.clock);
        if (defrag.out.length) this.#held(defrag.out);
        if (r === Frag.Held) continue;
      }
      kb.build(v, v.srcPort, v.dstPort);
      const h = kb.hash();
      if (workers > 1 && shardOf(h, workers) !== me) continue;
      this.#deliver(h, v, batch, i, idx);
    }
  }

  /**
   * End of input: orphan held fragments, end every flow (reason shutdown). With an output, the flows not yet
   * taken go to `out` in output order, in runs of about `chunk` flows (last = true on the final call),
   * continuing the order of takeEnded(), so the shutdown flush never has to be held all at once.
   */
  finish(out?: (p: PackedFlows | null, last: boolean) => void, chunk = 1024): void {
    this.defrag.flush();
    if (this.defrag.out.length) this.#held(this.defrag.out);
    const ended = this.#ended;
    if (!out || !ended) { this.table.flush(); return; }
    const before = ended.takeBefore(this.table.clock);
    if (before) out(before, false);
    let added = ended.size;
    // Each chunk of shutdown flows (added in output order) goes out with the waiting flows that sort before it.
    this.table.flush(chunk, () => { if (ended.size > added) out(ended.takeThroughLast(false), false); added = ended.size; });
    out(ended.takeThroughLast(true), true);
  }

  /**
   * Take the flows that ended before the capture clock, in output order (null when none). Flows ending at the
   * clock itself are held back (a later packet with the same time may end one that sorts before them), so the
   * runs returned by successive calls form one ordered sequence.
   */
  takeEnded(): PackedFlows | null {
    return this.#ended!.takeBefore(this.table.clock);
  }

  /** Counters so far. */
  get counters(): CoreCounters {
    return { packets: this.#packets, nonIp: this.#nonIp, nonIpBytes: this.#nonIpBytes, table: { ...this.table.counters }, defrag: { ...this.defrag.counters } };
  }

  #deliver(h: number, v: PacketView, batch: PacketBatch, i: number, idx: number): void {
    const table = this.table;
    const slot = table.packet(this.#kb, h, v, batch, i);
    const sinks = this.#sinks;
    if (sinks.length === 0) return;
    // Sinks that called ctx.ignore() for this flow are skipped (a fresh slot starts with none).
    if (slot >= this.#ignored.length) { const g = new Int32Array(Math.max(slot + 1, this.#ignored.length * 2)); g.set(this.#ignored); this.#ignored = g; }
    if (table.created) this.#ignored[slot] = 0;
    const mask = this.#ignored[slot]!;
    if (mask === this.#allIgnored) return;
    const ctx = this.#ctx;
    ctx.batch = batch; ctx.i = i; ctx.view = v; ctx.slot = slot; ctx.toServer = table.toServer; ctx.packetIndex = idx;
    this.#slot = slot;
    for (let k = 0; k < sinks.length; k++) {
      if (mask & (1 << k)) continue;
      this.#sinkNo = k;
      sinks[k]!.onPacket(ctx);
    }
  }

  /** Process fragments released or orphaned by the tracker (copies; keyed with the ports they were given). */
  #held(list: HeldFragment[]): void {
    const hv = this.#hv, kb = this.#kb;
    for (const f of list) {
      decodeBatchPacket(hv, f.batch, 0);
      hv.srcPort = f.sport; hv.dstPort = f.dport; hv.icmpType = f.icmpType; hv.icmpCode = f.icmpCode;
      kb.build(hv, hv.srcPort, hv.dstPort);
      const h = kb.hash();
      if (this.#workers > 1 && shardOf(h, this.#workers) !== this.#worker) continue;
      this.#deliver(h, hv, f.batch, 0, f.packetIndex);
    }
  }
}

/** Shard map value of packets every shard must decode: fragments (each shard tracks every datagram) and non-IP. */
export const SHARD_ALL = 255;
/**
 * Words per packet of ShardMapper's keyed output: hash, key words 1, 2, 3 and 7 (word 0 is 4 | proto << 8, the
 * others zero), and meta = 1 | swapped << 1 | TCP flags or ICMP type << 8 | proto << 16 | ICMP code << 24 (0 for
 * a packet off the fast path).
 */
export const MAPPED_KEY_WORDS = 6;

/**
 * Computes, once for all shards, which shard owns each packet (the flow hash modulo the shard count, as the
 * shards themselves do), so a shard skips other shards' packets without decoding them.
 */
export class ShardMapper {
  readonly #v = new PacketView();
  readonly #kb: KeyBuilder;
  /** Key words of the fast path (words 4..6 and 8..10 stay zero: IPv4 addresses fill 4 of 16 bytes). */
  readonly #fw = new Uint32Array(KEY_WORDS);
  constructor(readonly workers: number, vlan = true) {
    if (workers >= SHARD_ALL) throw new RangeError(`at most ${SHARD_ALL - 1} shards`);
    this.#kb = new KeyBuilder(vlan);
  }

  /**
   * Write the shard of packet i of `batch` into out[i]; with `keys`, also the key of each fast-path packet (see
   * MAPPED_KEY_WORDS), so a shard without sinks does not decode it again.
   */
  map(batch: PacketBatch, out: Uint8Array, keys?: Uint32Array): void {
    const n = batch.count, w = this.workers, buf = batch.buf, off = batch.offset, cap = batch.caplen, lt = batch.linkType;
    const kw = this.#fw;
    for (let i = 0; i < n; i++) {
      // Fast path: untagged Ethernet, IPv4 without fragmentation, TCP, UDP (not a tunnel port) or ICMP: the key
      // words are read straight from the header bytes, laid out exactly as KeyBuilder.build() lays them out.
      const o = off[i]!, len = cap[i]!;
      if (LITTLE_ENDIAN && lt[i] === 1 && len >= 42 && buf[o + 12] === 0x08 && buf[o + 13] === 0x00 && buf[o + 14] === 0x45) {
        const p = o + 14, proto = buf[p + 9]!;
        const total = (buf[p + 2]! << 8) | buf[p + 3]!;
        // Transport bytes as the decoder bounds them (to the IP total length when that is sane): a header shorter
        // than TCP's 20 or UDP's and ICMP's 8 bytes takes the full path.
        const l4 = (total >= 20 ? Math.min(len - 14, total) : len - 14) - 20;
        if ((proto === 6 ? l4 >= 20 : (proto === 17 || proto === 1) && l4 >= 8) && (buf[p + 6]! & 0x3f) === 0 && buf[p + 7] === 0) {
          // ICMP's "ports" are its type and the counterpart type, or the code for one-way types (as KeyBuilder).
          const icmp = proto === 1, t = buf[p + 20]!, c = icmp ? icmpCounterpart(1, t) : 0;
          const sp = icmp ? t : (t << 8) | buf[p + 21]!, dp = icmp ? (c >= 0 ? c : buf[p + 21]!) : (buf[p + 22]! << 8) | buf[p + 23]!;
          if (proto !== 17 || (dp !== UDP_PORT_GENEVE && dp !== UDP_PORT_VXLAN)) {
            const sa = ((buf[p + 12]! << 24) | (buf[p + 13]! << 16) | (buf[p + 14]! << 8) | buf[p + 15]!) >>> 0;
            const da = ((buf[p + 16]! << 24) | (buf[p + 17]! << 16) | (buf[p + 18]! << 8) | buf[p + 19]!) >>> 0;
            const swap = sa > da || (sa === da && sp > dp);
            const pa = swap ? dp : sp, pb = swap ? sp : dp, a = swap ? da : sa, b = swap ? sa : da;
            // Word k holds key bytes 4k..4k+3, least significant first (the Uint32Array view on a little-endian host).
            kw[0] = 4 | (proto << 8);
            kw[1] = ((pa >> 8) << 16) | ((pa & 0xff) << 24);
            kw[2] = (pb >> 8) | ((pb & 0xff) << 8);
            kw[3] = bswap(a); kw[7] = bswap(b);
            const h = hashKeyWords(kw);
            out[i] = shardOf(h, w);
            if (keys !== undefined) {
              const k = i * MAPPED_KEY_WORDS;
              keys[k] = h; keys[k + 1] = kw[1]; keys[k + 2] = kw[2]; keys[k + 3] = kw[3]; keys[k + 4] = kw[7];
              keys[k + 5] = 1 | (swap ? 2 : 0) | (proto === 6 ? buf[p + 33]! << 8 : icmp ? (t << 8) | (buf[p + 21]! << 24) : 0) | (proto << 16);
            }
            continue;
          }
        }
      }
      out[i] = this.#slow(batch, i);
      if (keys !== undefined) keys[i * MAPPED_KEY_WORDS + 5] = 0;
    }
  }

  /** Shard of packet i through the full decoder and KeyBuilder. */
  #slow(batch: PacketBatch, i: number): number {
    const v = this.#v, kb = this.#kb;
    decodeBatchPacket(v, batch, i, true);
    if (v.ipVersion === 0 || v.isFragment) return SHARD_ALL;
    kb.build(v, v.srcPort, v.dstPort);
    return shardOf(kb.hash(), this.workers);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Byte-swap a 32-bit value (network order address → the little-endian word of its key bytes). */
function bswap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Sum the counters of several shards (walk counters are per input, so they are taken from the first). */
export function sumCounters(list: CoreCounters[]): CoreCounters {
  const out: CoreCounters = JSON.parse(JSON.stringify(list[0])) as CoreCounters;
  for (let k = 1; k < list.length; k++) {
    const c = list[k]!;
    for (const key of Object.keys(out.table) as Array<keyof FlowTableCounters>) out.table[key] += c.table[key];
  }
  // active/maxActive are per shard: their sums are upper bounds of the whole.
  return out;
}
