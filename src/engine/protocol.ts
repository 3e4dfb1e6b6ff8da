// Messages between the pipeline (main thread) and shard workers, in one place.

import type { CoreCounters, CoreOptions } from './core.js';
import type { EndedOrder, FlowRecord } from '../flow/record.js';
import { flowJson } from '../flow/eve.js';
import { KEY_BYTES } from '../flow/key.js';

const NO_KEY = new Uint8Array(0);

/** Copies of `recs` without their keys plus all keys packed in one buffer (keys are slab views: never clone those). */
export function packEnded(recs: FlowRecord[]): { ended: FlowRecord[]; keys: Uint8Array } {
  const keys = new Uint8Array(recs.length * KEY_BYTES);
  const ended = recs.map((r, k) => { keys.set(r.key, k * KEY_BYTES); return { ...r, key: NO_KEY }; });
  return { ended, keys };
}

/** Give records from packEnded() their keys back (views into `keys`). */
export function unpackEnded(ended: FlowRecord[], keys: Uint8Array): FlowRecord[] {
  ended.forEach((r, k) => { r.key = keys.subarray(k * KEY_BYTES, (k + 1) * KEY_BYTES); });
  return ended;
}
import type { SinkSpec } from './sink.js';

/** workerData of a shard worker; `output` says how ended flows travel back (none, record objects, EVE lines). */
export interface ShardInit { core: CoreOptions; sinks: SinkSpec[]; output: 'none' | 'records' | 'eve' }

/** Ended flows as sent back: record copies (keys packed apart), or EVE lines formatted in the worker. */
export type PackedEnded =
  | { ended: FlowRecord[]; keys: Uint8Array }
  | { lines: string; order: Float64Array; keys: Uint8Array };

/** An ended flow formatted in a worker: its ordering fields and its JSON line. */
export interface EveLine extends EndedOrder { line: string }

/** Format ended flows as EVE lines with their ordering fields packed (no object crosses the thread boundary). */
export function packEve(recs: FlowRecord[]): PackedEnded {
  const keys = new Uint8Array(recs.length * KEY_BYTES);
  const order = new Float64Array(recs.length * 3);
  let lines = '';
  recs.forEach((r, k) => {
    keys.set(r.key, k * KEY_BYTES);
    order[k * 3] = r.endedAt; order[k * 3 + 1] = r.startSec; order[k * 3 + 2] = r.startNsec;
    lines += flowJson(r) + '\n';
  });
  return { lines, order, keys };
}

/** Unpack what packEve() made. */
export function unpackEve(p: { lines: string; order: Float64Array; keys: Uint8Array }): EveLine[] {
  const out: EveLine[] = [];
  let from = 0;
  for (let k = 0; k < p.order.length / 3; k++) {
    const nl = p.lines.indexOf('\n', from);
    out.push({ endedAt: p.order[k * 3]!, startSec: p.order[k * 3 + 1]!, startNsec: p.order[k * 3 + 2]!, key: p.keys.subarray(k * KEY_BYTES, (k + 1) * KEY_BYTES), line: p.lines.slice(from, nl) });
    from = nl + 1;
  }
  return out;
}

/** Main → worker: a batch in ring slot `slot` (bytes in `data`, index laid out as allocBatch in `index`), or the end. */
export type ToShard =
  | { t: 'batch'; slot: number; data: SharedArrayBuffer; index: SharedArrayBuffer; cap: number; len: number; count: number; source: string; firstIndex: number }
  | { t: 'end' };

/** Worker → main: ready after sinks loaded; done with a slot; final result; or a failure with its cause. */
export type FromShard =
  | { t: 'ready' }
  | { t: 'done'; slot: number; clock: number; out: PackedEnded | null }
  | { t: 'result'; clock: number; out: PackedEnded | null; sinks: unknown[]; counters: CoreCounters }
  | { t: 'error'; message: string; stack?: string; code?: string };
