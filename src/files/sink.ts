// File extraction as a flow sink: per TCP flow, reassembly (./reassembly) feeds a content probe over the
// registered protocol modules (./registry), then the chosen parser, whose files go through the tracker
// (hashes, filestore temp files) into fileinfo events. Runs inside the flow-owning worker (createSink); the
// caller merges the workers' results (mergeFileResults: FTP data resolution, file_id numbering, sort, metadata,
// pruning) so the output is the same for any worker count. extractFiles() is the library entry point.

import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '../flow/record.js';
import type { FlowSink, PacketContext, SinkContext } from '../engine/sink.js';
import { runFlows, type RunOptions } from '../engine/run.js';
import type { Direction, Expectation, FlowInfo, ProtocolContext, ProtocolModule, ProtocolParser } from './protocols/contract.js';
import { Memcap, TcpConnection, newReassemblyCounters, REASSEMBLY_MAX_PENDING, REASSEMBLY_MEMCAP, REASSEMBLY_DEPTH, type ReassemblyCounters, type StreamOutput } from './reassembly/index.js';
import { Tracker, type FinishedFile, type HashName, type TrackerCounters, type FlowFiles } from './tracker.js';
import { Filestore, type FilestoreCounters } from './filestore.js';
import { compareFileOrder, fileinfoJson, type FileEvent } from './fileinfo.js';
import { PROTOCOLS } from './registry.js';

/** Bytes per direction kept for content probing (beyond: the probe's answer counts as 'no'). */
export const FILES_MAX_PROBE = 4096;
/** Bytes per direction held while the other direction is still undecided (beyond: decide with what is known). */
export const FILES_MAX_HOLD = 64 * 1024;

const EMPTY = new Uint8Array(0);
const DIRECTIONS: readonly Direction[] = [0, 1];

/** Options of the file sink (structured-clone-able: they travel to workers). */
export interface FileSinkOptions {
  /** Filestore directory; absent = hash only, nothing stored. */
  out?: string;
  /** md5/sha1 besides sha256. */
  hashes?: HashName[];
  /** Files above this size are hashed but not stored (0 = no limit). */
  maxFileSize?: number;
  /** Reassembly caps: buffered out-of-order bytes per worker and per direction, and stream depth (0 = none). */
  memcap?: number;
  maxPending?: number;
  depth?: number;
  /** Protocol names to run (default: every registered module). */
  protocols?: string[];
}

/** A timed FTP-style expectation (see contract.Expectation). */
export interface TimedExpectation { exp: Expectation; sec: number; nsec: number }

/** A fallback flow (unclaimed by every probe) and the indexes of its provisional files per direction in `files`. */
export interface CandidateOut { flow: FlowInfo; first: [{ sec: number; nsec: number } | null, { sec: number; nsec: number } | null]; files: [number, number]; module: string }

/** Counters of one worker's file sink. */
export interface FileSinkCounters {
  tcpFlows: number;
  udpFlows: number;
  /** Flows claimed per protocol, unclaimed flows run by a fallback module, and flows ignored. */
  claimed: Record<string, number>;
  fallback: number;
  ignored: number;
  reassembly: ReassemblyCounters;
  /** Peak buffered out-of-order bytes (memcap use). */
  memcapPeak: number;
  tracker: TrackerCounters;
  store: FilestoreCounters | null;
  notes: Record<string, number>;
}

/** What one worker returns. */
export interface FileSinkResult { files: FinishedFile[]; expectations: TimedExpectation[]; candidates: CandidateOut[]; counters: FileSinkCounters }

interface FallbackModule extends ProtocolModule {
  readonly fallback: true;
  resolve(exps: readonly TimedExpectation[], cands: readonly { flow: FlowInfo; first: CandidateOut['first'] }[]): { candidate: number; expectation: number; direction: Direction }[];
}

function isFallback(m: ProtocolModule): m is FallbackModule { return (m as Partial<FallbackModule>).fallback === true; }

const enum Mode { Probing, Parsing, Ignored }

