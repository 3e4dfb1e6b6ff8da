// Event index of one probe: EVE JSON lines loaded from its eve files, kept as raw text (exact 64-bit flow ids)
// plus a parsed copy for filtering. Reloaded when a file grows; capped at `maxEvents` (oldest dropped, counted).

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { compileQuery, type Query } from './qfilter.js';

/** One stored event: its raw JSON text with `host` set, the parsed object (big integers as strings) and its time. */
export interface StoredEvent {
  raw: string;
  obj: Record<string, unknown>;
  ts: number;
  seq: number;
}

// Integers longer than 15 digits lose precision in JS numbers: quote them for filtering (raw text stays exact).
const BIG_INT = /("(?:[^"\\]|\\.)*"\s*:\s*)(-?\d{16,})(?=\s*[,}\]])/g;

/** Parse one EVE line into a StoredEvent for probe `host`; null for blank or malformed lines. */
export function parseEveLine(line: string, host: string, seq: number): StoredEvent | null {
  const t = line.trim();
  if (!t.startsWith('{')) return null;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(t.replace(BIG_INT, '$1"$2"')) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return null;
  let raw = t;
  if (obj.host === undefined) {
    obj.host = host;
    raw = `{"host":${JSON.stringify(host)},` + t.slice(1).replace(/^\s*}$/, '}');
    if (raw.endsWith(',}')) raw = raw.slice(0, -2) + '}';
  }
  const ts = typeof obj.timestamp === 'string' ? Date.parse(String(obj.timestamp).replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : NaN;
  return { raw, obj, ts: Number.isNaN(ts) ? 0 : ts, seq };
}

/** Events of one probe, loaded from its EVE files. */
export class ProbeEvents {
  readonly host: string;
  readonly files: string[];
  readonly maxEvents: number;
  events: StoredEvent[] = [];
  dropped = 0;
  malformed = 0;
  #sizes = new Map<string, number>();
  #seq = 0;

  constructor(host: string, files: string[], maxEvents = 1_000_000) {
    this.host = host;
    this.files = files;
    this.maxEvents = maxEvents;
  }

  /** Re-read files whose size changed since the last load (whole file: EVE files are append-only or rotated). */
  async refresh(): Promise<void> {
    let changed = false;
    for (const f of this.files) {
      let size: number;
      try {
        size = (await stat(f)).size;
      } catch {
        size = -1;
      }
      if (this.#sizes.get(f) !== size) { changed = true; this.#sizes.set(f, size); }
    }
    if (!changed) return;
    const all: StoredEvent[] = [];
    this.malformed = 0;
    this.#seq = 0;
    for (const f of this.files) {
      if ((this.#sizes.get(f) ?? -1) < 0) continue;
      const src = createReadStream(f);
      const input = f.endsWith('.gz') ? src.pipe(createGunzip()) : src;
      const rl = createInterface({ input, crlfDelay: Infinity });
      for await (const line of rl) {
        if (!line.trim()) continue;
        const e = parseEveLine(line, this.host, this.#seq++);
        if (!e) { this.malformed++; continue; }
        all.push(e);
        if (all.length > this.maxEvents * 2) this.dropped += all.splice(0, all.length - this.maxEvents).length;
      }
    }
    if (all.length > this.maxEvents) this.dropped += all.splice(0, all.length - this.maxEvents).length;
    all.sort(newestFirst);
    this.events = all;
  }
}

/** Events of all probes matching `q` (and `type` when given), newest first, paged (page is 1-based). */
export function queryEvents(probes: ProbeEvents[], q: Query, o: { type?: string; page: number; pageSize: number }): { count: number; results: StoredEvent[] } {
  const match = compileQuery(q);
  const hits: StoredEvent[] = [];
  for (const p of probes) {
    for (const e of p.events) {
      if (o.type && e.obj.event_type !== o.type) continue;
      if (match(e.obj)) hits.push(e);
    }
  }
  // Each probe's events are kept newest first; only a multi-probe answer needs a merge.
  if (probes.length > 1) hits.sort(newestFirst);
  const from = (o.page - 1) * o.pageSize;
  return { count: hits.length, results: hits.slice(from, from + o.pageSize) };
}

function newestFirst(a: StoredEvent, b: StoredEvent): number {
  return b.ts - a.ts || b.seq - a.seq;
}
