// `flowcarve ioc`: match captures or tcpdump text against indicator lists (IPv4/IPv6 addresses and CIDRs) and
// report one record per (indicator, local, remote, direction) as NDJSON, CSV, a table, and optionally HTML.

import { writeFile } from 'node:fs/promises';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { FlowcarveError, UsageError } from '../../errors.js';
import { expandInputs } from '../../pcap/reader.js';
import { IndicatorList, IndicatorSet, type ListFormat } from '../../ioc/indicators.js';
import { IocMatcher } from '../../ioc/matcher.js';
import { matchInput, sniffInput } from '../../ioc/input.js';
import { combineResults, matchFlows, type FlowMatchResult } from '../../ioc/flows.js';
import type { FlowListSpec } from '../../ioc/flow-sink.js';
import { toCsv, toHtml, toNdjson, toTable } from '../../ioc/report.js';
import { progress, progressDone } from '../command.js';

/** Records rendered per output write. */
const OUTPUT_SLICE = 5000;

export const summary = 'match captures or tcpdump text against IP/CIDR indicator lists';
export const usage = `usage: flowcarve ioc --list FILE [--list FILE...] [options] INPUT...

Inputs are captures (pcap, pcapng, gzip; globs) or tcpdump -n text (-tt, -tttt or time-of-day; sniffed by
magic), or '-' for text on stdin. One record per (indicator, local, remote, direction).

Lists (one address or CIDR per line with '#' comments and an optional ',label' / tab column; CSV with a header;
or a JSON array of strings / {ip|cidr, label} objects):
  -l, --list FILE[,FILE]   indicator list (repeatable); hits are tagged with the list's file name (its path
                           when two lists share a name)
  --list-format F          auto (default), plain, csv, json
  --column NAME            CSV column holding the address (default: ip, address, cidr, …)
  --label-column NAME      CSV column holding the label

Direction (private → public is outbound, all else inbound):
  --home-net CIDR,...      extra home networks (added to RFC 1918, loopback, link-local, 100.64/10, fc00::/7)
  --no-private             do not treat the private ranges as home (only --home-net)

Output:
  -f, --format F           ndjson (default), csv, table
  -o, --output FILE        write records there instead of stdout
  --html FILE              also write a self-contained HTML report (timeline + top indicators)
  --text                   treat every input as tcpdump text (no sniffing)
  --tz-offset MINUTES      minutes east of UTC of the clock that printed -tttt text (default 0)
  --max-records N          cap on records kept (default 1000000)

Captures:
  --per flow|packet        flow (default): captures go through the flow pipeline and each flow is looked up
                           once; its direction (client home, server not = outbound), times, packets and bytes
                           come from the flow. packet: every packet is matched on its own (direction per
                           packet, so a conversation gives an outbound and an inbound record). Text inputs
                           and '-' are always matched line by line / packet by packet.
  -w, --workers N          flow mode: shard workers (default 1 = in this thread); output is identical for any N
`;

