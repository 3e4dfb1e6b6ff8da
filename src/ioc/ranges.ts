// Address range tables: nested CIDR blocks flattened into sorted disjoint ranges (typed arrays), each range
// mapped to the most specific block covering it. IPv4 addresses are one u32 word, IPv6 four (big-endian
// words), so lookups use no BigInt and allocate nothing: a first-level bucket on the top bits, then a binary search.

/** Most entries one table accepts (the radix sort packs entry indexes in 32 bits; memory is the real cap). */
export const MAX_TABLE_ENTRIES = 1 << 26;

/** Entries before flattening: `words` address words per entry (1 for IPv4, 4 for IPv6), prefix lengths. */
export interface RangeInput {
  /** Address words of each entry's network, `words` per entry (host bits already cleared). */
  addr: Uint32Array;
  /** Prefix length of each entry (0..32 or 0..128). */
  prefix: Uint8Array;
  /** Number of entries. */
  count: number;
}

/** A flattened table: disjoint ranges [start, end] sorted by start, with the entry index that labels each. */
export class RangeTable {
  /** 1 (IPv4) or 4 (IPv6) words per address. */
  readonly words: 1 | 4;
  /** Range starts and ends, `words` per range. */
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  /** Entry index (into the RangeInput) of the most specific block covering each range. */
  readonly values: Uint32Array;
  /** Number of ranges. */
  readonly size: number;
  /**
   * bucket[b] = number of ranges whose start's top `bucketBits` bits are < b (2^bucketBits + 1 slots). IPv4 tables
   * also set BUCKET_SPAN in bucket[b] when the range before the bucket reaches into it, so an empty bucket without
   * it answers "not listed" after one memory access.
   */
  readonly bucket: Uint32Array;
  /** Bits of the address that index `bucket` (16 for IPv6; 16..22 for IPv4, about log2 of the range count + 2). */
  readonly bucketBits: number;
  /** IPv4 only: [start, end, value, 0] per range, so a lookup touches one cache line after the bucket. */
  readonly rows: Uint32Array;
  /** Entries dropped because an identical block (same network and prefix) came earlier. */
  readonly duplicates: number;

  private constructor(words: 1 | 4, starts: Uint32Array, ends: Uint32Array, values: Uint32Array, size: number, duplicates: number,
    bucketBits: number | undefined) {
    this.words = words;
    this.starts = starts;
    this.ends = ends;
    this.values = values;
    this.size = size;
    this.duplicates = duplicates;
    // IPv4: about a quarter range per bucket, so most lookups of unlisted addresses stop at an empty bucket and a
    // hit costs two memory accesses (bucket, row). IPv6: 64 Ki buckets on the top 16 bits.
    const bits = words === 1 ? bucketBits ?? Math.max(16, Math.min(22, Math.ceil(Math.log2(size + 1)) + 2)) : 16;
    const shift = 32 - bits;
    const nb = 2 ** bits;
    const bucket = new Uint32Array(nb + 1);
    // Count ranges per top-bits value, then prefix-sum so bucket[b] counts starts below b << shift.
    for (let i = 0; i < size; i++) bucket[(starts[i * words]! >>> shift) + 1]!++;
    for (let b = 1; b <= nb; b++) bucket[b]! += bucket[b - 1]!;
    if (words === 1) {
      // Ranges are disjoint, so marking the buckets each one reaches into costs at most nb + size steps.
      for (let i = 0; i < size; i++) {
        const eb = ends[i]! >>> shift;
        for (let b = (starts[i]! >>> shift) + 1; b <= eb; b++) bucket[b]! |= BUCKET_SPAN;
      }
    }
    this.bucket = bucket;
    this.bucketBits = bits;
    const rows = new Uint32Array(words === 1 ? size * 4 : 0);
    if (words === 1) for (let i = 0; i < size; i++) { rows[4 * i] = starts[i]!; rows[4 * i + 1] = ends[i]!; rows[4 * i + 2] = values[i]!; }
    this.rows = rows;
  }

