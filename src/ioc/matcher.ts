// IocMatcher: matches decoded packets (PacketView / PacketBatch) and tcpdump text lines against an
// IndicatorSet, and aggregates hits into one record per (list, indicator, local, remote, direction) with a
// per-indicator timeline. Records are keyed by indicator text, so a list reload never drops them.

import type { PacketBatch } from '../pcap/batch.js';
import { decodeBatchPacket, PacketView, PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from '../decode/index.js';
import { ipv4String, ipv6String } from '../decode/addr.js';
import type { IndicatorList, IndicatorSet } from './indicators.js';
import { Direction, DIRECTION_NAMES, HomeNet, type HomeNetOptions } from './direction.js';
import { LineKind, parseTcpdumpLine, TextPacket } from './tcpdump-text.js';

/** Default cap on records kept; hits that would open a record beyond it are counted in `recordsDropped`. */
export const DEFAULT_MAX_RECORDS = 1_000_000;
/** Default cap on distinct ports kept per record side. */
export const DEFAULT_MAX_PORTS = 16;
/** Buckets one indicator's timeline keeps before it halves its resolution. */
export const TIMELINE_MAX_BUCKETS = 1024;

export interface IocMatcherOptions extends HomeNetOptions {
  /** Cap on records (default DEFAULT_MAX_RECORDS). */
  maxRecords?: number;
  /** Cap on ports kept per side of a record (default DEFAULT_MAX_PORTS). */
  maxPorts?: number;
  /** Minutes east of UTC of the clock that printed `-tttt` text (default 0). */
  tzOffsetMinutes?: number;
}

/** One aggregated match, as reported. Times are ISO 8601 (µs, UTC) when the date is known, else HH:MM:SS.ffffff[+Nd]. */
export interface IocRecord {
  indicator: string;
  list: string;
  label: string;
  direction: 'inbound' | 'outbound';
  local: string;
  remote: string;
  /** Which side of the conversation is the listed address ('both' when both ends fall in the same entry). */
  matched: 'local' | 'remote' | 'both';
  firstSeen: string;
  lastSeen: string;
  /** µs since the epoch (or since midnight when dateKnown is false); NaN when the input had no times. */
  firstSeenUs: number;
  lastSeenUs: number;
  dateKnown: boolean;
  packets: number;
  /** Frame bytes on the wire (captures); null when the input does not give them (text). */
  bytes: number | null;
  /** Transport payload bytes as tcpdump prints them in `length N` (TCP, UDP, ICMP); null when never known. */
  payloadBytes: number | null;
  /** Ports seen on the remote and local side (at most maxPorts each, ascending). */
  remotePorts: number[];
  localPorts: number[];
  portsTruncated: boolean;
  protocols: string[];
}

/** Counters of what the matcher has seen. */
export interface IocStats {
  packets: number;
  ipPackets: number;
  lines: number;
  ipLines: number;
  notIpLines: number;
  /** IP lines whose addresses could not be read. */
  badIpLines: number;
  /** Lines that are not packet lines (continuations, blanks, unknown text). */
  otherLines: number;
  /** -v IPv4 header lines (their packet is counted with the indented line that follows). */
  ipHeaderLines: number;
  /** Text lines longer than MAX_LINE, skipped unread (set by the input layer). */
  longLines: number;
  /** Packets or lines that matched at least one indicator. */
  matchedPackets: number;
  /** Indicator hits (a packet matching on both sides, or in two lists, counts more than once). */
  hits: number;
  records: number;
  recordsDropped: number;
}

const PROTO_BITS: Array<[number, string]> = [[1, 'tcp'], [2, 'udp'], [4, 'icmp'], [8, 'icmp6'], [16, 'sctp'], [32, 'other']];

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

class Rec {
  first = Infinity;
  last = -Infinity;
  packets = 0;
  bytes = 0;
  bytesKnown = false;
  payload = 0;
  payloadKnown = false;
  remotePorts: number[] | null = null;
  localPorts: number[] | null = null;
  portsTruncated = false;
  protos = 0;
  dateKnown = true;
  timed = false;
  constructor(
    readonly list: string, readonly indicator: string, readonly label: string, readonly dir: Direction,
    readonly local: string, readonly remote: string, readonly matched: 'local' | 'remote' | 'both',
  ) {}
}

/** Hits of one indicator over time: sparse buckets whose width doubles when there are too many. */
export class Timeline {
  widthUs = 1e6;
  readonly buckets = new Map<number, number>();
  add(tsUs: number, n = 1): void {
    const k = Math.floor(tsUs / this.widthUs);
    this.buckets.set(k, (this.buckets.get(k) ?? 0) + n);
    if (this.buckets.size > TIMELINE_MAX_BUCKETS) this.#coarsen();
  }
  #coarsen(): void {
    const old = [...this.buckets];
    this.buckets.clear();
    this.widthUs *= 2;
    for (const [k, v] of old) {
      const nk = Math.floor(k / 2);
      this.buckets.set(nk, (this.buckets.get(nk) ?? 0) + v);
    }
  }
  /** (bucket start µs, count) pairs in time order. */
  points(): Array<[number, number]> {
    return [...this.buckets].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k * this.widthUs, v]);
  }
}

