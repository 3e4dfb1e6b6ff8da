// File extraction as a flow sink: per TCP flow, reassembly (./reassembly) feeds a content probe over the
// registered protocol modules (./registry), then the chosen parser, whose files go through the tracker
// (hashes, filestore temp files) into fileinfo events. Runs inside the flow-owning worker (createSink); the
// caller merges the workers' results (mergeFileResults: FTP data resolution, file_id numbering, sort, metadata,
// pruning) so the output is the same for any worker count. extractFiles() is the library entry point.

import { fileURLToPath } from 'node:url';
import { FlowcarveError } from '../errors.js';
import type { FlowRecord } from '../flow/record.js';
import type { FlowSink, PacketContext, SinkContext } from '../engine/sink.js';
import { runFlows, type RunOptions } from '../engine/run.js';
import type { Direction, Expectation, FlowInfo, ProtocolContext, ProtocolLimits, ProtocolModule, ProtocolParser } from './protocols/contract.js';
import { Memcap, StreamDir, tcpSegment, newReassemblyCounters, REASSEMBLY_MAX_PENDING, REASSEMBLY_MEMCAP, REASSEMBLY_DEPTH, type ReassemblyCounters, type StreamOutput } from './reassembly/index.js';
import { Tracker, type FlowFiles, type FlowFilesHost, type FinishedFile, type HashName, type TrackerCounters } from './tracker.js';
import { Filestore, type FilestoreCounters } from './filestore.js';
import { compareFileOrder, fileinfoJson, fileinfoLine, type FileEvent, type FileOrder } from './fileinfo.js';
import { packedCount, packedEvent, packedJson, packedOrder, PackedFilesBuilder, type PackedFiles } from './packed-files.js';
import { PROTOCOLS } from './registry.js';

/** Bytes per direction kept for content probing (beyond: the probe's answer counts as 'no'). */
export const FILES_MAX_PROBE = 4096;
/** Bytes per direction held while the other direction is still undecided (beyond: decide with what is known). */
export const FILES_MAX_HOLD = 64 * 1024;

const EMPTY = new Uint8Array(0);
/** Code of the error raised when the sink's own bookkeeping is broken (a bug, never an input fault). */
export const ERR_FILES_STATE = 'ERR_FILES_STATE';
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
  /** HTTP body bytes per request / response that go to its file (0 = no limit, the default; see ProtocolLimits). */
  httpRequestBodyLimit?: number;
  httpResponseBodyLimit?: number;
  /** Bytes per direction an unclaimed flow is held raw with several workers (default FILES_CANDIDATE_HOLD). */
  candidateHold?: number;
}

/** A timed FTP-style expectation (see contract.Expectation). */
export interface TimedExpectation { exp: Expectation; sec: number; nsec: number }

/**
 * A fallback flow (unclaimed by every probe) and the indexes of its provisional files per direction in `files`;
 * or, for a raw candidate (see RawCandidate), no files but its bytes per direction (`raw`, directions in the
 * order their first byte came in `opened`) and its end time, for the merge to replay if an announcement fits.
 */
export interface CandidateOut {
  flow: FlowInfo;
  first: [{ sec: number; nsec: number } | null, { sec: number; nsec: number } | null];
  files: [number, number];
  module: string;
  raw?: RawBytes;
}

/**
 * A raw candidate's bytes: per direction an [offset, length] in its worker's `rawBytes` (length 0: nothing
 * sent), the directions in the order their first byte came, the flow's end time.
 */
export interface RawBytes { at: [number, number, number, number]; opened: Direction[]; end: { sec: number; nsec: number } }

/** Bytes per direction an unclaimed flow may hold as a raw candidate (several workers), and per worker in all. */
export const FILES_CANDIDATE_HOLD = 64 * 1024;
export const FILES_CANDIDATE_TOTAL = 64 * 1024 * 1024;

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

/**
 * What one worker returns: its finished files packed (`done`), the provisional ones (`files`, which the merge may
 * still rewrite; candidates index them), `replay`: the tracker options the merge replays raw candidates with,
 * `rawBytes`: the raw candidates' bytes, one buffer so it crosses threads in one piece.
 */
