// Ended flows kept as their EVE lines (bytes) with the fields that order them, written when each flow ends, so
// the JSON output needs no record object per flow: the table hands over a reused scratch record that is turned
// into bytes at once. Runs come out sorted (end time, start time, key) as PackedFlows.

import { MAX_FLOW_LINE, writeFlowLine } from '../flow/eve.js';
import { KEY_BYTES } from '../flow/key.js';
import type { FlowRecord } from '../flow/record.js';
import type { PackedFlows } from './packed.js';

/** Ended flows as EVE lines, waiting to be taken in output order. */
export class EndedLines {
  #n = 0;
  #cap = 0;
  /** Per flow: endedAt, startSec, startNsec. */
  #order = new Float64Array(0);
  #keys = new Uint8Array(0);
  /** Per flow: start and end of its line in #lines. */
  #starts = new Uint32Array(0);
  #ends = new Uint32Array(0);
  #lines = new Uint8Array(1 << 16);
  #len = 0;

  constructor() { this.#grow(256); }

  /** Flows waiting. */
  get size(): number { return this.#n; }

  /** Write the line of ended flow `r` (its fields are read now: a scratch record may be reused after). */
  add(r: FlowRecord): void {
    if (this.#n === this.#cap) this.#grow(this.#cap * 2);
    if (this.#len + MAX_FLOW_LINE > this.#lines.length) {
      const b = new Uint8Array(this.#lines.length * 2);
      b.set(this.#lines.subarray(0, this.#len));
      this.#lines = b;
    }
    const k = this.#n++;
    this.#order[k * 3] = r.endedAt; this.#order[k * 3 + 1] = r.startSec; this.#order[k * 3 + 2] = r.startNsec;
    this.#keys.set(r.key, k * KEY_BYTES);
    this.#starts[k] = this.#len;
    this.#len = writeFlowLine(r, this.#lines, this.#len);
    this.#ends[k] = this.#len;
  }

  /** The flows ending before `clock`, in output order (those ending at it wait: a later packet may sort first). */
  takeBefore(clock: number): PackedFlows | null {
    if (this.#n === 0) return null;
    const idx = this.#sorted();
    let m = 0;
    while (m < idx.length && this.#order[idx[m]! * 3]! < clock) m++;
    return this.#take(idx, m);
  }

  /**
   * The flows sorting at or before the last one added, in output order (all with `all`). For the shutdown
   * flush, whose flows are added in output order: what waits sorts after them.
   */
  takeThroughLast(all: boolean): PackedFlows | null {
    if (this.#n === 0) return null;
    const last = this.#n - 1;
    const idx = this.#sorted();
    let m = idx.length;
    if (!all) while (m > 0 && this.#compare(idx[m - 1]!, last) > 0) m--;
    return this.#take(idx, m);
  }

  /** Indexes of the waiting flows in output order. */
  #sorted(): Int32Array {
    const idx = new Int32Array(this.#n);
    for (let k = 0; k < idx.length; k++) idx[k] = k;
    return idx.sort((a, b) => this.#compare(a, b));
  }

  #compare(a: number, b: number): number {
    const o = this.#order;
    for (let f = 0; f < 3; f++) { const x = o[a * 3 + f]!, y = o[b * 3 + f]!; if (x !== y) return x < y ? -1 : 1; }
    const K = this.#keys, ka = a * KEY_BYTES, kb = b * KEY_BYTES;
    for (let i = 0; i < KEY_BYTES; i++) if (K[ka + i] !== K[kb + i]) return K[ka + i]! - K[kb + i]!;
    return a - b;
  }

  /** Pack the first `m` of the sorted flows `idx`; the others stay (compacted, in the same order). */
  #take(idx: Int32Array, m: number): PackedFlows | null {
    const out = m > 0 ? this.#pack(idx, 0, m) : null;
    if (m === idx.length) { this.#n = 0; this.#len = 0; return out; }
    if (m > 0) {
      const rest = this.#pack(idx, m, idx.length);
      this.#n = rest.count;
      this.#order.set(rest.order); this.#keys.set(rest.keys); this.#lines.set(rest.lines!);
      let s = 0;
      for (let k = 0; k < rest.count; k++) { this.#starts[k] = s; this.#ends[k] = rest.ends![k]!; s = rest.ends![k]!; }
      this.#len = s;
    }
    return out;
  }

  #pack(idx: Int32Array, from: number, to: number): PackedFlows {
    const n = to - from;
    const order = new Float64Array(n * 3), keys = new Uint8Array(n * KEY_BYTES), ends = new Uint32Array(n);
    let bytes = 0;
    for (let k = from; k < to; k++) bytes += this.#ends[idx[k]!]! - this.#starts[idx[k]!]!;
    const lines = new Uint8Array(bytes);
    let p = 0;
    for (let k = 0; k < n; k++) {
      const i = idx[from + k]!;
      order[k * 3] = this.#order[i * 3]!; order[k * 3 + 1] = this.#order[i * 3 + 1]!; order[k * 3 + 2] = this.#order[i * 3 + 2]!;
      keys.set(this.#keys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES), k * KEY_BYTES);
      lines.set(this.#lines.subarray(this.#starts[i]!, this.#ends[i]!), p);
      p += this.#ends[i]! - this.#starts[i]!;
      ends[k] = p;
    }
    return { count: n, order, keys, lines, ends };
  }

  #grow(cap: number): void {
    const order = new Float64Array(cap * 3); order.set(this.#order); this.#order = order;
    const keys = new Uint8Array(cap * KEY_BYTES); keys.set(this.#keys); this.#keys = keys;
    const starts = new Uint32Array(cap); starts.set(this.#starts); this.#starts = starts;
    const ends = new Uint32Array(cap); ends.set(this.#ends); this.#ends = ends;
    this.#cap = cap;
  }
}
