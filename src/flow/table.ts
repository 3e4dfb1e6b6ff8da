// The flow table: finds or creates the flow of each packet by its canonical key, keeps counters, tracks TCP
// lifecycle (new → established → closed by RST or FIN both ways), and ends flows on capture time: idle timeouts
// per protocol and state (Suricata's defaults), TCP tuple reuse, max-flows eviction (oldest idle first), shutdown.
// Timeouts are exact and O(1) per packet: one list per (protocol group, state) ordered by last activity.

import { ipString } from '../decode/addr.js';
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type PacketView } from '../decode/view.js';
import type { PacketBatch } from '../pcap/batch.js';
import { communityIdOfView, type CommunityIdOptions } from './community-id.js';
import { KEY_BYTES, KEY_WORDS, type KeyBuilder } from './key.js';
import type { FlowEndReason, FlowRecord, FlowState } from './record.js';

/** Idle timeouts in seconds of capture time for one protocol group. */
export interface FlowTimeouts { new: number; established: number; closed: number }

export interface FlowTableOptions {
  /** Per-group overrides of Suricata's defaults (TCP 30/300/10 s; UDP, ICMP, other 30/300 s). */
  timeouts?: { tcp?: Partial<FlowTimeouts>; udp?: Partial<FlowTimeouts>; icmp?: Partial<FlowTimeouts>; other?: Partial<FlowTimeouts> };
  /** Flows alive at once (default 1,000,000); creating one more evicts the oldest idle flow (reason forced). */
  maxFlows?: number;
  /** Put VLAN ids in the key (default true, as Suricata). */
  vlan?: boolean;
  /** Community ID of the records (default: spec flavour, seed 0, base64). */
  communityId?: CommunityIdOptions;
}

/** Suricata's built-in flow timeouts. */
export const DEFAULT_TIMEOUTS: Record<'tcp' | 'udp' | 'icmp' | 'other', FlowTimeouts> = {
  tcp: { new: 30, established: 300, closed: 10 },
  udp: { new: 30, established: 300, closed: 0 },
  icmp: { new: 30, established: 300, closed: 0 },
  other: { new: 30, established: 300, closed: 0 },
};
export const DEFAULT_MAX_FLOWS = 1_000_000;

/** Counters of one table; every flow end and eviction is counted. */
export interface FlowTableCounters {
  flows: number;
  packets: number;
  bytes: number;
  active: number;
  maxActive: number;
  timeouts: number;
  forced: number;
  tcpReuse: number;
  shutdown: number;
}

/** Builds the 64-bit flow id from the key and the start time (xxhash-wasm, see run.ts). */
export type FlowIdFn = (key: Uint8Array, startSec: number, startNsec: number) => bigint;

const GROUPS = ['tcp', 'udp', 'icmp', 'other'] as const;
const STATE_IDX: Record<FlowState, number> = { new: 0, established: 1, closed: 2 };

class Slot {
  chain: Slot | null = null;
  prev: Slot | null = null;
  next: Slot | null = null;
  cls = 0;
  last = 0;
  fin = 0;
  dead = false;
  /** `kw` is the key's first word in `words` (a slab shared by many keys). */
  constructor(readonly rec: FlowRecord, readonly words: Uint32Array, readonly kw: number, readonly clientIsA: boolean, readonly group: number) {}
}

const NO_VLAN: number[] = Object.freeze([]) as unknown as number[];

/** Keys are carved from 64 KiB slabs: one ArrayBuffer per ~1500 flows keeps V8's GC out of the way. */
const SLAB_KEYS = 1489;

function sameKey(w: Uint32Array, o: number, k: Uint32Array): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (w[o + i] !== k[i]) return false;
  return true;
}

/** Flow table for one shard; `onEnd` receives each flow after its last packet. */
export class FlowTable {
  readonly counters: FlowTableCounters = { flows: 0, packets: 0, bytes: 0, active: 0, maxActive: 0, timeouts: 0, forced: 0, tcpReuse: 0, shutdown: 0 };
  /** Direction of the last packet given to packet(): true when client → server. */
  toServer = true;
  /** Capture clock: the latest packet time seen (s, fractional). */
  clock = 0;
  readonly maxFlows: number;
  readonly #to = new Float64Array(12);
  readonly #heads: Array<Slot | null> = new Array(12).fill(null);
  readonly #tails: Array<Slot | null> = new Array(12).fill(null);
  /** Open hash: power-of-two bucket array, chains through Slot.chain; grown at load 1. */
  #buckets: Array<Slot | null> = new Array(1024).fill(null);
  #mask = 1023;
  /** Every live slot in creation order (for shutdown), compacted lazily. */
  #all: Slot[] = [];
  #allDead = 0;
  #slab = new Uint8Array(0);
  #slabW = new Uint32Array(0);
  #slabUsed = SLAB_KEYS;
  #nextCheck = Infinity;
  #seq = 0;
  readonly #cid: CommunityIdOptions;

