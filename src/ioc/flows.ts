// matchFlows(): indicator matching of captures through the flow pipeline (runFlows + IocFlowSink in every worker),
// one lookup per flow. Merges the workers' records into the IocRecord shape the reports consume, deterministically:
// the output is identical for any worker count.

import { runFlows, type RunOptions, type RunResult } from '../engine/run.js';
import { ERR, FlowcarveError } from '../errors.js';
import type { IndicatorSet } from './indicators.js';
import { DIRECTION_NAMES } from './direction.js';
import { DEFAULT_MAX_PORTS, DEFAULT_MAX_RECORDS, formatTime, TIMELINE_MAX_BUCKETS, type IndicatorTimeline, type IocRecord, type IocStats } from './matcher.js';
import {
  addSmallestPort, IOC_FLOW_SINK_MODULE, registerFlowSet, unregisterFlowSet,
  type FlowHitRecord, type FlowListSpec, type FlowTimelinePart, type IocFlowSinkCounters, type IocFlowSinkOptions, type IocFlowSinkResult,
} from './flow-sink.js';

export interface MatchFlowsOptions {
  /** Shard workers (0/1: in the calling thread). */
  workers?: number;
  homeNet?: readonly string[] | string;
  includePrivate?: boolean;
  /** Cap on records (default DEFAULT_MAX_RECORDS); the rest are counted in stats.recordsDropped. */
  maxRecords?: number;
  /** Ports kept per record side (the smallest ones; default DEFAULT_MAX_PORTS). */
  maxPorts?: number;
  /** Passed to runFlows (flow table, defrag, reader options, onInputError…). */
  run?: Omit<RunOptions, 'sinks' | 'workers'>;
}

/** Counters of a flow-mode run. */
export interface FlowMatchStats extends IocStats {
  flows: number;
  matchedFlows: number;
}

/** Result of matchFlows. */
export interface FlowMatchResult {
  /** Records, most packets first (ties: indicator, list, local, remote, direction) — as IocMatcher.results(). */
  records: IocRecord[];
  /** Per-indicator timelines (each flow's packets at its start time), most packets first. */
  timelines: IndicatorTimeline[];
  stats: FlowMatchStats;
  /** Flow pipeline counters and per-worker sink counters. */
  run: Omit<RunResult, 'sinks'>;
  workerCounters: IocFlowSinkCounters[];
  lists: Array<{ name: string; entries: number; problems: number }>;
}

const PROTO_BITS: Array<[number, string]> = [[1, 'tcp'], [2, 'udp'], [4, 'icmp'], [8, 'icmp6'], [16, 'sctp'], [32, 'other']];

/**
 * Match the captures `inputs` per flow against lists: file specs (loaded in every worker) or an IndicatorSet
 * (in-thread only: workers ≤ 1). Direction, local/remote, times, packets and bytes come from each flow.
 */
export async function matchFlows(inputs: string[], lists: readonly FlowListSpec[] | IndicatorSet, opts: MatchFlowsOptions = {}): Promise<FlowMatchResult> {
  const workers = Math.max(1, Math.floor(opts.workers ?? 1));
  const homeNet = typeof opts.homeNet === 'string' ? opts.homeNet.split(',') : [...(opts.homeNet ?? [])];
  const sinkOpts: IocFlowSinkOptions = { homeNet, includePrivate: opts.includePrivate, maxRecords: opts.maxRecords, maxPorts: opts.maxPorts };
  let token: number | undefined;
  if (Array.isArray(lists)) sinkOpts.lists = [...lists];
  else {
    if (workers > 1) throw new FlowcarveError(ERR.USAGE, 'matchFlows: an in-memory IndicatorSet runs in one thread; give list files to use workers');
    token = registerFlowSet(lists as IndicatorSet);
    sinkOpts.setToken = token;
  }
  try {
    const res = await runFlows(inputs, { ...(opts.run ?? {}), workers, sinks: [{ module: IOC_FLOW_SINK_MODULE, options: sinkOpts }] });
    const parts = res.sinks[0] as IocFlowSinkResult[];
    const merged = mergeFlowResults(parts, opts);
    const { sinks: _s, ...run } = res;
    const c = parts.map((p) => p.counters);
    const sum = (k: keyof IocFlowSinkCounters): number => c.reduce((a, x) => a + x[k], 0);
    const stats: FlowMatchStats = {
      packets: res.counters.packets, ipPackets: res.counters.packets - res.counters.nonIp, lines: 0, ipLines: 0, notIpLines: 0,
      badIpLines: 0, otherLines: 0, ipHeaderLines: 0, longLines: 0,
      matchedPackets: sum('matchedPackets'), hits: sum('hitPackets'), records: merged.records.length,
      recordsDropped: sum('recordsDropped') + merged.dropped,
      flows: sum('flows'), matchedFlows: sum('matchedFlows'),
    };
    return { records: merged.records, timelines: merged.timelines, stats, run, workerCounters: c, lists: parts[0]?.lists ?? [] };
  } finally {
    if (token !== undefined) unregisterFlowSet(token);
  }
}

