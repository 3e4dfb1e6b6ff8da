// runFlows(): the library entry of the flow pipeline, used by the CLI too. workers 0/1 run everything in the
// calling thread; N > 1 broadcasts record-aligned batches through a SharedArrayBuffer ring to N shard workers
// (see parallel.ts). The result is the same for any worker count (except where per-shard caps differ).

import { CaptureReader, DEFAULT_CHUNK, type ReadOptions } from '../pcap/reader.js';
import { readRegions, type RegionRing, type RegionSlot } from '../pcap/region-reader.js';
import type { PacketBatch } from '../pcap/batch.js';
import { FlowcarveError } from '../errors.js';
import type { DefragOptions } from '../flow/defrag.js';
import type { Alert } from '../eve/alert.js';
import type { FlowRecord } from '../flow/record.js';
import type { FlowTableOptions } from '../flow/table.js';
import { ShardCore, sumCounters, type CoreCounters } from './core.js';
import { recordAt, type PackedFlows } from './packed.js';
import { flowJson } from '../flow/eve.js';
import type { SinkSpec } from './sink.js';
import { loadSinks, makeFlowIdFn } from './shard-setup.js';
import { runParallel } from './parallel.js';

// Kept importable from here (the library's and the benches' entry), though they live in shard-setup.ts.
export { loadSinks, makeFlowIdFn };

export interface RunOptions {
  /** Shard workers (0 or 1: sequential in the calling thread). */
  workers?: number;
  /** Alerts known for the input (e.g. loadAlerts() of Suricata's eve.json): flow records then carry `alerted`. */
  alerts?: Alert[];
  /** Sinks to run in every shard. */
  sinks?: SinkSpec[];
  table?: FlowTableOptions;
  defrag?: DefragOptions;
  read?: ReadOptions;
  /** Receive every ended flow, in output order (end time, start time, key), identical for any worker count. */
  onFlow?: (rec: FlowRecord) => void;
  /**
   * Receive every ended flow as its EVE JSON line (no newline), in the same order. With workers the lines are
   * formatted in the workers and no record object crosses threads: the fast path for `flowcarve flows`.
   */
  onFlowJson?: (line: string) => void;
  /**
   * Receive the EVE JSON lines of ended flows as bytes, in the same order: runs of whole lines, each with its
   * newline (views valid only during the call). The fastest way to write them out (`flowcarve flows` uses it).
   */
  onFlowLines?: (lines: Uint8Array) => void;
  /** Batches in flight in parallel mode (SharedArrayBuffer ring slots, default 8): the reader waits beyond. */
  ringSlots?: number;
  /**
   * Called when an input is corrupt or cut short (after its last good packet); the run then goes on with the
   * next input. Without it, the run ends flows, finishes sinks and throws the error.
   */
  onInputError?: (e: FlowcarveError) => void;
}

/** What a run returns: per sink, the finish() result of each worker (index = worker), and summed counters. */
export interface RunResult {
  sinks: unknown[][];
  counters: CoreCounters;
  /** Counters of each worker. */
  perWorker: CoreCounters[];
  workers: number;
}

/** Run the flow pipeline over `inputs` (paths, '-' for stdin); see RunOptions. */
export async function runFlows(inputs: string[], opts: RunOptions = {}): Promise<RunResult> {
  const workers = Math.max(1, Math.floor(opts.workers ?? 1));
  if (workers > 1) return runParallel(inputs, opts, workers);
  const flowId = await makeFlowIdFn();
  const sinks = await loadSinks(opts.sinks ?? [], 0, 1);
  const mode = outputMode(opts);
  const core = new ShardCore({ worker: 0, workers: 1, table: opts.table, defrag: opts.defrag, ...(mode !== 'none' ? { output: mode } : {}), ...(opts.alerts ? { alerts: opts.alerts } : {}) }, sinks, flowId);
  // One shard: its runs are already in output order.
  const deliver = flowDelivery(opts);
  const emit = (p: PackedFlows | null): void => { if (p && p.count) deliver(p, 0, p.count); };
  const onBatch = (batch: PacketBatch): void => {
    core.processBatch(batch);
    if (mode !== 'none') emit(core.takeEnded());
  };
  // Two buffers taking turns: a batch is done with when processBatch returns (sinks copy what they keep).
  const slots: RegionSlot[] = [0, 1].map(() => ({ data: new ArrayBuffer(0), index: new ArrayBuffer(0), cap: 0 }));
  let turn = 0;
  const ring: RegionRing<RegionSlot> = { slots, acquire: () => (turn ^= 1), send: (_k, b) => onBatch(b), release: () => {}, alloc: (b) => new ArrayBuffer(b) };
  const failed = await readInputs(inputs, opts, ring, opts.read?.chunkSize ?? DEFAULT_CHUNK, onBatch);
  if (mode !== 'none') core.finish(emit); else core.finish();
  const results: unknown[][] = [];
  for (const s of sinks) results.push([await s.finish()]);
  if (failed.error) throw failed.error;
  const c = core.counters;
  return { sinks: results, counters: sumCounters([c]), perWorker: [c], workers: 1 };
}