/**
 * Open-addressing hash table (linear probing) from an IPv4 record key — (indicator id * 2 + direction, local,
 * remote) as three u32 words — to a record index. Typed arrays only: no string or object per key.
 */
class RecordIndex4 {
  #keys = new Uint32Array(3 * 1024);
  #vals = new Int32Array(1024).fill(-1);
  #mask = 1023;
  #size = 0;

  #slot(k0: number, k1: number, k2: number): number {
    let h = Math.imul(k0 ^ 0x27d4eb2d, 0x9e3779b1) ^ Math.imul(k1, 0x85ebca6b) ^ Math.imul(k2 ^ (k2 >>> 15), 0xc2b2ae35);
    h ^= h >>> 13;
    let i = (Math.imul(h, 0x27d4eb2f) >>> 0) & this.#mask;
    const keys = this.#keys, vals = this.#vals;
    while (vals[i] !== -1 && (keys[3 * i] !== k0 || keys[3 * i + 1] !== k1 || keys[3 * i + 2] !== k2)) i = (i + 1) & this.#mask;
    return i;
  }
  /** Record index for the key, or -1. */
  get(k0: number, k1: number, k2: number): number {
    return this.#vals[this.#slot(k0, k1, k2)]!;
  }
  /** Insert a key known to be absent. */
  set(k0: number, k1: number, k2: number, v: number): void {
    if ((this.#size + 1) * 2 > this.#vals.length) this.#grow();
    const i = this.#slot(k0, k1, k2);
    this.#keys[3 * i] = k0; this.#keys[3 * i + 1] = k1; this.#keys[3 * i + 2] = k2;
    this.#vals[i] = v;
    this.#size++;
  }
  clear(): void {
    this.#keys = new Uint32Array(3 * 1024); this.#vals = new Int32Array(1024).fill(-1); this.#mask = 1023; this.#size = 0;
  }
  #grow(): void {
    const oldK = this.#keys, oldV = this.#vals;
    const cap = oldV.length * 2;
    this.#keys = new Uint32Array(3 * cap);
    this.#vals = new Int32Array(cap).fill(-1);
    this.#mask = cap - 1;
    for (let j = 0; j < oldV.length; j++) {
      if (oldV[j] === -1) continue;
      const i = this.#slot(oldK[3 * j]!, oldK[3 * j + 1]!, oldK[3 * j + 2]!);
      this.#keys[3 * i] = oldK[3 * j]!; this.#keys[3 * i + 1] = oldK[3 * j + 1]!; this.#keys[3 * i + 2] = oldK[3 * j + 2]!;
      this.#vals[i] = oldV[j]!;
    }
  }
}

/** Slots of the IPv4 hit cache (a power of two). */
const HIT_CACHE = 1024;

interface TimelineEntry { t: Timeline; list: string; indicator: string; label: string; packets: number; dateKnown: boolean }
interface HitCacheSlot { list: IndicatorList; entry: number; s: number; d: number; rec: Rec; tl: TimelineEntry }

