// Helpers of the SMTP/FTP pipeline and conformance tests: run the files pipeline on a capture, compare
// suricata-verify fileinfo checks on every field we reproduce (the other_match JSON too: addresses, tx_id,
// smtp.*, email.*, ftp_data.*), and decode tshark's exported mail messages with our MIME parser.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { extractFiles } from '../../src/files/sink.js';
import type { FileEvent } from '../../src/files/fileinfo.js';
import { MimeParser } from '../../src/files/mime/parser.js';
import { tmpDir } from '../_util.js';
import type { ExpectRow } from '../conformance/files-common.js';

/** fileinfo events of `pcap` through the files pipeline (no filestore unless `out`). */
export async function pipelineEvents(pcap: string, o: { workers?: number; out?: string; md5?: boolean } = {}): Promise<FileEvent[]> {
  const res = await extractFiles([pcap], { workers: o.workers ?? 1, ...(o.out ? { out: o.out } : {}), hashes: o.md5 ? ['md5'] : [], run: { onInputError: () => {} } });
  return res.events;
}

/** Fields we cannot reproduce (rule- or packet-counter-driven): not compared. */
const SKIP = new Set(['pcap_cnt', 'fileinfo.stored', 'ip_v', 'flow_id', 'timestamp']);

/** Every field a fileinfo row asks for: its columns and its other_match JSON (CSV-quoted in the TSV). */
export function rowFields(r: ExpectRow): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (r.filename) m['fileinfo.filename'] = r.filename;
  if (r.size) m['fileinfo.size'] = Number(r.size);
  if (r.sha256) m['fileinfo.sha256'] = r.sha256;
  if (r.md5) m['fileinfo.md5'] = r.md5;
  if (r.state) m['fileinfo.state'] = r.state;
  if (r.gaps) m['fileinfo.gaps'] = r.gaps === 'true';
  const o = r.other_match;
  if (o) Object.assign(m, JSON.parse(o.startsWith('"') ? o.slice(1, -1).replace(/""/g, '"') : o));
  return m;
}

/** Value at a Suricata check path (`email.to[0]`) in an event. */
export function fieldAt(e: unknown, path: string): unknown {
  let cur: unknown = e;
  for (const part of path.split('.')) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
    if (!m || cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[m[1]!];
    if (m[2] !== undefined) cur = Array.isArray(cur) ? cur[Number(m[2])] : undefined;
  }
  return cur;
}

/** Events matching every comparable field of the row, and the fields left out. */
export function fullMatch(events: FileEvent[], r: ExpectRow): { matches: number; skipped: string[] } {
  const want = rowFields(r);
  const keys = Object.keys(want).filter((k) => !SKIP.has(k));
  return { matches: events.filter((e) => keys.every((k) => fieldAt(e, k) === want[k])).length, skipped: Object.keys(want).filter((k) => SKIP.has(k)) };
}

/** Client→server bytes of the first TCP streams as tshark reassembles them (follow,tcp,raw). */
function tsharkClientStreams(pcap: string, n = 8): Buffer[] {
  const args = ['-r', pcap, '-q'];
  for (let i = 0; i < n; i++) args.push('-z', `follow,tcp,raw,${i}`);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const out: Buffer[] = [];
  for (const block of r.stdout.split(/^=+$/m)) {
    if (!block.includes('Follow: tcp,raw')) continue;
    out.push(Buffer.from(block.split('\n').filter((l) => /^[0-9a-f]+$/.test(l)).join(''), 'hex'));
  }
  return out;
}

/** Attachments (sha256) of tshark's `--export-objects imf` messages, decoded (dot-unstuffed) with our MIME
 * parser. A message holding an attachment missing from `ours` is only trusted when it is a verbatim part of
 * tshark's own reassembled client stream; otherwise the export is damaged (seen with retransmissions). */
export function tsharkImfAttachments(pcap: string, ours: Set<string>): { sha: Set<string>; damaged: number; messages: number } {
  const dir = tmpDir('flowcarve-imf-');
  const r = spawnSync('tshark', ['-r', pcap, '-q', '--export-objects', `imf,${dir}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed on ${pcap}: ${r.stderr}`);
  const names = readdirSync(dir).sort();
  let streams: Buffer[] | null = null;
  const sha = new Set<string>();
  let damaged = 0;
  for (const name of names) {
    const eml = readFileSync(join(dir, name));
    // tshark writes the DATA payload as sent: undo the SMTP dot-stuffing first.
    const raw = eml.toString('latin1').split('\r\n').map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n');
    const mine = new Set<string>();
    let h: ReturnType<typeof createHash> | null = null;
    const p = new MimeParser({ fileOpen: () => { h = createHash('sha256'); }, fileData: (b) => { h!.update(b); }, fileClose: () => { mine.add(h!.digest('hex')); h = null; } });
    p.write(Buffer.from(raw, 'latin1'));
    p.end();
    if ([...mine].some((x) => !ours.has(x))) {
      streams ??= tsharkClientStreams(pcap);
      if (!streams.some((s) => s.includes(eml))) { damaged++; continue; }
    }
    for (const x of mine) sha.add(x);
  }
  rmSync(dir, { recursive: true, force: true });
  return { sha, damaged, messages: names.length };
}

/** Run a protocol's suricata-verify rows through the pipeline (files-common's runSuite, with a filestore) and
 * judge every fileinfo check on all the fields it gives — files-common's coarser match (name, size, hashes,
 * state) counts the same file moved twice (bug-4877: STOR then RETR) as two matches where other_match tells
 * them apart. Prints each check; returns required (content + filestore-present) and all-check scores. */
export async function judgeProtocol(sv: string, protocol: string): Promise<{ required: [number, number]; all: [number, number] }> {
  const { loadExpectations, relevantRows, runSuite, checkRows } = await import('../conformance/files-common.js');
  const rows = loadExpectations(sv, protocol);
  const relevant = new Set(relevantRows(rows));
  const judged = rows.filter((r) => r.check_kind === 'fileinfo' || relevant.has(r));
  const { events, outs } = await runSuite(sv, judged);
  let req = 0, reqTotal = 0, all = 0, allTotal = 0;
  for (const r of judged) {
    let ok: boolean, why: string;
    if (r.check_kind === 'fileinfo') {
      const m = fullMatch(events.get(r.test) ?? [], r);
      ok = m.matches === r.count;
      why = `${m.matches}/${r.count} events match every field${m.skipped.length ? ` (not compared: ${m.skipped.join(', ')})` : ''}`;
      allTotal++; if (ok) all++;
    } else {
      const c = checkRows([r], events.get(r.test) ?? [], outs.get(r.test)!)[0]!;
      ok = c.ok; why = c.why || 'present';
    }
    if (relevant.has(r)) { reqTotal++; if (ok) req++; }
    console.log(`# ${ok ? 'ok  ' : 'FAIL'} ${r.test} [${r.check_kind}${relevant.has(r) ? ', required' : ''}] ${(r.filename || r.sha256).slice(0, 48)}: ${why}`);
  }
  for (const o of outs.values()) rmSync(o, { recursive: true, force: true });
  console.log(`# ${protocol}: required checks (sha256/md5/size, filestore-present) matched ${req}/${reqTotal}; all fileinfo checks, every field, matched ${all}/${allTotal}`);
  return { required: [req, reqTotal], all: [all, allTotal] };
}
