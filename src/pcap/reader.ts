// Stream adapter around CaptureParser: files, stdin ('-'), gzip (sniffed by magic), globs.
// Async iteration pulls chunks on demand, so back-pressure reaches the file and memory stays constant.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import fg from 'fast-glob';
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
        try {
          await stat(this.#input);
        } catch (e) {
          throw new FlowcarveError(ERR.INPUT, `cannot open input: ${(e as Error).message}`, { file: this.source, cause: e });
        }
        raw = createReadStream(this.#input, { highWaterMark: hwm });
      }
    } else raw = this.#input;
    const p = this.parser;
    let stream: AsyncIterable<Buffer> = raw;
    const it = raw[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) {
      p.end();
      if (p.error) throw p.error;
      return;
    }
    const head: Buffer = first.value;
    if (head.length >= 2 && head[0] === GZIP_MAGIC0 && head[1] === GZIP_MAGIC1) {
      this.gzip = true;
      const gunzip = createGunzip({ chunkSize: hwm });
      (async () => {
        try {
          if (!gunzip.write(head)) await onceDrain(gunzip);
          for (let r = await it.next(); !r.done; r = await it.next()) {
            if (!gunzip.write(r.value)) await onceDrain(gunzip);
          }
          gunzip.end();
        } catch (e) {
          gunzip.destroy(e as Error);
        }
      })();
      stream = gunzip;
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

function onceDrain(s: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => s.once('drain', resolve));
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