/** Timeline of one indicator (list + indicator text) for reports. */
export interface IndicatorTimeline {
  list: string;
  indicator: string;
  label: string;
  packets: number;
  dateKnown: boolean;
  points: Array<[number, number]>;
}

/** Matches packets and lines against a set of lists and aggregates the hits. */
export class IocMatcher {
  readonly set: IndicatorSet;
  readonly home: HomeNet;
  readonly stats: IocStats = {
    packets: 0, ipPackets: 0, lines: 0, ipLines: 0, notIpLines: 0, badIpLines: 0, otherLines: 0, ipHeaderLines: 0, longLines: 0,
    matchedPackets: 0, hits: 0, records: 0, recordsDropped: 0,
  };
  readonly #maxRecords: number;
  readonly #maxPorts: number;
  readonly #tzOffsetUs: number;
  /** Records in creation order; IPv4 ones found through #index4, IPv6 ones through #index6. */
  readonly #recList: Rec[] = [];
  readonly #index4 = new RecordIndex4();
  readonly #index6 = new Map<string, number>();
  /** Indicator ids: per list object and entry, and by `list name \u0001 indicator text`; timelines by id. */
  readonly #entryIds = new WeakMap<IndicatorList, Map<number, number>>();
  readonly #idByName = new Map<string, number>();
  readonly #timelineById: TimelineEntry[] = [];
  #cache: Array<HitCacheSlot | undefined> = new Array(HIT_CACHE);
  readonly #view = new PacketView();
  readonly #text = new TextPacket();
  #lineBuf: Buffer = Buffer.alloc(4096);
  /** Time-of-day text: last time seen and days passed (midnight rollovers). */
  #lastTod = -1;
  #dayUs = 0;

  constructor(set: IndicatorSet, opts: IocMatcherOptions = {}) {
    this.set = set;
    this.home = new HomeNet(opts);
    this.#maxRecords = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.#maxPorts = opts.maxPorts ?? DEFAULT_MAX_PORTS;
    this.#tzOffsetUs = (opts.tzOffsetMinutes ?? 0) * 60e6;
  }

