// Renderers for indicator matches: NDJSON, CSV, a plain-text table, and a self-contained HTML page
// (inline CSS and SVG, no scripts or fonts from elsewhere) with a timeline of hits and the top indicators.

import type { IndicatorTimeline, IocRecord, IocStats } from './matcher.js';
import { formatTime } from './matcher.js';

/** Column order of CSV output (and the keys of NDJSON records). */
export const RECORD_COLUMNS = ['indicator', 'list', 'label', 'direction', 'local', 'remote', 'matched', 'first_seen', 'last_seen',
  'packets', 'bytes', 'payload_bytes', 'remote_ports', 'local_ports', 'protocols'] as const;

/** The snake_case object written per record. */
export function recordObject(r: IocRecord): Record<string, unknown> {
  return {
    indicator: r.indicator, list: r.list, label: r.label, direction: r.direction, local: r.local, remote: r.remote,
    matched: r.matched, first_seen: r.firstSeen || null, last_seen: r.lastSeen || null, packets: r.packets, bytes: r.bytes,
    payload_bytes: r.payloadBytes, remote_ports: r.remotePorts, local_ports: r.localPorts,
    ...(r.portsTruncated ? { ports_truncated: true } : {}), protocols: r.protocols,
  };
}

/** One JSON object per line. */
export function toNdjson(records: readonly IocRecord[]): string {
  let s = '';
  for (const r of records) s += JSON.stringify(recordObject(r)) + '\n';
  return s;
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header row (RECORD_COLUMNS) unless `header` is false; lists are space-separated in one field. */
export function toCsv(records: readonly IocRecord[], header = true): string {
  let s = header ? RECORD_COLUMNS.join(',') + '\n' : '';
  for (const r of records) {
    const o = recordObject(r);
    s += RECORD_COLUMNS.map((c) => csvField(o[c])).join(',') + '\n';
  }
  return s;
}

function portsText(p: readonly number[], truncated: boolean): string {
  if (!p.length) return '-';
  return p.join(',') + (truncated ? ',…' : '');
}

/** Readable fixed-width summary, most packets first (records are expected sorted). */
export function toTable(records: readonly IocRecord[], stats?: IocStats, maxRows = 1000): string {
  const head = ['PACKETS', 'DIR', 'INDICATOR', 'LIST:LABEL', 'LOCAL', 'REMOTE', 'REMOTE PORTS', 'FIRST SEEN', 'LAST SEEN'];
  const rows = records.slice(0, maxRows).map((r) => [
    String(r.packets), r.direction === 'outbound' ? 'out' : 'in', r.indicator, r.label ? `${r.list}:${r.label}` : r.list,
    r.local, r.remote, portsText(r.remotePorts, r.portsTruncated), r.firstSeen || '-', r.lastSeen || '-',
  ]);
  const w = head.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((row) => row[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  let s = line(head) + '\n';
  for (const r of rows) s += line(r) + '\n';
  if (records.length > maxRows) s += `… ${records.length - maxRows} more records\n`;
  if (stats) {
    s += `${records.length} records, ${stats.hits} hits in ${stats.packets} packets and ${stats.lines} lines`;
    if (stats.badIpLines) s += `, ${stats.badIpLines} IP lines not understood`;
    if (stats.recordsDropped) s += `, ${stats.recordsDropped} hits dropped at the record cap`;
    s += '\n';
  }
  return s;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What the HTML page shows besides records and timelines. */
export interface HtmlReportInfo {
  title?: string;
  inputs?: readonly string[];
  lists?: ReadonlyArray<{ name: string; entries: number; problems: number }>;
  stats?: IocStats;
  /** When the page was made (ISO); omitted from the page when absent, so output can be byte-stable. */
  generated?: string;
}

/** Indicators summarised from records: packets, directions, peers, first/last, per (list, indicator). */
export interface IndicatorSummary {
  list: string; indicator: string; label: string; packets: number; records: number;
  inbound: number; outbound: number; peers: number; firstUs: number; lastUs: number; dateKnown: boolean;
}

/** Group records by (list, indicator), most packets first. */
export function summariseIndicators(records: readonly IocRecord[]): IndicatorSummary[] {
  const m = new Map<string, IndicatorSummary & { peerSet: Set<string> }>();
  for (const r of records) {
    const k = `${r.list}\u0001${r.indicator}`;
    let s = m.get(k);
    if (!s) {
      s = { list: r.list, indicator: r.indicator, label: r.label, packets: 0, records: 0, inbound: 0, outbound: 0, peers: 0,
        firstUs: Infinity, lastUs: -Infinity, dateKnown: true, peerSet: new Set() };
      m.set(k, s);
    }
    s.packets += r.packets; s.records++;
    if (r.direction === 'inbound') s.inbound += r.packets; else s.outbound += r.packets;
    s.peerSet.add(r.matched === 'remote' ? r.local : r.remote);
    if (r.firstSeenUs < s.firstUs) s.firstUs = r.firstSeenUs;
    if (r.lastSeenUs > s.lastUs) s.lastUs = r.lastSeenUs;
    if (!r.dateKnown) s.dateKnown = false;
  }
  return [...m.values()].map(({ peerSet, ...s }) => ({ ...s, peers: peerSet.size }))
    .sort((a, b) => b.packets - a.packets || (a.indicator < b.indicator ? -1 : a.indicator > b.indicator ? 1 : 0));
}

/** Columns of the HTML timeline. */
export const TIMELINE_COLUMNS = 60;
/** Indicators drawn in the timeline (the rest are in the table). */
export const TIMELINE_ROWS = 20;

/** SVG timeline: one row per indicator, one bar per time bucket, bar height ∝ log(hits). */
export function timelineSvg(timelines: readonly IndicatorTimeline[]): string {
  const rows = timelines.filter((t) => t.points.length).slice(0, TIMELINE_ROWS);
  const labelW = 260, colW = 12, rowH = 26, top = 24, bottom = 28;
  const width = labelW + TIMELINE_COLUMNS * colW + 20;
  const height = top + Math.max(1, rows.length) * rowH + bottom;
  let svg = `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Timeline of indicator hits">`;
  if (!rows.length) {
    svg += `<text x="10" y="${top + 14}" class="muted">no timestamped hits</text></svg>`;
    return svg;
  }
  let t0 = Infinity, t1 = -Infinity;
  for (const r of rows) for (const [t] of r.points) { if (t < t0) t0 = t; if (t > t1) t1 = t; }
  const dateKnown = rows.every((r) => r.dateKnown);
  const span = Math.max(1, t1 - t0 + 1);
  const bucketUs = span / TIMELINE_COLUMNS;
  let max = 1;
  const grid = rows.map((r) => {
    const g = new Array<number>(TIMELINE_COLUMNS).fill(0);
    for (const [t, n] of r.points) g[Math.min(TIMELINE_COLUMNS - 1, Math.floor((t - t0) / bucketUs))]! += n;
    for (const v of g) if (v > max) max = v;
    return g;
  });
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const name = r.indicator + (r.label ? ` (${r.label})` : '');
    svg += `<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" class="lbl">${esc(name.length > 40 ? name.slice(0, 39) + '…' : name)}</text>`;
    svg += `<line x1="${labelW}" x2="${labelW + TIMELINE_COLUMNS * colW}" y1="${y + rowH - 2}" y2="${y + rowH - 2}" class="base"/>`;
    grid[i]!.forEach((n, c) => {
      if (!n) return;
      const h = Math.max(2, Math.round(((rowH - 6) * Math.log1p(n)) / Math.log1p(max)));
      const x = labelW + c * colW + 1;
      const from = formatTime(Math.floor(t0 + c * bucketUs), dateKnown);
      svg += `<rect class="bar" x="${x}" y="${y + rowH - 2 - h}" width="${colW - 2}" height="${h}"><title>${esc(r.indicator)}: ${n} packets from ${esc(from)}</title></rect>`;
    });
  });
  const yAxis = top + rows.length * rowH + 16;
  svg += `<text x="${labelW}" y="${yAxis}" class="muted">${esc(formatTime(t0, dateKnown))}</text>`;
  svg += `<text x="${labelW + TIMELINE_COLUMNS * colW}" y="${yAxis}" text-anchor="end" class="muted">${esc(formatTime(t1, dateKnown))}</text>`;
  svg += '</svg>';
  return svg;
}

const CSS = `body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2430;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}.muted{color:#6a7380;fill:#6a7380;font-size:12px}
.lbl{font-size:12px;fill:#1d2430;font-family:ui-monospace,monospace}.bar{fill:#c0392b}.base{stroke:#d5dae1}
table{border-collapse:collapse;background:#fff;font-size:13px}th,td{border:1px solid #d5dae1;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums}td.mono{font-family:ui-monospace,monospace}
.out{color:#c0392b;font-weight:600}.in{color:#2c6e9e}.stats span{margin-right:18px}svg{background:#fff;border:1px solid #d5dae1}`;

/** A complete, self-contained HTML report page. */
export function toHtml(records: readonly IocRecord[], timelines: readonly IndicatorTimeline[], info: HtmlReportInfo = {}): string {
  const title = info.title ?? 'flowcarve indicator matches';
  const inds = summariseIndicators(records);
  const st = info.stats;
  let h = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`;
  h += `<title>${esc(title)}</title><style>${CSS}</style></head><body>`;
  h += `<h1>${esc(title)}</h1>`;
  if (info.generated) h += `<div class="muted">generated ${esc(info.generated)}</div>`;
  h += '<p class="stats">';
  h += `<span><b>${inds.length}</b> indicators hit</span><span><b>${records.length}</b> records</span>`;
  if (st) h += `<span><b>${st.hits}</b> hits</span><span>${st.packets} packets, ${st.lines} lines read</span>`;
  h += '</p>';
  if (info.inputs?.length) h += `<p class="muted">inputs: ${info.inputs.map(esc).join(', ')}</p>`;
  if (info.lists?.length) h += `<p class="muted">lists: ${info.lists.map((l) => `${esc(l.name)} (${l.entries} entries${l.problems ? `, ${l.problems} bad lines` : ''})`).join(', ')}</p>`;
  h += `<h2>Timeline of hits</h2>${timelineSvg(timelines)}`;
  h += '<h2>Top indicators</h2><table id="top-indicators"><thead><tr><th>#</th><th>indicator</th><th>list</th><th>label</th><th>packets</th><th>outbound</th><th>inbound</th><th>peers</th><th>first seen</th><th>last seen</th></tr></thead><tbody>';
  inds.slice(0, 200).forEach((s, i) => {
    const f = Number.isFinite(s.firstUs) ? formatTime(s.firstUs, s.dateKnown) : '';
    const l = Number.isFinite(s.lastUs) ? formatTime(s.lastUs, s.dateKnown) : '';
    h += `<tr><td class="n">${i + 1}</td><td class="mono">${esc(s.indicator)}</td><td>${esc(s.list)}</td><td>${esc(s.label)}</td><td class="n">${s.packets}</td><td class="n">${s.outbound}</td><td class="n">${s.inbound}</td><td class="n">${s.peers}</td><td class="mono">${esc(f)}</td><td class="mono">${esc(l)}</td></tr>`;
  });
  h += '</tbody></table>';
  h += '<h2>Conversations</h2><table id="records"><thead><tr><th>packets</th><th>direction</th><th>indicator</th><th>local</th><th>remote</th><th>remote ports</th><th>bytes</th><th>first seen</th><th>last seen</th></tr></thead><tbody>';
  for (const r of records.slice(0, 1000)) {
    h += `<tr><td class="n">${r.packets}</td><td class="${r.direction === 'outbound' ? 'out' : 'in'}">${r.direction}</td><td class="mono">${esc(r.indicator)}</td><td class="mono">${esc(r.local)}</td><td class="mono">${esc(r.remote)}</td><td class="mono">${esc(portsText(r.remotePorts, r.portsTruncated))}</td><td class="n">${r.bytes ?? ''}</td><td class="mono">${esc(r.firstSeen)}</td><td class="mono">${esc(r.lastSeen)}</td></tr>`;
  }
  h += '</tbody></table>';
  if (records.length > 1000) h += `<p class="muted">${records.length - 1000} more records not shown</p>`;
  h += '</body></html>\n';
  return h;
}
