// Ended flows waiting to go out in output order (end time, start time, key): the ordering fields and key of each
// in typed arrays, with its EVE line as bytes ('eve': written as the flow ends, from a record that may be the
// table's reused scratch, so the JSON output needs no record object per flow) or its record ('records'). Flows
// ending at the capture clock are held back; runs come out sorted as PackedFlows, one ordered sequence.

import { MAX_FLOW_LINE, writeFlowLine, type FlowText } from '../flow/eve.js';
import { KEY_BYTES } from '../flow/key.js';
import type { FlowRecord } from '../flow/record.js';
import type { PackedFlows } from './packed.js';

/** Record copies in a pack carry no key of their own (the pack's `keys` hold them; recordAt restores). */
const NO_KEY = new Uint8Array(0);

/** Ended flows as EVE lines or records, waiting to be taken in output order. */
export class EndedFlows {
  #n = 0;
  #cap = 0;
  /** Per flow: endedAt, startSec, startNsec. */
  #order = new Float64Array(0);
  #keys = new Uint8Array(0);
  /** 'eve': per flow, start and end of its line in #lines. */
  #starts = new Uint32Array(0);
  #ends = new Uint32Array(0);
  #lines = new Uint8Array(0);
  #len = 0;
  /** 'records': per flow, its record. */
  #recs: FlowRecord[] = [];

  constructor(readonly mode: 'eve' | 'records') {
    if (mode === 'eve') this.#lines = new Uint8Array(1 << 16);
    this.#grow(256);
  }

  /** Flows waiting. */
  get size(): number { return this.#n; }

  /**
   * Add ended flow `r`: its fields are read now ('eve'; its text fields from `text` when given, see FlowText), or
   * the record is kept ('records': not a scratch one).
   */
  add(r: FlowRecord, text: FlowText | null = null): void {
    if (this.#n === this.#cap) this.#grow(this.#cap * 2);
    const k = this.#n++;
    this.#order[k * 3] = r.endedAt; this.#order[k * 3 + 1] = r.startSec; this.#order[k * 3 + 2] = r.startNsec;
    const K = this.#keys, key = r.key, ko = k * KEY_BYTES;
    for (let b = 0; b < KEY_BYTES; b++) K[ko + b] = key[b]!;
    if (this.mode === 'records') { this.#recs.push(r); return; }
    if (this.#len + MAX_FLOW_LINE > this.#lines.length) {
      const b = new Uint8Array(this.#lines.length * 2);
      b.set(this.#lines.subarray(0, this.#len));
      this.#lines = b;
    }
    this.#starts[k] = this.#len;
    this.#len = writeFlowLine(r, this.#lines, this.#len, text);
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

  /**
   * Indexes of the waiting flows in output order. They are mostly added in it, so the sort runs only when a
   * neighbour is out of order (and gather() then copies whole runs).
   */
  #sorted(): Int32Array {
    const idx = new Int32Array(this.#n);
    for (let k = 0; k < idx.length; k++) idx[k] = k;
    let k = 1;
    while (k < idx.length && this.#compare(k - 1, k) < 0) k++;
    return k >= idx.length ? idx : idx.sort((a, b) => this.#compare(a, b));
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
    const out = m > 0 ? this.#pack(idx, m) : null;
    const n = idx.length - m;
    // The waiting flows, gathered in order, then put back at the start.
    const rest = idx.subarray(m);
    const order = new Float64Array(n * 3), keys = new Uint8Array(n * KEY_BYTES);
    gather(rest, this.#order, this.#keys, order, keys);
    this.#order.set(order); this.#keys.set(keys);
    if (this.mode === 'records') { this.#recs = Array.from(rest, (i) => this.#recs[i]!); this.#n = n; return out; }
    const ends = new Uint32Array(n);
    const lines = this.#gatherLines(rest, ends);
    this.#lines.set(lines);
    for (let k = 0; k < n; k++) { this.#starts[k] = k ? ends[k - 1]! : 0; this.#ends[k] = ends[k]!; }
    this.#len = lines.length; this.#n = n;
    return out;
  }

  /** The first `m` flows of `idx` as a pack. */
  #pack(idx: Int32Array, m: number): PackedFlows {
    const first = idx.subarray(0, m);
    const order = new Float64Array(m * 3), keys = new Uint8Array(m * KEY_BYTES);
    gather(first, this.#order, this.#keys, order, keys);
    if (this.mode === 'records') {
      // Copies without the key view (which would drag its whole slab across threads).
      const recs: FlowRecord[] = new Array<FlowRecord>(m);
      for (let k = 0; k < m; k++) recs[k] = { ...this.#recs[idx[k]!]!, key: NO_KEY };
      return { count: m, order, keys, recs };
    }
    const ends = new Uint32Array(m);
    return { count: m, order, keys, lines: this.#gatherLines(first, ends), ends };
  }

  /**
   * The lines of flows `idx`, in that order, in a new buffer; `ends` receives each line's end. Lines are written
   * as flows end, nearly in output order: each run of lines already adjacent in #lines is copied at once.
   */
  #gatherLines(idx: Int32Array, ends: Uint32Array): Uint8Array {
    const S = this.#starts, E = this.#ends;
    let bytes = 0;
    for (let k = 0; k < idx.length; k++) bytes += E[idx[k]!]! - S[idx[k]!]!;
    const lines = new Uint8Array(bytes);
    let p = 0;
    for (let k = 0; k < idx.length;) {
      const a = S[idx[k]!]!;
      let b = E[idx[k]!]!;
      ends[k++] = p + (b - a);
      while (k < idx.length && S[idx[k]!] === b) { b = E[idx[k]!]!; ends[k++] = p + (b - a); }
      lines.set(this.#lines.subarray(a, b), p);
      p += b - a;
    }
    return lines;
  }

  #grow(cap: number): void {
    const order = new Float64Array(cap * 3); order.set(this.#order); this.#order = order;
    const keys = new Uint8Array(cap * KEY_BYTES); keys.set(this.#keys); this.#keys = keys;
    const starts = new Uint32Array(cap); starts.set(this.#starts); this.#starts = starts;
    const ends = new Uint32Array(cap); ends.set(this.#ends); this.#ends = ends;
    this.#cap = cap;
  }
}

/**
 * Copy the order fields and keys of flows `idx` (in that order) from `order`/`keys` into `o`/`k`. Runs of
 * consecutive flows (the usual shape: a sorted batch with a few flows moved) are copied as whole ranges.
 */
function gather(idx: Int32Array, order: Float64Array, keys: Uint8Array, o: Float64Array, k: Uint8Array): void {
  for (let j = 0; j < idx.length;) {
    const i = idx[j]!;
    let n = 1;
    while (j + n < idx.length && idx[j + n] === i + n) n++;
    if (n >= 8) {
      o.set(order.subarray(i * 3, (i + n) * 3), j * 3);
      k.set(keys.subarray(i * KEY_BYTES, (i + n) * KEY_BYTES), j * KEY_BYTES);
    } else {
      for (let t = 0; t < n; t++) {
        const a = i + t, b = j + t;
        o[b * 3] = order[a * 3]!; o[b * 3 + 1] = order[a * 3 + 1]!; o[b * 3 + 2] = order[a * 3 + 2]!;
        const from = a * KEY_BYTES, to = b * KEY_BYTES;
        for (let x = 0; x < KEY_BYTES; x++) k[to + x] = keys[from + x]!;
      }
    }
    j += n;
  }
}