export interface FileSinkResult {
  done: PackedFiles; files: FinishedFile[]; expectations: TimedExpectation[]; candidates: CandidateOut[]; counters: FileSinkCounters;
  replay: { hashes: HashName[]; maxFileSize: number }; rawBytes: Uint8Array;
}

interface FallbackModule extends ProtocolModule {
  readonly fallback: true;
  resolve(exps: readonly TimedExpectation[], cands: readonly { flow: FlowInfo; first: CandidateOut['first'] }[]): { candidate: number; expectation: number; direction: Direction }[];
}

function isFallback(m: ProtocolModule): m is FallbackModule { return (m as Partial<FallbackModule>).fallback === true; }

const enum Mode { Probing, Parsing, Ignored }

/**
 * Per-flow state. It is also the flow's StreamOutput (both directions) and its parser's ProtocolContext, so a
 * flow costs no closures and few objects: flows live long, and every object they hold is garbage-collector work.
 */
class FlowState implements StreamOutput, ProtocolContext, FlowFilesHost {
  mode = Mode.Probing;
  /** TCP reassembly of directions 0 and 1 (null for UDP, and once the flow is ignored). */
  d0: StreamDir | null = null;
  d1: StreamDir | null = null;
  parser: ProtocolParser | null = null;
  module: ProtocolModule | null = null;
  /** The flow's files (set when a parser starts, before the parser sees this context). */
  files!: FlowFiles;
  /** The flow's identity, built from its record the first time something reads it (see FileSink.infoOf). */
  info: FlowInfo | null = null;
  /** The flow's record, once something needed its identity (a probe or parser reading it, a file closing, the end). */
  rec: FlowRecord | null = null;
  /** Copies of the bytes seen while probing, per direction (allocated on first hold). */
  head: [Uint8Array[], Uint8Array[]] | null = null;
  headLen0 = 0;
  headLen1 = 0;
  /** Probe verdict per direction: 0 undecided, 1 no. */
  said0 = 0;
  said1 = 0;
  /** Bytes held in `head` (charged to the memcap). */
  held = 0;
  /** `proto`, client and server ports: what probes read, known from the first packet without the record. */
  constructor(readonly sink: FileSink, readonly proto: number, readonly srcPort: number, readonly dstPort: number) {}
  data(b: Uint8Array, dir: Direction): void { this.sink.deliver(this, dir, b); }
  gap(n: number, dir: Direction): void { this.sink.gapIn(this, dir, n); }
  // ProtocolContext of the parser (set up by FileSink.#start).
  get flow(): FlowInfo { return this.sink.infoOf(this); }
  get limits(): ProtocolLimits { return this.sink.protocolLimits; }
  now(): { sec: number; nsec: number } { return this.sink.now(); }
  expect(e: Expectation): void { this.sink.expect(e); }
  note(ev: string): void { this.sink.note(ev); }
}

/**
 * The FlowInfo probes see: proto and ports from the flow state; ids and addresses (which need the flow record)
 * only if a probe asks. One per sink, re-pointed per call (probes must not keep it).
 */
class ProbeInfo implements FlowInfo {
  st: FlowState | null = null;
  constructor(readonly sink: FileSink) {}
  get flowId(): string { return this.sink.infoOf(this.st!).flowId; }
  get communityId(): string { return this.sink.infoOf(this.st!).communityId; }
  get srcIp(): string { return this.sink.infoOf(this.st!).srcIp; }
  get srcPort(): number { return this.st!.srcPort; }
  get dstIp(): string { return this.sink.infoOf(this.st!).dstIp; }
  get dstPort(): number { return this.st!.dstPort; }
  get proto(): number { return this.st!.proto; }
}

/**
 * An unclaimed TCP flow while several workers run: it may be an ftp-data connection announced in another
 * worker, which only the merge can tell. Its bytes are held, not hashed or filed: most such flows are discarded,
 * and the merge replays the few an announcement fits through the real candidate parser. A direction that
 * outgrows FILES_CANDIDATE_HOLD, a worker past FILES_CANDIDATE_TOTAL, or a gap turns it into that parser here.
 */
