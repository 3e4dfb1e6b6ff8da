// `flowcarve files --out DIR INPUT...`: carve files from HTTP (and every registered protocol) into a sha256
// filestore and print one EVE fileinfo line per file; identical output for any worker count.

import { createWriteStream } from 'node:fs';
import { FlowcarveError, UsageError } from '../../errors.js';
import { expandInputs } from '../../pcap/reader.js';
import { parseSize } from '../command.js';
import { parseFlowArgs } from './flows.js';
import { runFlows } from '../../engine/run.js';
import { FILE_SINK_MODULE, mergeFileResults, type FileSinkOptions, type FileSinkResult } from '../../files/sink.js';
import type { HashName } from '../../files/tracker.js';

export const summary = 'carve files (HTTP, …) into a sha256 filestore; EVE fileinfo lines';

export const usage = `usage: flowcarve files [options] INPUT...

Reassemble TCP streams, detect protocols by content, extract every file they carry into a Suricata filestore v2
layout (DIR/<first two hex>/<sha256>, stored once) and print one EVE fileinfo JSON line per file.

  --out DIR               filestore directory (omit with --no-store to hash only)
  --no-store              hash and report files without storing them
  --hash md5,sha1         digests besides sha256
  --max-file-size SIZE    files above SIZE are hashed but not stored (stored:false), e.g. 10MB
  --max-size SIZE         keep the store under SIZE, deleting least recently seen files first
  --write-fileinfo        write <sha256>.<secs>.<file_id>.json beside each stored file
  --eve-out FILE          write the fileinfo lines to FILE instead of stdout
  --memcap SIZE           buffered out-of-order bytes per worker (default 64MiB)
  --depth SIZE            reassembled bytes per direction (default unlimited)
  --protocols a,b         only these protocols (default all)
  --http-request-body-limit SIZE, --http-response-body-limit SIZE
                          body bytes of an HTTP request / response that go to its file (default no limit);
                          beyond, the file is TRUNCATED. Suricata's defaults are 100KiB each.
  --workers N             shard workers (default 1); output (events, filestore) is identical for any N
  --stats                 counters as JSON on stderr (summed over workers: a new file two workers finish
                          at the same moment is counted stored by both, one duplicate fewer than with 1)
`;

/** Run the command; returns the exit code (0 ok, 1 an input had a fault, 2 usage). */
export async function run(argv: string[]): Promise<number> {
  const own: string[] = [];
  const pass: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (['--out', '--hash', '--max-file-size', '--max-size', '--eve-out', '--memcap', '--depth', '--protocols', '--http-request-body-limit', '--http-response-body-limit'].includes(a)) {
      if (argv[k + 1] === undefined) throw new UsageError(`files: ${a} needs a value`);
      own.push(a, argv[++k]!);
    } else if (a === '--no-store' || a === '--write-fileinfo') own.push(a);
    else pass.push(a);
  }
  const fa = parseFlowArgs('files', pass);
  if (fa.rest.length === 0) { process.stderr.write(usage); return 2; }
  const o: FileSinkOptions = {};
  let eveOut: string | undefined, maxSize = 0, writeMeta = false, noStore = false;
  const size = (name: string, v: string): number => {
    try { return parseSize(v); } catch (e) { throw new UsageError(`files: ${name}: ${(e as Error).message}`); }
  };
  for (let k = 0; k < own.length; k++) {
    const a = own[k]!;
    if (a === '--out') o.out = own[++k]!;
    else if (a === '--no-store') noStore = true;
    else if (a === '--write-fileinfo') writeMeta = true;
    else if (a === '--hash') {
      const hs = own[++k]!.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s && s !== 'sha256');
      for (const h of hs) if (h !== 'md5' && h !== 'sha1') throw new UsageError(`files: --hash accepts md5, sha1 (got '${h}')`);
      o.hashes = hs as HashName[];
    } else if (a === '--max-file-size') o.maxFileSize = size(a, own[++k]!);
    else if (a === '--max-size') maxSize = size(a, own[++k]!);
    else if (a === '--eve-out') eveOut = own[++k]!;
    else if (a === '--memcap') o.memcap = size(a, own[++k]!);
    else if (a === '--depth') o.depth = size(a, own[++k]!);
    else if (a === '--protocols') o.protocols = own[++k]!.split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--http-request-body-limit') o.httpRequestBodyLimit = size(a, own[++k]!);
    else if (a === '--http-response-body-limit') o.httpResponseBodyLimit = size(a, own[++k]!);
  }
  if (!o.out && !noStore) throw new UsageError('files: --out DIR is required (or --no-store)');
  if (noStore) delete o.out;
  const inputs = await expandInputs(fa.rest);
  let rc = 0;
  const r = await runFlows(inputs, {
    workers: fa.workers,
    table: fa.table,
    sinks: [{ module: FILE_SINK_MODULE, options: o }],
    onInputError: (e: FlowcarveError) => { process.stderr.write(`flowcarve: ${e.describe()}\n`); rc = 1; },
  });
  const m = await mergeFileResults(r.sinks[0] as FileSinkResult[], { out: o.out, writeMeta, maxSize });
  const lines = m.lines();
  const text = lines.length ? lines.join('\n') + '\n' : '';
  if (eveOut) {
    const ws = createWriteStream(eveOut);
    await new Promise<void>((res, rej) => { ws.on('error', rej); ws.end(text, () => res()); });
  } else if (text) {
    await new Promise<void>((res) => { if (process.stdout.write(text)) res(); else process.stdout.once('drain', () => res()); });
  }
  if (fa.stats) process.stderr.write(JSON.stringify({ ...m.counters, flows: r.counters, workers: m.workers }) + '\n');
  else process.stderr.write(`files: ${m.counters.files} files, ${m.counters.stored} stored, ${m.counters.dedup} duplicates, ${m.counters.tooLarge} over max-file-size, ${m.counters.pruned} pruned; ${r.counters.table.flows} flows, ${r.counters.packets} packets; workers ${r.workers}\n`);
  return rc;
}
