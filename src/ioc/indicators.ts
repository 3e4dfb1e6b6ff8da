// Indicator lists and sets: parse plain / CSV / JSON lists of IPv4 and IPv6 addresses and CIDR blocks into
// range tables (most specific block wins), report bad lines with file:line, and hold several named lists that
// can be swapped one at a time while matching goes on.

import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ERR, FlowcarveError } from '../errors.js';
import { ipv4String, ipv6String } from '../decode/addr.js';
import { clip, parseCidr } from './addr.js';
import { maskWords, MAX_TABLE_ENTRIES, RangeTable } from './ranges.js';

/** Most problems kept per list (the rest are only counted in `problemCount`). */
export const MAX_PROBLEMS = 1000;
/** Largest list file read (lists are parsed as one string; V8 strings stop near 512 MiB). */
export const MAX_LIST_BYTES = 400 * 1024 * 1024;
/** Longest label kept (longer ones are cut). */
export const MAX_LABEL = 256;

/** A line of a list that could not be used. */
export interface ListProblem {
  file: string;
  /** 1-based line number (JSON: line where the element starts). */
  line: number;
  message: string;
}

/** One indicator given directly (API): an address or CIDR and an optional label. */
export interface IndicatorEntry {
  cidr: string;
  label?: string;
}

export type ListFormat = 'auto' | 'plain' | 'csv' | 'json';

/** How to read a list. */
export interface ListOptions {
  /** List name reported with each hit (default: the file's base name). */
  name?: string;
  /** Format (default 'auto': JSON when the text starts with `[`, CSV for `.csv`/`.tsv` files or a `column`, plain otherwise). */
  format?: ListFormat;
  /** CSV column holding the address (default: the first of ip, ip_address, address, cidr, network, indicator, value). */
  column?: string;
  /** CSV column holding the label (default: the first of label, description, tag, threat, name, comment). */
  labelColumn?: string;
  /** File name used in problem reports (default: name). */
  file?: string;
}

const ADDR_COLUMNS = ['ip', 'ip_address', 'ipaddress', 'address', 'addr', 'cidr', 'network', 'subnet', 'indicator', 'ioc', 'value', 'dst_ip', 'src_ip'];
const LABEL_COLUMNS = ['label', 'description', 'tag', 'tags', 'threat', 'malware', 'name', 'comment', 'category', 'type'];

/** Growable column store of parsed entries for one family. */
class EntryBuilder {
  readonly words: 1 | 4;
  addr: Uint32Array;
  prefix: Uint8Array;
  label: Uint32Array;
  count = 0;
  hostBitsCleared = 0;
  constructor(words: 1 | 4) {
    this.words = words;
    this.addr = new Uint32Array(1024 * words);
    this.prefix = new Uint8Array(1024);
    this.label = new Uint32Array(1024);
  }
  add(bytes: Uint8Array, prefix: number, label: number): void {
    if (this.count === this.prefix.length) {
      const cap = this.prefix.length * 2;
      const a = new Uint32Array(cap * this.words); a.set(this.addr); this.addr = a;
      const p = new Uint8Array(cap); p.set(this.prefix); this.prefix = p;
      const l = new Uint32Array(cap); l.set(this.label); this.label = l;
    }
    const o = this.count * this.words;
    for (let w = 0; w < this.words; w++) {
      const k = 4 * w;
      this.addr[o + w] = ((bytes[k]! << 24) | (bytes[k + 1]! << 16) | (bytes[k + 2]! << 8) | bytes[k + 3]!) >>> 0;
    }
    if (maskWords(this.addr, o, prefix, this.words)) this.hostBitsCleared++;
    this.prefix[this.count] = prefix;
    this.label[this.count] = label;
    this.count++;
  }
}

/** Accumulates entries and problems while a list is parsed. */
class ListBuilder {
  readonly v4 = new EntryBuilder(1);
  readonly v6 = new EntryBuilder(4);
  readonly labels: string[] = [''];
  readonly labelIndex = new Map<string, number>([['', 0]]);
  readonly problems: ListProblem[] = [];
  problemCount = 0;
  lines = 0;
  readonly file: string;
  readonly #scratch = new Uint8Array(16);
  constructor(file: string) { this.file = file; }