/** How ended flows must travel for these options: record objects (onFlow), EVE lines, or not at all. */
export function outputMode(opts: RunOptions): 'none' | 'records' | 'eve' {
  return opts.onFlow ? 'records' : opts.onFlowJson || opts.onFlowLines ? 'eve' : 'none';
}

/** The JSON callbacks for one record (records mode). */
function deliverJson(opts: RunOptions, r: FlowRecord): void {
  const line = flowJson(r);
  opts.onFlowJson?.(line);
  opts.onFlowLines?.(Buffer.from(line + '\n', 'latin1'));
}

/** A function handing runs [from, to) of packed flows to the caller's callbacks, in order. */
export function flowDelivery(opts: RunOptions): (p: PackedFlows, from: number, to: number) => void {
  return (p, from, to) => {
    if (p.recs) {
      for (let i = from; i < to; i++) { const r = recordAt(p, i); opts.onFlow?.(r); if (opts.onFlowJson || opts.onFlowLines) deliverJson(opts, r); }
      return;
    }
    const lines = p.lines!, ends = p.ends!;
    const a = from === 0 ? 0 : ends[from - 1]!, b = ends[to - 1]!;
    opts.onFlowLines?.(lines.subarray(a, b));
    if (opts.onFlowJson) {
      const buf = Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength);
      let s = a;
      for (let i = from; i < to; i++) { const e = ends[i]!; opts.onFlowJson(buf.toString('latin1', s, e - 1)); s = e; }
    }
  };
}

/**
 * Read every input in order: plain capture files through `ring` (readRegions), other inputs (stdin, gzip) as
 * stream batches to `onBatch`. A faulty input is reported to opts.onInputError and skipped past; without that
 * callback reading stops and the fault comes back as `error` (the caller finishes, then throws).
 */
export async function readInputs<S extends RegionSlot>(inputs: string[], opts: RunOptions, ring: RegionRing<S>, readSize: number, onBatch: (b: PacketBatch) => void | Promise<void>): Promise<{ error?: unknown }> {
  for (const input of inputs) {
    const direct = await readRegions(input, ring, readSize);
    let error = direct.error;
    if (!direct.handled) {
      const one: { error?: unknown } = {};
      for await (const batch of inputBatches([input], { ...opts, onInputError: undefined }, one)) await onBatch(batch);
      error = one.error;
    }
    if (error === undefined) continue;
    if (error instanceof FlowcarveError && opts.onInputError) { opts.onInputError(error); continue; }
    return { error };
  }
  return {};
}

/**
 * Batches of every input in order. A faulty input is reported to opts.onInputError and skipped past; without
 * that callback the fault is stored in `failed.error` and iteration stops (the caller finishes, then throws).
 */
export async function* inputBatches(inputs: string[], opts: RunOptions, failed: { error?: unknown }): AsyncGenerator<PacketBatch> {
  for (const p of inputs) {
    try {
      yield* new CaptureReader(p, undefined, opts.read).batches();
    } catch (e) {
      if (e instanceof FlowcarveError && opts.onInputError) { opts.onInputError(e); continue; }
      failed.error = e;
      return;
    }
  }
}
