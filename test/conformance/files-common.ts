// Shared helpers for the suricata-verify file-extraction conformance tests (http here; smtp/ftp/smb/nfs reuse
// them): read expectations.tsv rows of a protocol, run our extraction on each test's capture, and match
// fileinfo checks (count of events with the given filename/size/sha256/md5/sha1/state/gaps) and
// filestore-present checks (<out>/xx/<sha256> exists). filestore-absent and `stored` depend on Suricata's
// rule-driven selection and are not checked.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { extractFiles, type FileSinkOptions } from '../../src/files/sink.js';
import type { FileEvent } from '../../src/files/fileinfo.js';
import { tmpDir } from '../_util.js';

/** One row of expectations.tsv. */
export interface ExpectRow {
  test: string; pcap: string; protocol: string; check_kind: string; count: number;
  filename: string; size: string; sha256: string; md5: string; sha1: string; state: string; stored: string; gaps: string;
  other_match: string; check_requires: string; test_requires: string; test_args: string;
}

/** Rows of `protocol` from <sv>/expectations.tsv. */
export function loadExpectations(sv: string, protocol: string): ExpectRow[] {
  const lines = readFileSync(join(sv, 'expectations.tsv'), 'utf8').split('\n').filter(Boolean);
  const head = lines[0]!.split('\t');
  return lines.slice(1).map((l) => {
    const c = l.split('\t');
    const o: Record<string, string> = {};
    head.forEach((h, k) => { o[h] = c[k] ?? ''; });
    return { ...o, count: Number(o.count) } as unknown as ExpectRow;
  }).filter((r) => r.protocol === protocol);
}

/** The rows the issue requires: fileinfo checks carrying sha256, md5 or size, and filestore-present checks. */
export function relevantRows(rows: ExpectRow[]): ExpectRow[] {
  return rows.filter((r) => (r.check_kind === 'fileinfo' && (r.sha256 || r.md5 || r.size)) || r.check_kind === 'filestore-present');
}

/** Does event `e` satisfy the fields a row gives (filename, size, hashes, state, gaps)? */
export function eventMatches(r: ExpectRow, e: FileEvent): boolean {
  const f = e.fileinfo;
  if (r.sha256 && f.sha256 !== r.sha256) return false;
  if (r.md5 && f.md5 !== r.md5) return false;
  if (r.sha1 && f.sha1 !== r.sha1) return false;
  if (r.size && f.size !== Number(r.size)) return false;
  if (r.filename && f.filename !== r.filename) return false;
  if (r.state && f.state !== r.state) return false;
  if (r.gaps && String(f.gaps) !== r.gaps) return false;
  return true;
}

/** Result of one check. */
export interface CheckResult { row: ExpectRow; ok: boolean; got: number; why: string }

/** Check rows of one test against its events and filestore. */
export function checkRows(rows: ExpectRow[], events: FileEvent[], out: string): CheckResult[] {
  return rows.map((row) => {
    if (row.check_kind === 'filestore-present') {
      const p = join(out, row.sha256.slice(0, 2), row.sha256);
      const ok = existsSync(p);
      return { row, ok, got: ok ? 1 : 0, why: ok ? '' : `missing ${p}` };
    }
    if (row.check_kind === 'filestore-absent') return { row, ok: true, got: 0, why: 'not checked (rule-driven)' };
    const got = events.filter((e) => eventMatches(row, e)).length;
    const ok = got === row.count;
    return { row, ok, got, why: ok ? '' : `expected ${row.count} events, got ${got}` };
  });
}

/** Suricata's HTTP body limits where a test does not set them (suricata.yaml's libhtp default-config). */
export const SURICATA_HTTP_BODY_LIMIT = 100 * 1024;

/** A size as Suricata's configuration writes it: "100kb", "1mb", "100 KiB", "4096" (units are powers of 1024). */
export function suricataSize(v: string): number {
  const m = /^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(v);
  if (!m) throw new Error(`unexpected size in a suricata-verify config: '${v}'`);
  return Number(m[1]) * 1024 ** ' kmg'.indexOf(m[2]!.toLowerCase() || ' ');
}

/**
 * The HTTP body limits Suricata ran test `dir` with: libhtp's request/response-body-limit from the test's
 * suricata.yaml or `--set` arguments, else SURICATA_HTTP_BODY_LIMIT; a file-store stream-depth above 0 replaces
 * both (Suricata's HTP_STREAM_DEPTH_SET).
 */