/** Per-flow state; it is the StreamOutput of direction 0 (a Dir1Output that of direction 1), so no closures per flow. */
class FlowState implements StreamOutput {
  mode = Mode.Probing;
  conn: TcpConnection | null = null;
  parser: ProtocolParser | null = null;
  module: ProtocolModule | null = null;
  files: FlowFiles | null = null;
  info: FlowInfo | null = null;
  /** Copies of the bytes seen while probing, per direction (allocated on first hold). */
  head: [Uint8Array[], Uint8Array[]] | null = null;
  headLen0 = 0;
  headLen1 = 0;
  /** Probe verdict per direction: 0 undecided, 1 no. */
  said0 = 0;
  said1 = 0;
  /** Bytes held in `head` (charged to the memcap). */
  held = 0;
  constructor(readonly sink: FileSink, readonly rec: FlowRecord) {}
  data(b: Uint8Array): void { this.sink.deliver(this, 0, b); }
  gap(n: number): void { this.sink.gapIn(this, 0, n); }
}

/** StreamOutput of direction 1 of a flow. */
class Dir1Output implements StreamOutput {
  constructor(readonly st: FlowState) {}
  data(b: Uint8Array): void { this.st.sink.deliver(this.st, 1, b); }
  gap(n: number): void { this.st.sink.gapIn(this.st, 1, n); }
}

/**
 * The FlowInfo probes see: ports and addresses read from the record on demand, ids formatted only if a probe
 * asks. One per sink, re-pointed per call (probes must not keep it).
 */
class ProbeInfo implements FlowInfo {
  rec: FlowRecord | null = null;
  get flowId(): string { return this.rec!.flowId.toString(); }
  get communityId(): string { return this.rec!.communityId; }
  get srcIp(): string { return this.rec!.srcIp; }
  get srcPort(): number { return this.rec!.srcPort; }
  get dstIp(): string { return this.rec!.dstIp; }
  get dstPort(): number { return this.rec!.dstPort; }
  get proto(): number { return this.rec!.proto; }
}

/** The file-extraction FlowSink (one per worker). `onFile` sees each finished file in this worker (file_id per flow). */
export class FileSink implements FlowSink<FileSinkResult> {
  readonly tracker: Tracker;
  readonly memcap: Memcap;
  readonly rc: ReassemblyCounters = newReassemblyCounters();
  readonly limits: { maxPending: number; depth: number };
  readonly modules: ProtocolModule[];
  readonly probes: ProtocolModule[];
  readonly fallback: FallbackModule | null;
  readonly udp: ProtocolModule[];
  readonly expectations: TimedExpectation[] = [];
  readonly candidates: { flow: FlowInfo; parser: ProtocolParser; module: string }[] = [];
  readonly counters: FileSinkCounters;
  #flows = new Map<FlowRecord, FlowState>();
  readonly #sequential: boolean;
  #sec = 0;
  #nsec = 0;
  readonly #probeInfo = new ProbeInfo();

  constructor(o: FileSinkOptions = {}, ctx: SinkContext = { worker: 0, workers: 1 }, onFile?: (f: FinishedFile) => void, modules: ProtocolModule[] = PROTOCOLS) {
    const store = o.out ? new Filestore(o.out, `${process.pid}-${ctx.worker}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`) : null;
    this.#sequential = ctx.workers <= 1;
    this.tracker = new Tracker(store, { hashes: o.hashes, maxFileSize: o.maxFileSize }, onFile);
    this.memcap = new Memcap(o.memcap ?? REASSEMBLY_MEMCAP);
    this.limits = { maxPending: o.maxPending ?? REASSEMBLY_MAX_PENDING, depth: o.depth ?? REASSEMBLY_DEPTH };
    this.modules = o.protocols ? modules.filter((m) => o.protocols!.includes(m.name)) : modules;
    this.probes = this.modules.filter((m) => !isFallback(m) && m.transport !== 'udp');
    this.fallback = (this.modules.find((m) => isFallback(m) && m.transport !== 'udp') as FallbackModule | undefined) ?? null;
    this.udp = this.modules.filter((m) => m.transport !== 'tcp' && !isFallback(m));
    this.counters = { tcpFlows: 0, udpFlows: 0, claimed: {}, fallback: 0, ignored: 0, reassembly: this.rc, memcapPeak: 0, tracker: this.tracker.counters, store: store ? store.counters : null, notes: {} };
  }

