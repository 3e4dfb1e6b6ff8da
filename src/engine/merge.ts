// Merges ended flows from one or more shards into the output order (end event time, start time, key) with
// bounded buffering: a flow is released once every shard's capture clock has moved past its end time.

import { compareEnded, type EndedOrder } from '../flow/record.js';

/** Collects ended flows per shard and releases them in output order. */
export class FlowMerger<T extends EndedOrder> {
  #pending: T[] = [];
  readonly #clocks: Float64Array;
  constructor(shards: number, readonly emit: (rec: T) => void) {
    this.#clocks = new Float64Array(shards).fill(-Infinity);
  }

  /** Add flows ended by `shard`, whose capture clock is now `clock`; release what is final. */
  add(shard: number, recs: T[], clock: number): void {
    for (const r of recs) this.#pending.push(r);
    this.#clocks[shard] = clock;
    let min = Infinity;
    for (const c of this.#clocks) if (c < min) min = c;
    this.#release(min);
  }

  /** Release everything (end of input). */
  finish(): void {
    this.#release(Infinity);
  }

  /** Flows waiting for other shards to catch up. */
  get pending(): number { return this.#pending.length; }

  #release(before: number): void {
    const p = this.#pending;
    if (p.length === 0) return;
    let out: T[];
    if (before === Infinity) { out = p; this.#pending = []; }
    else {
      out = []; const keep: T[] = [];
      for (const r of p) (r.endedAt < before ? out : keep).push(r);
      if (out.length === 0) return;
      this.#pending = keep;
    }
    out.sort(compareEnded);
    for (const r of out) this.emit(r);
  }
}
