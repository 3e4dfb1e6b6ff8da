// FTP data connections (app_proto `ftp-data`): the bytes one side sends on a connection announced by the
// control channel are one file, named by its command. The data connection is another flow, possibly on
// another worker, so the link is made deterministically at merge time:
//  - control parsers announce expectations (ctx.expect; the sink stamps each with its capture time);
//  - a flow no content probe claims runs FtpDataCandidateParser, which streams each direction's bytes into a
//    provisional file and remembers when its first byte was seen;
//  - resolveFtpData() pairs candidates with expectations (same listening address and port, same peer,
//    first data at or after the announcement and within Suricata's 30 s expectation timeout, newest
//    announcement first, each used once) — the same answer whatever the worker count;
//  - a matched candidate's file in the announced direction gets ftpDataMeta() (name, ftp_data, parent_id);
//    every other provisional file is discarded.
// When the sink already holds the expectation when the flow starts, FtpDataParser names the file directly.

import type { Direction, Expectation, FileHandle, FlowInfo, ProbeResult, ProtocolContext, ProtocolModule, ProtocolParser } from '../contract.js';
import type { FtpExpectation } from './parser.js';

/** Seconds an expectation waits for its data connection (Suricata's EXPECTATION_TIMEOUT). */
export const FTP_EXPECTATION_TIMEOUT = 30;
/** Expectations kept per address pair; older ones are dropped (Suricata's EXPECTATION_MAX_LEVEL). */
export const FTP_MAX_EXPECTATIONS_PER_PAIR = 10;

/** An expectation with the capture time at which it was announced. */
export interface TimedExpectation { exp: Expectation; sec: number; nsec: number }

/** A flow that may be an FTP data connection: its tuple and when its first payload byte was seen per direction. */
export interface DataCandidate {
  flow: FlowInfo;
  /** First payload time per direction (index = Direction), null when that direction sent nothing. */
  first: [{ sec: number; nsec: number } | null, { sec: number; nsec: number } | null];
}

/** A resolved pairing: candidate index, expectation index, and the data flow direction that carries the file. */
export interface FtpDataMatch { candidate: number; expectation: number; direction: Direction }

const t = (x: { sec: number; nsec: number }) => x.sec * 1e9 + x.nsec;

/** Direction in the data flow `flow` in which the file of `exp` travels. */
export function ftpDataDirection(exp: Expectation, flow: FlowInfo): Direction {
  const fx = exp as Partial<FtpExpectation>;
  // The control client is the data flow's client in passive mode, its server in active mode.
  // The mode decides (both ends may share an address, e.g. on loopback); the address is the fallback.
  const controlClientIsDataClient = fx.mode !== undefined ? fx.mode === 'passive' : fx.controlClientIp !== undefined ? flow.srcIp === fx.controlClientIp : true;
  const clientSends = exp.direction === 0;
  return clientSends === controlClientIsDataClient ? 0 : 1;
}

/** Does data flow `flow` connect to the address/port announced by `exp`? */
export function ftpDataFits(exp: Expectation, flow: FlowInfo): boolean {
  if (flow.dstIp !== exp.ip || flow.dstPort !== exp.port) return false;
  return exp.peerIp === undefined || exp.peerIp === flow.srcIp;
}

/** Pair candidates with expectations deterministically (see the module comment); inputs in any order. */
export function resolveFtpData(exps: readonly TimedExpectation[], cands: readonly DataCandidate[]): FtpDataMatch[] {
  const startOf = (c: DataCandidate) => {
    const a = c.first[0], b = c.first[1];
    return a && b ? Math.min(t(a), t(b)) : a ? t(a) : b ? t(b) : Infinity;
  };
  const expOrder = exps.map((_, i) => i).sort((i, j) => {
    const a = exps[i]!, b = exps[j]!;
    return t(a) - t(b) || cmp(a.exp.parentFlowId, b.exp.parentFlowId) || a.exp.txId - b.exp.txId;
  });
  const candOrder = cands.map((_, i) => i).sort((i, j) => {
    const a = cands[i]!, b = cands[j]!;
    return startOf(a) - startOf(b) || cmp(a.flow.flowId, b.flow.flowId);
  });
  const used = new Uint8Array(exps.length);
  const out: FtpDataMatch[] = [];
  for (const ci of candOrder) {
    const c = cands[ci]!;
    const start = startOf(c);
    if (start === Infinity) continue;
    let best = -1;
    for (const ei of expOrder) {
      const e = exps[ei]!;
      if (used[ei] || !ftpDataFits(e.exp, c.flow)) continue;
      const at = t(e);
      const dir = ftpDataDirection(e.exp, c.flow);
      const first = c.first[dir];
      if (!first) continue;
      const ft = t(first);
      if (at > ft || ft - at > FTP_EXPECTATION_TIMEOUT * 1e9) continue;
      best = ei; // newest qualifying announcement wins (expOrder is oldest first)
    }
    if (best >= 0) {
      used[best] = 1;
      out.push({ candidate: ci, expectation: best, direction: ftpDataDirection(exps[best]!.exp, c.flow) });
    }
  }
  return out.sort((a, b) => a.candidate - b.candidate);
}

