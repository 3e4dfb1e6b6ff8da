// Merges the ended flows of N shards into one output order (end event time, start time, key). Each shard sends
// its flows as packed runs that continue one ordered sequence (ShardCore.takeEnded and finish), with its capture
// clock: every flow it sends later ends at or after that clock and sorts after what it already sent. So the
// merge is a k-way merge of queues by index, no object per flow: the smallest head is released once every shard
// with an empty queue is known to send nothing before it. Buffering stays bounded by how far shards drift apart.

import { comparePacked, type PackedFlows } from './packed.js';

interface ShardQueue {
  chunks: PackedFlows[];
  /** Next flow of chunks[0]. */
  pos: number;
  clock: number;
  /** The last flow received (lower bound of everything this shard sends later), or null. */
  last: PackedFlows | null;
  lastIdx: number;
  done: boolean;
}

/** k-way merge of shard flow streams; `emit` receives runs [from, to) of one pack, in output order. */
export class FlowMerger {
  readonly #q: ShardQueue[];
  constructor(shards: number, readonly emit: (p: PackedFlows, from: number, to: number) => void) {
    this.#q = Array.from({ length: shards }, () => ({ chunks: [], pos: 0, clock: -Infinity, last: null, lastIdx: 0, done: false }));
  }

  /** Add the next run of `shard` (may be empty) and its capture clock; `done` when it will send nothing more. */
  add(shard: number, p: PackedFlows | null, clock: number, done = false): void {
    const q = this.#q[shard]!;
    if (p !== null && p.count > 0) { q.chunks.push(p); q.last = p; q.lastIdx = p.count - 1; }
    if (clock > q.clock) q.clock = clock;
    if (done) q.done = true;
    this.#release();
  }

  /** Release everything still queued (end of input: every shard is done). */
  finish(): void {
    for (const q of this.#q) q.done = true;
    this.#release();
  }

  /** Flows queued, waiting for other shards. */
  get pending(): number {
    let n = 0;
    for (const q of this.#q) for (let c = 0; c < q.chunks.length; c++) n += q.chunks[c]!.count - (c === 0 ? q.pos : 0);
    return n;
  }

  /** True when shard `q` (queue empty) can send nothing that sorts before flow `i` of `p`. */
  #clear(q: ShardQueue, p: PackedFlows, i: number): boolean {
    if (q.done || p.order[i * 3]! < q.clock) return true;
    return q.last !== null && comparePacked(p, i, q.last, q.lastIdx) < 0;
  }

  #release(): void {
    const qs = this.#q;
    for (;;) {
      // The shard whose head sorts first.
      let m = -1;
      for (let s = 0; s < qs.length; s++) {
        const q = qs[s]!;
        if (q.chunks.length === 0) continue;
        if (m < 0 || comparePacked(q.chunks[0]!, q.pos, qs[m]!.chunks[0]!, qs[m]!.pos) < 0) m = s;
      }
      if (m < 0) return;
      const qm = qs[m]!, p = qm.chunks[0]!;
      // Extend the run from m's head while each flow sorts before every other shard's head or bound.
      let to = qm.pos;
      while (to < p.count) {
        let ok = true;
        for (let s = 0; s < qs.length && ok; s++) {
          if (s === m) continue;
          const q = qs[s]!;
          ok = q.chunks.length ? comparePacked(p, to, q.chunks[0]!, q.pos) < 0 : this.#clear(q, p, to);
        }
        if (!ok) break;
        to++;
      }
      if (to === qm.pos) return;
      const from = qm.pos;
      if (to === p.count) { qm.chunks.shift(); qm.pos = 0; } else qm.pos = to;
      this.emit(p, from, to);
    }
  }
}
