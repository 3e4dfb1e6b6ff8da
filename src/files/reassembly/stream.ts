// TCP stream reassembly for one direction of one connection (sans-IO): sequence numbers (with wrap-around) in,
// in-order bytes and gaps out. Owns out-of-order buffering, overlap/retransmission trimming (first-seen data
// wins), gap decisions (a hole the peer has ACKed, a FIN/RST/timeout flush, a cap), and stream depth.
// Memory is bounded per stream (`maxPending`) and across streams by a shared Memcap; what a cap drops is
// counted and surfaces as a gap, so the affected file is TRUNCATED, never silently padded.

/** Receives a direction's reassembled bytes (valid only during the call) and its gaps; `dir` names the stream's direction. */
export interface StreamOutput {
  data(bytes: Uint8Array, dir: 0 | 1): void;
  gap(len: number, dir: 0 | 1): void;
}

/** Counters shared by every stream of a reassembler (one per worker). */
export interface ReassemblyCounters {
  segments: number;
  /** Bytes delivered in order to parsers. */
  bytes: number;
  /** Segments that arrived ahead of the next expected byte and were buffered. */
  outOfOrder: number;
  /** Segments entirely already seen (retransmissions) and partial overlaps trimmed (first-seen wins). */
  retransmissions: number;
  overlaps: number;
  /** Bytes of overlaps whose content differed from what was seen first. */
  overlapConflicts: number;
  /** Gaps reported and their total length. */
  gaps: number;
  gapBytes: number;
  /** Out-of-order segments dropped because the global memcap was full. */
  memcapDrops: number;
  memcapDropBytes: number;
  /** Forced flushes because one stream's out-of-order buffer hit its cap (the hole becomes a gap). */
  streamCapFlushes: number;
  /** Bytes beyond the stream depth, not delivered. */
  depthBytes: number;
  /** Streams picked up mid-stream (no SYN seen). */
  midstream: number;
  /** Buffered bytes beyond the peer's ACK on a RST, not delivered (never acknowledged, as Suricata 8). */
  rstUnackedBytes: number;
}

/** Fresh zeroed counters. */
export function newReassemblyCounters(): ReassemblyCounters {
  return { segments: 0, bytes: 0, outOfOrder: 0, retransmissions: 0, overlaps: 0, overlapConflicts: 0, gaps: 0, gapBytes: 0, memcapDrops: 0, memcapDropBytes: 0, streamCapFlushes: 0, depthBytes: 0, midstream: 0, rstUnackedBytes: 0 };
}

/** Global budget of buffered out-of-order bytes (Suricata's stream.reassembly.memcap), shared by a worker's streams. */
export class Memcap {
  used = 0;
  peak = 0;
  constructor(readonly limit: number) {}
  /** Reserve `n` bytes; false when the cap would be exceeded. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }
  give(n: number): void { this.used -= n; }
}

/** Caps of a stream. */
export interface StreamLimits {
  /** Out-of-order bytes one direction may buffer (default 1 MiB); beyond, the first hole is declared a gap. */
  maxPending: number;
  /** Bytes per direction delivered to parsers (0 = unlimited); the rest is counted and dropped (Suricata's depth). */
  depth: number;
}

interface Pending { off: number; bytes: Uint8Array }

/** Never written: drop() sets length 0 (already 0) and #drain only shifts a non-empty list. */
const NO_PENDING: Pending[] = [];

/** Signed 32-bit distance a - b in sequence space. */
export function seqDiff(a: number, b: number): number { return (a - b) | 0; }

/** One direction's reassembly state. Offsets are stream offsets (bytes since the first sequence number). */
export class StreamDir {
  /** True once the initial sequence number is known. */
  started = false;
  /** Sequence number of stream offset 0. */
  #base = 0;
  /** Next stream offset to deliver. */
  next = 0;
  /** Highest stream offset acknowledged by the peer (-1 = none). */
  #acked = -1;
  /** Out-of-order segments, sorted by offset, non-overlapping (the shared empty list until the first one: #insert always builds a new array). */
  #pending: Pending[] = NO_PENDING;
  #pendingBytes = 0;
  /** Stream offset of a FIN, -1 when none seen. */
  fin = -1;
  /** True after the stream ended (FIN reached, RST, flush). */
  ended = false;
  /** Depth reached: later bytes are dropped. */
  depthHit = false;

