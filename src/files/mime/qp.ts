// Quoted-printable decoding per line (RFC 2045 §6.7) with Suricata's conventions, so attachment hashes agree:
// `=XX` escapes, `=` at the end of a line is a soft break, a line's own CRLF is kept (the CRLF of an empty line
// is held back and dropped if a boundary follows), and an escape split across line fragments is completed.

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  // Lower case is not RFC 2045 canonical but mailers emit it; Suricata drops such escapes, we decode them.
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Incremental quoted-printable decoder fed line by line (`eol` empty for a fragment of a longer line). */
export class QpDecoder {
  /** Held bytes: an empty line's EOL, or a split escape ('=' or '=X'). */
  #held = new Uint8Array(2);
  #heldLen = 0;
  /** Escapes that were not `=XX` with hex digits (skipped), counted. */
  invalid = 0;

  /** Decode one line's content plus its end-of-line bytes; returns a fresh array. */
  line(content: Uint8Array, eol: Uint8Array): Uint8Array {
    const out = new Uint8Array(content.length + eol.length + 2);
    let o = 0;
    let c = 0;
    const n = content.length;
    if (this.#heldLen > 0 && this.#held[0] === 0x3d) {
      // Complete an escape started at the end of the previous fragment.
      let ok = false;
      const need = 3 - this.#heldLen;
      if (n >= need) {
        const h1 = this.#heldLen === 1 ? content[0]! : this.#held[1]!;
        const h2 = this.#heldLen === 1 ? content[1]! : content[0]!;
        const a = hex(h1), b = hex(h2);
        if (a >= 0 && b >= 0) { out[o++] = (a << 4) | b; ok = true; }
      }
      if (!ok) this.invalid++;
      c = need;
      this.#heldLen = 0;
    } else if (this.#heldLen > 0) {
      for (let k = 0; k < this.#heldLen; k++) out[o++] = this.#held[k]!;
      this.#heldLen = 0;
    }
    let soft = false;
    while (c < n) {
      const ch = content[c]!;
      if (ch !== 0x3d) { out[o++] = ch; c++; continue; }
      if (c === n - 1 && eol.length > 0) { soft = true; break; }
      if (c + 2 >= n) {
        if (eol.length > 0) this.invalid++;
        else {
          // Fragment ends inside an escape: keep it for the next fragment.
          this.#held[0] = 0x3d;
          this.#heldLen = n - c;
          if (this.#heldLen === 2) this.#held[1] = content[c + 1]!;
        }
        break;
      }
      const a = hex(content[c + 1]!), b = hex(content[c + 2]!);
      if (a >= 0 && b >= 0) out[o++] = (a << 4) | b;
      else this.invalid++;
      c += 3;
    }
    if (n === 0) {
      if (eol.length > 0) { this.#held.set(eol.subarray(0, 2)); this.#heldLen = Math.min(2, eol.length); }
    } else if (!soft) {
      for (let k = 0; k < eol.length; k++) out[o++] = eol[k]!;
    }
    return out.subarray(0, o);
  }

  /** Forget held bytes (at a part boundary). */
  reset(): void { this.#heldLen = 0; }
}

/** One-shot decode of a quoted-printable text (lines split on LF, CRLF kept as in the input). */
export function decodeQuotedPrintable(input: Uint8Array): Uint8Array {
  const d = new QpDecoder();
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= input.length; i++) {
    if (i < input.length && input[i] !== 0x0a) continue;
    const end = i < input.length ? i + 1 : i;
    let ce = i < input.length ? i : i;
    if (i < input.length && ce > start && input[ce - 1] === 0x0d) ce--;
    parts.push(d.line(input.subarray(start, ce), input.subarray(ce, end)));
    start = end;
  }
  return Buffer.concat(parts);
}