export function suricataHttpLimits(dir: string, args: string): Pick<FileSinkOptions, 'httpRequestBodyLimit' | 'httpResponseBodyLimit'> {
  const yaml = existsSync(join(dir, 'suricata.yaml')) ? readFileSync(join(dir, 'suricata.yaml'), 'utf8') : '';
  const setting = (key: string): string | undefined =>
    new RegExp(`--set \\S*\\.${key}=(\\S+)`).exec(args)?.[1] ?? new RegExp(`^[ \\t]*${key}:[ \\t]*([^#\\n]+)`, 'm').exec(yaml)?.[1];
  const depth = /^[ \t]*stream-depth:[ \t]*(\S+)/m.exec(yaml)?.[1];
  if (depth !== undefined && depth !== 'no' && suricataSize(depth) > 0) return { httpRequestBodyLimit: suricataSize(depth), httpResponseBodyLimit: suricataSize(depth) };
  const req = setting('request-body-limit'), resp = setting('response-body-limit');
  return {
    httpRequestBodyLimit: req === undefined ? SURICATA_HTTP_BODY_LIMIT : suricataSize(req),
    httpResponseBodyLimit: resp === undefined ? SURICATA_HTTP_BODY_LIMIT : suricataSize(resp),
  };
}

/** Run extraction on every test of `rows` (grouped by test); options as the files command. */
export async function runSuite(sv: string, rows: ExpectRow[], o: FileSinkOptions = {}): Promise<{ results: CheckResult[]; events: Map<string, FileEvent[]>; outs: Map<string, string> }> {
  const byTest = new Map<string, ExpectRow[]>();
  for (const r of rows) { const l = byTest.get(r.test) ?? []; l.push(r); byTest.set(r.test, l); }
  const results: CheckResult[] = [];
  const events = new Map<string, FileEvent[]>();
  const outs = new Map<string, string>();
  for (const [test, list] of byTest) {
    const pcap = join(sv, test, list[0]!.pcap);
    const out = tmpDir('fc-sv-');
    const hashes = list.some((r) => r.md5) || list.some((r) => r.sha1) ? (['md5', 'sha1'] as const) : [];
    // As Suricata ran the test: its HTTP body limits.
    const limits = suricataHttpLimits(join(sv, test), list[0]!.test_args);
    const res = await extractFiles([pcap], { ...limits, ...o, out, hashes: [...hashes], run: { onInputError: () => {} } });
    events.set(test, res.events);
    outs.set(test, out);
    results.push(...checkRows(list, res.events, out));
  }
  return { results, events, outs };
}

/** Print matched/total and the failures; returns the number matched. */
export function report(label: string, results: CheckResult[]): number {
  const ok = results.filter((r) => r.ok).length;
  console.log(`# ${label}: matched ${ok}/${results.length}`);
  for (const r of results) if (!r.ok) console.log(`#   ${r.row.test} [${r.row.check_kind} ${r.row.filename || r.row.sha256.slice(0, 12) || r.row.size}]: ${r.why}`);
  return ok;
}

/** sha256 of every file tshark exports with `--export-objects <kind>,DIR` from `pcap`; null when tshark is absent. */
export function tsharkExport(pcap: string, kind: string): Set<string> | null {
  const bodies = tsharkBodies(pcap, kind);
  return bodies && new Set(bodies.map(sha256Hex));
}

/** The contents of every non-empty file tshark exports with `--export-objects <kind>,DIR`; null without tshark. */
export function tsharkBodies(pcap: string, kind: string): Buffer[] | null {
  const dir = tmpDir('fc-tshark-');
  const r = spawnSync('tshark', ['-r', pcap, '-q', '--export-objects', `${kind},${dir}`], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return null;
  const out: Buffer[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isFile() && statSync(p).size > 0) out.push(readFileSync(p));
  }
  return out;
}

/** Hex sha256 of `b`. */
export function sha256Hex(b: Uint8Array): string { return createHash('sha256').update(b).digest('hex'); }

/** Is tshark installed? */
export function tsharkSkip(): string | false {
  const r = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'tshark is not installed (apt-get install -y tshark)' : false;
}