  problem(line: number, message: string): void {
    this.problemCount++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ file: this.file, line, message });
  }

  /** Add one indicator; false (and a problem) when the text is not an address or block. */
  add(text: string, label: string, line: number): boolean {
    if (this.v4.count + this.v6.count >= MAX_TABLE_ENTRIES) { this.problem(line, `too many entries (cap ${MAX_TABLE_ENTRIES})`); return false; }
    const r = parseCidr(text, this.#scratch);
    if (r.version === 0) { this.problem(line, r.error ?? `not an address: '${clip(text)}'`); return false; }
    let li = 0;
    if (label) {
      if (label.length > MAX_LABEL) label = label.slice(0, MAX_LABEL);
      const known = this.labelIndex.get(label);
      if (known !== undefined) li = known;
      else { li = this.labels.length; this.labels.push(label); this.labelIndex.set(label, li); }
    }
    (r.version === 4 ? this.v4 : this.v6).add(this.#scratch, r.prefix, li);
    return true;
  }
}

/** What a parsed list holds, shared between a list and its renamed copies. */
interface ListData {
  v4: RangeTable; v6: RangeTable;
  addr4: Uint32Array; prefix4: Uint8Array; label4: Uint32Array;
  addr6: Uint32Array; prefix6: Uint8Array; label6: Uint32Array;
  labels: string[]; problems: ListProblem[]; problemCount: number;
  count4: number; count6: number; hostBitsCleared: number;
  text4: Map<number, string>; text6: Map<number, string>;
}

function buildData(b: ListBuilder): ListData {
  return {
    v4: RangeTable.build(1, { addr: b.v4.addr, prefix: b.v4.prefix, count: b.v4.count }),
    v6: RangeTable.build(4, { addr: b.v6.addr, prefix: b.v6.prefix, count: b.v6.count }),
    addr4: b.v4.addr.slice(0, b.v4.count), prefix4: b.v4.prefix.slice(0, b.v4.count), label4: b.v4.label.slice(0, b.v4.count),
    addr6: b.v6.addr.slice(0, b.v6.count * 4), prefix6: b.v6.prefix.slice(0, b.v6.count), label6: b.v6.label.slice(0, b.v6.count),
    labels: b.labels, problems: b.problems, problemCount: b.problemCount,
    count4: b.v4.count, count6: b.v6.count, hostBitsCleared: b.v4.hostBitsCleared + b.v6.hostBitsCleared,
    text4: new Map(), text6: new Map(),
  };
}

/** One loaded list: its name, range tables per family, labels, and the problems met while reading it. Immutable. */
export class IndicatorList {
  readonly name: string;
  readonly v4: RangeTable;
  readonly v6: RangeTable;
  readonly #d: ListData;
  readonly labels: readonly string[];
  readonly problems: readonly ListProblem[];
  /** Problems in total (problems[] keeps the first MAX_PROBLEMS). */
  readonly problemCount: number;
  /** Entries accepted (before de-duplication), per family. */
  readonly count4: number;
  readonly count6: number;
  /** Identical blocks dropped (the first one's label is kept). */
  readonly duplicates: number;
  /** Entries written with host bits set below their prefix (accepted as the enclosing network). */
  readonly hostBitsCleared: number;

  private constructor(name: string, d: ListData) {
    this.name = name;
    this.#d = d;
    this.v4 = d.v4;
    this.v6 = d.v6;
    this.labels = d.labels;
    this.problems = d.problems;
    this.problemCount = d.problemCount;
    this.count4 = d.count4;
    this.count6 = d.count6;
    this.duplicates = d.v4.duplicates + d.v6.duplicates;
    this.hostBitsCleared = d.hostBitsCleared;
  }

  /** The same list under another name (tables shared). */
  withName(name: string): IndicatorList {
    return new IndicatorList(name, this.#d);
  }

  /** Parse list text (see ListOptions for formats); bad lines become problems, never errors. */
  static parse(text: string, opts: ListOptions = {}): IndicatorList {
    const name = opts.name ?? opts.file ?? 'list';
    const b = new ListBuilder(opts.file ?? name);
    let fmt = opts.format ?? 'auto';
    if (fmt === 'auto') {
      const first = text.trimStart()[0];
      fmt = first === '[' ? 'json' : /\.(csv|tsv)$/i.test(opts.file ?? '') || opts.column ? 'csv' : 'plain';
    }
    if (fmt === 'json') parseJson(text, b);
    else if (fmt === 'csv') parseCsv(text, b, opts);
    else parsePlain(text, b);
    return new IndicatorList(name, buildData(b));
  }

  /** Build a list from entries given in code (labels optional). */
  static fromEntries(name: string, entries: Iterable<IndicatorEntry | string>): IndicatorList {
    const b = new ListBuilder(name);
    let n = 0;
    for (const e of entries) {
      n++;
      if (typeof e === 'string') b.add(e, '', n);
      else b.add(e.cidr, e.label ?? '', n);
    }
    return new IndicatorList(name, buildData(b));
  }

  /** Read and parse a list file (name defaults to its base name). */
  static async load(path: string, opts: ListOptions = {}): Promise<IndicatorList> {
    let text: string;
    try {
      const st = await stat(path);
      if (st.size > MAX_LIST_BYTES) {
        throw new FlowcarveError(ERR.IOC, `indicator list is ${st.size} bytes, more than the ${MAX_LIST_BYTES}-byte cap`, { file: path, offset: MAX_LIST_BYTES });
      }
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (e instanceof FlowcarveError) throw e;
      throw new FlowcarveError(ERR.IOC, `cannot read indicator list: ${(e as Error).message}`, { file: path, cause: e });
    }
    return IndicatorList.parse(text, { ...opts, name: opts.name ?? basename(path), file: path });
  }

  /** Entries in the list (after dropping identical blocks). */
  get size(): number { return this.count4 + this.count6 - this.duplicates; }

  /** Label of IPv4 entry `i` ('' when none). */
  label4(i: number): string { return this.labels[this.#d.label4[i]!]!; }
  /** Label of IPv6 entry `i`. */
  label6(i: number): string { return this.labels[this.#d.label6[i]!]!; }
  /** Prefix length of IPv4 / IPv6 entry `i`. */
  prefix4(i: number): number { return this.#d.prefix4[i]!; }
  prefix6(i: number): number { return this.#d.prefix6[i]!; }

  /** Canonical text of IPv4 entry `i`: the address for a /32, else `network/len`. */
  text4(i: number): string {
    const d = this.#d;
    let t = d.text4.get(i);
    if (t === undefined) {
      const a = d.addr4[i]!;
      t = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
      if (d.prefix4[i] !== 32) t += `/${d.prefix4[i]}`;
      d.text4.set(i, t);
    }
    return t;
  }

  /** Canonical text of IPv6 entry `i` (RFC 5952; `/len` unless 128). */
  text6(i: number): string {
    const d = this.#d;
    let t = d.text6.get(i);
    if (t === undefined) {
      const b = new Uint8Array(16);
      for (let w = 0; w < 4; w++) {
        const v = d.addr6[i * 4 + w]!;
        b[4 * w] = v >>> 24; b[4 * w + 1] = (v >>> 16) & 255; b[4 * w + 2] = (v >>> 8) & 255; b[4 * w + 3] = v & 255;
      }
      t = ipv6String(b, 0);
      if (d.prefix6[i] !== 128) t += `/${d.prefix6[i]}`;
      d.text6.set(i, t);
    }
    return t;
  }

  /** Look up one address given as text; the covering entry's indicator and label, or null. */
  find(address: string): { indicator: string; label: string } | null {
    const buf = new Uint8Array(16);
    const r = parseCidr(address, buf);
    if (r.version === 4) {
      const i = this.v4.lookupBytes(buf, 0);
      return i < 0 ? null : { indicator: this.text4(i), label: this.label4(i) };
    }
    if (r.version === 6) {
      const i = this.v6.lookupBytes(buf, 0);
      return i < 0 ? null : { indicator: this.text6(i), label: this.label6(i) };
    }
    return null;
  }
}

/** Several named lists matched together; a list can be replaced atomically (between two lookups). */
export class IndicatorSet {
  #lists: IndicatorList[] = [];
  /** Bumped on every change, so matchers can notice a reload. */
  version = 0;

  constructor(lists: Iterable<IndicatorList> = []) {
    for (const l of lists) this.add(l);
  }

  /** Load several list files at once (each named after its file). */
  static async load(paths: readonly string[], opts: Omit<ListOptions, 'name' | 'file'> = {}): Promise<IndicatorSet> {
    const lists = await Promise.all(paths.map((p) => IndicatorList.load(p, opts)));
    return new IndicatorSet(lists);
  }

  /** Current lists, in the order they were added (the array is replaced, never mutated, on change). */
  get lists(): readonly IndicatorList[] { return this.#lists; }

  /** Add a list; its name must be new. */
  add(list: IndicatorList): void {
    if (this.#lists.some((l) => l.name === list.name)) throw new FlowcarveError(ERR.IOC, `duplicate list name '${list.name}'`);
    this.#lists = [...this.#lists, list];
    this.version++;
  }

  /**
   * Swap the list called `name` for a new one — a built list, list text (any format), or entries — between two
   * lookups; adds it when absent. Records already made keep counting (they are keyed by indicator text).
   */
  replaceList(name: string, entries: IndicatorList | string | Iterable<IndicatorEntry | string>): IndicatorList {
    const list = entries instanceof IndicatorList
      ? entries
      : typeof entries === 'string' ? IndicatorList.parse(entries, { name }) : IndicatorList.fromEntries(name, entries);
    const named = list.name === name ? list : list.withName(name);
    const idx = this.#lists.findIndex((l) => l.name === name);
    const next = [...this.#lists];
    if (idx < 0) next.push(named); else next[idx] = named;
    this.#lists = next;
    this.version++;
    return named;
  }

  /** Remove the list called `name`; false when there was none. */
  removeList(name: string): boolean {
    const next = this.#lists.filter((l) => l.name !== name);
    if (next.length === this.#lists.length) return false;
    this.#lists = next;
    this.version++;
    return true;
  }

  /** Every list's problems, in list order. */
  problems(): ListProblem[] {
    return this.#lists.flatMap((l) => [...l.problems]);
  }
}

// ---------------------------------------------------------------------------------------------- formats

/** Plain list: one address/CIDR per line; `#` comments; the label follows after `,`, a tab, `;` or spaces. */
function parsePlain(text: string, b: ListBuilder): void {
  let line = 0;
  let pos = 0;
  const n = text.length;
  // Next '#' at or after the current line (-1: none left); refreshed only when passed, so the scan stays linear.
  let hash = text.indexOf('#');
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    line++;
    let s = pos, e = nl;
    pos = nl + 1;
    if (hash >= 0 && hash < s) hash = text.indexOf('#', s);
    if (hash >= 0 && hash < e) e = hash;
    while (s < e && text.charCodeAt(s) <= 32) s++;
    while (e > s && text.charCodeAt(e - 1) <= 32) e--;
    if (s === e) continue;
    let cut = e;
    for (let k = s; k < e; k++) {
      const c = text.charCodeAt(k);
      if (c === 44 || c === 9 || c === 32 || c === 59) { cut = k; break; }
    }
    let label = '';
    if (cut < e) {
      // Label = the next column: skip separators and blanks, stop at the next ',' or tab.
      let ls = cut + 1;
      for (let c = text.charCodeAt(ls); ls < e && (c <= 32 || c === 44 || c === 59); c = text.charCodeAt(++ls));
      let le = ls;
      for (let c = text.charCodeAt(le); le < e && c !== 44 && c !== 9; c = text.charCodeAt(++le));
      while (le > ls && text.charCodeAt(le - 1) <= 32) le--;
      if (le > ls) label = unquote(text.slice(ls, le));
    }
    const c0 = text.charCodeAt(s);
    b.add(c0 === 34 || c0 === 39 ? unquote(text.slice(s, cut)) : cut === e && s === 0 && e === text.length ? text : text.slice(s, cut), label, line);
  }
  b.lines = line;
}

function unquote(s: string): string {
  return s.length >= 2 && ((s[0] === '"' && s.endsWith('"')) || (s[0] === "'" && s.endsWith("'"))) ? s.slice(1, -1) : s;
}

/** Split one CSV record (RFC 4180 quoting within a line); null when a quote is left open. */
export function splitCsvLine(s: string, sep = ','): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  for (;;) {
    if (i < n && s[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) return null;
        v += s.slice(i, q);
        if (s[q + 1] === '"') { v += '"'; i = q + 2; continue; }
        i = q + 1;
        break;
      }
      const next = s.indexOf(sep, i);
      out.push(v + (next < 0 ? s.slice(i) : s.slice(i, next)).trim());
      if (next < 0) return out;
      i = next + 1;
    } else {
      const next = s.indexOf(sep, i);
      out.push((next < 0 ? s.slice(i) : s.slice(i, next)).trim());
      if (next < 0) return out;
      i = next + 1;
    }
  }
}

/** CSV with a header row naming the columns; `#` lines before the header are comments. */
function parseCsv(text: string, b: ListBuilder, opts: ListOptions): void {
  const lines = text.split('\n');
  let header: string[] | null = null;
  let col = -1, labelCol = -1;
  // Tab-separated when the header row has tabs and no commas.
  const head = lines.find((l) => l.trim() && !l.trimStart().startsWith('#')) ?? '';
  const sep = head.includes('\t') && !head.includes(',') ? '\t' : ',';
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!.replace(/\r$/, '');
    const lineNo = k + 1;
    if (!raw.trim()) continue;
    if (!header && raw.trimStart().startsWith('#')) continue;
    const fields = splitCsvLine(raw, sep);
    if (!fields) { b.problem(lineNo, 'unterminated quoted field'); continue; }
    if (!header) {
      header = fields.map((f) => f.replace(/^\uFEFF/, '').trim().toLowerCase());
      const want = opts.column?.toLowerCase();
      col = want ? header.indexOf(want) : header.findIndex((h) => ADDR_COLUMNS.includes(h));
      if (col < 0) {
        throw new FlowcarveError(ERR.IOC, want ? `CSV has no column '${opts.column}' (columns: ${header.join(', ')})`
          : `CSV has no address column (looked for ${ADDR_COLUMNS.join(', ')}; use --column)`, { file: b.file, offset: 0 });
      }
      const wantLabel = opts.labelColumn?.toLowerCase();
      labelCol = wantLabel ? header.indexOf(wantLabel) : header.findIndex((h, i) => i !== col && LABEL_COLUMNS.includes(h));
      if (wantLabel && labelCol < 0) throw new FlowcarveError(ERR.IOC, `CSV has no column '${opts.labelColumn}'`, { file: b.file, offset: 0 });
      continue;
    }
    const v = fields[col];
    if (v === undefined || v === '') { b.problem(lineNo, `no value in column '${header[col]}'`); continue; }
    b.add(v, labelCol >= 0 ? fields[labelCol] ?? '' : '', lineNo);
  }
  b.lines = lines.length;
}

const JSON_ADDR_KEYS = ['ip', 'cidr', 'address', 'addr', 'network', 'indicator', 'value', 'ioc'];
const JSON_LABEL_KEYS = ['label', 'description', 'tag', 'threat', 'name', 'comment', 'category'];

/**
 * JSON array of strings or objects ({ip|cidr|…, label|…}). Elements are delimited by a small scanner that
 * tracks nesting and strings, so each is parsed alone and a bad one is reported with its line.
 */
function parseJson(text: string, b: ListBuilder): void {
  const n = text.length;
  let i = 0;
  let line = 1;
  const skipWs = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10) { line++; i++; } else if (c === 32 || c === 9 || c === 13 || c === 0xfeff) i++; else break;
    }
  };
  skipWs();
  if (text[i] !== '[') throw new FlowcarveError(ERR.IOC, 'JSON list must be an array', { file: b.file, offset: i });
  i++;
  for (;;) {
    skipWs();
    if (i >= n) { b.problem(line, 'JSON array is not closed'); return; }
    if (text[i] === ']') return;
    const start = i, startLine = line;
    // Scan one element up to the ',' or ']' at depth 0.
    let depth = 0, inStr = false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      if (inStr) {
        if (c === 92) i++; // backslash: skip the escaped char
        else if (c === 34) inStr = false;
        continue;
      }
      if (c === 34) inStr = true;
      else if (c === 91 || c === 123) depth++;
      else if (c === 93 || c === 125) { if (depth === 0) break; depth--; }
      else if (c === 44 && depth === 0) break;
    }
    const src = text.slice(start, i).trim();
    let v: unknown;
    try {
      v = JSON.parse(src);
    } catch (e) {
      b.problem(startLine, `bad JSON element: ${(e as Error).message}`);
      v = undefined;
    }
    if (v !== undefined) {
      if (typeof v === 'string') b.add(v, '', startLine);
      else if (v && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        const key = JSON_ADDR_KEYS.find((k) => typeof o[k] === 'string');
        if (!key) b.problem(startLine, `object has no address field (${JSON_ADDR_KEYS.join('/')})`);
        else {
          const lk = JSON_LABEL_KEYS.find((k) => typeof o[k] === 'string' || typeof o[k] === 'number');
          b.add(o[key] as string, lk ? String(o[lk]) : '', startLine);
        }
      } else b.problem(startLine, `element is neither a string nor an object: ${clip(src)}`);
    }
    if (i >= n) { b.problem(line, 'JSON array is not closed'); return; }
    if (text[i] === ']') return;
    i++; // ','
  }
}

/** Text of an address (4 or 16 bytes at `o`). */
export function addrText(buf: Uint8Array, o: number, v: 4 | 6): string {
  return v === 4 ? ipv4String(buf, o) : ipv6String(buf, o);
}
