// Size-limited output files for the ASCII printer: text goes to NAME.000, NAME.001, … each strictly smaller than
// the limit, cut only between packets (a packet's continuation lines stay with it) and never inside a line.

import { closeSync, openSync, writeSync } from 'node:fs';

/** A packet boundary: a newline followed by a line that does not start with white space (continuation lines do). */
function isPacketStart(s: Uint8Array, i: number): boolean {
  if (i >= s.length) return true;
  const c = s[i];
  return c !== 0x09 && c !== 0x20;
}

/** Writes latin1 text into numbered files, each < `limit` bytes. */
export class SplitWriter {
  readonly files: string[] = [];
  /** Lines that alone exceed the limit (each written to a file of its own, which is then over the limit). */
  oversizeLines = 0;
  #fd = -1;
  #size = 0;
  #name: (i: number) => string;
  #limit: number;

  /** `name(i)` gives the path of file i (0-based); `limit` is the exclusive size bound in bytes (≥ 2). */
  constructor(name: (i: number) => string, limit: number) {
    if (!(limit >= 2)) throw new RangeError('split size must be at least 2 bytes');
    this.#name = name;
    this.#limit = limit;
  }

  #open(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    const path = this.#name(this.files.length);
    this.#fd = openSync(path, 'w');
    this.files.push(path);
    this.#size = 0;
  }

  #put(s: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    if (this.#fd < 0) this.#open();
    let off = from;
    while (off < to) off += writeSync(this.#fd, s, off, to - off);
    this.#size += to - from;
  }

  /** Append text made of whole lines (it must end with '\n'); strings are taken as latin1. */
  write(text: string | Uint8Array): void {
    const s = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    let pos = 0;
    const n = s.length;
    while (pos < n) {
      const room = this.#limit - 1 - (this.#fd < 0 ? 0 : this.#size);
      if (n - pos <= room) { this.#put(s, pos, n); return; }
      // Largest cut ≤ pos+room at a packet boundary.
      let cut = -1;
      for (let i = s.lastIndexOf(0x0a, pos + room - 1); i >= pos; i = i > 0 ? s.lastIndexOf(0x0a, i - 1) : -1) {
        if (isPacketStart(s, i + 1)) { cut = i + 1; break; }
      }
      if (cut > pos) { this.#put(s, pos, cut); pos = cut; this.#open(); continue; }
      if (this.#fd >= 0 && this.#size > 0) { this.#open(); continue; }
      // A packet alone is larger than the limit: cut between its lines.
      const li = s.lastIndexOf(0x0a, pos + room - 1);
      if (li >= pos) { this.#put(s, pos, li + 1); pos = li + 1; this.#open(); continue; }
      // A single line is larger than the limit: it gets a file of its own.
      const end = s.indexOf(0x0a, pos);
      const stop = end < 0 ? n : end + 1;
      this.oversizeLines++;
      this.#put(s, pos, stop);
      pos = stop;
      if (pos < n) this.#open();
    }
  }

  /** Close the current file. */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
