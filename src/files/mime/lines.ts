// Incremental LF line splitter shared by the mail/FTP parsers: complete lines are handed out as views of the
// input (no copy) when they lie inside one chunk; only a line split across chunks is buffered, up to a named
// cap — a longer line is handed out in fragments flagged incomplete (so memory stays bounded).

/** Receives a line: `full` = content + end-of-line bytes, `contentLen` = bytes before CR LF / LF;
 * `complete` false for a fragment of an over-long or unfinished line (no EOL in `full`). Views are only
 * valid during the call. */
export type LineHandler = (full: Uint8Array, contentLen: number, complete: boolean) => void;

/** Splits a byte stream into lines; at most `maxLine` bytes are ever buffered. */
export class LineSplitter {
  #buf: Uint8Array;
  #len = 0;
  readonly maxLine: number;
  /** Fragments handed out because a line exceeded maxLine. */
  longLineFragments = 0;

  constructor(maxLine: number, private readonly onLine: LineHandler) {
    this.maxLine = maxLine;
    this.#buf = new Uint8Array(Math.min(maxLine, 1024));
  }

  /** Bytes buffered of an unfinished line. */
  get pending(): number { return this.#len; }

  /** Feed bytes; calls the handler for every line completed, and for each `maxLine` bytes of an over-long line
   * (fragments fall at multiples of maxLine from the line start, whatever the chunking). */
  write(b: Uint8Array): void {
    let i = 0;
    const n = b.length;
    const max = this.maxLine;
    while (i < n) {
      const lf = b.indexOf(0x0a, i);
      const end = lf < 0 ? n : lf + 1;
      if (this.#len > 0) {
        const take = Math.min(max - this.#len, end - i);
        if (take > 0) { this.#append(b.subarray(i, i + take)); i += take; }
        if (lf >= 0 && i === end) {
          const full = this.#buf.subarray(0, this.#len);
          this.#len = 0;
          this.#emit(full);
        } else if (this.#len === max && i < n) this.#fragment();
        continue;
      }
      let s = i;
      while (end - s > max) {
        this.longLineFragments++;
        this.onLine(b.subarray(s, s + max), max, false);
        s += max;
      }
      if (lf >= 0) this.#emit(b.subarray(s, end));
      else this.#append(b.subarray(s, end));
      i = end;
    }
  }

  /** Hand out a buffered unfinished line as a fragment (end of stream); returns whether there was one. */
  flush(): boolean {
    if (this.#len === 0) return false;
    const full = this.#buf.subarray(0, this.#len);
    this.#len = 0;
    this.onLine(full, full.length, false);
    return true;
  }

  /** Drop buffered bytes (gap or mode switch). */
  reset(): void { this.#len = 0; }

  #fragment(): void {
    this.longLineFragments++;
    const full = this.#buf.subarray(0, this.#len);
    this.#len = 0;
    this.onLine(full, full.length, false);
  }

  #append(b: Uint8Array): void {
    const need = this.#len + b.length;
    if (need > this.#buf.length) {
      const nb = new Uint8Array(Math.min(this.maxLine, Math.max(need, this.#buf.length * 2)));
      nb.set(this.#buf.subarray(0, this.#len));
      this.#buf = nb;
    }
    this.#buf.set(b, this.#len);
    this.#len = need;
  }

  #emit(full: Uint8Array): void {
    const n = full.length;
    const c = n >= 2 && full[n - 2] === 0x0d ? n - 2 : n - 1;
    this.onLine(full, c, true);
  }
}

/** A plain Uint8Array view of `b` (a Node Buffer's subarray() is several times slower than a Uint8Array's). */
export function plainView(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