  /**
   * Core: match one packet's addresses. `b[srcOff]`/`b[dstOff]` hold 4 or 16 address bytes; ports -1 when
   * absent; `tsUs` NaN when unknown; `wireBytes`/`payloadBytes` -1 when unknown. Returns the number of hits.
   */
  matchTuple(version: 4 | 6, b: Uint8Array, srcOff: number, dstOff: number, srcPort: number, dstPort: number,
    proto: number, tsUs: number, dateKnown: boolean, wireBytes: number, payloadBytes: number): number {
    const lists = this.set.lists;
    let hits = 0;
    if (version === 4) {
      const s = ((b[srcOff]! << 24) | (b[srcOff + 1]! << 16) | (b[srcOff + 2]! << 8) | b[srcOff + 3]!) >>> 0;
      const d = ((b[dstOff]! << 24) | (b[dstOff + 1]! << 16) | (b[dstOff + 2]! << 8) | b[dstOff + 3]!) >>> 0;
      for (let li = 0; li < lists.length; li++) {
        const l = lists[li]!;
        if (l.v4.size === 0) continue;
        const hs = l.v4.lookup4(s);
        const hd = l.v4.lookup4(d);
        // Both ends inside the same block is one hit (matched on both sides), not two.
        if (hs >= 0) { this.#hit(l, hs, hs === hd ? 2 : 0, 4, b, srcOff, dstOff, srcPort, dstPort, proto, tsUs, dateKnown, wireBytes, payloadBytes); hits++; }
        if (hd >= 0 && hd !== hs) { this.#hit(l, hd, 1, 4, b, srcOff, dstOff, srcPort, dstPort, proto, tsUs, dateKnown, wireBytes, payloadBytes); hits++; }
      }
    } else {
      for (let li = 0; li < lists.length; li++) {
        const l = lists[li]!;
        if (l.v6.size === 0) continue;
        const hs = l.v6.lookupBytes(b, srcOff);
        const hd = l.v6.lookupBytes(b, dstOff);
        if (hs >= 0) { this.#hit(l, hs, hs === hd ? 2 : 0, 6, b, srcOff, dstOff, srcPort, dstPort, proto, tsUs, dateKnown, wireBytes, payloadBytes); hits++; }
        if (hd >= 0 && hd !== hs) { this.#hit(l, hd, 1, 6, b, srcOff, dstOff, srcPort, dstPort, proto, tsUs, dateKnown, wireBytes, payloadBytes); hits++; }
      }
    }
    if (hits) { this.stats.matchedPackets++; this.stats.hits += hits; }
    return hits;
  }

  /** Interned id of (list name, indicator text) for `entry` of `l`; ids survive list reloads. */
  #indicatorId(l: IndicatorList, entry: number, v: 4 | 6): number {
    let m = this.#entryIds.get(l);
    if (m === undefined) { m = new Map(); this.#entryIds.set(l, m); }
    const k = entry * 2 + (v === 6 ? 1 : 0);
    let id = m.get(k);
    if (id === undefined) {
      const indicator = v === 4 ? l.text4(entry) : l.text6(entry);
      const name = `${l.name}\u0001${indicator}`;
      id = this.#idByName.get(name);
      if (id === undefined) {
        id = this.#timelineById.length;
        this.#idByName.set(name, id);
        this.#timelineById.push({ t: new Timeline(), list: l.name, indicator, label: v === 4 ? l.label4(entry) : l.label6(entry), packets: 0, dateKnown: true });
      }
      m.set(k, id);
    }
    return id;
  }

  /** `side`: 0 the source matched, 1 the destination, 2 both (same entry). */
  #hit(l: IndicatorList, entry: number, side: 0 | 1 | 2, v: 4 | 6, b: Uint8Array, srcOff: number, dstOff: number,
    srcPort: number, dstPort: number, proto: number, tsUs: number, dateKnown: boolean, wireBytes: number, payloadBytes: number): void {
    let r: Rec | undefined;
    let t: TimelineEntry | undefined;
    let out: boolean;
    // IPv4 fast path: a small direct-mapped cache of (list, entry, src, dst) → record, so the packets of one
    // conversation skip the record lookup. Every field of the record key is a function of these four.
    let slot = -1, s4 = 0, d4 = 0;
    if (v === 4) {
      s4 = ((b[srcOff]! << 24) | (b[srcOff + 1]! << 16) | (b[srcOff + 2]! << 8) | b[srcOff + 3]!) >>> 0;
      d4 = ((b[dstOff]! << 24) | (b[dstOff + 1]! << 16) | (b[dstOff + 2]! << 8) | b[dstOff + 3]!) >>> 0;
      slot = (Math.imul(s4 ^ Math.imul(d4, 0x9e3779b1) ^ entry, 0x85ebca6b) >>> 0) & (HIT_CACHE - 1);
      const c = this.#cache[slot];
      if (c !== undefined && c.list === l && c.entry === entry && c.s === s4 && c.d === d4) { r = c.rec; t = c.tl; }
    }
    if (r === undefined || t === undefined) {
      const dir = this.home.direction(v, b, srcOff, dstOff);
      out = dir === Direction.Outbound;
      const localOff = out ? srcOff : dstOff, remoteOff = out ? dstOff : srcOff;
      const id = this.#indicatorId(l, entry, v);
      t = this.#timelineById[id]!;
      let ri: number;
      let key = '';
      if (v === 4) ri = this.#index4.get(id * 2 + dir, out ? s4 : d4, out ? d4 : s4);
      else {
        key = `${id}\u0001${ipv6String(b, localOff)}\u0001${ipv6String(b, remoteOff)}\u0001${dir}`;
        ri = this.#index6.get(key) ?? -1;
      }
      if (ri < 0) {
        if (this.#recList.length >= this.#maxRecords) { this.stats.recordsDropped++; return; }
        const fmt = v === 4 ? ipv4String : ipv6String;
        r = new Rec(l.name, t.indicator, t.label, dir, fmt(b, localOff), fmt(b, remoteOff), side === 2 ? 'both' : (side === 0) === out ? 'local' : 'remote');
        ri = this.#recList.length;
        this.#recList.push(r);
        if (v === 4) this.#index4.set(id * 2 + dir, out ? s4 : d4, out ? d4 : s4, ri); else this.#index6.set(key, ri);
        this.stats.records++;
      } else r = this.#recList[ri]!;
      if (slot >= 0) this.#cache[slot] = { list: l, entry, s: s4, d: d4, rec: r, tl: t };
    } else out = r.dir === Direction.Outbound;
    r.packets++;
    if (tsUs === tsUs) { // not NaN
      if (tsUs < r.first) r.first = tsUs;
      if (tsUs > r.last) r.last = tsUs;
      r.timed = true;
      if (!dateKnown) r.dateKnown = false;
    }
    if (wireBytes >= 0) { r.bytes += wireBytes; r.bytesKnown = true; }
    if (payloadBytes >= 0) { r.payload += payloadBytes; r.payloadKnown = true; }
    r.protos |= protoBit(proto);
    const lp = out ? srcPort : dstPort, rp = out ? dstPort : srcPort;
    if (rp >= 0) r.remotePorts = this.#addPort(r, r.remotePorts, rp);
    if (lp >= 0) r.localPorts = this.#addPort(r, r.localPorts, lp);
    t.packets++;
    if (tsUs === tsUs) { t.t.add(tsUs); if (!dateKnown) t.dateKnown = false; }
  }

  /** Add a port to a bounded set (created on first use); returns the set. */
  #addPort(r: Rec, ports: number[] | null, p: number): number[] {
    if (ports === null) return [p];
    if (ports.includes(p)) return ports;
    if (ports.length >= this.#maxPorts) { r.portsTruncated = true; return ports; }
    ports.push(p);
    return ports;
  }

  /** Match a decoded packet; `tsUs` its time in µs, `wireBytes` its original length. */
  matchPacket(v: PacketView, tsUs: number, wireBytes: number): number {
    this.stats.packets++;
    if ((v.ipVersion !== 4 && v.ipVersion !== 6) || v.src < 0) return 0;
    this.stats.ipPackets++;
    // Ports count once their 4 bytes are captured, even when the rest of the header is cut (tcpdump prints them too).
    let sp = -1, dp = -1;
    const l4 = v.l4;
    if (l4 >= 0 && (v.proto === PROTO_TCP || v.proto === PROTO_UDP || v.proto === PROTO_SCTP) && v.ipEnd - l4 >= 4) {
      const b = v.buf;
      sp = (b[l4]! << 8) | b[l4 + 1]!;
      dp = (b[l4 + 2]! << 8) | b[l4 + 3]!;
    }
    let payload = -1;
    if (v.l4 >= 0 && v.payload >= 0) {
      if (v.proto === PROTO_TCP || v.proto === PROTO_UDP) payload = v.payloadWireLen;
      else if (v.proto === PROTO_ICMP || v.proto === PROTO_ICMPV6) payload = v.payloadWireLen + 8;
    }
    return this.matchTuple(v.ipVersion, v.buf, v.src, v.dst, sp, dp, v.proto, tsUs, true, wireBytes, payload);
  }

  /** Decode and match every packet of a batch; returns the number of hits. */
  matchBatch(batch: PacketBatch): number {
    const v = this.#view;
    let hits = 0;
    for (let i = 0; i < batch.count; i++) {
      decodeBatchPacket(v, batch, i);
      hits += this.matchPacket(v, batch.tsSec[i]! * 1e6 + Math.floor(batch.tsNsec[i]! / 1000), batch.origlen[i]!);
    }
    return hits;
  }

  /** Parse and match one tcpdump line b[s, e) (no newline); returns what kind of line it was. */
  matchLineBytes(b: Uint8Array, s: number, e: number): LineKind {
    const t = this.#text;
    const kind = parseTcpdumpLine(b, s, e, t, this.#tzOffsetUs);
    this.stats.lines++;
    switch (kind) {
      case LineKind.Ip: {
        this.stats.ipLines++;
        let ts = t.tsUs;
        if (!t.dateKnown && ts === ts) {
          // Time of day only: a jump back of more than 12 h is midnight passing, so count days.
          if (this.#lastTod >= 0 && ts + 43200e6 < this.#lastTod) this.#dayUs += 86400e6;
          this.#lastTod = ts;
          ts += this.#dayUs;
        }
        this.matchTuple(t.ipVersion as 4 | 6, t.addr, 0, 16, t.srcPort, t.dstPort, t.proto, ts, t.dateKnown, -1, t.length);
        break;
      }
      case LineKind.NotIp: this.stats.notIpLines++; break;
      case LineKind.BadIp: this.stats.badIpLines++; break;
      case LineKind.IpHeader: this.stats.ipHeaderLines++; break;
      default: this.stats.otherLines++;
    }
    return kind;
  }

  /** Start a new text input: its time-of-day clock starts again on day 0 (see matchLineBytes). */
  resetTextClock(): void {
    this.#lastTod = -1;
    this.#dayUs = 0;
    this.#text.pendingVersion = 0;
  }

  /** Parse and match one tcpdump line given as a string. */
  matchLine(line: string): LineKind {
    if (line.length > this.#lineBuf.length) this.#lineBuf = Buffer.alloc(line.length * 2);
    const n = this.#lineBuf.write(line, 0, 'latin1');
    return this.matchLineBytes(this.#lineBuf, 0, n);
  }

  /** Aggregated records, most packets first (ties: indicator, local, remote, direction). */
  results(): IocRecord[] {
    const out: IocRecord[] = [];
    for (const r of this.#recList) {
      const protocols: string[] = [];
      for (const [bit, name] of PROTO_BITS) if (r.protos & bit) protocols.push(name);
      out.push({
        indicator: r.indicator, list: r.list, label: r.label, direction: DIRECTION_NAMES[r.dir],
        local: r.local, remote: r.remote, matched: r.matched,
        firstSeen: r.timed ? formatTime(r.first, r.dateKnown) : '', lastSeen: r.timed ? formatTime(r.last, r.dateKnown) : '',
        firstSeenUs: r.timed ? r.first : NaN, lastSeenUs: r.timed ? r.last : NaN, dateKnown: r.timed && r.dateKnown,
        packets: r.packets, bytes: r.bytesKnown ? r.bytes : null, payloadBytes: r.payloadKnown ? r.payload : null,
        remotePorts: [...(r.remotePorts ?? [])].sort((a, b) => a - b), localPorts: [...(r.localPorts ?? [])].sort((a, b) => a - b),
        portsTruncated: r.portsTruncated, protocols,
      });
    }
    out.sort((a, b) => b.packets - a.packets || cmp(a.indicator, b.indicator) || cmp(a.list, b.list) || cmp(a.local, b.local)
      || cmp(a.remote, b.remote) || cmp(a.direction, b.direction));
    return out;
  }

  /** Per-indicator timelines, most packets first. */
  timelines(): IndicatorTimeline[] {
    return this.#timelineById.filter((t) => t.packets > 0)
      .map((t) => ({ list: t.list, indicator: t.indicator, label: t.label, packets: t.packets, dateKnown: t.dateKnown, points: t.t.points() }))
      .sort((a, b) => b.packets - a.packets || cmp(a.indicator, b.indicator));
  }

  /** Forget all records and timelines (counters stay). */
  clear(): void {
    this.#recList.length = 0;
    this.#index4.clear();
    this.#index6.clear();
    for (const t of this.#timelineById) { t.t = new Timeline(); t.packets = 0; t.dateKnown = true; }
    this.#cache = new Array(HIT_CACHE);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** µs → ISO 8601 UTC with µs (date known) or HH:MM:SS.ffffff[+Nd] (time of day, N midnights later). */
export function formatTime(us: number, dateKnown: boolean): string {
  if (us !== us) return '';
  const sec = Math.floor(us / 1e6);
  const frac = pad(us - sec * 1e6, 6);
  if (dateKnown) return new Date(sec * 1000).toISOString().slice(0, 19) + '.' + frac + 'Z';
  const tod = ((sec % 86400) + 86400) % 86400;
  const day = Math.floor(sec / 86400);
  // Text without dates that ran past midnight: the day count since its first line follows as `+Nd`.
  return `${pad(Math.floor(tod / 3600), 2)}:${pad(Math.floor(tod / 60) % 60, 2)}:${pad(tod % 60, 2)}.${frac}${day > 0 ? `+${day}d` : ''}`;
}