class RawCandidate implements ProtocolParser {
  readonly first: CandidateOut['first'] = [null, null];
  readonly chunks: [Uint8Array[], Uint8Array[]] = [[], []];
  readonly len = [0, 0];
  readonly opened: Direction[] = [];
  /** Set by close(): the bytes per direction and the end time. */
  raw: CandidateOut['raw'] | null = null;
  /** The real parser once promoted (a caller may still hold this object: it forwards). */
  promoted: ProtocolParser | null = null;
  constructor(readonly sink: FileSink, readonly st: FlowState) {}
  data(dir: Direction, b: Uint8Array): void {
    if (this.promoted !== null) { this.promoted.data(dir, b); return; }
    if (b.length === 0) return;
    if (this.len[dir]! + b.length > this.sink.candidateHold || !this.sink.holdCandidate(b.length)) { this.sink.promote(this).data(dir, b); return; }
    if (this.first[dir] === null) { this.first[dir] = this.sink.now(); this.opened.push(dir); }
    const c = Buffer.allocUnsafe(b.length);
    c.set(b);
    this.chunks[dir].push(c);
    this.len[dir]! += b.length;
  }
  gap(dir: Direction, n: number): void { (this.promoted ?? this.sink.promote(this)).gap(dir, n); }
  close(): void {
    if (this.promoted !== null) { this.promoted.close(); return; }
    const at: RawBytes['at'] = [0, 0, 0, 0];
    for (const d of DIRECTIONS) if (this.len[d]) { at[d * 2] = this.sink.appendRaw(this.chunks[d]); at[d * 2 + 1] = this.len[d]!; }
    this.chunks[0] = []; this.chunks[1] = [];
    this.raw = { at, opened: this.opened, end: this.sink.now() };
  }
}

/** The file-extraction FlowSink (one per worker). `onFile` sees each finished file in this worker (file_id per flow). */
export class FileSink implements FlowSink<FileSinkResult> {
  readonly tracker: Tracker;
  readonly memcap: Memcap;
  readonly rc: ReassemblyCounters = newReassemblyCounters();
  readonly limits: { maxPending: number; depth: number };
  /** What parsers are told to honour (ProtocolContext.limits). */
  readonly protocolLimits: ProtocolLimits;
  readonly modules: ProtocolModule[];
  readonly probes: ProtocolModule[];
  readonly fallback: FallbackModule | null;
  readonly udp: ProtocolModule[];
  readonly expectations: TimedExpectation[] = [];
  /** Flows run by the fallback module (their identity is read at finish(), after they ended). */
  readonly #candidates: { st: FlowState; module: string }[] = [];
  /** Bytes held by raw candidates (see RawCandidate), and the cap per direction. */
  #candidateBytes = 0;
  /** Closed raw candidates' bytes, back to back (see RawBytes). */
  #raw = new Uint8Array(0);
  #rawLen = 0;
  readonly candidateHold: number;
  readonly #replay: FileSinkResult['replay'];
  readonly counters: FileSinkCounters;
  /** Per-flow state by the flow's table slot (see PacketContext.slot); undefined = no state. */
  #flows: Array<FlowState | undefined> = [];
  #active = 0;
  /** The packet being handled (its flow's record is built on demand through it), null outside onPacket. */
  #ctx: PacketContext | null = null;
  readonly #sequential: boolean;
  #sec = 0;
  #nsec = 0;
  readonly #probeInfo = new ProbeInfo(this);

