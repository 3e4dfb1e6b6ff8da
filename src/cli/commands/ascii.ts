// `flowcarve ascii [--out FILE] [--split-size SIZE] INPUT...`: print captures exactly as `tcpdump -tt -n -r` does.

import { UsageError, FlowcarveError } from '../../errors.js';
import { expandInputs, CaptureReader } from '../../pcap/reader.js';
import { AsciiPrinter } from '../../ascii/printer.js';
import { SplitWriter } from '../../ascii/split.js';
import { writeChunk } from '../../ascii/capture.js';
import { parseSize } from '../command.js';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export const summary = 'print packets exactly as `tcpdump -tt -n -r FILE` does (tcpdump 4.99 text)';

export const usage = `usage: flowcarve ascii [--out FILE] [--split-size SIZE] INPUT...

Print every packet as one tcpdump line (byte-identical to \`tcpdump -tt -n -r INPUT\`, tcpdump 4.99.3), to stdout
or to --out FILE. Several inputs print one after the other; each starts with fresh TCP sequence state, as separate
tcpdump runs would.

  --out FILE         write to FILE instead of stdout
  --split-size SIZE  write numbered files FILE.000, FILE.001, … (out-000.txt, out-001.txt, … in the current
                     directory without --out), each strictly smaller than SIZE (e.g. 15MB = 15,000,000 bytes,
                     100MiB); files are cut between packets, never inside a line
INPUT is a pcap or pcapng file (gzip allowed), a glob, or '-' for stdin.
A corrupt or cut capture prints every packet before the fault; the fault (file, byte offset, code) goes to
stderr, the remaining inputs are still printed, and the exit code is 1.
`;

/** Run the command; returns the exit code (0 ok, 1 an input had a fault, 2 usage). */
export async function run(argv: string[]): Promise<number> {
  let out: string | undefined;
  let split: number | undefined;
  const inputs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`ascii: ${a} needs a value`);
      return v;
    };
    if (a === '--out' || a.startsWith('--out=')) out = val();
    else if (a === '--split-size' || a.startsWith('--split-size=')) {
      const s = val();
      try { split = parseSize(s); } catch (e) { throw new UsageError(`ascii: ${(e as Error).message}`); }
      if (split < 2) throw new UsageError('ascii: --split-size must be at least 2 bytes');
    } else if (a.startsWith('--') && a !== '--') throw new UsageError(`ascii: unknown option '${a}'`);
    else inputs.push(a);
  }
  if (inputs.length === 0) {
    process.stderr.write(usage);
    return 2;
  }
  const paths = await expandInputs(inputs);

  let emit: (s: Uint8Array) => Promise<void>;
  let finish: () => Promise<void>;
  let splitter: SplitWriter | undefined;
  if (split !== undefined) {
    const base = out;
    const sw = new SplitWriter((i) => (base !== undefined ? `${base}.${String(i).padStart(3, '0')}` : `out-${String(i).padStart(3, '0')}.txt`), split);
    splitter = sw;
    emit = async (s) => sw.write(s);
    finish = async () => sw.close();
  } else {
    const stream: Writable = out !== undefined ? createWriteStream(out) : process.stdout;
    emit = (s) => writeChunk(stream, s);
    finish = () => new Promise<void>((resolve, reject) => {
      if (stream === process.stdout) { resolve(); return; }
      stream.once('error', reject);
      stream.end(resolve);
    });
  }

  let rc = 0;
  for (const path of paths) {
    const printer = new AsciiPrinter();
    try {
      for await (const batch of new CaptureReader(path).batches()) await emit(printer.printBatchBytes(batch));
    } catch (e) {
      if (!(e instanceof FlowcarveError)) throw e;
      process.stderr.write(`flowcarve: ${e.describe()}\n`);
      rc = 1;
    }
  }
  await finish();
  if (splitter && splitter.oversizeLines > 0) {
    process.stderr.write(`flowcarve: ascii: ${splitter.oversizeLines} line(s) longer than --split-size were written to files of their own\n`);
  }
  return rc;
}