function cmp(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Metadata of the file carried by a data connection: filename, the `ftp_data` object and the parent flow. */
export function ftpDataMeta(exp: Expectation): { filename: string; meta: Record<string, unknown> } {
  return { filename: exp.filename, meta: { ftp_data: { command: exp.command, filename: exp.filename }, parent_id: exp.parentFlowId } };
}

/** Data connection whose expectation is known: the bytes in the announced direction are the file. */
export class FtpDataParser implements ProtocolParser {
  #ctx: ProtocolContext;
  #exp: Expectation;
  #dir: Direction;
  #file: FileHandle | null = null;
  #done = false;

  constructor(ctx: ProtocolContext, exp: Expectation) {
    this.#ctx = ctx;
    this.#exp = exp;
    this.#dir = ftpDataDirection(exp, ctx.flow);
  }

  /** Bytes of one direction: the announced direction's bytes are the file. */
  data(dir: Direction, bytes: Uint8Array): void {
    if (this.#done || bytes.length === 0) return;
    if (dir !== this.#dir) { this.#ctx.note('ftp-data-wrong-direction', { len: bytes.length }); return; }
    this.#open().write(bytes);
  }

  /** Lost bytes in the file's direction mark the file. */
  gap(dir: Direction, len: number): void {
    if (this.#done || dir !== this.#dir) return;
    this.#open().gap(len);
  }

  /** Flow end closes the file (CLOSED, or TRUNCATED after a gap). */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#file) this.#file.close();
  }

  #open(): FileHandle {
    if (!this.#file) {
      const m = ftpDataMeta(this.#exp);
      this.#file = this.#ctx.files.open({ filename: m.filename, direction: this.#dir, txId: 0, appProto: 'ftp-data', meta: m.meta });
    }
    return this.#file;
  }
}

/** A flow no probe claimed: streams each direction into a provisional file (empty name) until resolved. */
export class FtpDataCandidateParser implements ProtocolParser {
  /** First payload capture time per direction. */
  readonly first: DataCandidate['first'] = [null, null];
  /** Provisional file per direction (null until that direction sends bytes). */
  readonly files: [FileHandle | null, FileHandle | null] = [null, null];
  #ctx: ProtocolContext;
  #done = false;

  constructor(ctx: ProtocolContext) { this.#ctx = ctx; }

  /** Bytes of one direction go to that direction's provisional file. */
  data(dir: Direction, bytes: Uint8Array): void {
    if (this.#done || bytes.length === 0) return;
    this.#open(dir).write(bytes);
  }

  /** Lost bytes mark that direction's provisional file. */
  gap(dir: Direction, len: number): void {
    if (this.#done) return;
    this.#open(dir).gap(len);
  }

  /** Flow end closes the provisional files. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    for (const f of this.files) if (f && !f.closed) f.close();
  }

  /** This flow as a candidate for resolveFtpData. */
  candidate(): DataCandidate { return { flow: this.#ctx.flow, first: [this.first[0], this.first[1]] }; }

  #open(dir: Direction): FileHandle {
    let f = this.files[dir];
    if (!f) {
      this.first[dir] = this.#ctx.now();
      f = this.#ctx.files.open({ filename: '', direction: dir, txId: 0, appProto: 'ftp-data', meta: { ftp_data: {} } });
      this.files[dir] = f;
    }
    return f;
  }
}

/** A module the sink runs only for flows no content probe claimed, and resolves after the fact. */
export interface FallbackModule extends ProtocolModule {
  readonly fallback: true;
  /** Pair the fallback parsers' candidates with the announced expectations (see resolveFtpData). */
  resolve(exps: readonly TimedExpectation[], cands: readonly DataCandidate[]): FtpDataMatch[];
}

/** `ftp-data` as a module: it cannot be recognised by content, so the probe never claims a flow; the sink
 * runs `create` (a candidate parser) for TCP flows no other module claimed, then resolves them. */
export const ftpData: FallbackModule = {
  name: 'ftp-data',
  transport: 'tcp',
  fallback: true,
  probe: (): ProbeResult => 'no',
  create: (ctx: ProtocolContext) => new FtpDataCandidateParser(ctx),
  resolve: resolveFtpData,
};
