// Streaming base64 decoder with RFC 2045 (MIME) leniency, as Suricata decodes mail attachments: characters
// outside the alphabet (line breaks, spaces, junk) are skipped, quads may carry '=' anywhere after their first
// two characters and decoding continues after padding (so "NA=" "=Mg" "==" decodes to "42").

const INVALID = 0xff;
const PAD = 0xfe;
/** Byte → 6-bit value, PAD for '=', INVALID otherwise. */
const MAP = (() => {
  const m = new Uint8Array(256).fill(INVALID);
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) m[abc.charCodeAt(i)] = i;
  m[0x3d] = PAD;
  return m;
})();

/** Incremental RFC 2045 base64 decoder: feed any slices, `flush()` pads a partial quad at a part's end. */
export class Base64Decoder {
  #q = new Uint8Array(4);
  #n = 0;
  /** Quads that could not be decoded ('=' in the first two places), dropped and counted. */
  invalidQuads = 0;

  /** Decode `input`; returns the bytes completed by it (a fresh array, possibly empty). */
  decode(input: Uint8Array): Uint8Array {
    const out = new Uint8Array(Base64Decoder.maxOut(input.length));
    return out.subarray(0, this.decodeInto(input, out, 0));
  }

  /** Most bytes `decodeInto` can write for `n` input bytes. */
  static maxOut(n: number): number { return Math.floor(((n + 3) * 3) / 4) + 3; }

  /** Decode `input` into `out` from offset `o` (room for maxOut(input.length) needed); returns the new offset. */
  decodeInto(input: Uint8Array, out: Uint8Array, o: number): number {
    const q = this.#q;
    let n = this.#n;
    for (let i = 0; i < input.length; i++) {
      const v = MAP[input[i]!]!;
      if (v === INVALID) continue;
      q[n++] = v;
      if (n === 4) {
        if (v !== PAD && q[2] !== PAD && q[0] !== PAD && q[1] !== PAD) {
          // Fast path: a full quad without padding.
          out[o++] = (q[0]! << 2) | (q[1]! >> 4);
          out[o++] = ((q[1]! << 4) | (q[2]! >> 2)) & 0xff;
          out[o++] = ((q[2]! << 6) | v) & 0xff;
        } else o = this.#emit(out, o);
        n = 0;
      }
    }
    this.#n = n;
    return o;
  }

  /** Bytes left in a partial quad, padded with '=' as Suricata does at a MIME boundary; resets the decoder. */
  flush(): Uint8Array {
    if (this.#n === 0) return new Uint8Array(0);
    while (this.#n < 4) this.#q[this.#n++] = PAD;
    const out = new Uint8Array(3);
    const o = this.#emit(out, 0);
    this.#n = 0;
    return out.subarray(0, o);
  }

  /** Characters waiting in the current quad (0..3). */
  get pending(): number { return this.#n; }

  #emit(out: Uint8Array, o: number): number {
    const q = this.#q;
    if (q[0] === PAD || q[1] === PAD) { this.invalidQuads++; return o; }
    out[o++] = (q[0]! << 2) | (q[1]! >> 4);
    if (q[2] === PAD) return o;
    out[o++] = ((q[1]! << 4) | (q[2]! >> 2)) & 0xff;
    if (q[3] === PAD) return o;
    out[o++] = ((q[2]! << 6) | q[3]!) & 0xff;
    return o;
  }
}

/** One-shot lenient decode of a whole base64 text. */
export function decodeBase64(input: Uint8Array): Uint8Array {
  const d = new Base64Decoder();
  const a = d.decode(input);
  const b = d.flush();
  if (!b.length) return a;
  const r = new Uint8Array(a.length + b.length);
  r.set(a); r.set(b, a.length);
  return r;
}
