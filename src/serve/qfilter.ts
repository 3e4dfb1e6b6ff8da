// The probe manager's Lucene-like `qfilter`: `field:value` terms on dotted paths joined by AND / OR / NOT,
// parentheses, quoted values, `*` wildcards; URL-encoded or not. Parsed once into a tree, then matched per event.

import { FlowcarveError } from '../errors.js';

/** A parse error in a qfilter string (HTTP 400 in the API). */
export class QfilterError extends FlowcarveError {
  constructor(message: string, offset: number) {
    super('ERR_QFILTER', message, { offset });
  }
}

export type Query =
  | { op: 'and' | 'or'; args: Query[] }
  | { op: 'not'; arg: Query }
  | { op: 'term'; field: string; value: string; quoted: boolean }
  | { op: 'all' };

type Tok = { t: 'word' | 'quoted' | '(' | ')' | ':'; v: string; at: number };

/** Decode `%3A`-style escapes left in a filter (once more if the caller double-encoded it). */
export function decodeQfilter(raw: string): string {
  let s = raw;
  for (let k = 0; k < 2 && /%[0-9A-Fa-f]{2}/.test(s); k++) {
    try {
      s = decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      break;
    }
  }
  return s;
}

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '(' || c === ')' || c === ':') { out.push({ t: c, v: c, at: i }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      let v = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) { v += s[j + 1]; j += 2; continue; }
        v += s[j];
        j++;
      }
      if (j >= s.length) throw new QfilterError('unterminated quoted value', i);
      out.push({ t: 'quoted', v, at: i });
      i = j + 1;
      continue;
    }
    let j = i;
    let v = '';
    while (j < s.length && !' \t\n\r():"'.includes(s[j]!)) {
      if (s[j] === '\\' && j + 1 < s.length) { v += s[j + 1]; j += 2; continue; }
      v += s[j];
      j++;
    }
    out.push({ t: 'word', v, at: i });
    i = j;
  }
  return out;
}

/** Parse a qfilter (already URL-decoded by the HTTP layer; leftover escapes are decoded too). Empty → match all. */
export function parseQfilter(raw: string | undefined): Query {
  const s = decodeQfilter(raw ?? '').trim();
  if (!s) return { op: 'all' };
  const toks = tokenize(s);
  let p = 0;
  const peek = () => toks[p];
  const isKw = (k: string) => peek()?.t === 'word' && peek()!.v === k;
  const parseOr = (): Query => {
    const args = [parseAnd()];
    while (isKw('OR') || (peek()?.t === 'word' && peek()!.v === '||')) { p++; args.push(parseAnd()); }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  };
  const parseAnd = (): Query => {
    const args = [parseNot()];
    for (;;) {
      if (isKw('AND') || (peek()?.t === 'word' && peek()!.v === '&&')) { p++; args.push(parseNot()); continue; }
      const t = peek();
      // Adjacent terms without an operator are ANDed (the manager's default).
      if (t && (t.t === '(' || t.t === 'word' || t.t === 'quoted') && !isKw('OR') && t.v !== '||') { args.push(parseNot()); continue; }
      break;
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  };
  const parseNot = (): Query => {
    if (isKw('NOT') || (peek()?.t === 'word' && peek()!.v === '!')) { p++; return { op: 'not', arg: parseNot() }; }
    const t = peek();
    if (t?.t === 'word' && t.v.startsWith('-') && t.v.length > 1 && toks[p + 1]?.t === ':') {
      t.v = t.v.slice(1);
      return { op: 'not', arg: parsePrimary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Query => {
    const t = peek();
    if (!t) throw new QfilterError('unexpected end of filter', s.length);
    if (t.t === '(') {
      p++;
      const q = parseOr();
      if (peek()?.t !== ')') throw new QfilterError('missing )', peek()?.at ?? s.length);
      p++;
      return q;
    }
    if (t.t === 'word' && toks[p + 1]?.t === ':') {
      const field = t.v;
      p += 2;
      const v = peek();
      if (!v || (v.t !== 'word' && v.t !== 'quoted')) throw new QfilterError(`missing value for ${field}`, v?.at ?? s.length);
      p++;
      return { op: 'term', field, value: v.v, quoted: v.t === 'quoted' };
    }
    throw new QfilterError(`expected field:value at '${t.v}'`, t.at);
  };
  const q = parseOr();
  if (p < toks.length) throw new QfilterError(`unexpected '${toks[p]!.v}'`, toks[p]!.at);
  return q;
}

function get(obj: unknown, path: string): unknown[] {
  return getParts(obj, path.split('.'));
}

function getParts(obj: unknown, parts: readonly string[]): unknown[] {
  // Fast path: plain objects all the way down.
  let o: unknown = obj;
  let k = 0;
  for (; k < parts.length; k++) {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) break;
    o = (o as Record<string, unknown>)[parts[k]!];
  }
  if (k === parts.length) return o === undefined ? [] : Array.isArray(o) ? o : [o];
  let cur: unknown[] = [obj];
  for (const part of parts) {
    const next: unknown[] = [];
    for (const c of cur) {
      if (c === null || c === undefined) continue;
      if (Array.isArray(c)) {
        for (const e of c) if (e && typeof e === 'object' && part in (e as object)) next.push((e as Record<string, unknown>)[part]);
      } else if (typeof c === 'object' && part in (c as object)) next.push((c as Record<string, unknown>)[part]);
    }
    cur = next;
  }
  return cur.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

function valueMatches(v: unknown, want: string, quoted: boolean): boolean {
  if (v === null || v === undefined || typeof v === 'object') return false;
  const s = String(v);
  if (!quoted && want.includes('*')) {
    const re = new RegExp('^' + want.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    return re.test(s);
  }
  if (typeof v === 'boolean') return s === want.toLowerCase();
  if (typeof v === 'number') return Number(want) === v || s === want;
  return s === want;
}

/** True when `event` satisfies `q`. Bare `field:*` matches when the field exists. */
export function matchQuery(q: Query, event: unknown): boolean {
  switch (q.op) {
    case 'all': return true;
    case 'and': return q.args.every((a) => matchQuery(a, event));
    case 'or': return q.args.some((a) => matchQuery(a, event));
    case 'not': return !matchQuery(q.arg, event);
    case 'term': {
      const vals = get(event, q.field);
      if (!q.quoted && q.value === '*') return vals.length > 0;
      return vals.some((v) => valueMatches(v, q.value, q.quoted));
    }
  }
}

/** Compile `q` into a predicate (paths split and wildcards built once, for filtering many events). */
export function compileQuery(q: Query): (event: unknown) => boolean {
  switch (q.op) {
    case 'all': return () => true;
    case 'and': { const fs = q.args.map(compileQuery); return (e) => fs.every((f) => f(e)); }
    case 'or': { const fs = q.args.map(compileQuery); return (e) => fs.some((f) => f(e)); }
    case 'not': { const f = compileQuery(q.arg); return (e) => !f(e); }
    case 'term': {
      const parts = q.field.split('.');
      if (!q.quoted && q.value === '*') return (e) => getParts(e, parts).length > 0;
      const want = q.value, quoted = q.quoted;
      return (e) => getParts(e, parts).some((v) => valueMatches(v, want, quoted));
    }
  }
}
