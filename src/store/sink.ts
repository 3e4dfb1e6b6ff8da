// Conditional store as a flow sink: the flow table hands it every packet with its flow; it decides which
// packets go to the global segment store. Mode `alerts` keeps a flow from the packet that raised its first
// alert to the flow's end, plus (like Suricata) the TCP data segments still unacked just before that packet,
// plus the last `preAlert` packets; mode `all` keeps everything. Alerts match flows by Community ID when
// they carry one, else by tuple (either direction) with the alert time inside the flow's lifetime.
// A per-flow ring (capped) lets an alert that arrives up to `alertDelayUs` after its packet still capture it.

import { PROTO_TCP, TCP_ACK } from '../decode/view.js';
import type { FlowSink, PacketContext } from '../engine/sink.js';
import type { FlowRecord } from '../flow/record.js';
import { alertHash, hasPorts, type Alert } from '../eve/alert.js';
import { flowKeyHash, suricataCommunityId } from '../eve/keys.js';
import { SegmentStore, type RepairReport, type StoredFlow, type StoreCounters, type StoreOptions } from './segments.js';

/** The flow fields the store reads (FlowRecord). */
export type StoreFlowRecord = FlowRecord;
/** The packet context the store reads (PacketContext). */
export type StorePacketContext = PacketContext;

export type StoreMode = 'alerts' | 'all';

/** Options of the store sink (structured-clone-able: passed to createSink). */
export interface StoreSinkOptions extends StoreOptions {
  dir: string;
  mode?: StoreMode;
  /** Also keep the last N packets of the flow before its alert packet. */
  preAlert?: number;
  /** How long (capture time, µs) after its packet an alert may still capture it (default 2 s). */
  alertDelayUs?: number;
  /** Alerts known up front (offline replay); more can be added with addAlert(). */
  alerts?: Alert[];
  /** Ring every flow's recent packets (embedded use: alerts not known in advance). Default: only candidate flows. */
  ringAll?: boolean;
  /** Cap on ring packets per flow (default 1024). */
  ringPerFlow?: number;
  /** Cap on ring bytes over all flows (default 256 MiB): past it the oldest ringed packets of any flow are dropped (counted). */
  ringBytes?: number;
}

/** How one alert was resolved. */
export interface AlertOutcome {
  /** Position of the alert in the options/addAlert order. */
  n: number;
  timestamp: string;
  signatureId?: number;
  flowId?: string;
  /** Suricata's flow_id of the alert (alias; not reproducible offline). */
  suricataFlowId?: string;
  /** Our flow's start (µs), when matched. */
  flowStartUs?: number;
  /** True when its packet had already left the ring: the flow is stored from the alert's arrival on. */
  late?: boolean;
  reason?: string;
}

/** What finish() returns. */
export interface StoreSinkResult {
  counters: StoreCounters & { flowsStored: number; ringDropped: number; ringEvictedYoung: number; alertsLate: number };
  matched: AlertOutcome[];
  unmatched: AlertOutcome[];
  segments: string[];
  repair: RepairReport;
}

interface Pending { alert: Alert; n: number; hi: number; lo: number; matched: boolean; late: boolean; flowId?: bigint; flowStartUs?: number; owner: FlowState | null }

/** A 53-bit map key from a [hi, lo] hash (pending alerts re-check both words). */
function mapKey(hi: number, lo: number): number {
  return hi * 2097152 + (lo & 0x1fffff);
}

/** One ringed packet (a copy: batch views die with their batch). */
interface RingEntry {
  data: Uint8Array; tsSec: number; tsNsec: number; us: number; origlen: number; linkType: number; idx: number;
  dir: number; seq: number; plen: number;
  /** Acks seen from each direction before this packet (NaN: none). */
  ack0: number; ack1: number;
  /** Owning flow, and whether the entry has left its ring (global FIFO bookkeeping). */
  st: FlowState; dead: boolean;
}

