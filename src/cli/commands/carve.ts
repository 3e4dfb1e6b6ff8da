// `flowcarve carve`: cut an alert's flow out of a conditional pcap store into `<sha256>.pcap` and print one
// JSON line per alert. Many alerts (`--alerts FILE`) are carved on a worker pool.

import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { loadAlerts } from '../../eve/reader.js';
import { carveMany } from '../../carve/pool.js';

export const summary = 'carve an alert\'s flow from a pcap store into its own pcap';
export const usage = `usage: flowcarve carve --store STORE (--alert ALERT.json | --alerts FILE) [--out DIR]

  --store DIR        store written by 'flowcarve store' (log.pcap.* segments + indexes)
  --alert FILE       one alert (a JSON object as downloaded from an alert view; EVE line or pretty JSON)
  --alerts FILE      many alerts: eve.json lines, a JSON array, or an API {"results": [...]} response
  --out DIR          where carved pcaps go (default: .); named <sha256>.pcap, one file per flow
  --threads N        carving workers for --alerts (default: min(cores, 4); 0 = this thread)

Prints one JSON line per alert: {"path","sha256","packets","bytes","first","last","segments",...};
"missing_segments": true when part of the flow was in segments deleted since. Exit 1 when an alert's flow
is not in the store (its line then carries "error").
`;

/** Run the command. */
export async function run(argv: string[]): Promise<number> {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' }, alert: { type: 'string' }, alerts: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' },
    },
  });
  if (!values.store) throw new UsageError('carve needs --store STORE');
  if (!values.alert === !values.alerts) throw new UsageError('carve needs exactly one of --alert FILE or --alerts FILE');
  const threads = values.threads !== undefined ? Number(values.threads) : undefined;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0)) throw new UsageError(`bad --threads '${values.threads}'`);
  const { alerts, problems } = await loadAlerts([values.alert ?? values.alerts!], { alertsOnly: false });
  for (const p of problems) process.stderr.write(`flowcarve carve: ${p.source}:${p.element ? 'element ' : ''}${p.line}: ${p.message} (skipped)\n`);
  if (alerts.length === 0) throw new UsageError(`no alert in ${values.alert ?? values.alerts}`);
  const list = values.alert ? alerts.slice(0, 1) : alerts;
  const results = await carveMany(list, { store: values.store, out: values.out ?? '.', threads });
  let failed = 0;
  for (const r of results) {
    if ('error' in r) failed++;
    process.stdout.write(JSON.stringify(r) + '\n');
  }
  return failed ? 1 : 0;
}
