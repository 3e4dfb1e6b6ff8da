// tcpdump's TCP sequence table (print-tcp.c tcp_seq_hash4) for IPv4, as a bounded open-addressing hash table:
// key = (address of the lower-port side, other address, ports), value = the initial seq/ack of both directions.
// tcpdump's table is unbounded; ours holds at most `cap` conversations and forgets the oldest-inserted one when a
// new one arrives at the cap (that conversation then prints absolute numbers again, as a new one would).

/** Bounded map (int32, int32, int32) → (seq, ack) with FIFO eviction; no object per entry. */
export class TcpSeqTable4 {
  /** Conversations forgotten because the table was at its cap. */
  evicted = 0;
  readonly cap: number;
  #mask = 0;
  #keys = new Int32Array(0);
  #used = new Uint8Array(0);
  /** seq/ack of each slot (valid while used). */
  seq = new Uint32Array(0);
  ack = new Uint32Array(0);
  #size = 0;
  // Insertion order ring (3 ints per live key).
  #ring = new Int32Array(0);
  #head = 0;

  constructor(cap: number) {
    this.cap = Math.max(1, cap);
    this.#alloc(64);
  }

  get size(): number { return this.#size; }

  #alloc(slots: number): void {
    this.#mask = slots - 1;
    this.#keys = new Int32Array(slots * 3);
    this.#used = new Uint8Array(slots);
    this.seq = new Uint32Array(slots);
    this.ack = new Uint32Array(slots);
  }

  static #hash(a: number, b: number, c: number): number {
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
    return (h ^ (h >>> 15)) >>> 0;
  }

  /** Slot of the key, or -1. */
  find(a: number, b: number, c: number): number {
    const k = this.#keys, u = this.#used, m = this.#mask;
    for (let i = TcpSeqTable4.#hash(a, b, c) & m; u[i]; i = (i + 1) & m) {
      if (k[i * 3] === a && k[i * 3 + 1] === b && k[i * 3 + 2] === c) return i;
    }
    return -1;
  }

  /** Insert a key known to be absent; returns its slot. */
  insert(a: number, b: number, c: number): number {
    if (this.#size >= this.cap) this.#evictOldest();
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#grow();
    const slot = this.#place(a, b, c);
    this.#pushRing(a, b, c);
    this.#size++;
    return slot;
  }

  #place(a: number, b: number, c: number): number {
    const k = this.#keys, u = this.#used, m = this.#mask;
    let i = TcpSeqTable4.#hash(a, b, c) & m;
    while (u[i]) i = (i + 1) & m;
    u[i] = 1; k[i * 3] = a; k[i * 3 + 1] = b; k[i * 3 + 2] = c;
    return i;
  }

  #grow(): void {
    const ok = this.#keys, ou = this.#used, os = this.seq, oa = this.ack;
    this.#alloc((this.#mask + 1) * 2);
    for (let i = 0; i < ou.length; i++) {
      if (!ou[i]) continue;
      const j = this.#place(ok[i * 3]!, ok[i * 3 + 1]!, ok[i * 3 + 2]!);
      this.seq[j] = os[i]!; this.ack[j] = oa[i]!;
    }
  }

  #pushRing(a: number, b: number, c: number): void {
    const cap = this.#ring.length / 3;
    if (this.#size >= cap) {
      // Grow (only while below the table cap): linearise the ring in FIFO order.
      const n = Math.min(this.cap, Math.max(64, cap * 2));
      const r = new Int32Array(n * 3);
      for (let i = 0; i < this.#size; i++) {
        const s = ((this.#head + i) % cap) * 3;
        r[i * 3] = this.#ring[s]!; r[i * 3 + 1] = this.#ring[s + 1]!; r[i * 3 + 2] = this.#ring[s + 2]!;
      }
      this.#ring = r;
      this.#head = 0;
    }
    const rc = this.#ring.length / 3;
    const t = ((this.#head + this.#size) % rc) * 3;
    this.#ring[t] = a; this.#ring[t + 1] = b; this.#ring[t + 2] = c;
  }

  #evictOldest(): void {
    const rc = this.#ring.length / 3;
    const h = this.#head * 3;
    const slot = this.find(this.#ring[h]!, this.#ring[h + 1]!, this.#ring[h + 2]!);
    this.#head = (this.#head + 1) % rc;
    this.#size--;
    this.evicted++;
    if (slot >= 0) this.#remove(slot);
  }

  /** Backward-shift deletion keeps linear probing chains intact without tombstones. */
  #remove(i: number): void {
    const k = this.#keys, u = this.#used, m = this.#mask;
    u[i] = 0;
    for (let j = (i + 1) & m; u[j]; j = (j + 1) & m) {
      const home = TcpSeqTable4.#hash(k[j * 3]!, k[j * 3 + 1]!, k[j * 3 + 2]!) & m;
      // Move j into the hole at i when its home position is not in the cyclic range (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        k[i * 3] = k[j * 3]!; k[i * 3 + 1] = k[j * 3 + 1]!; k[i * 3 + 2] = k[j * 3 + 2]!;
        this.seq[i] = this.seq[j]!; this.ack[i] = this.ack[j]!;
        u[i] = 1; u[j] = 0;
        i = j;
      }
    }
  }
}