class FlowState {
  flow: StoreFlowRecord;
  startUs: number;
  hi = 0;
  lo = 0;
  hashed = false;
  /** Candidate alerts sorted by time; those before `cursor` are all matched. */
  cands: Pending[] = [];
  cursor = 0;
  open = 0;
  triggered = false;
  ref: StoredFlow | null = null;
  ring: RingEntry[] = [];
  ringBytes = 0;
  lastUs = -Infinity;
  ack0 = NaN;
  ack1 = NaN;
  constructor(flow: StoreFlowRecord) {
    this.flow = flow;
    this.startUs = flow.startSec * 1e6 + Math.floor(flow.startNsec / 1000);
  }
}

const NONE = new FlowState({ flowId: 0n, communityId: '', key: new Uint8Array(0), hash: 0, srcIp: '', dstIp: '', srcPort: 0, dstPort: 0, proto: 0,
  ipVersion: 4, vlan: [], startSec: 0, startNsec: 0, endSec: 0, endNsec: 0, pktsToServer: 0, pktsToClient: 0, bytesToServer: 0, bytesToClient: 0,
  state: 'new', reason: 'shutdown', tcpFlagsTs: 0, tcpFlagsTc: 0, seq: 0, endedAt: 0, icmpType: -1, icmpCode: -1 });

/** seq a < b in 32-bit sequence space. */
function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** The conditional store sink (FlowSink contract: onPacket, onFlowEnd, finish). */
export class StoreSink implements FlowSink<StoreSinkResult> {
  readonly store: SegmentStore;
  readonly repair: RepairReport;
  readonly mode: StoreMode;
  readonly preAlert: number;
  readonly alertDelayUs: number;
  readonly ringAll: boolean;
  readonly ringPerFlow: number;
  readonly ringBytesCap: number;
  #states = new Map<StoreFlowRecord, FlowState>();
  #live = new Map<number, FlowState>();
  #byCid = new Map<string, Pending[]>();
  #byTuple = new Map<number, Pending[]>();
  #all: Pending[] = [];
  #ringBytes = 0;
  /** Every live ring entry, oldest first (from #fifoHead): the global cap evicts from here. */
  #fifo: RingEntry[] = [];
  #fifoHead = 0;
  #ringEvictedYoung = 0;
  /** Set by a driver that feeds a filtered batch: the input-wide index of each of its packets. */
  indexBatch: { batch: unknown; index: Float64Array } | null = null;
  #flowsStored = 0;
  #ringDropped = 0;
  #late = 0;

  constructor(o: StoreSinkOptions) {
    const { store, repair } = SegmentStore.open(o.dir, o);
    this.store = store;
    this.repair = repair;
    this.mode = o.mode ?? 'alerts';
    this.preAlert = o.preAlert ?? 0;
    this.alertDelayUs = o.alertDelayUs ?? 2e6;
    this.ringAll = !!o.ringAll;
    this.ringPerFlow = Math.max(o.ringPerFlow ?? 1024, this.preAlert + 1);
    this.ringBytesCap = o.ringBytes ?? 256 * 1024 * 1024;
    for (const a of o.alerts ?? []) this.#register(a);
  }

  #register(a: Alert): Pending {
    const [hi, lo] = alertHash(a);
    const p: Pending = { alert: a, n: this.#all.length, hi, lo, matched: false, late: false, owner: null };
    this.#all.push(p);
    if (a.communityId !== undefined) {
      const l = this.#byCid.get(a.communityId);
      if (l) l.push(p); else this.#byCid.set(a.communityId, [p]);
    } else {
      const k = mapKey(hi, lo);
      const l = this.#byTuple.get(k);
      if (l) l.push(p); else this.#byTuple.set(k, [p]);
    }
    return p;
  }