  constructor(o: FileSinkOptions = {}, ctx: SinkContext = { worker: 0, workers: 1 }, onFile?: (f: FinishedFile) => void, modules: ProtocolModule[] = PROTOCOLS) {
    const store = o.out ? new Filestore(o.out, `${process.pid}-${ctx.worker}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`) : null;
    this.#sequential = ctx.workers <= 1;
    this.tracker = new Tracker(store, { hashes: o.hashes, maxFileSize: o.maxFileSize, pack: new PackedFilesBuilder() }, onFile);
    this.#replay = { hashes: o.hashes ?? [], maxFileSize: o.maxFileSize ?? 0 };
    this.candidateHold = o.candidateHold ?? FILES_CANDIDATE_HOLD;
    this.memcap = new Memcap(o.memcap ?? REASSEMBLY_MEMCAP);
    this.limits = { maxPending: o.maxPending ?? REASSEMBLY_MAX_PENDING, depth: o.depth ?? REASSEMBLY_DEPTH };
    this.protocolLimits = { httpRequestBody: o.httpRequestBodyLimit ?? 0, httpResponseBody: o.httpResponseBodyLimit ?? 0 };
    this.modules = o.protocols ? modules.filter((m) => o.protocols!.includes(m.name)) : modules;
    this.probes = this.modules.filter((m) => !isFallback(m) && m.transport !== 'udp');
    this.fallback = (this.modules.find((m) => isFallback(m) && m.transport !== 'udp') as FallbackModule | undefined) ?? null;
    this.udp = this.modules.filter((m) => m.transport !== 'tcp' && !isFallback(m));
    this.counters = { tcpFlows: 0, udpFlows: 0, claimed: {}, fallback: 0, ignored: 0, reassembly: this.rc, memcapPeak: 0, tracker: this.tracker.counters, store: store ? store.counters : null, notes: {} };
  }

  /** Flows with state (for tests of memory bounds). */
  get activeFlows(): number { return this.#active; }

  onPacket(ctx: PacketContext): void {
    const v = ctx.view;
    const proto = v.proto;
    if (proto !== 6 && (proto !== 17 || this.udp.length === 0)) { ctx.ignore(); return; }
    const slot = ctx.slot;
    let st = this.#flows[slot];
    if (st === undefined) {
      // Client and server ports from the packet and its direction (the record is not built for this).
      st = ctx.toServer ? new FlowState(this, proto, v.srcPort, v.dstPort) : new FlowState(this, proto, v.dstPort, v.srcPort);
      this.#set(slot, st);
      if (proto === 6) { this.counters.tcpFlows++; st.d0 = new StreamDir(st, this.limits, this.memcap, this.rc, 0); st.d1 = new StreamDir(st, this.limits, this.memcap, this.rc, 1); } else this.counters.udpFlows++;
    }
    this.#sec = ctx.batch.tsSec[ctx.i]!;
    this.#nsec = ctx.batch.tsNsec[ctx.i]!;
    this.#ctx = ctx;
    const dir: Direction = ctx.toServer ? 0 : 1;
    const payload = v.payloadLen > 0 && v.payload >= 0 ? v.buf.subarray(v.payload, v.payload + v.payloadLen) : EMPTY;
    if (st.d0 !== null) tcpSegment(st.d0, st.d1!, dir, v.tcpFlags, v.tcpSeq, v.tcpAck, payload);
    else if (payload.length) this.deliver(st, dir, payload);
    this.#ctx = null;
    // A flow no protocol claimed needs no more packets: the engine stops handing them over (and sends no end).
    if ((st.mode as Mode) === Mode.Ignored) { ctx.ignore(); this.#clear(slot); }
  }

  onFlowEnd(rec: FlowRecord, slot: number): void {
    const st = this.#flows[slot];
    if (st === undefined) return;
    this.#clear(slot);
    st.rec ??= rec;
    this.#end(st, rec.endSec, rec.endNsec);
  }

  #set(slot: number, st: FlowState): void {
    const f = this.#flows;
    while (f.length <= slot) f.push(undefined);
    f[slot] = st;
    this.#active++;
  }

  #clear(slot: number): void {
    this.#flows[slot] = undefined;
    this.#active--;
  }

