// The indicator-matching FlowSink: runs inside each flow-owning worker, loads the indicator lists there, looks up
// both endpoints of every flow once (at flow end, never per packet) and aggregates hits into compact per-worker
// records keyed by (list, indicator, local, remote, direction). flows.ts merges the workers' results.

import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '../flow/record.js';
import type { FlowSink, PacketContext, SinkContext } from '../engine/sink.js';
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from '../decode/index.js';
import { ERR, FlowcarveError } from '../errors.js';
import { IndicatorList, IndicatorSet, type ListFormat } from './indicators.js';
import { Direction, HomeNet } from './direction.js';
import { parseIpv4Str, parseIpv6Bytes } from './addr.js';
import { DEFAULT_MAX_PORTS, DEFAULT_MAX_RECORDS, Timeline } from './matcher.js';

/** One list for the workers to load: a file path and how to read it. */
export interface FlowListSpec {
  path: string;
  /** Name reported with hits (default: the file's base name). */
  name?: string;
  format?: ListFormat;
  column?: string;
  labelColumn?: string;
}

/** Options of the sink (structured-clone-able: they cross into every worker). */
export interface IocFlowSinkOptions {
  /** Lists loaded in each worker from their files. */
  lists?: FlowListSpec[];
  /** In-thread only (workers ≤ 1): token of a set registered with registerFlowSet(). */
  setToken?: number;
  homeNet?: string[];
  includePrivate?: boolean;
  /** Cap on records kept per worker (default DEFAULT_MAX_RECORDS); beyond it hits are counted, not kept. */
  maxRecords?: number;
  /** Cap on ports kept per record side (the smallest ones are kept, so merging stays deterministic). */
  maxPorts?: number;
}

/** One aggregated flow-level record of a worker (times in µs since the epoch). */
export interface FlowHitRecord {
  list: string;
  indicator: string;
  label: string;
  dir: Direction;
  local: string;
  remote: string;
  matched: 'local' | 'remote' | 'both';
  first: number;
  last: number;
  flows: number;
  packets: number;
  bytes: number;
  /** Smallest distinct ports, ascending, at most maxPorts; `portsMore` when there were more. */
  localPorts: number[];
  remotePorts: number[];
  portsMore: boolean;
  /** PROTO_BITS mask (see matcher.ts). */
  protos: number;
}

/** Per-indicator timeline of a worker: flows' packets added at each flow's start time. */
export interface FlowTimelinePart { list: string; indicator: string; label: string; packets: number; widthUs: number; buckets: Array<[number, number]> }

/** Counters of one worker. */
export interface IocFlowSinkCounters {
  flows: number;
  /** Flows whose addresses are IPv4/IPv6 and were looked up. */
  ipFlows: number;
  /** Flows with at least one hit, and their packets. */
  matchedFlows: number;
  matchedPackets: number;
  /** Hits (a flow matching on both ends in two entries, or in two lists, counts more than once). */
  hits: number;
  /** Packets of the hits (each hit counts the flow's packets). */
  hitPackets: number;
  records: number;
  /** Hits that would have opened a record beyond maxRecords. */
  recordsDropped: number;
  /** Flows whose address text could not be parsed (should not happen). */
  badAddresses: number;
  /** Packets seen by onPacket (all flows). */
  packets: number;
}

/** What finish() returns. */
export interface IocFlowSinkResult { records: FlowHitRecord[]; timelines: FlowTimelinePart[]; counters: IocFlowSinkCounters; lists: Array<{ name: string; entries: number; problems: number }> }

const flowSets = new Map<number, IndicatorSet>();
let nextToken = 1;

/** Make an in-memory set reachable by sinks created in this thread (workers ≤ 1); returns its token. */
export function registerFlowSet(set: IndicatorSet): number {
  const t = nextToken++;
  flowSets.set(t, set);
  return t;
}

/** Forget a set registered with registerFlowSet(). */
export function unregisterFlowSet(token: number): void {
  flowSets.delete(token);
}

