// Drivers of the store sink. storeCapture(): offline replay of captures + their alerts into a store; with
// every alert known up front, a raw-bytes tuple prefilter hands the flow table (src/engine ShardCore) only the
// packets of alerted tuples, so the table sees every packet of every flow that can be stored and little
// else (bench/results/store.json, 1 GiB, alerts on 1% of flows: 1.4-2.1 GB/s prefiltered vs ~0.1 GB/s for the
// full table walk, 0.1-0.18 GB/s with 2 shard workers). So the store runs in one thread, and one writer keeps
// the segments in capture order. ConditionalStore: the
// embedded form — packets and alerts pushed as they arrive, alerts up to alertDelay late still capture their packet.

import { closeSync, openSync, readSync } from 'node:fs';
import { allocBatch, type PacketBatch } from '../pcap/batch.js';
import { CaptureParser } from '../pcap/parser.js';
import { FlowcarveError } from '../errors.js';
import { ShardCore } from '../engine/core.js';
import { inputBatches, makeFlowIdFn, type RunOptions } from '../engine/run.js';
import type { FlowTableOptions } from '../flow/table.js';
import { asAlert } from '../carve/carve.js';
import type { Alert } from '../eve/alert.js';
import { RAW_DECODE, RAW_NOT_IP, TuplePrefilter, rawTupleHash } from './prefilter.js';
import { StoreSink, type StoreSinkOptions, type StoreSinkResult } from './sink.js';

/** Options of an offline replay. */
export interface StoreCaptureOptions extends StoreSinkOptions {
  table?: FlowTableOptions;
  /** Give every packet to the flow table even in `alerts` mode (no prefilter; for comparison). */
  noPrefilter?: boolean;
  /** Corrupt/cut inputs: reported here and skipped past (default: the run stops and throws after finishing). */
  onInputError?: RunOptions['onInputError'];
}

/** The result of a replay: the sink's report plus the prefilter's counters. */
export interface StoreCaptureResult extends StoreSinkResult {
  input: { packets: number; bytes: number; toTable: number };
}

/** Copy the listed packets of `b` into a batch over the same buffer (index only; bytes are not copied). */
function subBatch(b: PacketBatch, pick: Uint32Array, n: number): PacketBatch {
  const s = allocBatch(b.buf, Math.max(1, n), b.source, b.firstIndex);
  for (let k = 0; k < n; k++) {
    const i = pick[k]!;
    s.offset[k] = b.offset[i]!; s.caplen[k] = b.caplen[i]!; s.origlen[k] = b.origlen[i]!;
    s.tsSec[k] = b.tsSec[i]!; s.tsNsec[k] = b.tsNsec[i]!; s.recOffset[k] = b.recOffset[i]!;
    s.linkType[k] = b.linkType[i]!; s.iface[k] = b.iface[i]!;
  }
  s.count = n;
  return s;
}

const SYNC_CHUNK = 1 << 20;

/**
 * Batches of a plain (not gzip, not stdin) capture file read synchronously into ONE reused buffer: valid only
 * until the next batch is requested, which is all a synchronous consumer needs (no allocation per chunk, no
 * event-loop round trip per read). Returns null for inputs it does not handle (gzip, '-').
 */
function* syncBatches(path: string): Generator<PacketBatch> {
  const fd = openSync(path, 'r');
  try {
    const p = new CaptureParser(path);
    const buf = new Uint8Array(SYNC_CHUNK);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
      for (const b of p.push(buf.subarray(0, n))) yield b;
      if (p.error) break;
    }
    if (!p.error) p.end();
    if (p.error) throw p.error;
  } finally {
    closeSync(fd);
  }
}