  /** The flow ended at (sec, nsec): flush reassembly, decide a flow still probing, close its parser. */
  #end(st: FlowState, sec: number, nsec: number): void {
    this.#sec = sec; this.#nsec = nsec;
    // Locals: a flush can end in the flow being ignored, which clears st.d0/d1.
    const d0 = st.d0, d1 = st.d1;
    if (st.mode !== Mode.Ignored && d0 !== null) { d0.flush(); d1!.flush(); }
    if (st.mode === Mode.Probing) this.#decide(st, true);
    if (st.parser) st.parser.close();
    if (d0 !== null) { d0.drop(); d1!.drop(); }
  }

  /** The FlowInfo of a flow (ids and addresses from its record: built now if nobody asked before). */
  infoOf(st: FlowState): FlowInfo {
    if (!st.info) {
      const r = st.rec ??= this.#recordOf(st);
      st.info = { flowId: r.flowId.toString(), communityId: r.communityId, srcIp: r.srcIp, srcPort: r.srcPort, dstIp: r.dstIp, dstPort: r.dstPort, proto: r.proto };
    }
    return st.info;
  }

  #recordOf(st: FlowState): FlowRecord {
    const ctx = this.#ctx;
    // Bytes reach a parser only while a packet of that flow is handled or at its end (which passes the record).
    if (ctx === null || this.#flows[ctx.slot] !== st) throw new FlowcarveError(ERR_FILES_STATE, 'file sink: a flow record was needed outside its packets');
    return ctx.flow;
  }

  async finish(): Promise<FileSinkResult> {
    // Flows the engine never ended (it ends every flow before finish(); kept for direct use): closed here.
    for (let slot = 0; slot < this.#flows.length; slot++) {
      const st = this.#flows[slot];
      if (st === undefined) continue;
      this.#clear(slot);
      if (st.rec === null && st.mode === Mode.Probing) continue; // never identified: nothing to report
      this.#end(st, this.#sec, this.#nsec);
    }
    for (const f of [...this.tracker.open]) f.close('TRUNCATED');
    if (this.tracker.store) await this.tracker.store.drain();
    this.counters.memcapPeak = this.memcap.peak;
    // Finished files are packed as they close; the provisional ones stay objects (the merge may rewrite them).
    const files = this.tracker.finished;
    const done = this.tracker.pack!.build();
    // Index provisional files by (flow id, direction) for the merge.
    const byFlow = new Map<string, [number, number]>();
    files.forEach((f, k) => {
      const key = f.order.flowId;
      const e = byFlow.get(key) ?? [-1, -1];
      e[f.direction] = k;
      byFlow.set(key, e);
    });
    const candidates: CandidateOut[] = this.#candidates.map((c) => {
      const flow = this.infoOf(c.st);
      if (c.st.parser instanceof RawCandidate) {
        const p = c.st.parser;
        if (p.raw === null) p.close();
        return { flow, first: p.first, files: [-1, -1], module: c.module, raw: p.raw! };
      }
      const p = c.st.parser as unknown as { candidate?: () => { flow: FlowInfo; first: CandidateOut['first'] } };
      const cand = p.candidate ? p.candidate() : { flow, first: [null, null] as CandidateOut['first'] };
      return { flow: cand.flow, first: cand.first, files: byFlow.get(flow.flowId) ?? [-1, -1], module: c.module };
    });
    return { done, files, expectations: this.expectations, candidates, counters: this.counters, replay: this.#replay, rawBytes: this.#raw.slice(0, this.#rawLen) };
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
    const direct = h === undefined || h.length === 0 || st.proto !== 6;
    if (!direct) this.#hold(st, dir, b);
    const v = this.#probe(st, dir, direct ? b : null);
    if (typeof v === 'object') { this.#start(st, v, false, direct ? dir : -1, b); return; }
    // A UDP flow whose other direction said no too is ignored right below (the fallback is TCP's): no copy.
    if (direct && !(v === 'no' && st.proto !== 6 && (dir === 0 ? st.said1 : st.said0))) this.#hold(st, dir, b);
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

  /** Count a protocol note (ProtocolContext.note of every flow). */
  note(ev: string): void { this.counters.notes[ev] = (this.counters.notes[ev] ?? 0) + 1; }

  /** Capture time of the packet (or flow end) being handled. */
  now(): { sec: number; nsec: number } { return { sec: this.#sec, nsec: this.#nsec }; }

  /** Keep an announced connection, stamped with the capture time (ProtocolContext.expect of every flow). */
  expect(e: Expectation): void { this.expectations.push({ exp: e, sec: this.#sec, nsec: this.#nsec }); }

  /** Append a closed raw candidate's chunks to the raw bytes; returns their offset. */
  appendRaw(chunks: Uint8Array[]): number {
    const at = this.#rawLen;
    let n = 0;
    for (const c of chunks) n += c.length;
    if (at + n > this.#raw.length) {
      const g = new Uint8Array(Math.max(at + n, this.#raw.length * 2, 1 << 16));
      g.set(this.#raw.subarray(0, at));
      this.#raw = g;
    }
    for (const c of chunks) { this.#raw.set(c, this.#rawLen); this.#rawLen += c.length; }
    return at;
  }

  /** Charge `n` bytes to the raw candidates' total; false when it would pass FILES_CANDIDATE_TOTAL. */
  holdCandidate(n: number): boolean {
    if (this.#candidateBytes + n > FILES_CANDIDATE_TOTAL) return false;
    this.#candidateBytes += n;
    return true;
  }

  /**
   * Turn raw candidate `rc` into the fallback module's parser: its held bytes are replayed, each direction at
   * the capture time of its first byte (when the parser would have opened that direction's file). Returns it.
   */
  promote(rc: RawCandidate): ProtocolParser {
    const st = rc.st;
    const parser = this.fallback!.create(st);
    const sec = this.#sec, nsec = this.#nsec;
    for (const d of rc.opened) {
      const t = rc.first[d]!;
      this.#sec = t.sec; this.#nsec = t.nsec;
      for (const c of rc.chunks[d]) parser.data(d, c);
      this.#candidateBytes -= rc.len[d]!;
    }
    this.#sec = sec; this.#nsec = nsec;
    rc.chunks[0] = []; rc.chunks[1] = [];
    st.parser = rc.promoted = parser;
    return parser;
  }

  /** A gap in one direction of a flow. */
  gapIn(st: FlowState, dir: Direction, n: number): void {
    if (st.mode === Mode.Parsing) { st.parser!.gap(dir, n); return; }
    if (st.mode === Mode.Ignored) return;
    // A gap before the protocol is known: decide with what was seen.
    this.#say(st, dir);
    this.#decide(st, true);
    if ((st.mode as Mode) === Mode.Parsing) st.parser!.gap(dir, n);
  }

  /** Run the probes on a direction's first bytes (`view`, else what is held): the module that said yes, else 'no' or 'need-more'. */
  #probe(st: FlowState, dir: Direction, view: Uint8Array | null): ProtocolModule | 'no' | 'need-more' {
    let head: Uint8Array;
    if (view !== null) head = view;
    else {
      // TCP: the stream's first bytes. UDP: each datagram on its own and whole (an RPC record is one datagram).
      const h = st.head![dir];
      head = st.proto !== 6 ? h[h.length - 1]! : h.length === 1 ? h[0]! : Buffer.concat(h).subarray(0, FILES_MAX_PROBE);
    }
    const info = this.#probeInfo;
    info.st = st;
    const list = st.proto === 6 ? this.probes : this.udp;
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
    if (this.fallback && st.d0 !== null && (st.headLen0 > 0 || st.headLen1 > 0) && this.#mayMatch(st)) {
      this.counters.fallback++;
      this.#start(st, this.fallback, true);
      return;
    }
    st.mode = Mode.Ignored;
    this.counters.ignored++;
    st.head = null;
    // Free the reassembly state: later packets of the flow return early on the Ignored mode.
    if (st.d0 !== null) { st.d0.drop(); st.d1!.drop(); st.d0 = st.d1 = null; }
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
    return this.fallback!.resolve(this.expectations, [{ flow: this.infoOf(st), first: [now, now] }]).length > 0;
  }

  /** Start parser `m`; the held bytes are replayed, then `pend` (a view not held) after those of direction `pendDir`. */
  #start(st: FlowState, m: ProtocolModule, fallback: boolean, pendDir = -1, pend?: Uint8Array): void {
    // The identity (record, ids, addresses) is not built here: a flow whose record is asked for is kept in sync
    // by the table on every later packet, so it is read only when needed (mostly at the flow's end).
    const files = this.tracker.forHost(st);
    files.provisional = fallback;
    this.memcap.give(st.held);
    st.held = 0;
    st.module = m;
    st.files = files;
    // Several workers: an unclaimed flow is held raw until the merge knows every announcement (RawCandidate).
    st.parser = fallback && !this.#sequential ? new RawCandidate(this, st) : m.create(st);
    st.mode = Mode.Parsing;
    if (fallback) this.#candidates.push({ st, module: m.name });
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

/** Merged output: events in output order (file_id = position + 1), summed counters. */
export interface FilesOutput {
  /** The events (objects built on first access from the workers' packed JSON). */
  readonly events: FileEvent[];
  /** The EVE lines of the events (fileinfoJson, no newline), without building event objects. */
  lines(): string[];
  counters: { files: number; stored: number; dedup: number; tooLarge: number; pruned: number; provisionalDiscarded: number; ftpDataMatched: number };
  workers: FileSinkCounters[];
}

/** One output file (its sort key): file `k` of worker `w`'s packed files, or a resolved provisional file `f`. */
interface OutFile extends FileOrder { w: number; k: number; f: FinishedFile | null }

/**
 * The merged output over `out` (in output order). `events` is an own enumerable getter, so spreading or
 * JSON.stringify of the output still gives the events.
 */
function mergedFiles(out: readonly OutFile[], results: readonly FileSinkResult[], counters: FilesOutput['counters'], workers: FileSinkCounters[]): FilesOutput {
  let events: FileEvent[] | null = null;
  return {
    get events(): FileEvent[] {
      return events ??= out.map((x, i) => {
        const ev = x.f !== null ? x.f.event : packedEvent(results[x.w]!.done, x.k);
        ev.fileinfo.file_id = i + 1;
        return ev;
      });
    },
    lines(): string[] {
      if (events !== null) return events.map(fileinfoJson);
      return out.map((x, i) => {
        if (x.f === null) return fileinfoLine(packedJson(results[x.w]!.done, x.k), i + 1);
        x.f.event.fileinfo.file_id = i + 1;
        return fileinfoJson(x.f.event);
      });
    },
    counters,
    workers,
  };
}

/** Merge the workers' results deterministically (see the module comment). */
export async function mergeFileResults(results: FileSinkResult[], o: MergeOptions = {}): Promise<FilesOutput> {
  const store = o.out ? new Filestore(o.out, `${process.pid}-merge`) : null;
  const all: FinishedFile[] = [];
  const exps: TimedExpectation[] = [];
  const cands: { c: CandidateOut; r: FileSinkResult }[] = [];
  for (const r of results) {
    exps.push(...r.expectations);
    for (const c of r.candidates) cands.push({ c, r });
  }
  let matched = 0, discarded = 0;
  const keep = new Set<FinishedFile>();
  /** Raw candidates' directions whose replayed file was kept (candidate index · 2 + direction). */
  const rawKept = new Set<number>();
  const modules = o.modules ?? PROTOCOLS;
  const fb = modules.find(isFallback) as FallbackModule | undefined;
  if (fb && cands.length) {
    const m = fb.resolve(exps, cands.map((x) => ({ flow: x.c.flow, first: x.c.first })));
    for (const mt of m) {
      const { c, r } = cands[mt.candidate]!;
      let f: FinishedFile | undefined;
      if (c.raw) {
        // A raw candidate: its files are made now, by the parser the worker would have run.
        const made = replayCandidate(fb, c, r, store);
        for (const x of made) if (x.direction !== mt.direction && x.tempPath && store) store.discard(x.tempPath);
        f = made.find((x) => x.direction === mt.direction);
        if (f) rawKept.add(mt.candidate * 2 + mt.direction);
      } else {
        const idx = c.files[mt.direction];
        if (idx !== undefined && idx >= 0) f = r.files[idx];
      }
      if (f === undefined) continue;
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
  cands.forEach(({ c }, ci) => {
    if (c.raw) for (const d of DIRECTIONS) if (c.raw.at[d * 2 + 1]! > 0 && !rawKept.has(ci * 2 + d)) discarded++;
  });
  for (const { c, r } of cands) for (const idx of c.files) {
    if (idx < 0) continue;
    const f = r.files[idx]!;
    if (keep.has(f)) continue;
    discarded++;
    if (f.tempPath && store) store.discard(f.tempPath);
  }
  const out: OutFile[] = [];
  const outFile = (o: FileOrder, w: number, k: number, f: FinishedFile | null): OutFile => ({ sec: o.sec, nsec: o.nsec, flowId: o.flowId, txId: o.txId, seq: o.seq, w, k, f });
  results.forEach((r, w) => { for (let k = 0; k < packedCount(r.done); k++) out.push(outFile(packedOrder(r.done, k), w, k, null)); });
  for (const f of all) out.push(outFile(f.order, -1, -1, f));
  out.sort(compareFileOrder);
  let stored = 0, dedup = 0, tooLarge = 0;
  for (const r of results) { if (r.counters.store) { stored += r.counters.store.stored; dedup += r.counters.store.dedup; tooLarge += r.counters.store.tooLarge; } }
  const counters = { files: out.length, stored, dedup, tooLarge, pruned: 0, provisionalDiscarded: discarded, ftpDataMatched: matched };
  const merged = mergedFiles(out, results, counters, results.map((r) => r.counters));
  if (store) {
    // Replayed candidates' large files went through the store's writer thread: finish it (and see its errors).
    await store.drain();
    counters.stored += store.counters.stored; counters.dedup += store.counters.dedup;
    if (o.writeMeta) for (const e of merged.events) if (e.fileinfo.stored) store.writeMeta(e.fileinfo.sha256, Date.parse(e.timestamp.replace(/\.(\d{3})\d*\+0000$/, '.$1Z')) / 1000, e.fileinfo.file_id, fileinfoJson(e));
    if (o.maxSize) store.prune(o.maxSize);
    counters.pruned = store.counters.pruned;
  }
  return merged;
}

/**
 * The provisional files a raw candidate's flow would have made in its worker: its bytes replayed through the
 * fallback module's parser (each direction at its first byte's time, closed at the flow's end), with the
 * worker's tracker options and the merge's filestore.
 */
function replayCandidate(fb: FallbackModule, c: CandidateOut, r: FileSinkResult, store: Filestore | null): FinishedFile[] {
  const raw = c.raw!;
  const tracker = new Tracker(store, { hashes: r.replay.hashes, maxFileSize: r.replay.maxFileSize });
  let t = raw.end;
  const now = () => ({ sec: t.sec, nsec: t.nsec });
  const files = tracker.forFlow(c.flow, now);
  files.provisional = true;
  const parser = fb.create({ flow: c.flow, files, now, expect: () => {}, note: () => {} });
  for (const d of raw.opened) { t = c.first[d]!; parser.data(d, r.rawBytes.subarray(raw.at[d * 2]!, raw.at[d * 2]! + raw.at[d * 2 + 1]!)); }
  t = raw.end;
  parser.close();
  return tracker.finished;
}

/** Library entry: extract files from captures; `onFile` gets each event in output order. */
export async function extractFiles(inputs: string[], o: FileSinkOptions & MergeOptions & { workers?: number; run?: Omit<RunOptions, 'sinks' | 'workers'>; onFile?: (e: FileEvent) => void } = {}): Promise<FilesOutput & { flows: Awaited<ReturnType<typeof runFlows>>['counters'] }> {
  const { writeMeta, maxSize, modules: _m, workers, run, onFile, ...sinkOpts } = o;
  const res = await runFlows(inputs, { ...(run ?? {}), workers: workers ?? 1, sinks: [{ module: FILE_SINK_MODULE, options: sinkOpts }] });
  const out = await mergeFileResults(res.sinks[0] as FileSinkResult[], { out: o.out, writeMeta, maxSize });
  if (onFile) for (const e of out.events) onFile(e);
  return Object.assign(out, { flows: res.counters });
}
