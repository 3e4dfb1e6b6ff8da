// Stream adapter around CaptureParser: files, stdin ('-'), gzip (sniffed by magic), globs.
// Async iteration pulls chunks on demand, so back-pressure reaches the file and memory stays constant.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip, constants as zconst } from 'node:zlib';
import type { Readable } from 'node:stream';
import { CaptureFormatError, ERR, FlowcarveError } from '../errors.js';
import type { PacketBatch } from './batch.js';
import { CaptureParser } from './parser.js';
import { GZIP_MAGIC0, GZIP_MAGIC1 } from './format.js';

/** Default read size: 1 MiB chunks keep the per-chunk overhead negligible. */
export const DEFAULT_CHUNK = 1 << 20;

export interface ReadOptions {
  /** Bytes per read (default 1 MiB). */
  chunkSize?: number;
}

/** Reads one capture input and yields PacketBatches; throws the parser's error after the last good batch. */
export class CaptureReader {
  readonly source: string;
  readonly parser: CaptureParser;
  gzip = false;
  #input: string | Readable;
  #opts: ReadOptions;

  /** `input` is a path, '-' for stdin, or a readable byte stream (then `name` labels errors). */
  constructor(input: string | Readable, name?: string, opts: ReadOptions = {}) {
    this.#input = input;
    this.source = name ?? (typeof input === 'string' ? input : '<stream>');
    this.parser = new CaptureParser(this.source);
    this.#opts = opts;
  }