function isPlainFile(path: string): boolean {
  if (path === '-') return false;
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const h = new Uint8Array(2);
    return readSync(fd, h, 0, 2, 0) === 2 && !(h[0] === 0x1f && h[1] === 0x8b);
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Batches of every input in order: plain files synchronously (reused buffer), others through CaptureReader. */
async function* replayBatches(inputs: string[], o: StoreCaptureOptions, failed: { error?: unknown }): AsyncGenerator<PacketBatch> {
  for (const path of inputs) {
    if (!isPlainFile(path)) {
      const sub: { error?: unknown } = {};
      yield* inputBatches([path], o.onInputError ? { onInputError: o.onInputError } : {}, sub);
      if (sub.error) { failed.error = sub.error; return; }
      continue;
    }
    try {
      yield* syncBatches(path);
    } catch (e) {
      if (e instanceof FlowcarveError && o.onInputError) { o.onInputError(e); continue; }
      failed.error = e;
      return;
    }
  }
}

/** Replay `inputs` and their alerts (o.alerts) into the store o.dir; returns what was stored and matched. */
export async function storeCapture(inputs: string[], o: StoreCaptureOptions): Promise<StoreCaptureResult> {
  const sink = new StoreSink(o);
  const core = new ShardCore({ worker: 0, workers: 1, table: o.table }, [sink], await makeFlowIdFn());
  const pf = (o.mode ?? 'alerts') === 'alerts' && !o.noPrefilter && !o.ringAll ? new TuplePrefilter(o.alerts ?? []) : null;
  const failed: { error?: unknown } = {};
  let packets = 0, bytes = 0, toTable = 0;
  let pick = new Uint32Array(1024);
  let gidx = new Float64Array(1024);
  for await (const b of replayBatches(inputs, o, failed)) {
    const n = b.count;
    if (!pf) {
      if (gidx.length < n) gidx = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) gidx[i] = packets + i;
      sink.indexBatch = { batch: b, index: gidx };
      core.processBatch(b);
      packets += n; toTable += n;
      for (let i = 0; i < n; i++) bytes += 16 + b.caplen[i]!;
      continue;
    }
    if (pick.length < n) { pick = new Uint32Array(n * 2); gidx = new Float64Array(n * 2); }
    let m = 0;
    const buf = b.buf;
    for (let i = 0; i < n; i++) {
      const off = b.offset[i]!, cl = b.caplen[i]!;
      bytes += 16 + cl;
      const h = rawTupleHash(buf, off, off + cl, b.linkType[i]!);
      if (h === RAW_NOT_IP) continue;
      if (h === RAW_DECODE || pf.has(h)) { pick[m] = i; gidx[m] = packets + i; m++; }
    }
    packets += n;
    if (m === 0) continue;
    toTable += m;
    const sb = subBatch(b, pick, m);
    sink.indexBatch = { batch: sb, index: gidx };
    core.processBatch(sb);
  }
  sink.indexBatch = null;
  core.finish();
  const r = sink.finish();
  if (failed.error) throw failed.error;
  return { ...r, input: { packets, bytes, toTable } };
}

/**
 * Embedded conditional store: push packets (whole batches or one at a time, in capture order) and alerts as
 * they arrive; close() ends every flow and writes the last index. Every flow keeps a short ring, so an alert
 * up to `alertDelayUs` of capture time after its packet still captures it.
 */
export class ConditionalStore {
  readonly sink: StoreSink;
  readonly #core: ShardCore;

  private constructor(sink: StoreSink, core: ShardCore) {
    this.sink = sink;
    this.#core = core;
  }

  /** Open (and repair) the store o.dir. */
  static async open(o: StoreSinkOptions & { table?: FlowTableOptions }): Promise<ConditionalStore> {
    const sink = new StoreSink({ ...o, ringAll: true });
    return new ConditionalStore(sink, new ShardCore({ worker: 0, workers: 1, table: o.table }, [sink], await makeFlowIdFn()));
  }

  /** Push a batch of packets (capture order). */
  push(batch: PacketBatch): void {
    this.#core.processBatch(batch);
  }

  /** Push packet `i` of `batch` alone. */
  pushPacket(batch: PacketBatch, i: number): void {
    const pick = Uint32Array.of(i);
    this.#core.processBatch(subBatch(batch, pick, 1));
  }

  /** An alert (normalised Alert or raw EVE object) arriving now. */
  addAlert(a: Alert | Record<string, unknown>): void {
    this.sink.addAlert(asAlert(a));
  }

  /** End every flow, close the last segment with its index, report. */
  close(): StoreSinkResult {
    this.#core.finish();
    return this.sink.finish();
  }
}
