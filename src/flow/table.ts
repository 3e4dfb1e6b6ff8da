// The flow table: finds or creates the flow of each packet by its canonical key, keeps counters, tracks TCP
// lifecycle (new → established → closed by RST or FIN both ways), and ends flows on capture time: idle timeouts
// per protocol and state (Suricata's defaults), TCP tuple reuse, max-flows eviction (oldest idle first), shutdown.
//
// Live flows are slots in parallel typed arrays (key words, counters, times, hash chain, timeout lists), so the
// table holds no object per flow and the garbage collector has nothing to trace. A FlowRecord is built only when
// someone asks for it: record(slot) for sinks that want the live flow (kept in sync from then on), and at the
// end of every flow for onEnd (unless `wants` says nobody needs it). Community ID, flow id and address strings
// are computed then, once per flow.
// Timeouts are exact with no work per packet beyond storing its time. Each (protocol group, state) class has a
// list in order of listing time (when the flow entered the class; a lower bound of its last activity) and a
// min-heap of flows found still active when they reached the list's head, keyed by a last-activity time that is
// again a lower bound. The next check is the earliest bound; at a check, a candidate whose real last activity
// is recent enough moves into the heap with its current time instead of being ended.

import { ipString, writeIpText } from '../decode/addr.js';
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type PacketView } from '../decode/view.js';
import type { PacketBatch } from '../pcap/batch.js';
import { communityIdAt, writeCommunityId, type CommunityIdOptions } from './community-id.js';
import type { FlowText } from './eve.js';
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
const STATE_NAMES: FlowState[] = ['new', 'established', 'closed'];
const ST_NEW = 0, ST_EST = 1, ST_CLOSED = 2, ST_FREE = 3;
/** Slot flag bits: the client is endpoint A of the key; FIN seen to server; FIN seen to client; a record is out (#recs). */
const F_CLIENT_A = 1, F_FIN_TS = 2, F_FIN_TC = 4, F_REC = 8;
const NONE = -1;
const NO_VLAN: number[] = Object.freeze([]) as unknown as number[];
// Slot layout, in 32-bit words (W) of SLOT_WORDS per slot (128 bytes, two cache lines; 144 spanned up to three):
//   0..10 key · 11 hash · 12 chain · 13 bytes: cls, state, flags, - · 14 pkts to server · 15 pkts to client ·
//   16 end ns · 17 bytes: tcp flags to server, to client, -, - · 18 last (f64) · 20 end s (f64) ·
//   22 bytes to server (f64) · 24 bytes to client (f64) · 26 start s (f64) · 28 seq (f64) · 30 start ns ·
//   31 icmp type + 1 (low 16 bits) and code + 1 (high 16 bits), 0 for none
const SLOT_WORDS = 32, SLOT_BYTES = SLOT_WORDS * 4, SLOT_F64 = SLOT_WORDS / 2;
const W_HASH = 11, W_CHAIN = 12, W_PKTS = 14, W_END_NS = 16, W_START_NS = 30, W_ICMP = 31;
const B_CLS = 52, B_STATE = 53, B_FLAGS = 54, B_TS = 68, B_TC = 69;
const D_LAST = 9, D_END = 10, D_BYTES = 11, D_START = 13, D_SEQ = 14;
/** flush() pre-sorts live slots by seq·SLOT_SPAN + slot. */
const SLOT_SPAN = 1 << 22;
/** Record keys are carved from 64 KiB slabs: one ArrayBuffer per ~1500 records instead of one each. */
const SLAB_KEYS = 1489;

/** A record with every field present (one object shape for all records), to be filled by the table. */
function blankRecord(key: Uint8Array): FlowRecord {
  return {
    flowId: 0n, communityId: '', key, hash: 0, srcIp: '', dstIp: '', srcPort: 0, dstPort: 0, proto: 0, ipVersion: 0, vlan: NO_VLAN,
    startSec: 0, startNsec: 0, endSec: 0, endNsec: 0, pktsToServer: 0, pktsToClient: 0, bytesToServer: 0, bytesToClient: 0,
    state: 'new', reason: 'shutdown', tcpFlagsTs: 0, tcpFlagsTc: 0, seq: 0, endedAt: 0, icmpType: -1, icmpCode: -1,
  };
}

