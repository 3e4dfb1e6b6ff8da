// EVE input: Suricata eve.json as JSON Lines (any size, gzip or plain, mixed event types) split by hand and
// parsed with JSON.parse, and JSON documents (one alert object, an array, or an API `{"results": [...]}`
// response) streamed with stream-json. Memory stays bounded: one chunk, one line (capped), one element.
// A malformed line is reported with its line number and skipped; nothing else is lost.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import streamJson from 'stream-json';
import Assembler from 'stream-json/Assembler.js';
import { ERR, FlowcarveError } from '../errors.js';
import { toAlert, type Alert } from './alert.js';

/** Longest JSON line accepted (a longer one is reported and skipped, never buffered whole). */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;
/** Cap on the tokens of one JSON-document element (a bigger element is reported and the document abandoned). */
export const MAX_ELEMENT_TOKENS = 4 * 1024 * 1024;

/** A line or element that could not be used. */
export interface EveProblem {
  source: string;
  /** 1-based line (JSON Lines) or 0-based element index (documents, with `element: true`). */
  line: number;
  element?: boolean;
  message: string;
}

export interface EveReadOptions {
  /** Parse only lines that can be alerts (`"event_type":"alert"`); other well-shaped lines are skipped unparsed. */
  alertsOnly?: boolean;
  /** Called for every malformed line/element (default: collected by the caller of loadAlerts). */
  onProblem?: (p: EveProblem) => void;
  /** Longest line (characters) accepted; default MAX_LINE_CHARS. */
  maxLineChars?: number;
}

/** One parsed event with its position and the exact text of its top-level flow_id, if any. */
export interface EveEvent {
  obj: Record<string, unknown>;
  line: number;
  rawFlowId?: string;
}

/** Counters of one read. */
export interface EveStats {
  lines: number;
  parsed: number;
  skipped: number;
  malformed: number;
  format: 'jsonl' | 'document' | 'empty';
}

const FLOW_ID_RE = /"flow_id"\s*:\s*(-?\d+)/;
/** Every alert line holds `"alert"` (its event_type value and its alert object's key), compact or spaced. */
const ALERT_NEEDLE = Buffer.from('"alert"');

async function openBytes(input: string | Readable, name: string): Promise<AsyncIterator<Buffer>> {
  let raw: Readable;
  if (typeof input === 'string') {
    if (input === '-') raw = process.stdin;
    else {
      try { await stat(input); } catch (e) {
        throw new FlowcarveError(ERR.EVE, `cannot open EVE input: ${(e as Error).message}`, { file: name, cause: e });
      }
      raw = createReadStream(input, { highWaterMark: 1 << 20 });
    }
  } else raw = input;
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done) return it;
  const head = first.value as Buffer;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gz = createGunzip();
    (async () => {
      try {
        if (!gz.write(head)) await new Promise((r) => gz.once('drain', r));
        for (let r = await it.next(); !r.done; r = await it.next()) if (!gz.write(r.value)) await new Promise((res) => gz.once('drain', res));
        gz.end();
      } catch (e) { gz.destroy(e as Error); }
    })();
    return gz[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  let pushedBack: Buffer | null = head;
  return {
    next: async () => {
      if (pushedBack) { const v = pushedBack; pushedBack = null; return { done: false, value: v }; }
      return it.next();
    },
  };
}

/**
 * Read every event of one EVE input (path, '-' or stream), in batches (one per input chunk). JSON Lines are
 * split on newline bytes and each line decoded and JSON.parse'd on its own; a document (`[...]`, a multi-line
 * object, `{"results": [...]}`) is streamed element by element through stream-json.
 */
