// Ended flows in packed form: the ordering fields and keys of a run of flows in typed arrays, with either their
// EVE JSON lines as bytes (one buffer, line ends indexed) or record copies (made by EndedFlows). This is what
// crosses from a shard worker to the main thread, and what the merger orders by index.

import { KEY_BYTES } from '../flow/key.js';
import type { FlowRecord } from '../flow/record.js';

/** A run of ended flows in output order (see compareEnded). */
export interface PackedFlows {
  count: number;
  /** Per flow: endedAt, startSec, startNsec. */
  order: Float64Array;
  /** Per flow: its KEY_BYTES key. */
  keys: Uint8Array;
  /** EVE lines, each with its newline (lines mode). */
  lines?: Uint8Array;
  /** Per flow: end offset of its line in `lines` (lines mode). */
  ends?: Uint32Array;
  /** The records, keys not set (records mode; give them back with recordAt()). */
  recs?: FlowRecord[];
}

/** Record `i` of a records-mode pack, its key restored (a view into the pack). */
export function recordAt(p: PackedFlows, i: number): FlowRecord {
  const r = p.recs![i]!;
  r.key = p.keys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES);
  return r;
}

/** Output order of flow `i` of `a` against flow `j` of `b` (as compareEnded). */
export function comparePacked(a: PackedFlows, i: number, b: PackedFlows, j: number): number {
  const x = a.order, y = b.order;
  for (let f = 0; f < 3; f++) { const u = x[i * 3 + f]!, v = y[j * 3 + f]!; if (u !== v) return u < v ? -1 : 1; }
  const ka = a.keys, kb = b.keys, oa = i * KEY_BYTES, ob = j * KEY_BYTES;
  for (let k = 0; k < KEY_BYTES; k++) if (ka[oa + k] !== kb[ob + k]) return ka[oa + k]! - kb[ob + k]!;
  return 0;
}