  /**
   * Flatten `input` (IPv4 when words = 1, IPv6 when 4); identical blocks keep the first entry. `bucketBits`
   * overrides the IPv4 bucket resolution (16..24; tests use it).
   */
  static build(words: 1 | 4, input: RangeInput, opts: { bucketBits?: number } = {}): RangeTable {
    const n = input.count;
    if (n > MAX_TABLE_ENTRIES) throw new RangeError(`too many entries (${n} > ${MAX_TABLE_ENTRIES})`);
    const order = sortEntries(words, input);
    const maxBits = words * 32;
    // Every entry adds at most two range boundaries, so 2n+1 ranges is a hard upper bound.
    const cap = 2 * n + 1;
    const starts = new Uint32Array(cap * words);
    const ends = new Uint32Array(cap * words);
    const values = new Uint32Array(cap);
    let size = 0;
    let duplicates = 0;
    // Stack of open (enclosing) entries; blocks are nested or disjoint, so a stack describes the cover.
    const stack = new Uint32Array(maxBits + 2);
    const stackEnd = new Uint32Array((maxBits + 2) * words);
    let depth = 0;
    const pos = new Uint32Array(words); // next address not yet emitted
    let posOverflow = false; // pos wrapped past the top of the space
    const tmp = new Uint32Array(words);
    const eStart = new Uint32Array(words);
    const eEnd = new Uint32Array(words);
    let prevIdx = -1;

    const emit = (from: Uint32Array, to: Uint32Array, toOff: number, value: number): void => {
      for (let w = 0; w < words; w++) { starts[size * words + w] = from[w]!; ends[size * words + w] = to[toOff + w]!; }
      values[size++] = value;
    };
    // Close every open entry that ends before `limit` (or all of them when limit is null).
    const closeUntil = (limit: Uint32Array | null): void => {
      while (depth > 0) {
        const top = depth - 1;
        if (limit && cmpWords(stackEnd, top * words, limit, 0, words) >= 0) break;
        if (!posOverflow && cmpWords(pos, 0, stackEnd, top * words, words) <= 0) {
          emit(pos, stackEnd, top * words, stack[top]!);
        }
        // pos = end + 1
        if (!posOverflow) {
          for (let w = 0; w < words; w++) pos[w] = stackEnd[top * words + w]!;
          posOverflow = incWords(pos, words);
        }
        depth--;
      }
    };

    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const p = input.prefix[i]!;
      for (let w = 0; w < words; w++) eStart[w] = input.addr[i * words + w]!;
      blockEnd(eStart, p, words, eEnd);
      if (prevIdx >= 0 && input.prefix[prevIdx] === p && sameWords(input.addr, prevIdx * words, input.addr, i * words, words)) {
        duplicates++;
        continue;
      }
      prevIdx = i;
      closeUntil(eStart);
      // The enclosing entry (if any) covers [pos, eStart - 1].
      if (depth > 0 && !posOverflow && cmpWords(pos, 0, eStart, 0, words) < 0) {
        for (let w = 0; w < words; w++) tmp[w] = eStart[w]!;
        decWords(tmp, words);
        emit(pos, tmp, 0, stack[depth - 1]!);
      }
      for (let w = 0; w < words; w++) pos[w] = eStart[w]!;
      posOverflow = false;
      stack[depth] = i;
      for (let w = 0; w < words; w++) stackEnd[depth * words + w] = eEnd[w]!;
      depth++;
    }
    closeUntil(null);
    return new RangeTable(words, starts.slice(0, size * words), ends.slice(0, size * words), values.slice(0, size), size, duplicates, opts.bucketBits);
  }

  /** Entry index covering the IPv4 address `ip` (u32), or -1. Only for words = 1 tables. */
  lookup4(ip: number): number {
    const b = ip >>> (32 - this.bucketBits);
    const x = this.bucket[b]!;
    let lo = x & BUCKET_COUNT;
    let hi = this.bucket[b + 1]! & BUCKET_COUNT;
    if (lo === hi && x === lo) return -1; // empty bucket, nothing reaching in
    const rows = this.rows;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rows[4 * mid]! <= ip) lo = mid + 1; else hi = mid;
    }
    const i = lo - 1;
    if (i < 0) return -1;
    return rows[4 * i + 1]! >= ip ? rows[4 * i + 2]! : -1;
  }

  /** Entry index covering the IPv6 address given as four big-endian words, or -1. Only for words = 4 tables. */
  lookup6(w0: number, w1: number, w2: number, w3: number): number {
    const b = w0 >>> 16;
    const s = this.starts;
    let lo = this.bucket[b]!;
    let hi = this.bucket[b + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = mid * 4;
      // starts[mid] <= addr ?
      let le: boolean;
      if (s[m]! !== w0) le = s[m]! < w0;
      else if (s[m + 1]! !== w1) le = s[m + 1]! < w1;
      else if (s[m + 2]! !== w2) le = s[m + 2]! < w2;
      else le = s[m + 3]! <= w3;
      if (le) lo = mid + 1; else hi = mid;
    }
    const i = lo - 1;
    if (i < 0) return -1;
    const e = this.ends, m = i * 4;
    let ge: boolean;
    if (e[m]! !== w0) ge = e[m]! > w0;
    else if (e[m + 1]! !== w1) ge = e[m + 1]! > w1;
    else if (e[m + 2]! !== w2) ge = e[m + 2]! > w2;
    else ge = e[m + 3]! >= w3;
    return ge ? this.values[i]! : -1;
  }

  /** Entry index covering the address of `len` bytes (4 or 16) at b[o], or -1 (the table's family must match). */
  lookupBytes(b: Uint8Array, o: number): number {
    if (this.words === 1) return this.lookup4(((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0);
    return this.lookup6(
      ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0,
      ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0,
      ((b[o + 8]! << 24) | (b[o + 9]! << 16) | (b[o + 10]! << 8) | b[o + 11]!) >>> 0,
      ((b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!) >>> 0,
    );
  }
}

/** Flag in an IPv4 bucket word: the range before the bucket reaches into it. */
export const BUCKET_SPAN = 0x80000000;
/** Mask of the range count in a bucket word. */
const BUCKET_COUNT = 0x7fffffff;

/** Last address of the block `start/prefix` into `out`. */
export function blockEnd(start: ArrayLike<number>, prefix: number, words: number, out: Uint32Array): void {
  for (let w = 0; w < words; w++) {
    const bitsHere = Math.max(0, Math.min(32, prefix - w * 32));
    const host = bitsHere === 32 ? 0 : bitsHere === 0 ? 0xffffffff : (0xffffffff >>> bitsHere);
    out[w] = (start[w]! | host) >>> 0;
  }
}

/** Clear the host bits of `addr` (words at `o`) for `prefix`; returns true when some were set. */
export function maskWords(addr: Uint32Array, o: number, prefix: number, words: number): boolean {
  let changed = false;
  for (let w = 0; w < words; w++) {
    const bitsHere = Math.max(0, Math.min(32, prefix - w * 32));
    const mask = bitsHere === 0 ? 0 : bitsHere === 32 ? 0xffffffff : (0xffffffff << (32 - bitsHere)) >>> 0;
    const v = addr[o + w]!;
    const m = (v & mask) >>> 0;
    if (m !== v) { changed = true; addr[o + w] = m; }
  }
  return changed;
}

function cmpWords(a: Uint32Array, ao: number, b: Uint32Array, bo: number, words: number): number {
  for (let w = 0; w < words; w++) {
    const x = a[ao + w]!, y = b[bo + w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function sameWords(a: Uint32Array, ao: number, b: Uint32Array, bo: number, words: number): boolean {
  for (let w = 0; w < words; w++) if (a[ao + w] !== b[bo + w]) return false;
  return true;
}

/** Add one; returns true on overflow past the top of the space. */
function incWords(a: Uint32Array, words: number): boolean {
  for (let w = words - 1; w >= 0; w--) {
    if (a[w] !== 0xffffffff) { a[w] = a[w]! + 1; return false; }
    a[w] = 0;
  }
  return true;
}

function decWords(a: Uint32Array, words: number): void {
  for (let w = words - 1; w >= 0; w--) {
    if (a[w] !== 0) { a[w] = a[w]! - 1; return; }
    a[w] = 0xffffffff;
  }
}

/**
 * Entry indexes sorted by (network ascending, prefix ascending, input order): a stable LSD radix sort on
 * 16-bit digits, so millions of entries sort in tens of milliseconds without a comparator.
 */
function sortEntries(words: number, input: RangeInput): Uint32Array {
  const n = input.count;
  let a = new Uint32Array(n);
  let b = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const count = new Uint32Array(65537);
  // Least significant digit first: the prefix length, then each address word from the lowest half up.
  const pass = (digit: (i: number) => number, radix: number): void => {
    count.fill(0, 0, radix + 1);
    for (let k = 0; k < n; k++) count[digit(a[k]!) + 1]!++;
    for (let r = 1; r <= radix; r++) count[r]! += count[r - 1]!;
    for (let k = 0; k < n; k++) { const i = a[k]!; b[count[digit(i)]!++] = i; }
    const t = a; a = b; b = t;
  };
  const addr = input.addr, prefix = input.prefix;
  pass((i) => prefix[i]!, 256);
  for (let w = words - 1; w >= 0; w--) {
    pass((i) => addr[i * words + w]! & 0xffff, 65536);
    pass((i) => addr[i * words + w]! >>> 16, 65536);
  }
  return a;
}