export async function* readEveBatches(input: string | Readable, opts: EveReadOptions = {}, stats?: EveStats, name?: string): AsyncGenerator<EveEvent[]> {
  const source = name ?? (typeof input === 'string' ? input : '<stream>');
  const st: EveStats = stats ?? { lines: 0, parsed: 0, skipped: 0, malformed: 0, format: 'empty' };
  const report = (line: number, message: string, element = false) => {
    st.malformed++;
    opts.onProblem?.({ source, line, message, ...(element ? { element } : {}) });
  };
  const it = await openBytes(input, source);
  // Sniff: the first non-blank byte and whether the first line is a JSON value by itself.
  const held: Buffer[] = [];
  let heldLen = 0;
  let ended = false;
  let first = -1;
  while (true) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    const b = r.value as Buffer;
    held.push(b);
    heldLen += b.length;
    if (first < 0) {
      let k = 0;
      while (k < b.length && b[k]! <= 32) k++;
      if (k < b.length) first = heldLen - b.length + k;
    }
    if (first >= 0 && (b.indexOf(10) >= 0 || heldLen > 1 << 20)) break;
  }
  if (first < 0) { st.format = 'empty'; return; }
  const head = held.length === 1 ? held[0]! : Buffer.concat(held);
  let isDoc = head[first] === 0x5b; // [
  if (!isDoc && head[first] === 0x7b) { // {
    const nl = head.indexOf(10, first);
    try { JSON.parse(head.toString('utf8', first, nl < 0 ? head.length : nl)); } catch { isDoc = true; }
  }
  async function* buffers(): AsyncGenerator<Buffer> {
    yield head;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  }
  if (isDoc) {
    st.format = 'document';
    const dec = new StringDecoder('utf8');
    async function* texts(): AsyncGenerator<string> {
      for await (const b of buffers()) yield dec.write(b);
      const tail = dec.end();
      if (tail) yield tail;
    }
    for await (const ev of readDocument(texts(), st, report)) yield [ev];
    return;
  }
  st.format = 'jsonl';
  const maxLine = opts.maxLineChars ?? MAX_LINE_CHARS;
  const alertsOnly = !!opts.alertsOnly;
  let carry: Buffer | null = null;
  let lineNo = 0;
  let skipping = false;
  /** Handle line buf[s, e) (newline excluded); push its event(s) to `out`. */
  const handle = (buf: Buffer, s: number, e: number, out: EveEvent[], maybeAlert: boolean): void => {
    lineNo++;
    st.lines++;
    while (s < e && buf[s]! <= 32) s++;
    while (e > s && buf[e - 1]! <= 32) e--;
    if (s === e) return;
    if (e - s > maxLine) { report(lineNo, `line longer than ${maxLine} characters: skipped`); return; }
    if (buf[s] !== 0x7b || buf[e - 1] !== 0x7d) { report(lineNo, 'not a JSON object (truncated line?)'); return; }
    if (!maybeAlert) { st.skipped++; return; }
    const line = buf.toString('utf8', s, e);
    let obj: unknown;
    try { obj = JSON.parse(line); } catch (err) { report(lineNo, (err as Error).message); return; }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) { report(lineNo, 'not a JSON object'); return; }
    st.parsed++;
    const o = obj as Record<string, unknown>;
    // An API response on one line: its results are the events.
    if (Array.isArray(o.results) && o.event_type === undefined) {
      for (const r of o.results as unknown[]) if (r && typeof r === 'object') out.push({ obj: r as Record<string, unknown>, line: lineNo });
      return;
    }
    const m = o.flow_id !== undefined ? FLOW_ID_RE.exec(line) : null;
    out.push(m ? { obj: o, line: lineNo, rawFlowId: m[1]! } : { obj: o, line: lineNo });
  };
  for await (const chunk of buffers()) {
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = null;
    const out: EveEvent[] = [];
    let pos = 0;
    // With alertsOnly, lines before the next `"alert"` are only shape-checked (memchr/memmem speed).
    let hit = alertsOnly ? buf.indexOf(ALERT_NEEDLE, 0) : 0;
    while (true) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      if (skipping) { skipping = false; lineNo++; st.lines++; pos = nl + 1; continue; }
      let maybe = true;
      if (alertsOnly) {
        if (hit >= 0 && hit < pos) hit = buf.indexOf(ALERT_NEEDLE, pos);
        maybe = hit >= 0 && hit < nl;
      }
      handle(buf, pos, nl, out, maybe);
      pos = nl + 1;
    }
    if (!skipping && pos < buf.length) {
      if (buf.length - pos > maxLine) {
        report(lineNo + 1, `line longer than ${maxLine} characters: skipped`);
        skipping = true;
      } else carry = Buffer.from(buf.subarray(pos));
    }
    if (out.length) yield out;
  }
  if (!skipping && carry && carry.length) {
    const out: EveEvent[] = [];
    handle(carry, 0, carry.length, out, !alertsOnly || carry.indexOf(ALERT_NEEDLE) >= 0);
    if (out.length) yield out;
  }
}

/** Read every event of one EVE input one by one (see readEveBatches). */
export async function* readEve(input: string | Readable, opts: EveReadOptions = {}, stats?: EveStats, name?: string): AsyncGenerator<EveEvent> {
  for await (const batch of readEveBatches(input, opts, stats, name)) yield* batch;
}

/** An Assembler that keeps numbers as their text (64-bit ids stay exact). */
function newAsm(): Assembler {
  return new Assembler({ numberAsString: true } as never);
}