  /** Flows with state (for tests of memory bounds). */
  get activeFlows(): number { return this.#flows.size; }

  onPacket(ctx: PacketContext): void {
    const rec = ctx.flow;
    const proto = rec.proto;
    if (proto !== 6 && (proto !== 17 || this.udp.length === 0)) { ctx.ignore(); return; }
    let st = this.#flows.get(rec);
    if (st === undefined) {
      st = new FlowState(this, rec);
      this.#flows.set(rec, st);
      if (proto === 6) { this.counters.tcpFlows++; st.conn = new TcpConnection([st, new Dir1Output(st)], this.limits, this.memcap, this.rc); } else this.counters.udpFlows++;
    }
    if (st.mode === Mode.Ignored) { ctx.ignore(); this.#flows.delete(rec); return; }
    const v = ctx.view;
    this.#sec = ctx.batch.tsSec[ctx.i]!;
    this.#nsec = ctx.batch.tsNsec[ctx.i]!;
    const dir: Direction = ctx.toServer ? 0 : 1;
    const payload = v.payloadLen > 0 && v.payload >= 0 ? v.buf.subarray(v.payload, v.payload + v.payloadLen) : EMPTY;
    if (st.conn) st.conn.segment(dir, v.tcpFlags, v.tcpSeq, v.tcpAck, payload);
    else if (payload.length) this.deliver(st, dir, payload);
    // A flow no protocol claimed needs no more packets: the engine stops handing them over (and sends no end).
    if ((st.mode as Mode) === Mode.Ignored) { ctx.ignore(); this.#flows.delete(rec); }
  }

  onFlowEnd(rec: FlowRecord): void {
    const st = this.#flows.get(rec);
    if (!st) return;
    this.#flows.delete(rec);
    this.#sec = rec.endSec; this.#nsec = rec.endNsec;
    if (st.mode !== Mode.Ignored && st.conn) st.conn.flush();
    if (st.mode === Mode.Probing) this.#decide(st, true);
    if (st.parser) st.parser.close();
    if (st.conn) { st.conn.dirs[0].drop(); st.conn.dirs[1].drop(); }
  }

  async finish(): Promise<FileSinkResult> {
    for (const rec of [...this.#flows.keys()]) this.onFlowEnd(rec);
    for (const f of [...this.tracker.open]) f.close('TRUNCATED');
    if (this.tracker.store) await this.tracker.store.drain();
    this.counters.memcapPeak = this.memcap.peak;
    const files = this.tracker.finished;
    // Index provisional files by (flow id, direction) for the merge.
    const byFlow = new Map<string, [number, number]>();
    files.forEach((f, k) => {
      if (!f.provisional) return;
      const key = f.order.flowId;
      const e = byFlow.get(key) ?? [-1, -1];
      e[f.direction] = k;
      byFlow.set(key, e);
    });
    const candidates: CandidateOut[] = this.candidates.map((c) => {
      const p = c.parser as unknown as { candidate?: () => { flow: FlowInfo; first: CandidateOut['first'] } };
      const cand = p.candidate ? p.candidate() : { flow: c.flow, first: [null, null] as CandidateOut['first'] };
      return { flow: cand.flow, first: cand.first, files: byFlow.get(c.flow.flowId) ?? [-1, -1], module: c.module };
    });
    return { files, expectations: this.expectations, candidates, counters: this.counters };
  }

  // ---- called by FlowState ----

  /** In-order bytes of one direction of a flow. */
  deliver(st: FlowState, dir: Direction, b: Uint8Array): void {
    if (st.mode === Mode.Parsing) { st.parser!.data(dir, b); return; }
    if (st.mode === Mode.Ignored) return;
    // Probing: hold the bytes (charged to the memcap) until the protocol is known.
    const had = dir === 0 ? st.headLen0 : st.headLen1;
    if (had + b.length > FILES_MAX_HOLD || !this.memcap.take(b.length)) {
      this.#decide(st, true);
      if ((st.mode as Mode) === Mode.Parsing) st.parser!.data(dir, b);
      return;
    }
    st.held += b.length;
    if (dir === 0) st.headLen0 += b.length; else st.headLen1 += b.length;
    if (dir === 0 ? st.said0 : st.said1) { this.#hold(st, dir, b); return; }
    // Nothing held before in this direction (or UDP, probed per datagram): probe the caller's view as is and
    // copy it only when the flow stays undecided.
    const h = st.head?.[dir];
    const direct = h === undefined || h.length === 0 || !st.conn;
    if (!direct) this.#hold(st, dir, b);
    const v = this.#probe(st, dir, direct ? b : null);
    if (typeof v === 'object') { this.#start(st, v, false, direct ? dir : -1, b); return; }
    if (direct) this.#hold(st, dir, b);
    if (v === 'no' || (dir === 0 ? st.headLen0 : st.headLen1) >= FILES_MAX_PROBE) {
      this.#say(st, dir);
      this.#decide(st, false);
    }
  }

  /** Keep a copy of probed bytes for the replay (dropped when the flow is ignored). */
  #hold(st: FlowState, dir: Direction, b: Uint8Array): void {
    if (st.mode !== Mode.Probing) return;
    // allocUnsafe takes small copies from Node's shared pool (no ArrayBuffer per copy).
    const c = Buffer.allocUnsafe(b.length);
    c.set(b);
    (st.head ??= [[], []])[dir].push(c);
  }

  #say(st: FlowState, dir: Direction): void { if (dir === 0) st.said0 = 1; else st.said1 = 1; }

  #note(ev: string): void { this.counters.notes[ev] = (this.counters.notes[ev] ?? 0) + 1; }

  /** A gap in one direction of a flow. */
  gapIn(st: FlowState, dir: Direction, n: number): void {
    if (st.mode === Mode.Parsing) { st.parser!.gap(dir, n); return; }
    if (st.mode === Mode.Ignored) return;
    // A gap before the protocol is known: decide with what was seen.
    this.#say(st, dir);
    this.#decide(st, true);
    if ((st.mode as Mode) === Mode.Parsing) st.parser!.gap(dir, n);
  }

  #info(st: FlowState): FlowInfo {
    if (!st.info) {
      const r = st.rec;
      st.info = { flowId: r.flowId.toString(), communityId: r.communityId, srcIp: r.srcIp, srcPort: r.srcPort, dstIp: r.dstIp, dstPort: r.dstPort, proto: r.proto };
    }
    return st.info;
  }

  /** Run the probes on a direction's first bytes (`view`, else what is held): the module that said yes, else 'no' or 'need-more'. */
  #probe(st: FlowState, dir: Direction, view: Uint8Array | null): ProtocolModule | 'no' | 'need-more' {
    let head: Uint8Array;
    if (view !== null) head = view;
    else {
      // TCP: the stream's first bytes. UDP: each datagram on its own and whole (an RPC record is one datagram).
      const h = st.head![dir];
      head = !st.conn ? h[h.length - 1]! : h.length === 1 ? h[0]! : Buffer.concat(h).subarray(0, FILES_MAX_PROBE);
    }
    const info = this.#probeInfo;
    info.rec = st.rec;
    const list = st.conn ? this.probes : this.udp;
    let undecided = false;
    for (const m of list) {
      const r = m.probe(dir, head, info);
      if (r === 'yes') return m;
      if (r === 'need-more') undecided = true;
    }
    return undecided ? 'need-more' : 'no';
  }

  /** Both directions said no (or `end`): run the fallback module or ignore the flow. */
  #decide(st: FlowState, end: boolean): void {
    if (st.mode !== Mode.Probing) return;
    if (!end && !(st.said0 && st.said1)) return;
    this.memcap.give(st.held);
    st.held = 0;
    if (this.fallback && st.conn && (st.headLen0 > 0 || st.headLen1 > 0) && this.#mayMatch(st)) {
      this.counters.fallback++;
      this.#start(st, this.fallback, true);
      return;
    }
    st.mode = Mode.Ignored;
    this.counters.ignored++;
    st.head = null;
    // Free the reassembly state: later packets of the flow return early on the Ignored mode.
    if (st.conn) { st.conn.dirs[0].drop(); st.conn.dirs[1].drop(); st.conn = null; }
  }

  /**
   * Could this unclaimed flow be a data connection announced earlier? In one worker every earlier announcement
   * is known (capture order), so flows no announcement fits are skipped — the merge would discard them anyway.
   * With several workers announcements may sit in another worker: every unclaimed flow stays a candidate.
   */
  #mayMatch(st: FlowState): boolean {
    if (!this.#sequential) return true;
    if (this.expectations.length === 0) return false;
    const now = { sec: this.#sec, nsec: this.#nsec };
    return this.fallback!.resolve(this.expectations, [{ flow: this.#info(st), first: [now, now] }]).length > 0;
  }

  /** Start parser `m`; the held bytes are replayed, then `pend` (a view not held) after those of direction `pendDir`. */
  #start(st: FlowState, m: ProtocolModule, fallback: boolean, pendDir = -1, pend?: Uint8Array): void {
    const info = this.#info(st);
    const files = this.tracker.forFlow(info, () => ({ sec: this.#sec, nsec: this.#nsec }));
    files.provisional = fallback;
    const ctx: ProtocolContext = {
      flow: info,
      files,
      now: () => ({ sec: this.#sec, nsec: this.#nsec }),
      expect: (e: Expectation) => { this.expectations.push({ exp: e, sec: this.#sec, nsec: this.#nsec }); },
      note: (ev: string) => this.#note(ev),
    };
    this.memcap.give(st.held);
    st.held = 0;
    st.module = m;
    st.files = files;
    st.parser = m.create(ctx);
    st.mode = Mode.Parsing;
    if (fallback) this.candidates.push({ flow: info, parser: st.parser, module: m.name });
    else this.counters.claimed[m.name] = (this.counters.claimed[m.name] ?? 0) + 1;
    // Replay the probed bytes: client side first (requests before responses).
    const head = st.head;
    st.head = null;
    const parser = st.parser;
    for (const d of DIRECTIONS) {
      if (head !== null) for (const b of head[d]) parser.data(d, b);
      if (d === pendDir) parser.data(d, pend!);
    }
  }
}

/** Sink factory for runFlows() workers. */
export function createSink(options: unknown, ctx: SinkContext): FileSink {
  return new FileSink((options ?? {}) as FileSinkOptions, ctx);
}

/** Absolute path of this module (compiled), for SinkSpec.module. */
export const FILE_SINK_MODULE = fileURLToPath(import.meta.url);

/** Options of the merge step. */
export interface MergeOptions {
  /** The filestore (to commit resolved provisional files, write metadata, prune). */
  out?: string;
  /** Write `<sha256>.<secs>.<file_id>.json` beside each stored file. */
  writeMeta?: boolean;
  /** Prune the store to this many bytes, oldest mtime first (0/absent = no limit). */
  maxSize?: number;
  modules?: ProtocolModule[];
}

/** Merged output: events in order (file_id = position + 1), summed counters. */
export interface FilesOutput { events: FileEvent[]; counters: { files: number; stored: number; dedup: number; tooLarge: number; pruned: number; provisionalDiscarded: number; ftpDataMatched: number }; workers: FileSinkCounters[] }

/** Merge the workers' results deterministically (see the module comment). */
export function mergeFileResults(results: FileSinkResult[], o: MergeOptions = {}): FilesOutput {
  const store = o.out ? new Filestore(o.out, `${process.pid}-merge`) : null;
  const all: FinishedFile[] = [];
  const exps: TimedExpectation[] = [];
  const cands: { c: CandidateOut; r: FileSinkResult }[] = [];
  for (const r of results) {
    for (const f of r.files) if (!f.provisional) all.push(f);
    exps.push(...r.expectations);
    for (const c of r.candidates) cands.push({ c, r });
  }
  let matched = 0, discarded = 0;
  const keep = new Set<FinishedFile>();
  const modules = o.modules ?? PROTOCOLS;
  const fb = modules.find(isFallback) as FallbackModule | undefined;
  if (fb && cands.length) {
    const m = fb.resolve(exps, cands.map((x) => ({ flow: x.c.flow, first: x.c.first })));
    for (const mt of m) {
      const { c, r } = cands[mt.candidate]!;
      const idx = c.files[mt.direction];
      if (idx === undefined || idx < 0) continue;
      const f = r.files[idx]!;
      const e = exps[mt.expectation]!.exp;
      f.event.fileinfo.filename = e.filename;
      const meta: Record<string, unknown> = { ftp_data: { command: e.command, filename: e.filename }, parent_id: e.parentFlowId };
      const { app_proto: _a, fileinfo, ...head } = f.event;
      for (const k of Object.keys(head)) if (k === 'ftp_data') delete head[k];
      f.event = { ...head, ...meta, app_proto: e.appProto || 'ftp-data', fileinfo } as FileEvent;
      f.order.txId = f.event.fileinfo.tx_id;
      if (f.tempPath && store) { store.commit(f.tempPath, f.event.fileinfo.sha256); f.event.fileinfo.stored = true; }
      else if (f.data && store) { store.storeNow(f.event.fileinfo.sha256, f.data); f.event.fileinfo.stored = true; }
      delete f.tempPath; delete f.data; delete f.provisional;
      keep.add(f);
      all.push(f);
      matched++;
    }
  }
  for (const { c, r } of cands) for (const idx of c.files) {
    if (idx < 0) continue;
    const f = r.files[idx]!;
    if (keep.has(f)) continue;
    discarded++;
    if (f.tempPath && store) store.discard(f.tempPath);
  }
  all.sort((a, b) => compareFileOrder(a.order, b.order));
  const events = all.map((f, k) => { f.event.fileinfo.file_id = k + 1; return f.event; });
  let stored = 0, dedup = 0, tooLarge = 0;
  for (const r of results) { if (r.counters.store) { stored += r.counters.store.stored; dedup += r.counters.store.dedup; tooLarge += r.counters.store.tooLarge; } }
  if (store) {
    stored += store.counters.stored; dedup += store.counters.dedup;
    if (o.writeMeta) for (const e of events) if (e.fileinfo.stored) store.writeMeta(e.fileinfo.sha256, Date.parse(e.timestamp.replace(/\.(\d{3})\d*\+0000$/, '.$1Z')) / 1000, e.fileinfo.file_id, fileinfoJson(e));
    if (o.maxSize) store.prune(o.maxSize);
  }
  return { events, counters: { files: events.length, stored, dedup, tooLarge, pruned: store?.counters.pruned ?? 0, provisionalDiscarded: discarded, ftpDataMatched: matched }, workers: results.map((r) => r.counters) };
}

/** Library entry: extract files from captures; `onFile` gets each event in output order. */
export async function extractFiles(inputs: string[], o: FileSinkOptions & MergeOptions & { workers?: number; run?: Omit<RunOptions, 'sinks' | 'workers'>; onFile?: (e: FileEvent) => void } = {}): Promise<FilesOutput & { flows: Awaited<ReturnType<typeof runFlows>>['counters'] }> {
  const { writeMeta, maxSize, modules: _m, workers, run, onFile, ...sinkOpts } = o;
  const res = await runFlows(inputs, { ...(run ?? {}), workers: workers ?? 1, sinks: [{ module: FILE_SINK_MODULE, options: sinkOpts }] });
  const out = mergeFileResults(res.sinks[0] as FileSinkResult[], { out: o.out, writeMeta, maxSize });
  if (onFile) for (const e of out.events) onFile(e);
  return { ...out, flows: res.counters };
}
