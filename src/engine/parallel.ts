// Parallel flow pipeline: plain capture files are read straight into a ring of SharedArrayBuffer slots (other
// inputs' batches are copied in; reads block the main thread, which has nothing else to do meanwhile), the main
// thread maps each packet to its shard (without sinks, also handing over its key), and every slot is broadcast to
// N shard workers; each worker walks every packet header (cheap: one shared capture clock, same timeouts for
// any N) and does the flow work only for its own packets. Ended flows come back as packed runs (EVE lines or
// record copies) that FlowMerger orders by index. A slot is recycled when
// every worker acknowledged it; with all slots busy the reader waits (back-pressure). A worker that fails, exits
// or cannot load its sinks fails the run with a WorkerError carrying the cause; remaining workers are terminated.

import { Worker } from 'node:worker_threads';
import { ERR, WorkerError } from '../errors.js';
import type { RegionRing, RegionSlot } from '../pcap/region-reader.js';
import { INDEX_BYTES_PER_PACKET, viewBatch, type PacketBatch } from '../pcap/batch.js';
import { MAPPED_KEY_WORDS, ShardMapper, sumCounters, type CoreCounters } from './core.js';
import { FlowMerger } from './merge.js';
import type { FromShard, ShardInit, SlotBuffers, ToShard } from './protocol.js';
import { flowDelivery, outputMode, readInputs, type RunOptions, type RunResult } from './run.js';

/** Compiled worker entry, relative to this module (dist/src/engine → dist/workers). */
export const SHARD_WORKER_URL = new URL('../../workers/shard.js', import.meta.url);
/** Default ring slots: batches in flight before the reader waits. */
export const DEFAULT_RING_SLOTS = 8;
/**
 * Minimum bytes of a ring slot's data buffer, and the read size into it (grown per slot when a record is larger).
 * Measured on the 1 GiB bench capture with 2 workers: 1 MiB slots (8 or 16 of them) ran 4–6% slower than 2 MiB
 * (more batches: messages, held-back sorts, packed runs); 4 and 8 MiB were no faster.
 */
const SLOT_BYTES = 2 << 20;
const MAPPED_KEY_BYTES = MAPPED_KEY_WORDS * 4;

interface Slot extends RegionSlot { data: SharedArrayBuffer; index: SharedArrayBuffer; shards: SharedArrayBuffer; keys: SharedArrayBuffer | null; refs: number; sent: SlotBuffers | null }

/** Run the pipeline over N workers (see the module comment); same options and result as runFlows. */
export async function runParallel(inputs: string[], opts: RunOptions, n: number): Promise<RunResult> {
  const nslots = Math.max(2, opts.ringSlots ?? DEFAULT_RING_SLOTS);
  const slots: Slot[] = [];
  const free: number[] = [];
  // Without sinks the shards need only the table's inputs, which the main thread reads anyway while mapping: it
  // hands them over (keys) and the shards skip decoding those packets.
  const keyed = (opts.sinks ?? []).length === 0;
  for (let k = 0; k < nslots; k++) {
    slots.push({ data: new SharedArrayBuffer(SLOT_BYTES), index: new SharedArrayBuffer(4096 * INDEX_BYTES_PER_PACKET), shards: new SharedArrayBuffer(4096), keys: keyed ? new SharedArrayBuffer(4096 * MAPPED_KEY_BYTES) : null, cap: 4096, refs: 0, sent: null });
    free.push(k);
  }
  let wakeReader: (() => void) | null = null;
  let failure: WorkerError | null = null;
  let failWake: ((e: WorkerError) => void) | null = null;
  const failed = new Promise<never>((_, rej) => { failWake = rej; });
  failed.catch(() => {});
  const workers: Worker[] = [];
  // Records cross as objects only when the caller wants objects; for JSON lines the workers format them.
  const output = outputMode(opts);
  const merger = output === 'none' ? null : new FlowMerger(n, flowDelivery(opts));
  const results: Array<{ sinks: unknown[]; counters: CoreCounters } | null> = new Array(n).fill(null);
  let readyCount = 0, resultCount = 0;
  let wakeReady: (() => void) | null = null, wakeDone: (() => void) | null = null;

  const fail = (w: number, why: string, cause?: unknown): void => {
    if (failure) return;
    failure = new WorkerError(ERR.WORKER, `shard worker ${w} ${why}`, cause !== undefined ? { cause } : {});
    for (const wk of workers) void wk.terminate();
    failWake!(failure);
  };

  for (let w = 0; w < n; w++) {
    const init: ShardInit = { core: { worker: w, workers: n, table: opts.table, defrag: opts.defrag, ...(output !== 'none' ? { output } : {}), ...(opts.alerts ? { alerts: opts.alerts } : {}) }, sinks: opts.sinks ?? [], output };
    const wk = new Worker(SHARD_WORKER_URL, { workerData: init });
    workers.push(wk);
    wk.on('message', (m: FromShard) => {
      switch (m.t) {
        case 'ready': if (++readyCount === n) wakeReady?.(); break;
        case 'done': {
          merger?.add(w, m.out, m.clock);
          const s = slots[m.slot]!;
          if (--s.refs === 0) { free.push(m.slot); const r = wakeReader; wakeReader = null; r?.(); }
          break;
        }
        case 'flows':
          merger?.add(w, m.out, m.clock, m.last);
          break;
        case 'result':
          results[w] = { sinks: m.sinks, counters: m.counters };
          if (++resultCount === n) wakeDone?.();
          break;
        case 'error': {
          const e = new Error(m.message);
          if (m.stack) e.stack = m.stack;
          if (m.code) (e as Error & { code?: string }).code = m.code;
          fail(w, `failed: ${m.message}`, e);
          break;
        }
      }
    });
    wk.on('error', (e) => fail(w, `crashed: ${e.message}`, e));
    wk.on('exit', (code) => { if (!results[w]) fail(w, `exited with code ${code} before finishing`); });
  }

  // The main thread maps each packet to its shard once; shards skip the others' packets without decoding them.
  const mapper = new ShardMapper(n, opts.table?.vlan ?? true);
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);
  await race(new Promise<void>((res) => { if (readyCount === n) res(); else wakeReady = res; }));

  const failedInput: { error?: unknown } = {};
  const acquire = async (): Promise<number> => {
    if (failure) throw failure;
    while (free.length === 0) await race(new Promise<void>((res) => { wakeReader = res; }));
    return free.pop()!;
  };
  const send = (k: number, batch: PacketBatch): void => {
    const msg = fillSlot(slots[k]!, k, batch, mapper);
    slots[k]!.refs = n;
    for (const wk of workers) wk.postMessage(msg);
  };
  // Plain files are read straight into the slots (no copy); a slot without packets goes back to the free list.
  const ring: RegionRing<Slot> = { slots, acquire, send, release: (k) => { free.push(k); }, alloc: (b) => new SharedArrayBuffer(b), syncReads: true };
  try {
    const r = await readInputs(inputs, opts, ring, opts.read?.chunkSize ?? SLOT_BYTES, async (batch) => send(await acquire(), batch));
    if (r.error !== undefined) failedInput.error = r.error;
    if (failure) throw failure;
    for (const wk of workers) wk.postMessage({ t: 'end' } satisfies ToShard);
    await race(new Promise<void>((res) => { if (resultCount === n) res(); else wakeDone = res; }));
  } catch (e) {
    for (const wk of workers) void wk.terminate();
    throw e;
  }
  merger?.finish();
  if (failedInput.error) throw failedInput.error;
  const per = results.map((r) => r!.counters);
  const sinks: unknown[][] = (opts.sinks ?? []).map((_, s) => results.map((r) => r!.sinks[s]));
  return { sinks, counters: sumCounters(per), perWorker: per, workers: n };
}

