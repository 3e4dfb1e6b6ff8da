// Thin I/O adapter over AsciiPrinter: read capture files in order and write tcpdump's text to a Writable,
// one write per batch, honouring back-pressure. A format error ends the input after every packet before it.

import type { Writable } from 'node:stream';
import { CaptureReader } from '../pcap/reader.js';
import { FlowcarveError } from '../errors.js';
import { AsciiPrinter, type AsciiPrinterOptions } from './printer.js';

export interface PrintCaptureResult {
  packets: number;
  /** The first input error (format fault or unreadable input); inputs after it are not read. */
  error?: FlowcarveError;
}

/** Write a chunk and wait for 'drain' when the stream asks for it. */
export async function writeChunk(out: Writable, s: string | Uint8Array): Promise<void> {
  if (s.length === 0) return;
  if (!out.write(s)) await new Promise<void>((resolve, reject) => {
    const done = (e?: Error) => { out.off('drain', ok); out.off('error', done); if (e) reject(e); else resolve(); };
    const ok = () => done();
    out.once('drain', ok);
    out.once('error', done);
  });
}

/**
 * Print every packet of `paths` (in order) to `out` as `tcpdump -tt -n -r` would (latin1 bytes; `sink` replaces
 * the default writer, e.g. to split the output). Each input gets a fresh printer
 * (tcpdump's TCP sequence state is per run). Stops at the first input error and returns it instead of throwing.
 */
export async function printCapture(paths: readonly string[], out: Writable, opts: AsciiPrinterOptions = {},
  sink: (bytes: Uint8Array) => Promise<void> = (t) => writeChunk(out, t)): Promise<PrintCaptureResult> {
  let packets = 0;
  for (const path of paths) {
    const printer = new AsciiPrinter(opts);
    try {
      for await (const batch of new CaptureReader(path).batches()) {
        await sink(printer.printBatchBytes(batch));
        packets += batch.count;
      }
    } catch (e) {
      if (e instanceof FlowcarveError) return { packets, error: e };
      throw e;
    }
  }
  return { packets };
}
