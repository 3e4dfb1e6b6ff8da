// Messages between the pipeline (main thread) and shard workers, in one place.

import type { CoreCounters, CoreOptions } from './core.js';
import type { PackedFlows } from './packed.js';
import type { SinkSpec } from './sink.js';

/** workerData of a shard worker; `output` says how ended flows travel back (none, record copies, EVE lines). */
export interface ShardInit { core: CoreOptions; sinks: SinkSpec[]; output: 'none' | 'records' | 'eve' }

/**
 * The shared buffers of a ring slot: bytes, index (laid out as allocBatch's), each packet's shard, and for runs
 * without sinks each packet's mapped key (ShardMapper.map; MAPPED_KEY_WORDS per packet), else null.
 */
export interface SlotBuffers { data: SharedArrayBuffer; index: SharedArrayBuffer; shards: SharedArrayBuffer; keys: SharedArrayBuffer | null }

/**
 * Main → worker: a batch in ring slot `slot`, or the end. `bufs` comes with a slot's first batch and whenever its
 * buffers were replaced (grown), else null: the worker keeps the slot's buffers from the last time.
 */
export type ToShard =
  | { t: 'batch'; slot: number; bufs: SlotBuffers | null; cap: number; len: number; count: number; source: string; firstIndex: number }
  | { t: 'end' };

/** Worker → main: ready after sinks loaded; done with a slot; final result; or a failure with its cause. */
export type FromShard =
  | { t: 'ready' }
  | { t: 'done'; slot: number; clock: number; out: PackedFlows | null }
  /** Flows ended at end of input, in chunks continuing the order; `last` on the final chunk. */
  | { t: 'flows'; clock: number; last: boolean; out: PackedFlows | null }
  | { t: 'result'; sinks: unknown[]; counters: CoreCounters }
  | { t: 'error'; message: string; stack?: string; code?: string };