/** PROTO_BITS of matcher.ts for an IP protocol number. */
function protoBit(p: number): number {
  switch (p) {
    case PROTO_TCP: return 1;
    case PROTO_UDP: return 2;
    case PROTO_ICMP: return 4;
    case PROTO_ICMPV6: return 8;
    case PROTO_SCTP: return 16;
    default: return 32;
  }
}

/** Insert p into an ascending port array capped at `max` (the largest is dropped); returns true when one was dropped. */
export function addSmallestPort(ports: number[], p: number, max: number): boolean {
  let lo = 0, hi = ports.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (ports[m]! < p) lo = m + 1; else hi = m; }
  if (ports[lo] === p) return false;
  if (ports.length < max) { ports.splice(lo, 0, p); return false; }
  if (lo >= max) return true;
  ports.splice(lo, 0, p);
  ports.pop();
  return true;
}

/** Matches flows (once each, at flow end) against an IndicatorSet. */
export class IocFlowSink implements FlowSink<IocFlowSinkResult> {
  readonly set: IndicatorSet;
  readonly home: HomeNet;
  readonly counters: IocFlowSinkCounters = {
    flows: 0, ipFlows: 0, matchedFlows: 0, matchedPackets: 0, hits: 0, hitPackets: 0, records: 0, recordsDropped: 0, badAddresses: 0, packets: 0,
  };
  readonly #maxRecords: number;
  readonly #maxPorts: number;
  readonly #recs = new Map<string, FlowHitRecord>();
  readonly #timelines = new Map<string, { list: string; indicator: string; label: string; packets: number; t: Timeline }>();
  /** Client address at 0, server address at 16. */
  readonly #addr = new Uint8Array(32);
  readonly #text = Buffer.alloc(64);

  constructor(set: IndicatorSet, o: IocFlowSinkOptions = {}) {
    this.set = set;
    this.home = new HomeNet({ homeNet: o.homeNet, includePrivate: o.includePrivate });
    this.#maxRecords = o.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.#maxPorts = o.maxPorts ?? DEFAULT_MAX_PORTS;
  }

  /** Per packet: only counted; all matching happens once per flow in onFlowEnd. */
  onPacket(_ctx: PacketContext): void {
    this.counters.packets++;
  }