  constructor(opts: FlowTableOptions, readonly onEnd: (rec: FlowRecord) => void, readonly flowId: FlowIdFn) {
    this.maxFlows = Math.max(1, opts.maxFlows ?? DEFAULT_MAX_FLOWS);
    this.#cid = opts.communityId ?? {};
    GROUPS.forEach((g, gi) => {
      const t = { ...DEFAULT_TIMEOUTS[g], ...(opts.timeouts?.[g] ?? {}) };
      this.#to[gi * 3] = t.new; this.#to[gi * 3 + 1] = t.established; this.#to[gi * 3 + 2] = t.closed;
    });
  }

  /** Advance the capture clock to `t` (never backwards) and end flows idle past their timeout. */
  advance(t: number): void {
    if (t > this.clock) this.clock = t;
    if (this.clock > this.#nextCheck) this.#expire();
  }

  /**
   * Account packet `i` of `batch` (decoded in `v`, keyed in `kb` with hash `hash`) to its flow, creating the flow
   * when needed; sets `toServer`. Call advance() with the packet's time first.
   */
  packet(kb: KeyBuilder, hash: number, v: PacketView, batch: PacketBatch, i: number): FlowRecord {
    let s: Slot | null = this.#buckets[hash & this.#mask] ?? null;
    while (s !== null && !sameKey(s.words, s.kw, kb.words)) s = s.chain;
    const proto = v.proto;
    const flags = proto === PROTO_TCP ? v.tcpFlags : 0;
    if (s !== null && proto === PROTO_TCP && s.rec.state === 'closed' && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      this.#end(s, 'tcp_reuse');
      s = null;
    }
    if (s === null) s = this.#create(kb, hash, v, batch, i, flags);
    const rec = s.rec;
    const ts = (!kb.swapped) === s.clientIsA;
    this.toServer = ts;
    const len = batch.caplen[i]!;
    if (ts) { rec.pktsToServer++; rec.bytesToServer += len; rec.tcpFlagsTs |= flags; }
    else { rec.pktsToClient++; rec.bytesToClient += len; rec.tcpFlagsTc |= flags; }
    const sec = batch.tsSec[i]!, nsec = batch.tsNsec[i]!;
    if (sec > rec.endSec || (sec === rec.endSec && nsec > rec.endNsec)) { rec.endSec = sec; rec.endNsec = nsec; }
    this.counters.packets++;
    this.counters.bytes += len;
    let state = rec.state;
    if (state === 'new' && rec.pktsToServer > 0 && rec.pktsToClient > 0) state = 'established';
    if (proto === PROTO_TCP && state !== 'closed') {
      if (flags & TCP_RST) state = 'closed';
      else if (flags & TCP_FIN) { s.fin |= ts ? 1 : 2; if (s.fin === 3) state = 'closed'; }
    }
    // Move to the tail of its (maybe new) list: each list stays ordered by last activity.
    this.#unlink(s);
    s.last = this.clock;
    if (state !== rec.state) {
      rec.state = state;
      s.cls = s.group * 3 + STATE_IDX[state];
      const due = s.last + this.#to[s.cls]!;
      if (due < this.#nextCheck) this.#nextCheck = due;
    }
    this.#append(s);
    return rec;
  }

  /** End every remaining flow (reason shutdown), in creation order. */
  flush(): void {
    const all = this.#all;
    this.#all = []; this.#allDead = 0;
    for (const s of all) if (!s.dead) this.#end(s, 'shutdown');
  }

  /** Flows alive now. */
  get size(): number { return this.counters.active; }

  #create(kb: KeyBuilder, hash: number, v: PacketView, batch: PacketBatch, i: number, flags: number): Slot {
    if (this.counters.active >= this.maxFlows) this.#evictOldest();
    if (this.#slabUsed === SLAB_KEYS) { this.#slab = new Uint8Array(SLAB_KEYS * KEY_BYTES); this.#slabW = new Uint32Array(this.#slab.buffer); this.#slabUsed = 0; }
    const kOff = this.#slabUsed++ * KEY_BYTES;
    const key = this.#slab.subarray(kOff, kOff + KEY_BYTES);
    key.set(kb.bytes);
    // A lone SYN/ACK means we joined after the SYN: its destination is the client.
    const clientIsSrc = !(v.proto === PROTO_TCP && (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK));
    const clientIsA = clientIsSrc ? !kb.swapped : kb.swapped;
    const alen = v.ipVersion === 4 ? 4 : 16;
    const a = ipString(v.buf, v.src, alen), b = ipString(v.buf, v.dst, alen);
    const sec = batch.tsSec[i]!, nsec = batch.tsNsec[i]!;
    // Untagged flows share one frozen empty array (no allocation per flow).
    const v0 = (key[2]! << 8) | key[3]!, v1 = (key[4]! << 8) | key[5]!;
    const vlan: number[] = v1 ? [v0, v1] : v0 ? [v0] : NO_VLAN;
    const rec: FlowRecord = {
      flowId: this.flowId(key, sec, nsec),
      communityId: communityIdOfView(v, this.#cid, v.srcPort, v.dstPort),
      key, hash,
      srcIp: clientIsSrc ? a : b, dstIp: clientIsSrc ? b : a,
      srcPort: clientIsSrc ? kb.sport : kb.dport, dstPort: clientIsSrc ? kb.dport : kb.sport,
      proto: v.proto, ipVersion: v.ipVersion, vlan,
      startSec: sec, startNsec: nsec, endSec: sec, endNsec: nsec,
      pktsToServer: 0, pktsToClient: 0, bytesToServer: 0, bytesToClient: 0,
      state: 'new', reason: 'shutdown', tcpFlagsTs: 0, tcpFlagsTc: 0,
      seq: this.#seq++, endedAt: 0,
      icmpType: v.proto === PROTO_ICMP || v.proto === PROTO_ICMPV6 ? v.icmpType : -1,
      icmpCode: v.proto === PROTO_ICMP || v.proto === PROTO_ICMPV6 ? v.icmpCode : -1,
    };
    const group = v.proto === PROTO_TCP ? 0 : v.proto === PROTO_UDP ? 1 : v.proto === PROTO_ICMP || v.proto === PROTO_ICMPV6 ? 2 : 3;
    const s = new Slot(rec, this.#slabW, kOff >> 2, clientIsA, group);
    s.cls = group * 3;
    s.last = this.clock;
    const bk = hash & this.#mask;
    s.chain = this.#buckets[bk] ?? null;
    this.#buckets[bk] = s;
    this.#append(s);
    this.#all.push(s);
    const due = s.last + this.#to[s.cls]!;
    if (due < this.#nextCheck) this.#nextCheck = due;
    const c = this.counters;
    c.flows++;
    if (++c.active > c.maxActive) c.maxActive = c.active;
    if (c.active > this.#buckets.length) this.#grow();
    return s;
  }

  /** Lists are ordered by last activity: end heads while they are due; the first head not due bounds the next check. */
  #expire(): void {
    const now = this.clock;
    let next = Infinity;
    for (let c = 0; c < 12; c++) {
      const to = this.#to[c]!;
      let s: Slot | null;
      while ((s = this.#heads[c]!) !== null && now - s.last > to) this.#end(s, 'timeout');
      if (s !== null && s.last + to < next) next = s.last + to;
    }
    this.#nextCheck = next;
  }

  #evictOldest(): void {
    let best: Slot | null = null;
    for (let c = 0; c < 12; c++) {
      const h: Slot | null = this.#heads[c]!;
      if (h !== null && (best === null || h.last < best.last || (h.last === best.last && h.rec.seq < best.rec.seq))) best = h;
    }
    if (best !== null) this.#end(best, 'forced');
  }

  #end(s: Slot, reason: FlowEndReason): void {
    this.#unlink(s);
    // Remove from its hash chain.
    const b = s.rec.hash & this.#mask;
    let p = this.#buckets[b]!;
    if (p === s) this.#buckets[b] = s.chain;
    else { while (p.chain !== s) p = p.chain!; p.chain = s.chain; }
    s.chain = null;
    s.dead = true;
    // Drop ended slots from the creation-order list once they are the majority.
    if (++this.#allDead > 1024 && this.#allDead * 2 > this.#all.length) { this.#all = this.#all.filter((x) => !x.dead); this.#allDead = 0; }
    const rec = s.rec;
    rec.reason = reason;
    rec.endedAt = this.clock;
    const c = this.counters;
    c.active--;
    if (reason === 'timeout') c.timeouts++; else if (reason === 'forced') c.forced++; else if (reason === 'tcp_reuse') c.tcpReuse++; else c.shutdown++;
    this.onEnd(rec);
  }

  #grow(): void {
    const nb: Array<Slot | null> = new Array(this.#buckets.length * 2).fill(null);
    const mask = nb.length - 1;
    for (const head of this.#buckets) {
      let s: Slot | null = head;
      while (s !== null) { const next: Slot | null = s.chain; const bk = s.rec.hash & mask; s.chain = nb[bk] ?? null; nb[bk] = s; s = next; }
    }
    this.#buckets = nb;
    this.#mask = mask;
  }

  #unlink(s: Slot): void {
    const c = s.cls;
    if (s.prev) s.prev.next = s.next; else this.#heads[c] = s.next;
    if (s.next) s.next.prev = s.prev; else this.#tails[c] = s.prev;
    s.prev = s.next = null;
  }

  #append(s: Slot): void {
    const c = s.cls, t = this.#tails[c]!;
    s.prev = t; s.next = null;
    if (t) t.next = s; else this.#heads[c] = s;
    this.#tails[c] = s;
  }
}