  /** Yield batches in input order; after the last one, throw the first format error if any. */
  async *batches(): AsyncGenerator<PacketBatch> {
    const hwm = this.#opts.chunkSize ?? DEFAULT_CHUNK;
    let raw: Readable;
    if (typeof this.#input === 'string') {
      if (this.#input === '-') raw = process.stdin;
      else {
        let isDir = false;
        try {
          isDir = (await stat(this.#input)).isDirectory();
        } catch (e) {
          throw new FlowcarveError(ERR.INPUT, `cannot open input: ${(e as Error).message}`, { file: this.source, cause: e });
        }
        if (isDir) throw new FlowcarveError(ERR.INPUT, 'cannot read input: it is a directory', { file: this.source });
        raw = createReadStream(this.#input, { highWaterMark: hwm });
      }
    } else raw = this.#input;
    const p = this.parser;
    let stream: AsyncIterable<Buffer> = raw;
    const it = raw[Symbol.asyncIterator]();
    let first: IteratorResult<Buffer>;
    try {
      first = await it.next();
    } catch (e) {
      // Opening or the first read failed (permissions, I/O error): nothing was read, so it is an input error.
      throw new FlowcarveError(ERR.INPUT, `cannot read input: ${(e as Error).message}`, { file: this.source, cause: e });
    }
    if (first.done) {
      p.end();
      if (p.error) throw p.error;
      return;
    }
    // Sniffing gzip needs two bytes; tiny reads (or a stream that trickles) may deliver fewer at first.
    let head: Buffer = first.value as Buffer;
    while (head.length < 2) {
      const r = await it.next();
      if (r.done) break;
      head = Buffer.concat([head, r.value as Buffer]);
    }
    if (head.length >= 2 && head[0] === GZIP_MAGIC0 && head[1] === GZIP_MAGIC1) {
      this.gzip = true;
      stream = inflate(head, it, hwm);
    } else {
      stream = (async function* () {
        yield head;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
      })();
    }
    try {
      for await (const chunk of stream) {
        const out = p.push(chunk);
        if (p.format && this.gzip) p.format.gzip = true;
        for (const b of out) yield b;
        if (p.error) break;
      }
    } catch (e) {
      if (e instanceof FlowcarveError) throw e;
      // A gzip stream cut short still gives every packet before the cut.
      p.end();
      const err = p.error ?? new CaptureFormatError(ERR.TRUNCATED_RECORD, `input stream failed: ${(e as Error).message}`,
        { file: this.source, offset: p.consumed, cause: e });
      if (err === p.error) (err as Error).message += ` (decompression: ${(e as Error).message})`;
      throw err;
    } finally {
      if (typeof this.#input === 'string' && this.#input !== '-') raw.destroy();
    }
    if (!p.error) p.end();
    if (p.error) throw p.error;
  }
}

/** Inflated bytes allowed to wait for the parser before compressed input stops being fed (per input). */
const MAX_INFLATED_QUEUE = 4 << 20;
/**
 * Compressed bytes handed to zlib at a time. zlib inflates a whole write before we can pause it, so this bounds
 * the burst a hostile stream can cause: deflate expands at most ~1032×, i.e. ~66 MB per 64 KiB slice.
 */
const GZIP_FEED_SLICE = 64 << 10;

/**
 * Inflate a gzip stream whose first bytes are `first` and the rest come from `it`. Output is taken in flowing
 * mode into our own queue, so everything zlib produced before an error (a cut file) reaches the parser before
 * the error is thrown; memory stays bounded because input is fed only while the queue is under its cap.
 */
async function* inflate(first: Buffer, it: AsyncIterator<Buffer>, hwm: number): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: Math.max(hwm, 64) }); // zlib's smallest output chunk is 64 bytes
  const q: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failed: Error | undefined;
  let wakeReader: (() => void) | undefined;
  let wakeFeeder: (() => void) | undefined;
  const poke = (w: (() => void) | undefined) => w?.();
  gz.on('data', (c: Buffer) => { q.push(c); queued += c.length; const w = wakeReader; wakeReader = undefined; poke(w); });
  gz.on('end', () => { ended = true; const w = wakeReader; wakeReader = undefined; poke(w); });
  gz.on('error', (e) => { failed ??= e; ended = true; const w = wakeReader; wakeReader = undefined; poke(w); const f = wakeFeeder; wakeFeeder = undefined; poke(f); });
  const writable = () => new Promise<void>((resolve) => {
    const done = () => { gz.off('drain', done); gz.off('close', done); resolve(); };
    gz.on('drain', done); gz.on('close', done);
  });
  void (async () => {
    try {
      let r: IteratorResult<Buffer> = { done: false, value: first };
      for (; !r.done && !ended; r = await it.next()) {
        const c = r.value;
        for (let o = 0; o < c.length; o += GZIP_FEED_SLICE) {
          while (queued > MAX_INFLATED_QUEUE && !ended) await new Promise<void>((resolve) => { wakeFeeder = resolve; });
          if (ended) return;
          if (!gz.write(c.subarray(o, o + GZIP_FEED_SLICE))) await writable();
        }
      }
      // Sync-flush first: a Z_FINISH on a cut stream fails and zlib's output from that call would be dropped.
      if (!ended) gz.flush(zconst.Z_SYNC_FLUSH, () => { if (!ended) gz.end(); });
    } catch (e) {
      gz.destroy(e as Error);
    }
  })();
  try {
    for (;;) {
      if (q.length) {
        const c = q.shift()!;
        queued -= c.length;
        if (queued <= MAX_INFLATED_QUEUE) { const f = wakeFeeder; wakeFeeder = undefined; poke(f); }
        yield c;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => { wakeReader = resolve; });
    }
    if (failed) throw failed;
  } finally {
    ended = true;
    const f = wakeFeeder; wakeFeeder = undefined; poke(f);
    gz.destroy();
  }
}

/** Expand input arguments: '-' stays stdin, existing paths stay, anything else is a glob (fast-glob); sorted per pattern. */
export async function expandInputs(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    if (a === '-') { out.push(a); continue; }
    try {
      await stat(a);
      out.push(a);
      continue;
    } catch { /* not a plain path: try as a glob */ }
    // Loaded only for a pattern: fast-glob costs ~35 ms to import, a third of a command's start-up.
    const { default: fg } = await import('fast-glob');
    const hits = (await fg(a, { onlyFiles: true, dot: false })).sort();
    if (hits.length === 0) throw new FlowcarveError(ERR.INPUT, `no input matches '${a}'`, { file: a });
    out.push(...hits);
  }
  return out;
}

/** Iterate the batches of several inputs in order. */
export async function* readInputs(paths: readonly string[], opts: ReadOptions = {}): AsyncGenerator<PacketBatch> {
  for (const p of paths) yield* new CaptureReader(p, undefined, opts).batches();
}