  /** Look up both ends of the ended flow and add its hits. */
  onFlowEnd(f: FlowRecord): void {
    this.counters.flows++;
    const v = f.ipVersion;
    if (v !== 4 && v !== 6) return;
    const a = this.#addr;
    if (!this.#parse(v, f.srcIp, 0) || !this.#parse(v, f.dstIp, 16)) { this.counters.badAddresses++; return; }
    this.counters.ipFlows++;
    const lists = this.set.lists;
    let hits = 0;
    let dir: Direction | -1 = -1;
    for (let li = 0; li < lists.length; li++) {
      const l = lists[li]!;
      const t = v === 4 ? l.v4 : l.v6;
      if (t.size === 0) continue;
      const hs = t.lookupBytes(a, 0);
      const hd = t.lookupBytes(a, 16);
      if (hs < 0 && hd < 0) continue;
      // Direction is decided once per flow: client home and server not = outbound.
      if (dir === -1) dir = this.home.direction(v, a, 0, 16);
      if (hs >= 0) { this.#hit(l, hs, hs === hd ? 2 : 0, v, dir, f); hits++; }
      if (hd >= 0 && hd !== hs) { this.#hit(l, hd, 1, v, dir, f); hits++; }
    }
    if (hits) {
      this.counters.matchedFlows++;
      this.counters.matchedPackets += f.pktsToServer + f.pktsToClient;
      this.counters.hits += hits;
    }
  }

  #parse(v: 4 | 6, s: string, o: number): boolean {
    if (v === 4) return parseIpv4Str(s, 0, s.length, this.#addr, o);
    if (s.length > this.#text.length) return false;
    const n = this.#text.write(s, 0, 'latin1');
    return parseIpv6Bytes(this.#text, 0, n, this.#addr, o);
  }

  /** side: 0 the client matched, 1 the server, 2 both (same entry). */
  #hit(l: IndicatorList, entry: number, side: 0 | 1 | 2, v: 4 | 6, dir: Direction, f: FlowRecord): void {
    const out = dir === Direction.Outbound;
    const indicator = v === 4 ? l.text4(entry) : l.text6(entry);
    const local = out ? f.srcIp : f.dstIp, remote = out ? f.dstIp : f.srcIp;
    const packets = f.pktsToServer + f.pktsToClient;
    const first = f.startSec * 1e6 + Math.floor(f.startNsec / 1000);
    const last = f.endSec * 1e6 + Math.floor(f.endNsec / 1000);
    this.counters.hitPackets += packets;
    const key = `${l.name}\u0001${indicator}\u0001${local}\u0001${remote}\u0001${dir}`;
    let r = this.#recs.get(key);
    if (r === undefined) {
      if (this.#recs.size >= this.#maxRecords) { this.counters.recordsDropped++; return; }
      r = {
        list: l.name, indicator, label: v === 4 ? l.label4(entry) : l.label6(entry), dir, local, remote,
        matched: side === 2 ? 'both' : (side === 0) === out ? 'local' : 'remote',
        first, last, flows: 0, packets: 0, bytes: 0, localPorts: [], remotePorts: [], portsMore: false, protos: 0,
      };
      this.#recs.set(key, r);
      this.counters.records++;
    }
    if (first < r.first) r.first = first;
    if (last > r.last) r.last = last;
    r.flows++;
    r.packets += packets;
    r.bytes += f.bytesToServer + f.bytesToClient;
    r.protos |= protoBit(f.proto);
    if (f.proto === PROTO_TCP || f.proto === PROTO_UDP || f.proto === PROTO_SCTP) {
      const lp = out ? f.srcPort : f.dstPort, rp = out ? f.dstPort : f.srcPort;
      if (addSmallestPort(r.localPorts, lp, this.#maxPorts)) r.portsMore = true;
      if (addSmallestPort(r.remotePorts, rp, this.#maxPorts)) r.portsMore = true;
    }
    const tk = `${l.name}\u0001${indicator}`;
    let tl = this.#timelines.get(tk);
    if (tl === undefined) { tl = { list: l.name, indicator, label: r.label, packets: 0, t: new Timeline() }; this.#timelines.set(tk, tl); }
    tl.packets += packets;
    tl.t.add(first, packets);
  }

  /** The worker's records and timelines (unordered; flows.ts sorts after merging). */
  finish(): IocFlowSinkResult {
    return {
      records: [...this.#recs.values()],
      timelines: [...this.#timelines.values()].map((t) => ({ list: t.list, indicator: t.indicator, label: t.label, packets: t.packets, widthUs: t.t.widthUs, buckets: [...t.t.buckets] })),
      counters: this.counters,
      lists: this.set.lists.map((l) => ({ name: l.name, entries: l.size, problems: l.problemCount })),
    };
  }
}

/** FlowSink entry: loads the lists named in the options (or takes the registered in-thread set). */
export async function createSink(options: unknown, _ctx: SinkContext): Promise<IocFlowSink> {
  const o = (options ?? {}) as IocFlowSinkOptions;
  let set: IndicatorSet;
  if (o.setToken !== undefined) {
    const s = flowSets.get(o.setToken);
    if (!s) throw new FlowcarveError(ERR.USAGE, 'ioc flow sink: an in-memory indicator set is only usable in the calling thread (workers ≤ 1); give list files for workers');
    set = s;
  } else {
    const lists: IndicatorList[] = [];
    for (const spec of o.lists ?? []) {
      lists.push(await IndicatorList.load(spec.path, { name: spec.name, format: spec.format, column: spec.column, labelColumn: spec.labelColumn }));
    }
    set = new IndicatorSet(lists);
  }
  return new IocFlowSink(set, o);
}

/** Absolute path of this module, for runFlows({ sinks: [{ module: IOC_FLOW_SINK_MODULE, options }] }). */
export const IOC_FLOW_SINK_MODULE = fileURLToPath(import.meta.url);
