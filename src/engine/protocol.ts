// Messages between the pipeline (main thread) and shard workers, in one place.

import type { CoreCounters, CoreOptions } from './core.js';
import type { PackedFlows } from './packed.js';
import type { SinkSpec } from './sink.js';

/** workerData of a shard worker; `output` says how ended flows travel back (none, record copies, EVE lines). */
export interface ShardInit { core: CoreOptions; sinks: SinkSpec[]; output: 'none' | 'records' | 'eve' }

/** Main → worker: a batch in ring slot `slot` (bytes in `data`, index laid out as allocBatch in `index`, each packet's shard in `shards`), or the end. */
export type ToShard =
  | { t: 'batch'; slot: number; data: SharedArrayBuffer; index: SharedArrayBuffer; shards: SharedArrayBuffer; cap: number; len: number; count: number; source: string; firstIndex: number }
  | { t: 'end' };

/** Worker → main: ready after sinks loaded; done with a slot; final result; or a failure with its cause. */
export type FromShard =
  | { t: 'ready' }
  | { t: 'done'; slot: number; clock: number; out: PackedFlows | null }
  /** Flows ended at end of input, in chunks continuing the order; `last` on the final chunk. */
  | { t: 'flows'; clock: number; last: boolean; out: PackedFlows | null }
  | { t: 'result'; sinks: unknown[]; counters: CoreCounters }
  | { t: 'error'; message: string; stack?: string; code?: string };
