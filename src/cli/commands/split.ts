// `flowcarve split --out DIR [--workers N] [--name community-id|flow-id] INPUT...`: one classic pcap per flow.

import { FlowcarveError, UsageError } from '../../errors.js';
import { expandInputs } from '../../pcap/reader.js';
import { runFlows } from '../../engine/run.js';
import { splitSinkSpec, type SplitResult } from '../../engine/split-sink.js';
import { FLOW_OPTIONS, formatCounters, parseFlowArgs } from './flows.js';

export const summary = 'write one pcap per flow (named by Community ID or flow_id), in parallel workers';

export const usage = `usage: flowcarve split --out DIR [options] INPUT...

Write one classic pcap (ns timestamps, the packets' link type) per flow into DIR, packets in capture order with
their original timestamps, like SplitCap. Names: hex of the Community ID digest (default; later flows of the
same tuple append to the same file) or the flow_id in hex (--name flow-id). Packets in no flow (ARP, other
non-IP) go to other-<linktype>.pcap. Open files are bounded (LRU, files are reopened to append).

  --out DIR                output directory (created when missing)
  --name community-id|flow-id
  --max-open N             descriptors open at once per worker (default 128)
${FLOW_OPTIONS}
`;

/** Run the command; returns the exit code (0 ok, 1 an input had a fault, 2 usage). */
export async function run(argv: string[]): Promise<number> {
  let out: string | undefined;
  let name: 'community-id' | 'flow-id' = 'community-id';
  let maxOpen = 128;
  const rest: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--out') out = argv[++k];
    else if (a === '--name') {
      const v = argv[++k];
      if (v !== 'community-id' && v !== 'flow-id') throw new UsageError(`split: --name must be community-id or flow-id`);
      name = v;
    } else if (a === '--max-open') {
      maxOpen = Number(argv[++k]);
      if (!Number.isInteger(maxOpen) || maxOpen < 1) throw new UsageError('split: --max-open needs a number ≥ 1');
    } else rest.push(a);
  }
  const fa = parseFlowArgs('split', rest);
  if (!out || fa.rest.length === 0) { process.stderr.write(usage); return 2; }
  let rc = 0;
  const r = await runFlows(await expandInputs(fa.rest), {
    workers: fa.workers,
    table: fa.table,
    sinks: [splitSinkSpec({ out, name, maxOpen })],
    onInputError: (e: FlowcarveError) => { process.stderr.write(`flowcarve: ${e.describe()}\n`); rc = 1; },
  });
  const per = r.sinks[0] as SplitResult[];
  const tot = { files: 0, packets: 0, bytes: 0, reopens: 0 };
  for (const s of per) { tot.files += s.files; tot.packets += s.packets; tot.bytes += s.bytes; tot.reopens += s.reopens; }
  if (fa.stats) process.stderr.write(JSON.stringify({ split: tot }) + '\n');
  else process.stderr.write(`split: ${tot.files} files, ${tot.packets} packets, ${tot.bytes} bytes (${tot.reopens} reopens)\n`);
  process.stderr.write(formatCounters(r, fa.stats));
  return rc;
}