/**
 * What the table does with a flow that `wants` declines: end it silently ('none'), or hand it over in one reused
 * record (valid only during the call) with its strings filled ('record') or left empty, the third argument of
 * onEnd writing them as bytes instead ('text': no string per flow).
 */
export type ScratchMode = 'none' | 'record' | 'text';

/**
 * Flow table for one shard; `onEnd` receives each flow after its last packet with its slot (and, for a 'text'
 * scratch record, the writer of its text fields; else null). For the flows where `wants(slot)` returns false no
 * record is built: see ScratchMode.
 */
export class FlowTable {
  readonly counters: FlowTableCounters = { flows: 0, packets: 0, bytes: 0, active: 0, maxActive: 0, timeouts: 0, forced: 0, tcpReuse: 0, shutdown: 0 };
  /** Direction of the last packet given to packet(): true when client → server. */
  toServer = true;
  /** True when the last packet given to packet() started a new flow (its slot is fresh). */
  created = false;
  /** Capture clock: the latest packet time seen (s, fractional). */
  clock = 0;
  readonly maxFlows: number;
  readonly #to = new Float64Array(12);
  readonly #heads = new Int32Array(12).fill(NONE);
  readonly #tails = new Int32Array(12).fill(NONE);
  /** Open hash: power-of-two bucket array of slot numbers, chained through #chain; grown at load 1. */
  #buckets = new Int32Array(1024).fill(NONE);
  #mask = 1023;
  #cap = 0;
  /** Slots never used yet start at #hwm; ended slots are pushed on #free. */
  #hwm = 0;
  #free = new Int32Array(0);
  #nfree = 0;
  // ---- slots: one ArrayBuffer, SLOT_BYTES per flow, seen through four views (layout at the top) ----
  #u32 = new Uint32Array(0);
  #i32 = new Int32Array(0);
  #u8 = new Uint8Array(0);
  #f64 = new Float64Array(0);
  /** Timeout-list links, prev and next per slot. */
  #links = new Int32Array(0);
  /** Per slot: listing time while in a class list, heap key while in a class heap. */
  #listed = new Float64Array(0);
  /** Per slot: position in its class heap, or NONE while in the class list. */
  #hpos = new Int32Array(0);
  /** Per class: heap of slots by (#listed, seq), and its size. */
  readonly #heaps: Int32Array[] = Array.from({ length: 12 }, () => new Int32Array(64));
  readonly #hsize = new Int32Array(12);
  /** Records handed out by record(), kept in sync with the columns while the flow lives. */
  #recs: Array<FlowRecord | undefined> = [];
  #slab = new Uint8Array(0);
  #slabUsed = SLAB_KEYS;
  #nextCheck = Infinity;
  #seqNext = 0;
  /** The record reused for flows `wants` declines (see the class comment), or null: such flows end silently. */
  readonly #scratch: FlowRecord | null;
  /** The scratch record's strings are left empty; #text writes them for the flow being ended. */
  readonly #scratchText: boolean;
  /** Client side (endpoint A of the key?), address length and tuple of the scratch record, for #text. */
  #tCliA = false;
  #tAlen = 4;
  #tSport = 0;
  #tDport = 0;
  readonly #text: FlowText = {
    communityId: (out, p) => {
      const r = this.#scratch!, k = r.key, a = this.#tCliA ? 12 : 28, b = this.#tCliA ? 28 : 12;
      return writeCommunityId(r.proto, k, a, b, this.#tAlen, this.#tSport, this.#tDport, this.#cid, out, p);
    },
    srcIp: (out, p) => writeIpText(out, p, this.#scratch!.key, this.#tCliA ? 12 : 28, this.#tAlen),
    dstIp: (out, p) => writeIpText(out, p, this.#scratch!.key, this.#tCliA ? 28 : 12, this.#tAlen),
  };
  readonly #cid: CommunityIdOptions;

  constructor(opts: FlowTableOptions, readonly onEnd: (rec: FlowRecord, slot: number, text: FlowText | null) => void, readonly flowId: FlowIdFn, readonly wants: ((slot: number) => boolean) | null = null, scratch: ScratchMode = 'none') {
    this.#scratch = scratch !== 'none' ? blankRecord(new Uint8Array(KEY_BYTES)) : null;
    this.#scratchText = scratch === 'text';
    this.maxFlows = Math.max(1, opts.maxFlows ?? DEFAULT_MAX_FLOWS);
    this.#cid = opts.communityId ?? {};
    GROUPS.forEach((g, gi) => {
      const t = { ...DEFAULT_TIMEOUTS[g], ...(opts.timeouts?.[g] ?? {}) };
      this.#to[gi * 3] = t.new; this.#to[gi * 3 + 1] = t.established; this.#to[gi * 3 + 2] = t.closed;
    });
    this.#resize(1024);
  }

  /** Advance the capture clock to `t` (never backwards) and end flows idle past their timeout. */
  advance(t: number): void {
    if (t > this.clock) this.clock = t;
    if (this.clock > this.#nextCheck) this.#expire();
  }

  /**
   * Account packet `i` of `batch` (decoded in `v`, keyed in `kb` with hash `hash`) to its flow, creating the flow
   * when needed; sets `toServer` and returns the flow's slot (see record()). Call advance() with its time first.
   */
  packet(kb: KeyBuilder, hash: number, v: PacketView, batch: PacketBatch, i: number): number {
    const kw = kb.words;
    let U = this.#u32, I = this.#i32, B = this.#u8, D = this.#f64;
    let s = this.#buckets[hash & this.#mask]!;
    while (s !== NONE) {
      const o = s * SLOT_WORDS;
      if (U[o + W_HASH] === hash) {
        let k = 0;
        while (k < KEY_WORDS && U[o + k] === kw[k]) k++;
        if (k === KEY_WORDS) break;
      }
      s = I[o + W_CHAIN]!;
    }
    const proto = v.proto;
    const flags = proto === PROTO_TCP ? v.tcpFlags : 0;
    if (s !== NONE && proto === PROTO_TCP && B[s * SLOT_BYTES + B_STATE] === ST_CLOSED && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      this.#end(s, 'tcp_reuse');
      s = NONE;
    }
    this.created = s === NONE;
    if (s === NONE) {
      s = this.#create(kb, hash, v, batch, i, flags);
      U = this.#u32; I = this.#i32; B = this.#u8; D = this.#f64; // #create may have grown the storage
    }
    const o = s * SLOT_WORDS, ob = s * SLOT_BYTES, od = s * SLOT_F64;
    const f = B[ob + B_FLAGS]!;
    const ts = (!kb.swapped) === ((f & F_CLIENT_A) !== 0);
    this.toServer = ts;
    const len = batch.caplen[i]!;
    if (ts) { U[o + W_PKTS]++; D[od + D_BYTES] += len; B[ob + B_TS] |= flags; }
    else { U[o + W_PKTS + 1]++; D[od + D_BYTES + 1] += len; B[ob + B_TC] |= flags; }
    const sec = batch.tsSec[i]!, nsec = batch.tsNsec[i]!;
    if (sec > D[od + D_END]! || (sec === D[od + D_END] && nsec > U[o + W_END_NS]!)) { D[od + D_END] = sec; U[o + W_END_NS] = nsec; }
    const c = this.counters;
    c.packets++;
    c.bytes += len;
    const old = B[ob + B_STATE]!;
    let state = old;
    if (state === ST_NEW && U[o + W_PKTS]! > 0 && U[o + W_PKTS + 1]! > 0) state = ST_EST;
    if (proto === PROTO_TCP && state !== ST_CLOSED) {
      if (flags & TCP_RST) state = ST_CLOSED;
      else if (flags & TCP_FIN) {
        const nf = f | (ts ? F_FIN_TS : F_FIN_TC);
        B[ob + B_FLAGS] = nf;
        if ((nf & (F_FIN_TS | F_FIN_TC)) === (F_FIN_TS | F_FIN_TC)) state = ST_CLOSED;
      }
    }
    // Only the time is stored; the timeout structures catch up lazily (see the module comment). A new state is a
    // new class: the flow is listed there now.
    const now = this.clock;
    D[od + D_LAST] = now;
    if (state !== old) {
      this.#detach(s);
      B[ob + B_STATE] = state;
      const cls = B[ob + B_CLS]! - old + state;
      B[ob + B_CLS] = cls;
      const due = now + this.#to[cls]!;
      if (due < this.#nextCheck) this.#nextCheck = due;
      this.#append(s);
    }
    if (B[ob + B_FLAGS]! & F_REC) this.#sync(s, this.#recs[s]!);
    return s;
  }

  /** The live record of flow `slot` (as returned by packet()); built on first request, then kept up to date. */
  record(slot: number): FlowRecord {
    let r = this.#recs[slot];
    if (r === undefined) { r = this.#build(slot); this.#recs[slot] = r; this.#u8[slot * SLOT_BYTES + B_FLAGS] |= F_REC; }
    return r;
  }

  /**
   * End every remaining flow (reason shutdown) in output order: start time, then key (they all end now). With
   * `between`, it is called after every `chunk` flows, so a caller can pass them on before the next ones.
   */
  flush(chunk = Infinity, between?: () => void): void {
    const B = this.#u8, D = this.#f64, U = this.#u32;
    // Creation order first (a numeric sort of seq·2^22 + slot: no comparator), which is nearly start order,
    // so the comparator sort that follows has little left to do.
    // (Exact while seq·2^22 + slot < 2^53; beyond, slots are taken in slot order.)
    const exact = this.#seqNext < 2 ** 31 && this.#hwm <= SLOT_SPAN;
    const bySeq = new Float64Array(this.counters.active);
    let n = 0;
    for (let s = 0; s < this.#hwm; s++) if (B[s * SLOT_BYTES + B_STATE] !== ST_FREE) bySeq[n++] = exact ? D[s * SLOT_F64 + D_SEQ]! * SLOT_SPAN + s : s;
    if (exact) bySeq.sort();
    const live: number[] = new Array<number>(n);
    for (let k = 0; k < n; k++) live[k] = exact ? bySeq[k]! % SLOT_SPAN : bySeq[k]!;
    live.sort((a, b) => {
      const da = D[a * SLOT_F64 + D_START]!, db = D[b * SLOT_F64 + D_START]!;
      if (da !== db) return da - db;
      const na = U[a * SLOT_WORDS + W_START_NS]!, nb = U[b * SLOT_WORDS + W_START_NS]!;
      if (na !== nb) return na - nb;
      for (let k = 0; k < KEY_BYTES; k++) { const x = B[a * SLOT_BYTES + k]!, y = B[b * SLOT_BYTES + k]!; if (x !== y) return x - y; }
      return 0;
    });
    // Every flow goes: no list, heap or hash chain needs unlinking one by one; they are all reset after.
    for (let k = 0; k < n; k++) {
      this.#end(live[k]!, 'shutdown', false, false);
      if (between && (k + 1) % chunk === 0 && k + 1 < n) between();
    }
    this.#buckets.fill(NONE);
    this.#heads.fill(NONE); this.#tails.fill(NONE); this.#hsize.fill(0);
    this.#hwm = 0; this.#nfree = 0;
    this.#nextCheck = Infinity;
  }

  /** Flows alive now. */
  get size(): number { return this.counters.active; }

  #create(kb: KeyBuilder, hash: number, v: PacketView, batch: PacketBatch, i: number, flags: number): number {
    if (this.counters.active >= this.maxFlows) this.#evictOldest();
    let s: number;
    if (this.#nfree > 0) s = this.#free[--this.#nfree]!;
    else { if (this.#hwm === this.#cap) this.#resize(this.#cap * 2); s = this.#hwm++; }
    const U = this.#u32, I = this.#i32, B = this.#u8, D = this.#f64;
    const o = s * SLOT_WORDS, ob = s * SLOT_BYTES, od = s * SLOT_F64;
    U.set(kb.words, o);
    U[o + W_HASH] = hash;
    // A lone SYN/ACK means we joined after the SYN: its destination is the client.
    const clientIsSrc = !(v.proto === PROTO_TCP && (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK));
    B[ob + B_FLAGS] = (clientIsSrc ? !kb.swapped : kb.swapped) ? F_CLIENT_A : 0;
    const group = v.proto === PROTO_TCP ? 0 : v.proto === PROTO_UDP ? 1 : v.proto === PROTO_ICMP || v.proto === PROTO_ICMPV6 ? 2 : 3;
    B[ob + B_CLS] = group * 3;
    B[ob + B_STATE] = ST_NEW;
    B[ob + B_TS] = 0; B[ob + B_TC] = 0;
    const icmp = v.proto === PROTO_ICMP || v.proto === PROTO_ICMPV6;
    U[o + W_ICMP] = icmp ? ((v.icmpType + 1) & 0xffff) | (((v.icmpCode + 1) & 0xffff) << 16) : 0;
    U[o + W_PKTS] = 0; U[o + W_PKTS + 1] = 0;
    D[od + D_BYTES] = 0; D[od + D_BYTES + 1] = 0;
    const sec = batch.tsSec[i]!, nsec = batch.tsNsec[i]!;
    D[od + D_START] = sec; D[od + D_END] = sec;
    U[o + W_START_NS] = nsec; U[o + W_END_NS] = nsec;
    D[od + D_SEQ] = this.#seqNext++;
    D[od + D_LAST] = this.clock;
    const bk = hash & this.#mask;
    I[o + W_CHAIN] = this.#buckets[bk]!;
    this.#buckets[bk] = s;
    this.#append(s);
    const due = this.clock + this.#to[group * 3]!;
    if (due < this.#nextCheck) this.#nextCheck = due;
    const c = this.counters;
    c.flows++;
    if (++c.active > c.maxActive) c.maxActive = c.active;
    if (c.active > this.#buckets.length) this.#grow();
    return s;
  }

  /** A new record for slot `s` (its key carved from the current slab). */
  #build(s: number): FlowRecord {
    if (this.#slabUsed === SLAB_KEYS) { this.#slab = new Uint8Array(SLAB_KEYS * KEY_BYTES); this.#slabUsed = 0; }
    const kOff = this.#slabUsed++ * KEY_BYTES;
    return this.#fill(s, blankRecord(this.#slab.subarray(kOff, kOff + KEY_BYTES)));
  }

  /**
   * Fill record `r` (and its key array) from slot `s`: addresses, ports, ids from the key; counters from the slot.
   * With `text`, the string fields are left empty and #text is set up to write them.
   */
  #fill(s: number, r: FlowRecord, text = false): FlowRecord {
    const U = this.#u32, B = this.#u8, D = this.#f64;
    const o = s * SLOT_WORDS, ob = s * SLOT_BYTES, od = s * SLOT_F64;
    const key = r.key;
    for (let k = 0; k < KEY_BYTES; k++) key[k] = B[ob + k]!;
    const ver = key[0]!, proto = key[1]!, alen = ver === 4 ? 4 : 16;
    const cliA = (B[ob + B_FLAGS]! & F_CLIENT_A) !== 0;
    const ca = cliA ? 12 : 28, sa = cliA ? 28 : 12;
    const pa = (key[6]! << 8) | key[7]!, pb = (key[8]! << 8) | key[9]!;
    const srcPort = cliA ? pa : pb, dstPort = cliA ? pb : pa;
    const v0 = (key[2]! << 8) | key[3]!, v1 = (key[4]! << 8) | key[5]!;
    const icmpType = (U[o + W_ICMP]! & 0xffff) - 1, icmpCode = (U[o + W_ICMP]! >>> 16) - 1;
    const icmp = proto === PROTO_ICMP || proto === PROTO_ICMPV6;
    // Community ID over the client → server tuple; for ICMP the first packet's type and code (mapped inside).
    const cs = icmp ? Math.max(0, icmpType) : srcPort, cd = icmp ? Math.max(0, icmpCode) : dstPort;
    const startSec = D[od + D_START]!, startNsec = U[o + W_START_NS]!;
    r.flowId = this.flowId(key, startSec, startNsec);
    if (text) {
      this.#tCliA = cliA; this.#tAlen = alen; this.#tSport = cs; this.#tDport = cd;
      r.communityId = ''; r.srcIp = ''; r.dstIp = '';
    } else {
      r.communityId = communityIdAt(proto, key, ca, sa, alen, cs, cd, this.#cid);
      r.srcIp = ipString(key, ca, alen); r.dstIp = ipString(key, sa, alen);
    }
    r.hash = U[o + W_HASH]!;
    r.srcPort = srcPort; r.dstPort = dstPort;
    r.proto = proto; r.ipVersion = ver;
    // Untagged flows share one frozen empty array (no allocation per flow).
    r.vlan = v1 ? [v0, v1] : v0 ? [v0] : NO_VLAN;
    r.startSec = startSec; r.startNsec = startNsec; r.endSec = D[od + D_END]!; r.endNsec = U[o + W_END_NS]!;
    r.pktsToServer = U[o + W_PKTS]!; r.pktsToClient = U[o + W_PKTS + 1]!;
    r.bytesToServer = D[od + D_BYTES]!; r.bytesToClient = D[od + D_BYTES + 1]!;
    r.state = STATE_NAMES[B[ob + B_STATE]!]!; r.reason = 'shutdown'; r.tcpFlagsTs = B[ob + B_TS]!; r.tcpFlagsTc = B[ob + B_TC]!;
    r.seq = D[od + D_SEQ]!; r.endedAt = 0;
    r.icmpType = icmpType; r.icmpCode = icmpCode;
    return r;
  }

  /** Copy the changing fields of slot `s` into its record. */
  #sync(s: number, r: FlowRecord): void {
    const U = this.#u32, B = this.#u8, D = this.#f64;
    const o = s * SLOT_WORDS, ob = s * SLOT_BYTES, od = s * SLOT_F64;
    r.pktsToServer = U[o + W_PKTS]!; r.pktsToClient = U[o + W_PKTS + 1]!;
    r.bytesToServer = D[od + D_BYTES]!; r.bytesToClient = D[od + D_BYTES + 1]!;
    r.endSec = D[od + D_END]!; r.endNsec = U[o + W_END_NS]!;
    r.tcpFlagsTs = B[ob + B_TS]!; r.tcpFlagsTc = B[ob + B_TC]!;
    r.state = STATE_NAMES[B[ob + B_STATE]!]!;
  }

  /**
   * End every flow idle past its timeout. Candidates are list heads and heap tops whose bound is past due; one
   * that was active since is re-queued in the heap under its real last activity. The earliest remaining bound is
   * the next check.
   */
  #expire(): void {
    const now = this.clock, D = this.#f64, K = this.#listed;
    let next = Infinity;
    for (let c = 0; c < 12; c++) {
      const to = this.#to[c]!;
      let s: number;
      while ((s = this.#heads[c]!) !== NONE && now - K[s]! > to) {
        this.#unlink(s);
        this.#hpos[s] = NONE;
        if (now - D[s * SLOT_F64 + D_LAST]! > to) this.#end(s, 'timeout', false);
        else this.#heapPush(c, s, D[s * SLOT_F64 + D_LAST]!);
      }
      const h = this.#heaps[c]!;
      while (this.#hsize[c]! > 0 && now - K[s = h[0]!]! > to) {
        this.#heapRemove(c, 0);
        if (now - D[s * SLOT_F64 + D_LAST]! > to) this.#end(s, 'timeout', false);
        else this.#heapPush(c, s, D[s * SLOT_F64 + D_LAST]!);
      }
      if ((s = this.#heads[c]!) !== NONE && K[s]! + to < next) next = K[s]! + to;
      if (this.#hsize[c]! > 0 && K[h[0]!]! + to < next) next = K[h[0]!]! + to;
    }
    this.#nextCheck = next;
  }

  /** End the flow idle longest (smallest last activity, then creation order): reason forced. */
  #evictOldest(): void {
    const D = this.#f64, K = this.#listed;
    const last = (x: number) => D[x * SLOT_F64 + D_LAST]!, seq = (x: number) => D[x * SLOT_F64 + D_SEQ]!;
    let best = NONE;
    for (let c = 0; c < 12; c++) {
      // Make the bounds at the front exact: a list head listed before its last activity moves to the heap, a heap
      // top with a stale key is re-keyed. Then the list head and the heap top are the class's two candidates.
      let s: number;
      while ((s = this.#heads[c]!) !== NONE && K[s] !== last(s)) { this.#unlink(s); this.#heapPush(c, s, last(s)); }
      const h = this.#heaps[c]!;
      while (this.#hsize[c]! > 0 && K[s = h[0]!] !== last(s)) { this.#heapRemove(c, 0); this.#heapPush(c, s, last(s)); }
      for (const x of [this.#heads[c]!, this.#hsize[c]! > 0 ? h[0]! : NONE]) {
        if (x !== NONE && (best === NONE || last(x) < last(best) || (last(x) === last(best) && seq(x) < seq(best)))) best = x;
      }
    }
    if (best !== NONE) this.#end(best, 'forced');
  }

  /** End flow `s`: out of its class list or heap (unless `queued` is false) and its hash chain (unless `chained` is false). */
  #end(s: number, reason: FlowEndReason, queued = true, chained = true): void {
    if (queued) this.#detach(s);
    if (chained) {
      const U = this.#u32, I = this.#i32;
      const o = s * SLOT_WORDS;
      const b = U[o + W_HASH]! & this.#mask;
      let p = this.#buckets[b]!;
      if (p === s) this.#buckets[b] = I[o + W_CHAIN]!;
      else { while (I[p * SLOT_WORDS + W_CHAIN] !== s) p = I[p * SLOT_WORDS + W_CHAIN]!; I[p * SLOT_WORDS + W_CHAIN] = I[o + W_CHAIN]!; }
    }
    const c = this.counters;
    c.active--;
    if (reason === 'timeout') c.timeouts++; else if (reason === 'forced') c.forced++; else if (reason === 'tcp_reuse') c.tcpReuse++; else c.shutdown++;
    let rec: FlowRecord | undefined;
    let text: FlowText | null = null;
    if (this.#u8[s * SLOT_BYTES + B_FLAGS]! & F_REC) { rec = this.#recs[s]; this.#recs[s] = undefined; }
    if (rec === undefined && this.wants !== null && !this.wants(s)) {
      if (this.#scratch === null) { this.#u8[s * SLOT_BYTES + B_STATE] = ST_FREE; this.#free[this.#nfree++] = s; return; }
      rec = this.#fill(s, this.#scratch, this.#scratchText);
      if (this.#scratchText) text = this.#text;
    } else if (rec === undefined) rec = this.#build(s);
    else this.#sync(s, rec);
    this.#u8[s * SLOT_BYTES + B_STATE] = ST_FREE;
    this.#free[this.#nfree++] = s;
    rec.reason = reason;
    rec.endedAt = this.clock;
    this.onEnd(rec, s, text);
  }

  /** Grow the slot storage to `cap` slots. */
  #resize(cap: number): void {
    const ab = new ArrayBuffer(cap * SLOT_BYTES);
    const u8 = new Uint8Array(ab);
    u8.set(this.#u8);
    this.#u8 = u8;
    this.#u32 = new Uint32Array(ab); this.#i32 = new Int32Array(ab); this.#f64 = new Float64Array(ab);
    const free = new Int32Array(cap); free.set(this.#free); this.#free = free;
    const links = new Int32Array(cap * 2); links.set(this.#links); this.#links = links;
    const listed = new Float64Array(cap); listed.set(this.#listed); this.#listed = listed;
    const hpos = new Int32Array(cap); hpos.set(this.#hpos); this.#hpos = hpos;
    this.#recs.length = cap;
    this.#cap = cap;
  }

  #grow(): void {
    const nb = new Int32Array(this.#buckets.length * 2).fill(NONE);
    const mask = nb.length - 1, U = this.#u32, I = this.#i32, B = this.#u8;
    for (let s = 0; s < this.#hwm; s++) {
      if (B[s * SLOT_BYTES + B_STATE] === ST_FREE) continue;
      const bk = U[s * SLOT_WORDS + W_HASH]! & mask;
      I[s * SLOT_WORDS + W_CHAIN] = nb[bk]!; nb[bk] = s;
    }
    this.#buckets = nb;
    this.#mask = mask;
  }

  /** Take slot `s` out of its class list or heap. */
  #detach(s: number): void {
    const hp = this.#hpos[s]!;
    if (hp === NONE) this.#unlink(s);
    else this.#heapRemove(this.#u8[s * SLOT_BYTES + B_CLS]!, hp);
  }

  #unlink(s: number): void {
    const L = this.#links;
    const c = this.#u8[s * SLOT_BYTES + B_CLS]!, p = L[s * 2]!, n = L[s * 2 + 1]!;
    if (p !== NONE) L[p * 2 + 1] = n; else this.#heads[c] = n;
    if (n !== NONE) L[n * 2] = p; else this.#tails[c] = p;
  }

  /** List slot `s` at the tail of its class list, now. */
  #append(s: number): void {
    const L = this.#links;
    const c = this.#u8[s * SLOT_BYTES + B_CLS]!, t = this.#tails[c]!;
    L[s * 2] = t; L[s * 2 + 1] = NONE;
    if (t !== NONE) L[t * 2 + 1] = s; else this.#heads[c] = s;
    this.#tails[c] = s;
    this.#listed[s] = this.clock;
    this.#hpos[s] = NONE;
  }

  /** Heap order: key, then creation order. */
  #less(a: number, b: number): boolean {
    const K = this.#listed;
    return K[a]! < K[b]! || (K[a] === K[b] && this.#f64[a * SLOT_F64 + D_SEQ]! < this.#f64[b * SLOT_F64 + D_SEQ]!);
  }

  #heapPush(c: number, s: number, key: number): void {
    let h = this.#heaps[c]!;
    const n = this.#hsize[c]!;
    if (n === h.length) { const g = new Int32Array(n * 2); g.set(h); this.#heaps[c] = h = g; }
    this.#listed[s] = key;
    this.#hsize[c] = n + 1;
    this.#siftUp(h, n, s);
  }

  /** Remove the entry at heap position `i` of class `c`. */
  #heapRemove(c: number, i: number): void {
    const h = this.#heaps[c]!, n = this.#hsize[c]! - 1;
    this.#hpos[h[i]!] = NONE;
    this.#hsize[c] = n;
    if (i === n) return;
    const x = h[n]!;
    if (i > 0 && this.#less(x, h[(i - 1) >> 1]!)) this.#siftUp(h, i, x);
    else this.#siftDown(h, n, i, x);
  }

  #siftUp(h: Int32Array, i: number, x: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1, y = h[p]!;
      if (!this.#less(x, y)) break;
      h[i] = y; this.#hpos[y] = i; i = p;
    }
    h[i] = x; this.#hpos[x] = i;
  }

  #siftDown(h: Int32Array, n: number, i: number, x: number): void {
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      if (m + 1 < n && this.#less(h[m + 1]!, h[m]!)) m++;
      const y = h[m]!;
      if (!this.#less(y, x)) break;
      h[i] = y; this.#hpos[y] = i; i = m;
    }
    h[i] = x; this.#hpos[x] = i;
  }
}
