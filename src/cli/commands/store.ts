// `flowcarve store`: replay captures and their eve.json into a conditional pcap store (Suricata pcap-log
// style segments with an index beside each) and print a JSON summary.

import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { loadAlerts } from '../../eve/reader.js';
import { expandInputs } from '../../pcap/reader.js';
import { storeCapture } from '../../store/offline.js';
import type { StoreMode } from '../../store/sink.js';
import { DEFAULT_FILE_SIZE } from '../../store/segments.js';
import { parseSize } from '../command.js';

export const summary = 'replay captures + eve.json into a conditional pcap store with an index';
export const usage = `usage: flowcarve store --eve EVE --out STORE [options] INPUT...

Keeps full packets only for flows that raised an alert (Suricata's conditional pcap logging) in classic pcap
segments named log.pcap.<secs>.<usecs>, each with an index (<segment>.idx) for fast carving.

  --eve FILE            eve.json (JSON Lines, gzip ok) or a JSON document of alerts (repeatable)
  --out DIR             the store directory (created; a crashed store is repaired first)
  --mode M              alerts (default): from the alert packet to the flow's end, plus the TCP data
                        still unacked just before it; all: every packet (for comparison)
  --pre-alert N         also keep the last N packets of the flow before its alert packet (default 0)
  --file-size SIZE      rotate before a segment would pass SIZE (default 100MiB)
  --max-size SIZE       delete the oldest segments to stay at or below SIZE in total (default: no limit)
  --alert-delay DUR     how long after its packet an alert may still capture it (default 2s; ms, s, m)
  --nsec                write nanosecond timestamps (default microseconds, as Suricata)

Prints {"matched","unmatched":[...],"packets","bytes","flows","segments":[...],...}; unmatched alerts are listed
with the reason; malformed eve lines are reported on stderr with their line number.
`;

/** Parse `2s`, `500ms`, `1.5m`, `3` (seconds) into µs. */
export function parseDurationUs(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m)?\s*$/.exec(s);
  if (!m) throw new UsageError(`bad duration '${s}' (e.g. 2s, 500ms)`);
  const mult = m[2] === 'us' ? 1 : m[2] === 'ms' ? 1e3 : m[2] === 'm' ? 60e6 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

/** Run the command. */
export async function run(argv: string[]): Promise<number> {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      eve: { type: 'string', multiple: true }, out: { type: 'string' }, mode: { type: 'string' }, 'pre-alert': { type: 'string' },
      'file-size': { type: 'string' }, 'max-size': { type: 'string' }, 'alert-delay': { type: 'string' }, nsec: { type: 'boolean' },
    },
  });
  if (!values.out) throw new UsageError('store needs --out STORE');
  if (!positionals.length) throw new UsageError('store needs at least one INPUT capture');
  const mode = (values.mode ?? 'alerts') as StoreMode;
  if (mode !== 'alerts' && mode !== 'all') throw new UsageError(`unknown --mode '${values.mode}' (alerts, all)`);
  if (mode === 'alerts' && !values.eve?.length) throw new UsageError('store --mode alerts needs --eve EVE');
  const size = (k: string, v: string | undefined, d: number) => {
    if (v === undefined) return d;
    try { return parseSize(v); } catch (e) { throw new UsageError(`bad ${k}: ${(e as Error).message}`); }
  };
  const fileSize = size('--file-size', values['file-size'], DEFAULT_FILE_SIZE);
  const maxSize = size('--max-size', values['max-size'], Infinity);
  const preAlert = values['pre-alert'] !== undefined ? Number(values['pre-alert']) : 0;
  if (!(Number.isInteger(preAlert) && preAlert >= 0)) throw new UsageError(`bad --pre-alert '${values['pre-alert']}'`);
  const alertDelayUs = values['alert-delay'] !== undefined ? parseDurationUs(values['alert-delay']) : 2e6;
  const { alerts, problems } = values.eve?.length ? await loadAlerts(values.eve) : { alerts: [], problems: [] };
  for (const p of problems) process.stderr.write(`flowcarve store: ${p.source}:${p.element ? 'element ' : ''}${p.line}: ${p.message} (skipped)\n`);
  const inputs = await expandInputs(positionals);
  const r = await storeCapture(inputs, { dir: values.out, mode, fileSize, maxSize, preAlert, alertDelayUs, alerts, nsec: !!values.nsec });
  const summaryOut = {
    matched: r.matched.length,
    unmatched: r.unmatched.map((u) => ({ ...u, alert: alerts[u.n] ? { src_ip: alerts[u.n]!.srcIp, src_port: alerts[u.n]!.srcPort, dest_ip: alerts[u.n]!.destIp, dest_port: alerts[u.n]!.destPort, source: `${alerts[u.n]!.source}:${alerts[u.n]!.line}` } : undefined })),
    packets: r.counters.packets, bytes: r.counters.bytes, flows: r.counters.flowsStored,
    segments: r.segments, segmentsDeleted: r.counters.segmentsDeleted, late: r.counters.alertsLate, ringDropped: r.counters.ringDropped,
    eveProblems: problems.length, repair: r.repair,
  };
  process.stdout.write(JSON.stringify(summaryOut) + '\n');
  return 0;
}