/** Run the command; exit 0 when every input was read cleanly, 1 when some failed (records are still written). */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      list: { type: 'string', short: 'l', multiple: true },
      'list-format': { type: 'string' },
      column: { type: 'string' },
      'label-column': { type: 'string' },
      'home-net': { type: 'string', multiple: true },
      'no-private': { type: 'boolean' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      html: { type: 'string' },
      text: { type: 'boolean' },
      'tz-offset': { type: 'string' },
      'max-records': { type: 'string' },
      per: { type: 'string' },
      workers: { type: 'string', short: 'w' },
    },
  });
  const listPaths = (values.list ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  if (!listPaths.length) throw new UsageError('ioc needs at least one --list FILE');
  if (!positionals.length) throw new UsageError('ioc needs at least one INPUT (capture or tcpdump text, or - for stdin)');
  const format = values.format ?? 'ndjson';
  if (!['ndjson', 'csv', 'table'].includes(format)) throw new UsageError(`unknown --format '${format}' (ndjson, csv, table)`);
  const listFormat = (values['list-format'] ?? 'auto') as ListFormat;
  if (!['auto', 'plain', 'csv', 'json'].includes(listFormat)) throw new UsageError(`unknown --list-format '${listFormat}'`);
  const tz = values['tz-offset'] !== undefined ? Number(values['tz-offset']) : 0;
  if (!Number.isFinite(tz)) throw new UsageError(`bad --tz-offset '${values['tz-offset']}'`);
  const maxRecords = values['max-records'] !== undefined ? Number(values['max-records']) : undefined;
  if (maxRecords !== undefined && !(Number.isInteger(maxRecords) && maxRecords > 0)) throw new UsageError(`bad --max-records '${values['max-records']}'`);

  const per = values.per ?? 'flow';
  if (per !== 'flow' && per !== 'packet') throw new UsageError(`unknown --per '${per}' (flow, packet)`);
  const workers = values.workers !== undefined ? Number(values.workers) : 1;
  if (!(Number.isInteger(workers) && workers >= 0 && workers <= 64)) throw new UsageError(`bad --workers '${values.workers}' (0..64)`);

  const lists: IndicatorList[] = [];
  const specs: FlowListSpec[] = [];
  // Lists are named after their file; two files with the same base name keep their paths as names.
  const base = listPaths.map((p) => basename(p));
  for (const [k, p] of listPaths.entries()) {
    const name = base.filter((b) => b === base[k]).length > 1 ? p : base[k]!;
    const l = await IndicatorList.load(p, { name, format: listFormat, column: values.column, labelColumn: values['label-column'] });
    for (const pr of l.problems) process.stderr.write(`flowcarve ioc: ${pr.file}:${pr.line}: ${pr.message} (skipped)\n`);
    if (l.problemCount > l.problems.length) process.stderr.write(`flowcarve ioc: ${p}: ${l.problemCount - l.problems.length} more bad lines\n`);
    if (l.size === 0) process.stderr.write(`flowcarve ioc: ${p}: no usable indicators\n`);
    lists.push(l);
    specs.push({ path: p, name, format: listFormat, column: values.column, labelColumn: values['label-column'] });
  }
  let set: IndicatorSet;
  try {
    set = new IndicatorSet(lists);
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (the same list given twice?)`);
  }
  const homeNet = (values['home-net'] ?? []).flatMap((s) => s.split(','));
  const matcher = new IocMatcher(set, { homeNet, includePrivate: !values['no-private'], tzOffsetMinutes: tz, maxRecords });

  const inputs = await expandInputs(positionals);
  let failed = 0;
  // Flow mode: captures (sniffed, not stdin) go through the flow pipeline together; the rest as before.
  const flowInputs: string[] = [];
  const lineInputs: string[] = [];
  for (const input of inputs) {
    if (per === 'flow' && !values.text && input !== '-' && await sniffInput(input).catch(() => 'capture') === 'capture') flowInputs.push(input);
    else lineInputs.push(input);
  }
  let flowRes: FlowMatchResult | null = null;
  if (flowInputs.length) {
    progress(`ioc: ${flowInputs.length} capture(s) per flow`);
    flowRes = await matchFlows(flowInputs, specs, {
      workers, homeNet, includePrivate: !values['no-private'], maxRecords,
      run: { onInputError: (e) => { failed++; process.stderr.write(`flowcarve ioc: ${e.describe()} (flows before this point are kept)\n`); } },
    });
  }
  for (const input of lineInputs) {
    progress(`ioc: ${input}`);
    const before = { ip: matcher.stats.ipLines + matcher.stats.ipHeaderLines, lines: matcher.stats.lines };
    try {
      const kind = await matchInput(input, matcher, values.text ? 'text' : undefined);
      const lines = matcher.stats.lines - before.lines;
      if (kind === 'text' && lines > 0 && matcher.stats.ipLines + matcher.stats.ipHeaderLines === before.ip) {
        process.stderr.write(`flowcarve ioc: ${input}: none of its ${lines} lines is a tcpdump IP/IP6 line (not tcpdump -n text?)\n`);
      }
    } catch (e) {
      if (!(e instanceof FlowcarveError)) throw e;
      failed++;
      process.stderr.write(`flowcarve ioc: ${e.describe()} (hits before this point are kept)\n`);
    }
  }
  progressDone();

  const { records, timelines, stats } = flowRes
    ? combineResults(flowRes, lineInputs.length ? { records: matcher.results(), timelines: matcher.timelines(), stats: matcher.stats } : null, maxRecords)
    : { records: matcher.results(), timelines: matcher.timelines(), stats: matcher.stats };
  const dest: Writable = values.output ? createWriteStream(values.output) : process.stdout;
  if (format === 'table') await write(dest, toTable(records, stats));
  else {
    // In slices, so a million records never become one string.
    for (let i = 0; i < records.length || i === 0; i += OUTPUT_SLICE) {
      const slice = records.slice(i, i + OUTPUT_SLICE);
      await write(dest, format === 'csv' ? toCsv(slice, i === 0) : toNdjson(slice));
    }
  }
  if (values.output) await new Promise<void>((resolve, reject) => (dest as WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())));
  if (values.html) {
    const html = toHtml(records, timelines, {
      inputs, stats, generated: new Date().toISOString(),
      lists: set.lists.map((l) => ({ name: l.name, entries: l.size, problems: l.problemCount })),
    });
    await writeFile(values.html, html);
  }
  const st = stats;
  if (st.longLines) process.stderr.write(`flowcarve ioc: ${st.longLines} text lines longer than 64 KiB skipped\n`);
  if (st.badIpLines) process.stderr.write(`flowcarve ioc: ${st.badIpLines} IP lines not understood (skipped)\n`);
  if (st.recordsDropped) process.stderr.write(`flowcarve ioc: ${st.recordsDropped} hits dropped at the record cap (--max-records)\n`);
  return failed ? 1 : 0;
}

/** Write and wait until the destination accepted it (back-pressure). */
function write(dest: Writable, s: string): Promise<void> {
  return new Promise((resolve, reject) => {
    dest.write(s, (e) => (e ? reject(e) : resolve()));
  });
}