/** Merge the workers' results: records by (list, indicator, local, remote, direction), timelines by indicator. */
export function mergeFlowResults(parts: readonly IocFlowSinkResult[], o: { maxRecords?: number; maxPorts?: number } = {}): { records: IocRecord[]; timelines: IndicatorTimeline[]; dropped: number } {
  const maxPorts = o.maxPorts ?? DEFAULT_MAX_PORTS;
  const maxRecords = o.maxRecords ?? DEFAULT_MAX_RECORDS;
  const recs = new Map<string, FlowHitRecord>();
  for (const p of parts) {
    for (const r of p.records) {
      const k = `${r.list}\u0001${r.indicator}\u0001${r.local}\u0001${r.remote}\u0001${r.dir}`;
      const m = recs.get(k);
      if (m === undefined) { recs.set(k, { ...r, localPorts: [...r.localPorts], remotePorts: [...r.remotePorts] }); continue; }
      if (r.first < m.first) m.first = r.first;
      if (r.last > m.last) m.last = r.last;
      m.flows += r.flows; m.packets += r.packets; m.bytes += r.bytes; m.protos |= r.protos;
      // Each side keeps its smallest ports, so the union's smallest are the global smallest.
      if (r.portsMore) m.portsMore = true;
      for (const x of r.localPorts) if (addSmallestPort(m.localPorts, x, maxPorts)) m.portsMore = true;
      for (const x of r.remotePorts) if (addSmallestPort(m.remotePorts, x, maxPorts)) m.portsMore = true;
    }
  }
  const records: IocRecord[] = [];
  for (const r of recs.values()) {
    const protocols: string[] = [];
    for (const [bit, name] of PROTO_BITS) if (r.protos & bit) protocols.push(name);
    records.push({
      indicator: r.indicator, list: r.list, label: r.label, direction: DIRECTION_NAMES[r.dir], local: r.local, remote: r.remote,
      matched: r.matched, firstSeen: formatTime(r.first, true), lastSeen: formatTime(r.last, true), firstSeenUs: r.first, lastSeenUs: r.last,
      dateKnown: true, packets: r.packets, bytes: r.bytes, payloadBytes: null,
      remotePorts: r.remotePorts, localPorts: r.localPorts, portsTruncated: r.portsMore, protocols,
    });
  }
  records.sort((a, b) => b.packets - a.packets || cmp(a.indicator, b.indicator) || cmp(a.list, b.list) || cmp(a.local, b.local)
    || cmp(a.remote, b.remote) || cmp(a.direction, b.direction));
  let dropped = 0;
  if (records.length > maxRecords) { dropped = records.length - maxRecords; records.length = maxRecords; }
  return { records, timelines: mergeTimelines(parts.flatMap((p) => p.timelines)), dropped };
}

/**
 * Merge timeline parts of the same indicator: bring every part to the widest bucket width, sum, and halve the
 * resolution while there are too many buckets — the same buckets one Timeline fed with every point would hold.
 */
export function mergeTimelines(parts: readonly FlowTimelinePart[]): IndicatorTimeline[] {
  const by = new Map<string, FlowTimelinePart[]>();
  for (const p of parts) {
    const k = `${p.list}\u0001${p.indicator}`;
    const a = by.get(k);
    if (a) a.push(p); else by.set(k, [p]);
  }
  const out: IndicatorTimeline[] = [];
  for (const group of by.values()) {
    let width = Math.max(...group.map((g) => g.widthUs));
    let buckets = new Map<number, number>();
    for (const g of group) {
      const f = width / g.widthUs; // a power of two
      for (const [k, v] of g.buckets) { const nk = Math.floor(k / f); buckets.set(nk, (buckets.get(nk) ?? 0) + v); }
    }
    while (buckets.size > TIMELINE_MAX_BUCKETS) {
      const next = new Map<number, number>();
      for (const [k, v] of buckets) { const nk = Math.floor(k / 2); next.set(nk, (next.get(nk) ?? 0) + v); }
      buckets = next;
      width *= 2;
    }
    const g0 = group[0]!;
    out.push({
      list: g0.list, indicator: g0.indicator, label: g0.label, packets: group.reduce((a, g) => a + g.packets, 0), dateKnown: true,
      points: [...buckets].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k * width, v]),
    });
  }
  return out.sort((a, b) => b.packets - a.packets || cmp(a.indicator, b.indicator) || cmp(a.list, b.list));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Records, timelines and counters of one kind of input (per-flow or per-packet/line). */