/**
 * Ring slot `s` as the message for `batch`, mapping its packets to shards. A batch read into the slot (see
 * readRegions) is sent as it is; any other is copied in (bytes and index), growing the slot's buffers when needed.
 */
function fillSlot(s: Slot, k: number, batch: PacketBatch, mapper: ShardMapper): ToShard {
  const len = batch.buf.length;
  const c = batch.count;
  const inData = batch.buf.buffer === s.data && batch.buf.byteOffset === 0;
  const inIndex = batch.offset.buffer === s.index;
  if (!inData && s.data.byteLength < len) s.data = new SharedArrayBuffer(Math.max(len, s.data.byteLength * 2));
  if (!inData) new Uint8Array(s.data, 0, len).set(batch.buf);
  if (s.shards.byteLength < c) s.shards = new SharedArrayBuffer(Math.max(c, s.shards.byteLength * 2));
  if (s.keys && s.keys.byteLength < c * MAPPED_KEY_BYTES) s.keys = new SharedArrayBuffer(Math.max(c * MAPPED_KEY_BYTES, s.keys.byteLength * 2));
  let cap = s.cap;
  if (!inIndex) {
    if (s.cap < c) { s.cap = Math.max(c, s.cap * 2); s.index = new SharedArrayBuffer(s.cap * INDEX_BYTES_PER_PACKET); }
    cap = s.cap;
    const v = viewBatch(new Uint8Array(s.data, 0, len), s.index as unknown as ArrayBuffer, cap, c, batch.source, batch.firstIndex);
    v.offset.set(batch.offset.subarray(0, c)); v.caplen.set(batch.caplen.subarray(0, c)); v.origlen.set(batch.origlen.subarray(0, c));
    v.tsSec.set(batch.tsSec.subarray(0, c)); v.tsNsec.set(batch.tsNsec.subarray(0, c)); v.recOffset.set(batch.recOffset.subarray(0, c));
    v.linkType.set(batch.linkType.subarray(0, c)); v.iface.set(batch.iface.subarray(0, c));
  } else cap = batch.offset.length;
  mapper.map(batch, new Uint8Array(s.shards, 0, c), s.keys ? new Uint32Array(s.keys, 0, c * MAPPED_KEY_WORDS) : undefined);
  // The workers keep each slot's buffers: they travel again only when one was replaced.
  const sent = s.sent;
  const bufs = sent && sent.data === s.data && sent.index === s.index && sent.shards === s.shards && sent.keys === s.keys ? null : (s.sent = { data: s.data, index: s.index, shards: s.shards, keys: s.keys });
  return { t: 'batch', slot: k, bufs, cap, len, count: c, source: batch.source, firstIndex: batch.firstIndex };
}
