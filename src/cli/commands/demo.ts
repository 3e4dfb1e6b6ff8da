// `flowcarve demo` (what `npm start` runs): every feature on the bundled capture fixtures/demo/, through the
// same library calls the other commands use, with a short human-readable digest of what was found.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { captureInfo } from '../../pcap/info.js';
import { runFlows } from '../../engine/run.js';
import type { FlowRecord } from '../../flow/record.js';
import { protoName } from '../../flow/eve.js';
import { printCapture } from '../../ascii/capture.js';
import { extractFiles } from '../../files/sink.js';
import { loadAlerts } from '../../eve/reader.js';
import { storeCapture } from '../../store/offline.js';
import { carve } from '../../carve/carve.js';
import { IndicatorSet } from '../../ioc/indicators.js';
import { IocMatcher } from '../../ioc/matcher.js';
import { matchInput } from '../../ioc/input.js';

export const summary = 'run every feature on the bundled demo capture and print what was found';
export const usage = `usage: flowcarve demo [--dir DIR] [--keep]

Runs info, flows (2 workers), ascii, file extraction, the conditional store + carving of the alerted flows
and indicator matching on DIR (default: the bundled fixtures/demo: demo.pcap, eve.json, indicators.txt).
Outputs go to a temporary directory, removed at the end unless --keep.
`;

const DEMO = resolve(fileURLToPath(new URL('../../../../fixtures/demo', import.meta.url)));

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' }, keep: { type: 'boolean' } } });
  const dir = resolve(values.dir ?? DEMO);
  const pcap = join(dir, 'demo.pcap');
  const work = mkdtempSync(join(tmpdir(), 'flowcarve-demo-'));
  const say = (s = '') => process.stdout.write(s + '\n');
  try {
    say(`flowcarve demo on ${pcap}\n`);
    const info = await captureInfo(pcap);
    say(`== capture: ${info.packets} packets, ${info.capturedBytes} bytes, ${info.format} ${info.byteOrder} ${info.resolution}, ${info.linkTypes.map((l) => l.name).join(", ")}`);

    const eve = join(dir, 'eve.json');
    const { alerts } = await loadAlerts([eve]);
    const flows: FlowRecord[] = [];
    await runFlows([pcap], { workers: 2, alerts, onFlow: (r) => flows.push(r) });
    say(`\n== flows (2 worker threads): ${flows.length}, ${flows.filter((f) => f.alerted).length} alerted`);
    for (const f of flows) {
      say(`  ${String(protoName(f.proto)).padEnd(9)} ${`${f.srcIp}:${f.srcPort}`.padEnd(22)} -> ${`${f.dstIp}:${f.dstPort}`.padEnd(22)} ` +
        `${String(f.pktsToServer + f.pktsToClient).padStart(3)} pkts ${String(f.bytesToServer + f.bytesToClient).padStart(6)} B  ${f.state}/${f.reason}  ${f.communityId}${f.alerted ? '  ALERTED' : ''}`);
    }

    const lines: string[] = [];
    let text = '';
    const sink = new Writable({ write(c, _e, cb) { text += c.toString(); cb(); } });
    await printCapture([pcap], sink);
    lines.push(...text.split('\n').filter(Boolean));
    say(`\n== tcpdump -tt -n text: ${lines.length} lines, first 4:`);
    for (const l of lines.slice(0, 4)) say(`  ${l}`);

    const files = await extractFiles([pcap], { out: join(work, 'filestore'), hashes: ['md5'], workers: 2 });
    say(`\n== files extracted: ${files.events.length} (stored ${files.counters.stored}, deduplicated ${files.counters.dedup})`);
    for (const e of files.events) {
      say(`  ${e.app_proto.padEnd(6)} ${JSON.stringify(e.fileinfo.filename).padEnd(28)} ${String(e.fileinfo.size).padStart(6)} B  ${e.fileinfo.state}  sha256 ${e.fileinfo.sha256}`);
    }

    const stored = await storeCapture([pcap], { dir: join(work, 'store'), alerts });
    say(`\n== conditional store: ${stored.matched.length} of ${alerts.length} alerts matched, ${stored.counters.packets} packets kept of ${info.packets}, segments ${stored.segments.map((s) => s.split('/').pop()).join(', ')}`);
    for (const a of alerts) {
      const r = carve(a, { store: join(work, 'store'), out: join(work, 'carved') });
      say(`  carved sid ${a.signatureId ?? '?'} ${a.srcIp}:${a.srcPort} -> ${a.destIp}:${a.destPort}: ${r.packets} packets, ${r.first} .. ${r.last}, ${r.sha256.slice(0, 16)}….pcap`);
    }

    const set = await IndicatorSet.load([join(dir, 'indicators.txt')]);
    const matcher = new IocMatcher(set);
    await matchInput(pcap, matcher);
    const hits = matcher.results();
    say(`\n== indicator hits (${readFileSync(join(dir, 'indicators.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).length} indicators): ${hits.length}`);
    for (const h of hits) say(`  ${h.indicator.padEnd(18)} ${h.label.padEnd(18)} ${h.direction.padEnd(8)} ${h.local} <-> ${h.remote}  ${h.packets} pkts`);
    if (values.keep) say(`\noutputs kept in ${work}`);
    return 0;
  } finally {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}