export interface IocOutput { records: IocRecord[]; timelines: IndicatorTimeline[]; stats: IocStats }

/**
 * Combine per-flow results (captures) with per-packet/line results (text): records with the same (list,
 * indicator, local, remote, direction) are summed, timelines of one indicator are summed bucket by bucket.
 */
export function combineResults(flows: IocOutput, other: IocOutput | null, maxRecords = DEFAULT_MAX_RECORDS): IocOutput {
  if (other === null) return { records: flows.records, timelines: flows.timelines, stats: flows.stats };
  const by = new Map<string, IocRecord>();
  for (const r of [...flows.records, ...other.records]) {
    const k = `${r.list}\u0001${r.indicator}\u0001${r.local}\u0001${r.remote}\u0001${r.direction}`;
    const m = by.get(k);
    if (m === undefined) { by.set(k, { ...r, remotePorts: [...r.remotePorts], localPorts: [...r.localPorts], protocols: [...r.protocols] }); continue; }
    // Time-of-day text cannot be ordered against dated captures: the dated times win.
    if (r.dateKnown === m.dateKnown || (r.dateKnown && !m.dateKnown)) {
      if (!m.dateKnown && r.dateKnown) { m.firstSeenUs = r.firstSeenUs; m.lastSeenUs = r.lastSeenUs; m.dateKnown = true; }
      if (r.firstSeenUs < m.firstSeenUs || m.firstSeenUs !== m.firstSeenUs) m.firstSeenUs = r.firstSeenUs;
      if (r.lastSeenUs > m.lastSeenUs || m.lastSeenUs !== m.lastSeenUs) m.lastSeenUs = r.lastSeenUs;
      m.firstSeen = formatTime(m.firstSeenUs, m.dateKnown);
      m.lastSeen = formatTime(m.lastSeenUs, m.dateKnown);
    }
    m.packets += r.packets;
    m.bytes = m.bytes === null ? r.bytes : r.bytes === null ? m.bytes : m.bytes + r.bytes;
    m.payloadBytes = m.payloadBytes === null ? r.payloadBytes : r.payloadBytes === null ? m.payloadBytes : m.payloadBytes + r.payloadBytes;
    for (const p of r.remotePorts) if (!m.remotePorts.includes(p)) m.remotePorts.push(p);
    for (const p of r.localPorts) if (!m.localPorts.includes(p)) m.localPorts.push(p);
    m.remotePorts.sort((a, b) => a - b); m.localPorts.sort((a, b) => a - b);
    m.portsTruncated ||= r.portsTruncated;
    for (const p of r.protocols) if (!m.protocols.includes(p)) m.protocols.push(p);
    m.protocols.sort((a, b) => PROTO_BITS.findIndex((x) => x[1] === a) - PROTO_BITS.findIndex((x) => x[1] === b));
  }
  const records = [...by.values()].sort((a, b) => b.packets - a.packets || cmp(a.indicator, b.indicator) || cmp(a.list, b.list)
    || cmp(a.local, b.local) || cmp(a.remote, b.remote) || cmp(a.direction, b.direction));
  let dropped = 0;
  if (records.length > maxRecords) { dropped = records.length - maxRecords; records.length = maxRecords; }
  const tl = new Map<string, IndicatorTimeline>();
  for (const t of [...flows.timelines, ...other.timelines]) {
    const k = `${t.list}\u0001${t.indicator}`;
    const m = tl.get(k);
    if (m === undefined) { tl.set(k, { ...t, points: t.points.map((p) => [p[0], p[1]] as [number, number]) }); continue; }
    const pts = new Map<number, number>(m.points);
    for (const [x, n] of t.points) pts.set(x, (pts.get(x) ?? 0) + n);
    m.points = [...pts].sort((a, b) => a[0] - b[0]);
    m.packets += t.packets;
    m.dateKnown &&= t.dateKnown;
  }
  const timelines = [...tl.values()].sort((a, b) => b.packets - a.packets || cmp(a.indicator, b.indicator) || cmp(a.list, b.list));
  const s = { ...flows.stats } as IocStats;
  for (const k of Object.keys(other.stats) as Array<keyof IocStats>) if (k !== 'records') s[k] = (s[k] ?? 0) + other.stats[k];
  s.records = records.length;
  s.recordsDropped += dropped;
  return { records, timelines, stats: s };
}