  /** `dir` is passed to `out` with every call, so one output can serve both directions of a connection. */
  constructor(readonly out: StreamOutput, readonly limits: StreamLimits, readonly memcap: Memcap, readonly c: ReassemblyCounters, readonly dir: 0 | 1 = 0) {}

  /** Bytes currently buffered out of order. */
  get pendingBytes(): number { return this.#pendingBytes; }

  /** Start the stream at `isn` (SYN seen: data begins at isn + 1). */
  syn(isn: number): void {
    if (this.started) return;
    this.started = true;
    this.#base = (isn + 1) >>> 0;
  }

  /** Stream offset of sequence number `seq` (relative to what was delivered, so wrap-around is handled). */
  offsetOf(seq: number): number {
    return this.next + seqDiff(seq, (this.#base + this.next) >>> 0);
  }

  /** A segment with payload `p` (valid only during the call) at `seq`; FIN flag in `fin`. */
  segment(seq: number, p: Uint8Array, fin: boolean): void {
    if (this.ended) return;
    if (!this.started) {
      if (p.length === 0 && !fin) return;
      this.started = true;
      this.#base = seq >>> 0;
      this.c.midstream++;
    }
    let off = this.offsetOf(seq);
    if (fin) {
      const f = off + p.length;
      if (this.fin < 0 || f < this.fin) this.fin = f;
    }
    if (p.length > 0) {
      this.c.segments++;
      if (off + p.length <= this.next) {
        this.c.retransmissions++;
      } else {
        if (off < this.next) { this.c.overlaps++; p = p.subarray(this.next - off); off = this.next; }
        if (off === this.next) {
          this.#deliver(p);
          this.#drain();
        } else {
          this.#insert(off, p);
          if (this.#acked >= 0 && this.#pending.length > 0 && this.#pending[0]!.off <= this.#acked) this.#skipHole();
        }
      }
    }
    if (this.fin >= 0 && this.next >= this.fin && this.#pending.length === 0) this.ended = true;
  }

  /** The peer acknowledged up to `ack`: a hole below it will never be filled (lost in capture) → gap. */
  ack(ack: number): void {
    if (!this.started || this.ended) return;
    const a = this.offsetOf(ack);
    if (a > this.#acked) this.#acked = a;
    while (this.#pending.length > 0 && this.#pending[0]!.off <= this.#acked && this.#pending[0]!.off > this.next) this.#skipHole();
  }

  /**
   * Discard buffered bytes at or beyond sequence number `ack` (the peer reset the connection acknowledging only
   * that far: those bytes never reached it, and Suricata 8 does not inspect them either). Counted.
   */
  dropUnacked(ack: number): void {
    if (!this.started || this.ended) return;
    const q = this.#pending, lim = this.offsetOf(ack);
    let k = q.length;
    while (k > 0 && q[k - 1]!.off >= lim) {
      const x = q[--k]!;
      this.#pendingBytes -= x.bytes.length; this.memcap.give(x.bytes.length); this.c.rstUnackedBytes += x.bytes.length;
    }
    if (k > 0 && q[k - 1]!.off + q[k - 1]!.bytes.length > lim) {
      const x = q[k - 1]!, cut = x.off + x.bytes.length - lim;
      this.#pendingBytes -= cut; this.memcap.give(cut); this.c.rstUnackedBytes += cut;
      x.bytes = x.bytes.subarray(0, lim - x.off);
    }
    if (k < q.length) q.length = k;
  }

  /** End of stream (RST, flow end, timeout): deliver what is buffered, holes as gaps. */
  flush(): void {
    if (this.ended) return;
    while (this.#pending.length > 0) this.#skipHole();
    // Bytes the peer acknowledged but the capture never showed (up to the FIN) are a trailing gap.
    const lim = this.fin >= 0 ? Math.min(this.fin, this.#acked) : this.#acked;
    if (this.started && lim > this.next) {
      const len = lim - this.next;
      this.c.gaps++; this.c.gapBytes += len;
      this.next = lim;
      this.out.gap(len, this.dir);
    }
    this.ended = true;
  }

  /** Release buffered memory without delivering (flow discarded). */
  drop(): void {
    for (const s of this.#pending) this.memcap.give(s.bytes.length);
    // Cleared in place: a drop from inside a delivery must also stop the loop that is draining this array.
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.ended = true;
  }

  #deliver(p: Uint8Array): void {
    const depth = this.limits.depth;
    if (depth > 0) {
      if (this.next >= depth) { this.c.depthBytes += p.length; this.next += p.length; this.depthHit = true; return; }
      if (this.next + p.length > depth) {
        const keep = depth - this.next;
        this.c.depthBytes += p.length - keep;
        this.out.data(p.subarray(0, keep), this.dir);
        this.c.bytes += keep;
        this.next += p.length;
        this.depthHit = true;
        this.out.gap(0, this.dir);
        return;
      }
    }
    this.next += p.length;
    this.c.bytes += p.length;
    this.out.data(p, this.dir);
  }

  /** Deliver buffered segments that now continue the stream. */
  #drain(): void {
    const q = this.#pending;
    while (q.length > 0 && q[0]!.off <= this.next) {
      const s = q.shift()!;
      this.#pendingBytes -= s.bytes.length;
      this.memcap.give(s.bytes.length);
      const end = s.off + s.bytes.length;
      if (end <= this.next) continue;
      this.#deliver(s.off < this.next ? s.bytes.subarray(this.next - s.off) : s.bytes);
    }
  }

  /** Declare the hole before the first buffered segment a gap and continue from there. */
  #skipHole(): void {
    const first = this.#pending[0]!;
    const len = first.off - this.next;
    if (len > 0) {
      this.c.gaps++;
      this.c.gapBytes += len;
      this.next = first.off;
      if (!(this.limits.depth > 0 && this.next >= this.limits.depth)) this.out.gap(len, this.dir);
    }
    this.#drain();
  }

  /** Buffer a copy of an out-of-order segment, trimmed against what is already buffered (first-seen wins). */
  #insert(off: number, p: Uint8Array): void {
    this.c.outOfOrder++;
    const q = this.#pending;
    const end = off + p.length;
    // Find the insertion point, then cut the new bytes around existing segments.
    let i = 0;
    while (i < q.length && q[i]!.off + q[i]!.bytes.length <= off) i++;
    const pieces: Pending[] = [];
    let cur = off;
    let j = i;
    while (cur < end) {
      const s = q[j];
      if (!s || s.off >= end) { pieces.push({ off: cur, bytes: p.subarray(cur - off, end - off) }); break; }
      if (s.off > cur) pieces.push({ off: cur, bytes: p.subarray(cur - off, s.off - off) });
      const ovS = Math.max(cur, s.off), ovE = Math.min(end, s.off + s.bytes.length);
      if (ovE > ovS) {
        this.c.overlaps++;
        if (!sameBytes(s.bytes, ovS - s.off, p, ovS - off, ovE - ovS)) this.c.overlapConflicts++;
      }
      cur = Math.max(cur, s.off + s.bytes.length);
      j++;
    }
    if (pieces.length === 0) { this.c.retransmissions++; return; }
    let add = 0;
    for (const x of pieces) add += x.bytes.length;
    if (this.#pendingBytes + add > this.limits.maxPending) {
      // This stream's buffer is full: the first hole will not be filled in time; declare it a gap.
      this.c.streamCapFlushes++;
      if (q.length > 0) {
        while (this.#pending.length > 0) this.#skipHole();
        if (off <= this.next) { if (end > this.next) this.#deliver(p.subarray(this.next - off)); return; }
        return this.#insert(off, p);
      }
      // Nothing buffered and one segment alone exceeds the cap: jump to it.
      this.c.gaps++; this.c.gapBytes += off - this.next;
      this.out.gap(off - this.next, this.dir);
      this.next = off;
      this.#deliver(p);
      return;
    }
    if (!this.memcap.take(add)) {
      this.c.memcapDrops++;
      this.c.memcapDropBytes += add;
      return;
    }
    const copies = pieces.map((x) => ({ off: x.off, bytes: Uint8Array.prototype.slice.call(x.bytes) as Uint8Array }));
    // Insert keeping order: pieces lie in the holes between q[i..j).
    const merged = q.slice(0, i);
    let a = i, b = 0;
    while (a < j || b < copies.length) {
      if (b >= copies.length || (a < j && q[a]!.off < copies[b]!.off)) merged.push(q[a++]!);
      else merged.push(copies[b++]!);
    }
    for (let k = j; k < q.length; k++) merged.push(q[k]!);
    this.#pending = merged;
    this.#pendingBytes += add;
  }
}

function sameBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[ao + k] !== b[bo + k]) return false;
  return true;
}