/** Stream a JSON document's elements: top-level array items, `results` items, or the top-level objects themselves. */
async function* readDocument(texts: AsyncGenerator<string>, st: EveStats, report: (line: number, msg: string, el?: boolean) => void): AsyncGenerator<EveEvent> {
  const parser = streamJson({ jsonStreaming: true, packValues: true, streamValues: false });
  const src = Readable.from(texts, { objectMode: false });
  src.on('error', (e) => parser.destroy(e));
  src.pipe(parser);
  let depth = 0;
  let topArray = false;
  let topAsm: Assembler | null = null;
  let topKey: string | null = null;
  let inResults = false;
  let sawResults = false;
  let item: Assembler | null = null;
  let itemTokens = 0;
  let index = 0;
  try {
    for await (const tok of parser as AsyncIterable<{ name: string; value?: unknown }>) {
      const n = tok.name;
      if (item) {
        if (++itemTokens > MAX_ELEMENT_TOKENS) throw new Error(`element ${index} exceeds ${MAX_ELEMENT_TOKENS} tokens`);
        item.consume(tok as never);
        if (n === 'startObject' || n === 'startArray') depth++;
        else if (n === 'endObject' || n === 'endArray') depth--;
        if (item.done) {
          const v = item.current as unknown;
          item = null;
          st.lines++;
          if (v && typeof v === 'object' && !Array.isArray(v)) { st.parsed++; yield { obj: v as Record<string, unknown>, line: index }; }
          else report(index, 'element is not an object', true);
          index++;
        }
        continue;
      }
      if (depth === 0) {
        if (n === 'startArray') { topArray = true; depth = 1; continue; }
        if (n === 'startObject') { topAsm = newAsm(); topAsm.consume(tok as never); depth = 1; sawResults = false; continue; }
        continue;
      }
      if (topArray && depth === 1) {
        if (n === 'endArray') { depth = 0; topArray = false; continue; }
        if (n === 'startObject' || n === 'startArray') { item = newAsm(); itemTokens = 1; item.consume(tok as never); depth++; continue; }
        // a scalar element
        st.lines++; report(index++, 'element is not an object', true);
        continue;
      }
      if (inResults && depth === 2) {
        if (n === 'endArray') { inResults = false; depth = 1; continue; }
        if (n === 'startObject' || n === 'startArray') { item = newAsm(); itemTokens = 1; item.consume(tok as never); depth++; continue; }
        st.lines++; report(index++, 'element is not an object', true);
        continue;
      }
      // Inside the top-level object, outside `results`.
      if (depth === 1 && n === 'keyValue') topKey = tok.value as string;
      if (depth === 1 && n === 'startArray' && topKey === 'results') {
        inResults = true; sawResults = true; depth = 2;
        topAsm!.consume({ name: 'nullValue', value: null } as never);
        continue;
      }
      if (++itemTokens > MAX_ELEMENT_TOKENS) throw new Error(`top-level object exceeds ${MAX_ELEMENT_TOKENS} tokens`);
      topAsm!.consume(tok as never);
      if (n === 'startObject' || n === 'startArray') depth++;
      else if (n === 'endObject' || n === 'endArray') depth--;
      if (depth === 0) {
        const v = topAsm!.current as Record<string, unknown>;
        topAsm = null;
        itemTokens = 0;
        if (!sawResults) { st.lines++; st.parsed++; yield { obj: v, line: index++ }; }
      }
    }
  } catch (e) {
    report(index, `JSON document: ${(e as Error).message}`, true);
  } finally {
    src.destroy();
  }
}

/** Read the alerts of one or more EVE inputs (other event types skipped); problems are collected, not thrown. */
export async function loadAlerts(inputs: readonly string[], opts: { alertsOnly?: boolean } = {}): Promise<{ alerts: Alert[]; problems: EveProblem[]; stats: EveStats[] }> {
  const alerts: Alert[] = [];
  const problems: EveProblem[] = [];
  const stats: EveStats[] = [];
  for (const input of inputs) {
    const st: EveStats = { lines: 0, parsed: 0, skipped: 0, malformed: 0, format: 'empty' };
    for await (const batch of readEveBatches(input, { alertsOnly: opts.alertsOnly ?? true, onProblem: (p) => problems.push(p) }, st)) {
      for (const ev of batch) {
        const a = toAlert(ev.obj, ev.rawFlowId);
        if (!a) continue;
        a.source = input;
        a.line = ev.line;
        alerts.push(a);
      }
    }
    stats.push(st);
  }
  return { alerts, problems, stats };
}
