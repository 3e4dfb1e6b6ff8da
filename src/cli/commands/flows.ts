// `flowcarve flows [--workers N] [--timeout-*] [--max-flows N] INPUT...`: one EVE-style JSON line per flow, in the
// order flows end; counters on stderr. Also exports the option parsing shared with `split`.

import { FlowcarveError, UsageError } from '../../errors.js';
import { expandInputs } from '../../pcap/reader.js';
import type { FlowTableOptions, FlowTimeouts } from '../../flow/table.js';
import { runFlows, type RunResult } from '../../engine/run.js';
import type { Alert } from '../../eve/alert.js';

export const summary = 'one JSON line per flow (5-tuple, Community ID, counters), in parallel workers';

export const FLOW_OPTIONS = `  --workers N              shard workers (default 1 = in this thread); output is identical for any N
  --timeout-G-S SECONDS     idle timeout for protocol group G (tcp, udp, icmp, other) in state S (new,
                           established, closed); defaults as Suricata: tcp 30/300/10, others 30/300
  --max-flows N            flows alive at once (per worker; default 1000000); beyond, the oldest idle flow is
                           ended with reason "forced" and counted
  --no-vlan                leave VLAN ids out of the flow key
  --stats                  print counters as JSON on stderr (default: a one-line summary)`;

export const usage = `usage: flowcarve flows [options] INPUT...

Track flows (bidirectional 5-tuple + VLAN, IP fragments joined to their flow) on capture time and write one JSON
line per flow to stdout in the order flows end (ties by start time, then key), with Suricata EVE flow fields:
flow_id, community_id, src_ip, src_port, dest_ip, dest_port, proto, vlan, start, end, pkts_/bytes_toserver,
pkts_/bytes_toclient, state, reason (timeout, forced, shutdown, tcp_reuse), tcp_flags, tcp_flags_ts/_tc.

${FLOW_OPTIONS}
  --community-id-seed N    Community ID seed (default 0)
  --community-id-hex       Community ID digest in hex instead of base64
  --community-id-suricata  Suricata's flavour of Community ID (matches IDs in Suricata's EVE output)
  --alerts EVE             Suricata eve.json (JSON Lines or a JSON document; repeatable): every flow gets
                           "alerted": true when one of its alerts fired on it (by Community ID, else by tuple,
                           alert time inside the flow), false otherwise
`;

/** Options shared by flows and split, parsed from argv; returns the arguments it did not consume. */
export interface FlowArgs { workers: number; table: FlowTableOptions; stats: boolean; rest: string[] }

/** Parse --workers, --timeout-*, --max-flows, --no-vlan, --stats (and the --community-id-* options). */
export function parseFlowArgs(cmd: string, argv: string[]): FlowArgs {
  const out: FlowArgs = { workers: 1, table: {}, stats: false, rest: [] };
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new UsageError(`${cmd}: ${name} needs a number ≥ ${min}`);
    return n;
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    let m: RegExpExecArray | null;
    if (a === '--workers') out.workers = Math.floor(num(a, argv[++k], 0));
    else if (a === '--max-flows') out.table.maxFlows = Math.floor(num(a, argv[++k], 1));
    else if (a === '--no-vlan') out.table.vlan = false;
    else if (a === '--stats') out.stats = true;
    else if (a === '--community-id-seed') out.table.communityId = { ...out.table.communityId, seed: Math.floor(num(a, argv[++k], 0)) & 0xffff };
    else if (a === '--community-id-hex') out.table.communityId = { ...out.table.communityId, base64: false };
    else if (a === '--community-id-suricata') out.table.communityId = { ...out.table.communityId, flavour: 'suricata' };
    else if ((m = /^--timeout-(tcp|udp|icmp|other)-(new|established|closed)$/.exec(a))) {
      const g = m[1] as 'tcp', s = m[2] as keyof FlowTimeouts;
      const t = (out.table.timeouts ??= {});
      (t[g] ??= {})[s] = num(a, argv[++k], 0);
    } else if (a.startsWith('--') && a !== '-') throw new UsageError(`${cmd}: unknown option '${a}'`);
    else out.rest.push(a);
  }
  return out;
}

/** Counters as one summary line or JSON (--stats). */
export function formatCounters(r: RunResult, stats: boolean): string {
  const c = r.counters;
  if (stats) return JSON.stringify({ workers: r.workers, ...c }) + '\n';
  const t = c.table;
  return `flows: ${t.flows} flows, ${c.packets} packets (${t.packets} in flows, ${c.nonIp} not IP), ended by timeout ${t.timeouts}, ` +
    `forced ${t.forced}, tcp_reuse ${t.tcpReuse}, shutdown ${t.shutdown}; fragments ${c.defrag.fragments} (orphans ${c.defrag.orphans}); workers ${r.workers}\n`;
}

/** Run the command; returns the exit code (0 ok, 1 an input had a fault, 2 usage). */
export async function run(argv: string[]): Promise<number> {
  const eve: string[] = [];
  const rest: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--alerts') { const f = argv[++k]; if (f === undefined) throw new UsageError('flows: --alerts needs a file'); eve.push(f); } else rest.push(argv[k]!);
  }
  const a = parseFlowArgs('flows', rest);
  if (a.rest.length === 0) { process.stderr.write(usage); return 2; }
  const inputs = await expandInputs(a.rest);
  let rc = 0;
  let alerts: Alert[] | undefined;
  if (eve.length) {
    // Loaded only when asked for: the EVE reader and stream-json cost ~20 ms of start-up.
    const { loadAlerts } = await import('../../eve/reader.js');
    const l = await loadAlerts(eve);
    for (const p of l.problems) { process.stderr.write(`flowcarve: ${p.source}:${p.line}: ${p.message}\n`); rc = 1; }
    alerts = l.alerts;
  }
  const out = process.stdout;
  // A reader that went away (`flows … | head`) ends the run quietly, as Unix tools do.
  out.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
  // Lines arrive as byte runs (views valid during the call): gather them into 1 MiB writes.
  const CHUNK = 1 << 20;
  let buf = Buffer.allocUnsafe(CHUNK), len = 0;
  const flush = (): void => {
    if (len === 0) return;
    out.write(buf.subarray(0, len));
    // A synchronous stdout (a file, /dev/null) is done with the chunk: reuse it (fresh memory costs page faults).
    if (out.writableLength > 0) buf = Buffer.allocUnsafe(CHUNK);
    len = 0;
  };
  const r = await runFlows(inputs, {
    workers: a.workers,
    table: a.table,
    ...(alerts ? { alerts } : {}),
    onFlowLines: (lines) => {
      if (len + lines.length > CHUNK) flush();
      if (lines.length > CHUNK) { out.write(Buffer.from(lines)); return; }
      buf.set(lines, len); len += lines.length;
    },
    onInputError: (e: FlowcarveError) => { process.stderr.write(`flowcarve: ${e.describe()}\n`); rc = 1; },
  });
  flush();
  await new Promise<void>((res) => { if (out.writableLength === 0) res(); else out.once('drain', () => res()); });
  process.stderr.write(formatCounters(r, a.stats));
  return rc;
}
