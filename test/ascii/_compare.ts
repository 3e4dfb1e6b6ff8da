// Packet-by-packet comparison of our ASCII output against tcpdump's (`X.tt.out`), with per-class counts.
// Shared by the corpus conformance test and by manual diff runs (node dist/test/ascii/_compare.js FILE...).

import { readFileSync, existsSync } from 'node:fs';
import { AsciiPrinter } from '../../src/ascii/printer.js';
import { CaptureReader } from '../../src/pcap/reader.js';

/** Print one capture fully in memory (stops quietly at a format error, like tcpdump's stdout). */
export async function printFile(path: string): Promise<string> {
  const pr = new AsciiPrinter();
  let out = '';
  try {
    for await (const b of new CaptureReader(path).batches()) out += pr.printBatch(b);
  } catch { /* stdout holds every packet before the fault */ }
  return out;
}

/** Same as printFile through the byte path (printBatchBytes), as the CLI writes it. */
export async function printFileBytes(path: string): Promise<Buffer> {
  const pr = new AsciiPrinter();
  const parts: Buffer[] = [];
  try {
    for await (const b of new CaptureReader(path).batches()) parts.push(pr.printBatchBytes(b));
  } catch { /* as printFile */ }
  return Buffer.concat(parts);
}

const START = /^(\d+\.\d{6,} |\[Error converting time\] |\[Invalid header)/;

/** Split tcpdump text into packets: a packet is a timestamp line plus its continuation lines. */
export function packets(text: string): string[][] {
  const out: string[][] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const l of lines) {
    if (START.test(l) || out.length === 0) out.push([l]);
    else out[out.length - 1]!.push(l);
  }
  return out;
}

export type LineClass = 'tcp' | 'udp' | 'dns' | 'icmp' | 'arp';

/** Core class of a tcpdump packet line, or null. */
export function coreClass(line: string): LineClass | null {
  if (/^\S+ ARP, /.test(line)) return 'arp';
  if (!/^\S+ IP6? /.test(line)) return null;
  if (/: Flags \[/.test(line)) return 'tcp';
  if (/: ICMP6?[ ,]/.test(line)) return 'icmp';
  if (/^\S+ IP6? \S+\.53 > \S+: |^\S+ IP6? \S+ > \S+\.53: /.test(line)) return 'dns';
  if (/: UDP, (bad )?length /.test(line)) return 'udp';
  return null;
}

/** The part of an IP/IP6/ARP line that must always match: through the address/port pair. */
export function prefixOf(line: string): string | null {
  const m = /^\S+ (IP6?|ARP)[ ,]/.exec(line);
  if (!m) return null;
  if (m[1] === 'ARP') {
    const i = line.indexOf(', length ');
    return i < 0 ? line : line.slice(0, i);
  }
  const gt = line.indexOf(' > ');
  if (gt < 0) return line;
  const c = line.indexOf(': ', gt);
  return c < 0 ? line : line.slice(0, c + 1);
}

export interface Tally {
  files: number;
  packets: number;
  packetsSame: number;
  lines: number;
  linesSame: number;
  prefixLines: number;
  prefixSame: number;
  core: Record<LineClass, [number, number]>;
  prefixFailures: string[];
  failures: Map<string, number>;
  examples: string[];
}

export function newTally(): Tally {
  return {
    files: 0, packets: 0, packetsSame: 0, lines: 0, linesSame: 0, prefixLines: 0, prefixSame: 0,
    core: { tcp: [0, 0], udp: [0, 0], dns: [0, 0], icmp: [0, 0], arp: [0, 0] },
    prefixFailures: [], failures: new Map(), examples: [],
  };
}

/** Compare our text with tcpdump's and add to the tally. */
export function compare(t: Tally, file: string, ours: string, theirs: string): void {
  t.files++;
  const a = packets(ours), e = packets(theirs);
  for (let i = 0; i < e.length; i++) {
    const ep = e[i]!, ap = a[i] ?? [];
    const same = ep.length === ap.length && ep.every((l, j) => l === ap[j]);
    t.packets++;
    if (same) t.packetsSame++;
    for (let j = 0; j < ep.length; j++) {
      t.lines++;
      if (ep[j] === ap[j]) t.linesSame++;
    }
    const first = ep[0]!;
    const pre = prefixOf(first);
    if (pre !== null) {
      t.prefixLines++;
      if ((ap[0] ?? '').startsWith(pre)) t.prefixSame++;
      else if (t.prefixFailures.length < 2000) t.prefixFailures.push(`${file}#${i + 1}\n  want ${first}\n  got  ${ap[0]}`);
    }
    const cls = coreClass(first);
    if (cls) {
      t.core[cls][0]++;
      if (same) t.core[cls][1]++;
    }
    if (!same) {
      const key = (cls ?? (/^\S+ (\S+)/.exec(first)?.[1] ?? '?')) + (cls ? '' : '');
      t.failures.set(key, (t.failures.get(key) ?? 0) + 1);
      if (t.examples.length < 100000) t.examples.push(`${file}#${i + 1}\n  want ${ep.join('\n       ')}\n  got  ${ap.join('\n       ')}`);
    }
  }
}

const pct = (a: number, b: number) => (b === 0 ? 100 : (100 * a) / b);

/** Human summary of a tally. */
export function report(name: string, t: Tally): string {
  const coreN = Object.values(t.core).reduce((s, [n]) => s + n, 0);
  const coreS = Object.values(t.core).reduce((s, [, k]) => s + k, 0);
  const per = Object.entries(t.core).map(([k, [n, s]]) => `${k} ${s}/${n}`).join(', ');
  return `${name}: ${t.files} files; prefix ${t.prefixSame}/${t.prefixLines} (${pct(t.prefixSame, t.prefixLines).toFixed(3)}%); ` +
    `core ${coreS}/${coreN} (${pct(coreS, coreN).toFixed(3)}%) [${per}]; packets ${t.packetsSame}/${t.packets}; ` +
    `lines ${t.linesSame}/${t.lines} (${pct(t.linesSame, t.lines).toFixed(3)}%)`;
}

export { pct };

// Manual use: node dist/test/ascii/_compare.js CAPTURE... → prints differing packets.
if (process.argv[1] && process.argv[1].endsWith('_compare.js') && process.argv.length > 2) {
  const t = newTally();
  for (const f of process.argv.slice(2)) {
    if (!existsSync(f + '.tt.out')) continue;
    compare(t, f, await printFile(f), readFileSync(f + '.tt.out', 'latin1'));
  }
  console.log(t.examples.slice(0, 60).join('\n'));
  console.log(report('manual', t));
}
