// `flowcarve info INPUT...`: a capinfos-like summary of each capture (text, or JSON Lines with --json).

import { FlowcarveError, UsageError } from '../../errors.js';
import { expandInputs } from '../../pcap/reader.js';
import { captureInfo, formatInfo } from '../../pcap/info.js';

export const summary = 'summarise captures: format, link types, packets, bytes, first/last time (like capinfos)';

export const usage = `usage: flowcarve info [--json] INPUT...

Summarise each capture: format (pcap/pcapng, gzip), byte order, time resolution, link types (as tcpdump names
them), interfaces, packets, captured and on-wire bytes, first/last packet time, duration, average packet size.

  --json   one JSON object per input, one per line
INPUT is a pcap or pcapng file (gzip allowed), a glob, or '-' for stdin.
A file that turns out corrupt or cut short is summarised up to the fault; the fault (file, byte offset, code)
goes to stderr and the exit code is 1.
`;

/** Run the command; returns the exit code (0 ok, 1 some input had a fault, 2 usage). */
export async function run(argv: string[]): Promise<number> {
  let json = false;
  const inputs: string[] = [];
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a.startsWith('--')) throw new UsageError(`info: unknown option '${a}'`);
    else inputs.push(a);
  }
  if (inputs.length === 0) {
    process.stderr.write(usage);
    return 2;
  }
  let rc = 0;
  let first = true;
  for (const path of await expandInputs(inputs)) {
    const info = await captureInfo(path);
    if (json) process.stdout.write(JSON.stringify(info) + '\n');
    else {
      process.stdout.write((first ? '' : '\n') + formatInfo(info));
      first = false;
    }
    if (info.error) {
      const e = new FlowcarveError(info.error.code, info.error.message, { file: info.file, ...(info.error.offset !== null ? { offset: info.error.offset } : {}) });
      process.stderr.write(`flowcarve: ${e.describe()}\n`);
      rc = 1;
    }
  }
  return rc;
}
