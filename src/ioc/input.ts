// Inputs for indicator matching: sniff a file as a capture (pcap / pcapng, gzip or not) or tcpdump text, and
// feed it to an IocMatcher. Text is split into lines from raw byte chunks, so memory stays bounded by the
// chunk size plus one line (lines longer than MAX_LINE are skipped and counted).

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip, gunzipSync, constants as zc } from 'node:zlib';
import { Readable } from 'node:stream';
import { ERR, FlowcarveError } from '../errors.js';
import { CaptureReader } from '../pcap/reader.js';
import { GZIP_MAGIC0, GZIP_MAGIC1, PCAP_MAGIC_MODIFIED, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAPNG_SHB } from '../pcap/format.js';
import type { IocMatcher } from './matcher.js';

/** Longest text line kept; longer lines are skipped whole (counted in TextStats.longLines). */
export const MAX_LINE = 64 * 1024;

export type InputKind = 'capture' | 'text';

/** True when the first 4 bytes are a pcap or pcapng magic (either byte order). */
export function isCaptureMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const be = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const le = ((b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]!) >>> 0;
  for (const m of [PCAP_MAGIC_USEC, PCAP_MAGIC_NSEC, PCAP_MAGIC_MODIFIED, PCAPNG_SHB]) if (be === m || le === m) return true;
  return false;
}

/** Capture or text, from the first bytes of a file (gzip is looked through). */
export async function sniffInput(path: string): Promise<InputKind> {
  let head: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new FlowcarveError(ERR.INPUT, `cannot open input: ${(e as Error).message}`, { file: path, cause: e });
  }
  return sniffBytes(head);
}

/** Counters of one text input. */
export interface TextStats {
  lines: number;
  /** Lines longer than MAX_LINE, skipped. */
  longLines: number;
  bytes: number;
}

/** Splits byte chunks into lines and hands each line's bytes to `onLine` (the view is valid during the call). */
export class LineSplitter {
  readonly stats: TextStats = { lines: 0, longLines: 0, bytes: 0 };
  readonly #onLine: (b: Uint8Array, s: number, e: number) => void;
  #carry: Buffer = Buffer.alloc(0);
  #skipping = false;

  constructor(onLine: (b: Uint8Array, s: number, e: number) => void) {
    this.#onLine = onLine;
  }

  /** Feed the next chunk. */
  push(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    let pos = 0;
    if (this.#carry.length || this.#skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        if (!this.#skipping) {
          if (this.#carry.length + chunk.length > MAX_LINE) { this.#skipping = true; this.#carry = Buffer.alloc(0); }
          else this.#carry = Buffer.concat([this.#carry, chunk]);
        }
        return;
      }
      if (this.#skipping) { this.#skipping = false; this.stats.longLines++; this.stats.lines++; }
      else if (this.#carry.length + nl > MAX_LINE) { this.stats.longLines++; this.stats.lines++; }
      else {
        const line = Buffer.concat([this.#carry, chunk.subarray(0, nl)]);
        this.stats.lines++;
        this.#onLine(line, 0, line.length);
      }
      this.#carry = Buffer.alloc(0);
      pos = nl + 1;
    }
    const cb = this.#onLine;
    let lines = 0;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) break;
      lines++;
      if (nl - pos > MAX_LINE) this.stats.longLines++;
      else cb(chunk, pos, nl);
      pos = nl + 1;
    }
    this.stats.lines += lines;
    if (pos < chunk.length) {
      if (chunk.length - pos > MAX_LINE) this.#skipping = true;
      else this.#carry = Buffer.from(chunk.subarray(pos));
    }
  }

  /** Flush the last line when the input does not end in a newline. */
  end(): void {
    if (this.#skipping) { this.stats.longLines++; this.stats.lines++; }
    else if (this.#carry.length) {
      const line = this.#carry;
      this.stats.lines++;
      this.#onLine(line, 0, line.length);
    }
    this.#carry = Buffer.alloc(0);
    this.#skipping = false;
  }
}

/** Match every line of a text stream (gzip sniffed by magic). */
export async function matchTextStream(stream: Readable, matcher: IocMatcher): Promise<TextStats> {
  const split = new LineSplitter((b, s, e) => { matcher.matchLineBytes(b, s, e); });
  let src: AsyncIterable<Buffer> = stream;
  const it = stream[Symbol.asyncIterator]();
  const r0 = await it.next();
  if (r0.done) return split.stats;
  const head = r0.value as Buffer;
  if (head.length >= 2 && head[0] === GZIP_MAGIC0 && head[1] === GZIP_MAGIC1) {
    const gz = createGunzip();
    (async () => {
      try {
        if (!gz.write(head)) await new Promise((r) => gz.once('drain', r));
        for (let r = await it.next(); !r.done; r = await it.next()) if (!gz.write(r.value)) await new Promise((res) => gz.once('drain', res));
        gz.end();
      } catch (e) { gz.destroy(e as Error); }
    })();
    src = gz;
  } else {
    src = (async function* () {
      yield head;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
    })();
  }
  try {
    for await (const chunk of src) split.push(chunk);
    split.end();
  } finally {
    matcher.stats.longLines += split.stats.longLines;
  }
  return split.stats;
}

/** Capture or text from the first bytes of an input (gzip looked through). */
export function sniffBytes(head: Uint8Array): InputKind {
  if (head.length >= 2 && head[0] === GZIP_MAGIC0 && head[1] === GZIP_MAGIC1) {
    try {
      head = gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch {
      return 'capture';
    }
  }
  return isCaptureMagic(head) ? 'capture' : 'text';
}

/** Match a readable stream of either kind (sniffed from its first chunk unless `kind` is given). */
export async function matchStream(stream: Readable, name: string, matcher: IocMatcher, kind?: InputKind): Promise<InputKind> {
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return kind ?? 'text';
  const head = first.value as Buffer;
  const k = kind ?? sniffBytes(head);
  const rest = Readable.from((async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  })(), { objectMode: false });
  if (k === 'capture') {
    for await (const batch of new CaptureReader(rest, name).batches()) matcher.matchBatch(batch);
  } else {
    matcher.resetTextClock();
    await matchTextStream(rest, matcher);
  }
  return k;
}

/** Match one input file (or '-' for stdin, sniffed too) of either kind; returns its kind. */
export async function matchInput(path: string, matcher: IocMatcher, kind?: InputKind): Promise<InputKind> {
  if (path === '-') return matchStream(process.stdin, '-', matcher, kind);
  const k = kind ?? await sniffInput(path);
  if (k === 'capture') {
    for await (const batch of new CaptureReader(path).batches()) matcher.matchBatch(batch);
  } else {
    matcher.resetTextClock();
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    try {
      await matchTextStream(stream, matcher);
    } catch (e) {
      if (e instanceof FlowcarveError) throw e;
      throw new FlowcarveError(ERR.INPUT, `cannot read text input: ${(e as Error).message}`, { file: path, cause: e });
    }
  }
  return k;
}