  /** True when `p` may belong to flow state `st` (vlan, not older than the flow). */
  #fits(st: FlowState, p: Pending): boolean {
    const av = p.alert.vlan, fv = st.flow.vlan;
    if (av.length && fv.length && av[0] !== fv[0]) return false;
    return p.alert.tsUs >= st.startUs;
  }

  #hash(st: FlowState): void {
    if (!st.hashed) { [st.hi, st.lo] = flowKeyHash(st.flow.key); st.hashed = true; }
  }

  #newState(flow: StoreFlowRecord): FlowState {
    if (this.mode !== 'all' && !this.ringAll && this.#byCid.size === 0 && this.#byTuple.size === 0) {
      this.#states.set(flow, NONE);
      return NONE;
    }
    const st = new FlowState(flow);
    const add = (l: Pending[] | undefined, byHash: boolean) => {
      if (!l) return;
      for (const p of l) {
        if (p.matched || p.owner === st || !this.#fits(st, p)) continue;
        if (byHash && (p.hi !== st.hi || p.lo !== st.lo)) continue;
        p.owner = st;
        st.cands.push(p); st.open++;
      }
    };
    if (this.#byCid.size) {
      add(this.#byCid.get(flow.communityId), false);
      if (!hasPorts(flow.proto)) add(this.#byCid.get(suricataCommunityId(flow)), false);
    }
    if (this.#byTuple.size || this.ringAll) {
      this.#hash(st);
      const k = mapKey(st.hi, st.lo);
      add(this.#byTuple.get(k), true);
      if (this.ringAll) this.#live.set(k, st);
    }
    if (st.cands.length > 1) st.cands.sort((x, y) => x.alert.tsUs - y.alert.tsUs || x.n - y.n);
    if (st.open === 0 && this.mode !== 'all' && !this.ringAll) {
      this.#states.set(flow, NONE);
      return NONE;
    }
    this.#states.set(flow, st);
    return st;
  }

  /** FlowSink: one packet of a flow, in capture order per flow. */
  onPacket(ctx: StorePacketContext): void {
    let st = this.#states.get(ctx.flow);
    if (st === undefined) st = this.#newState(ctx.flow);
    if (st === NONE) return;
    const b = ctx.batch, i = ctx.i;
    const us = b.tsSec[i]! * 1e6 + Math.floor(b.tsNsec[i]! / 1000);
    const ib = this.indexBatch;
    const idx = ib !== null && ib.batch === b ? ib.index[i]! : ctx.packetIndex;
    st.lastUs = us;
    if (st.triggered || this.mode === 'all') {
      if (!st.triggered) this.#trigger(st);
      if (st.open > 0) this.#markMatches(st, us, idx);
      const o = b.offset[i]!;
      this.store.write(st.ref!, b.tsSec[i]!, b.tsNsec[i]!, b.buf.subarray(o, o + b.caplen[i]!), b.origlen[i]!, b.linkType[i]!);
      return;
    }
    const v = ctx.view;
    const dir = ctx.toServer ? 0 : 1;
    const ringed = this.#ringPush(st, ctx, us, dir, idx);
    if (v.proto === PROTO_TCP && (v.tcpFlags & TCP_ACK)) { if (dir === 0) st.ack0 = v.tcpAck; else st.ack1 = v.tcpAck; }
    if (st.open > 0) {
      const hit = this.#markMatches(st, us, idx);
      if (hit) {
        this.#triggerAt(st, hit.alert);
        if (!ringed) {
          const o = b.offset[i]!;
          this.store.write(st.ref!, b.tsSec[i]!, b.tsNsec[i]!, b.buf.subarray(o, o + b.caplen[i]!), b.origlen[i]!, b.linkType[i]!);
        }
      }
    }
  }

  /** Mark the open candidates whose alert packet is this one (or already passed); returns the first. */
  #markMatches(st: FlowState, us: number, idx: number): Pending | null {
    let first: Pending | null = null;
    const c = st.cands;
    while (st.cursor < c.length && c[st.cursor]!.matched) st.cursor++;
    // Sorted by time: stop at the first alert later than this packet.
    for (let k = st.cursor; k < c.length; k++) {
      const p = c[k]!;
      const a = p.alert;
      if (a.tsUs > us) break;
      if (p.matched) continue;
      if (us > a.tsUs || a.pcapCnt === undefined || idx + 1 >= a.pcapCnt) {
        p.matched = true;
        p.flowId = st.flow.flowId;
        p.flowStartUs = st.startUs;
        st.open--;
        if (!first) first = p;
      }
    }
    return first;
  }

  #ringPush(st: FlowState, ctx: StorePacketContext, us: number, dir: number, idx: number): boolean {
    const b = ctx.batch, i = ctx.i, v = ctx.view;
    const len = b.caplen[i]!;
    const r = st.ring;
    // Drop what no alert can need any more: older than alertDelay, beyond the pre-alert window, not unacked data.
    while (r.length > this.preAlert) {
      const e = r[0]!;
      const tooMany = r.length >= this.ringPerFlow;
      if (!tooMany && e.us >= us - this.alertDelayUs) break;
      if (!tooMany && e.plen > 0) {
        const peerAck = e.dir === 0 ? st.ack1 : st.ack0;
        if (Number.isNaN(peerAck) || seqLt(peerAck, (e.seq + e.plen) >>> 0)) break;
      }
      r.shift();
      e.dead = true;
      st.ringBytes -= e.data.length;
      this.#ringBytes -= e.data.length;
    }
    // Global cap: drop the oldest ringed packets of any flow (counted when younger than alertDelay).
    while (this.#ringBytes + len > this.ringBytesCap && this.#fifoHead < this.#fifo.length) {
      const e = this.#fifo[this.#fifoHead++]!;
      if (e.dead) continue;
      e.dead = true;
      const owner = e.st;
      if (owner.ring[0] === e) owner.ring.shift(); else { const k = owner.ring.indexOf(e); if (k >= 0) owner.ring.splice(k, 1); }
      owner.ringBytes -= e.data.length;
      this.#ringBytes -= e.data.length;
      if (e.us >= us - this.alertDelayUs) this.#ringEvictedYoung++;
    }
    if (this.#fifoHead > 4096 && this.#fifoHead * 2 > this.#fifo.length) { this.#fifo = this.#fifo.slice(this.#fifoHead); this.#fifoHead = 0; }
    if (r.length >= this.ringPerFlow || this.#ringBytes + len > this.ringBytesCap) { this.#ringDropped++; return false; }
    const o = b.offset[i]!;
    const tcp = v.proto === PROTO_TCP;
    r.push({
      data: b.buf.slice(o, o + len), tsSec: b.tsSec[i]!, tsNsec: b.tsNsec[i]!, us, origlen: b.origlen[i]!, linkType: b.linkType[i]!,
      idx, dir, seq: tcp ? v.tcpSeq : 0, plen: tcp ? Math.max(0, v.payloadWireLen) : 0, ack0: st.ack0, ack1: st.ack1, st, dead: false,
    });
    this.#fifo.push(r[r.length - 1]!);
    st.ringBytes += len;
    this.#ringBytes += len;
    return true;
  }

  #trigger(st: FlowState): void {
    const f = st.flow;
    this.#hash(st);
    st.ref = { hashHi: st.hi, hashLo: st.lo, fidHi: Number((f.flowId >> 32n) & 0xffffffffn), fidLo: Number(f.flowId & 0xffffffffn),
      flowStartUs: st.startUs, vlan: f.vlan[0] ?? 0, proto: f.proto, stored: 0, entry: null, gen: -1 };
    st.triggered = true;
    this.#flowsStored++;
  }

  /** Trigger on alert `a`: write the retro packets before its packet, then the ring from its packet on. */
  #triggerAt(st: FlowState, a: Alert): void {
    this.#trigger(st);
    const r = st.ring;
    let t = r.findIndex((e) => e.us > a.tsUs || (e.us === a.tsUs && (a.pcapCnt === undefined || e.idx + 1 >= a.pcapCnt)));
    if (t < 0) t = r.length;
    const te = r[t];
    const ack0 = te ? te.ack0 : st.ack0, ack1 = te ? te.ack1 : st.ack1;
    for (let j = 0; j < r.length; j++) {
      const e = r[j]!;
      let keep = j >= t || j >= t - this.preAlert;
      if (!keep && this.mode === 'alerts' && e.plen > 0) {
        const peerAck = e.dir === 0 ? ack1 : ack0;
        keep = Number.isNaN(peerAck) || seqLt(peerAck, (e.seq + e.plen) >>> 0);
      }
      if (keep) this.store.write(st.ref!, e.tsSec, e.tsNsec, e.data, e.origlen, e.linkType);
    }
    for (const e of r) e.dead = true;
    this.#ringBytes -= st.ringBytes;
    st.ringBytes = 0;
    st.ring = [];
  }

  /**
   * Embedded use: an alert arriving now. When its flow is live and its packet still in the ring, the flow is
   * stored from that packet; when the packet is gone, from now on (counted as late); otherwise it waits.
   */
  addAlert(a: Alert): void {
    const p = this.#register(a);
    const st = this.#live.get(mapKey(p.hi, p.lo));
    if (!st || !this.#states.has(st.flow) || !this.#fits(st, p) || st.hi !== p.hi || st.lo !== p.lo) return;
    if (a.communityId !== undefined && a.communityId !== st.flow.communityId && a.communityId !== suricataCommunityId(st.flow)) return;
    // Keep candidates sorted by time (alerts usually arrive in order: append).
    let at = st.cands.length;
    while (at > st.cursor && st.cands[at - 1]!.alert.tsUs > a.tsUs) at--;
    st.cands.splice(at, 0, p);
    p.owner = st;
    st.open++;
    if (st.lastUs < a.tsUs) return; // its packet has not been seen yet
    p.matched = true;
    p.flowId = st.flow.flowId;
    p.flowStartUs = st.startUs;
    st.open--;
    if (st.triggered) return;
    const r = st.ring;
    const found = r.some((e) => e.us >= a.tsUs);
    if (!found || (r.length && r[0]!.us > a.tsUs)) { p.late = true; this.#late++; }
    this.#triggerAt(st, a);
  }

  /** FlowSink: the table ended this flow (after its last packet). */
  onFlowEnd(flow: StoreFlowRecord): void {
    const st = this.#states.get(flow);
    if (st === undefined) return;
    this.#states.delete(flow);
    if (st === NONE) return;
    for (const e of st.ring) e.dead = true;
    this.#ringBytes -= st.ringBytes;
    st.ring = [];
    st.ringBytes = 0;
    if (st.hashed) { const k = mapKey(st.hi, st.lo); if (this.#live.get(k) === st) this.#live.delete(k); }
  }

  /** FlowSink: end of input: close the open segment, report alerts matched and unmatched. */
  finish(): StoreSinkResult {
    this.store.close();
    const matched: AlertOutcome[] = [], unmatched: AlertOutcome[] = [];
    for (const p of this.#all) {
      const o: AlertOutcome = { n: p.n, timestamp: p.alert.timestamp };
      if (p.alert.signatureId !== undefined) o.signatureId = p.alert.signatureId;
      if (p.alert.flowId !== undefined) o.suricataFlowId = p.alert.flowId;
      if (p.matched) {
        o.flowId = p.flowId!.toString();
        o.flowStartUs = p.flowStartUs!;
        if (p.late) o.late = true;
        matched.push(o);
      } else {
        o.reason = 'no flow with this tuple has a packet at or after the alert time within its lifetime';
        unmatched.push(o);
      }
    }
    return {
      counters: { ...this.store.counters, flowsStored: this.#flowsStored, ringDropped: this.#ringDropped, ringEvictedYoung: this.#ringEvictedYoung, alertsLate: this.#late },
      matched, unmatched, segments: this.store.closed.map((s) => s.name), repair: this.repair,
    };
  }
}

/** FlowSink factory for runFlows (sequential mode: the store has one writer). */
export function createSink(options: StoreSinkOptions, ctx: { worker: number; workers: number } = { worker: 0, workers: 1 }): StoreSink {
  if (ctx.workers > 1) throw new Error('the pcap store sink runs in one thread (workers: 0): segments are written in capture order by one writer');
  return new StoreSink(options);
}
