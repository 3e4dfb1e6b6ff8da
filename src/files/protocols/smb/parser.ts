// SMB 1/2/3 file extraction, following what Suricata reports: NetBIOS session framing (4-byte header) across
// segments; SMB2/3 NEGOTIATE (dialect), TREE_CONNECT (share, pipe or disk), CREATE (name ↔ FileId, matched by
// MessageId), READ (offset from the request, matched by MessageId; out of order and multi-credit), WRITE,
// compounded chains (NextCommand, related FileIds), CLOSE / STATUS_END_OF_FILE finishing a file; SMB1
// NT_CREATE_ANDX, READ_ANDX, WRITE_ANDX (data offsets and padding), CLOSE, AndX chains. SMB3 transform headers
// (encrypted 0xFD 'SMB', compressed 0xFC 'SMB') are reported through ctx.note and skipped, never decoded.
// Owns the per-flow maps (bounded), the file transactions, and the `smb` fileinfo metadata.

import type { Direction, FileHandle, ProtocolContext, ProtocolParser } from '../contract.js';

/** Largest NetBIOS PDU reassembled (SMB2 multi-credit reads reach 8 MiB); larger ones are skipped. */
export const SMB_MAX_PDU = 16 * 1024 * 1024 + 65536;
/** Entries per lookup map (names, trees, outstanding requests); the oldest is evicted beyond. */
export const SMB_MAX_MAP = 4096;
/** Open file transactions per flow; the oldest is finished beyond (TRUNCATED). */
export const SMB_MAX_OPEN_FILES = 1024;

const SMB2_CMDS = ['NEGOTIATE_PROTOCOL', 'SESSION_SETUP', 'SESSION_LOGOFF', 'TREE_CONNECT', 'TREE_DISCONNECT', 'CREATE', 'CLOSE', 'FLUSH', 'READ', 'WRITE', 'LOCK', 'IOCTL', 'CANCEL', 'KEEPALIVE', 'FIND', 'CHANGE_NOTIFY', 'GET_INFO', 'SET_INFO', 'OPLOCK_BREAK'];
const STATUS_NAMES: Record<number, string> = { 0: 'STATUS_SUCCESS', 0xc0000011: 'STATUS_END_OF_FILE', 0x80000005: 'STATUS_BUFFER_OVERFLOW', 0x00000103: 'STATUS_PENDING', 0xc0000022: 'STATUS_ACCESS_DENIED', 0xc0000034: 'STATUS_OBJECT_NAME_NOT_FOUND', 0xc0000016: 'STATUS_MORE_PROCESSING_REQUIRED', 0x80000006: 'STATUS_NO_MORE_FILES' };
const STATUS_SUCCESS = 0, STATUS_END_OF_FILE = 0xc0000011, STATUS_BUFFER_OVERFLOW = 0x80000005;

/** SMB2 dialect revision as Suricata prints it. */
export function smb2DialectName(d: number): string {
  const m: Record<number, string> = { 0x0202: '2.02', 0x0210: '2.10', 0x0222: '2.22', 0x0224: '2.24', 0x02ff: '2.??', 0x0300: '3.00', 0x0302: '3.02', 0x0310: '3.10', 0x0311: '3.11' };
  return m[d] ?? String(d);
}

/** A 16-byte SMB2 FileId as Suricata's `fuid` (GUID layout); a 2-byte SMB1 FID as 4 hex digits. */
export function fuidString(g: Uint8Array): string {
  const h = (i: number) => g[i]!.toString(16).padStart(2, '0');
  if (g.length === 2) return h(1) + h(0);
  if (g.length !== 16) return '';
  return `${h(3)}${h(2)}${h(1)}${h(0)}-${h(5)}${h(4)}-${h(7)}${h(6)}-${h(9)}${h(8)}-${h(11)}${h(10)}${h(15)}${h(14)}${h(13)}${h(12)}`;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 0x100000000;
const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const utf16 = new TextDecoder('utf-16le');
const latin1 = new TextDecoder('latin1');

/** UTF-16LE string without trailing NULs. */
function ucs2(b: Uint8Array): string {
  let n = b.length & ~1;
  while (n >= 2 && b[n - 1] === 0 && b[n - 2] === 0) n -= 2;
  return utf16.decode(b.subarray(0, n));
}

/** Bounded insertion-ordered map (oldest evicted). */
class Lru<V> {
  readonly m = new Map<string, V>();
  /** Insert or refresh `k`; evicts the oldest entry beyond SMB_MAX_MAP. */
  set(k: string, v: V): void { this.m.delete(k); this.m.set(k, v); if (this.m.size > SMB_MAX_MAP) this.m.delete(this.m.keys().next().value as string); }
  get(k: string): V | undefined { return this.m.get(k); }
  take(k: string): V | undefined { const v = this.m.get(k); this.m.delete(k); return v; }
  delete(k: string): void { this.m.delete(k); }
}

interface Tree { name: string; pipe: boolean }
/** A READ awaiting its response; `createKey` names the CREATE of the same chain when the FileId is the related-operation placeholder. */
interface ReadReq { fid: Uint8Array; offset: number; createKey: string | null }

/** One file transfer (one FileId, one direction), Suricata's SMB file transaction. */
interface FileTx {
  key: string;
  id: number;
  dir: Direction;
  fid: Uint8Array;
  name: string;
  share: string;
  version: 1 | 2;
  command: string;
  sessionId: number;
  treeId: number;
  status: number | null;
  h: FileHandle;
}

const ALL_FF = (g: Uint8Array) => g.every((v) => v === 0xff);
const DCERPC = (d: Uint8Array) => d.length >= 16 && d[0] === 5 && (d[1] === 0 || d[1] === 1) && d[2]! <= 20;

/** NetBIOS framing for one direction: whole PDUs out, resynchronisation after a gap. */
class Nbss {
  #hdr = new Uint8Array(4);
  #hdrLen = 0;
  #left = 0;
  #type = 0;
  #parts: Uint8Array[] = [];
  #skip = false;
  #lost = false;
  #tail = new Uint8Array(0);
  oversized = 0;
  constructor(private readonly onPdu: (pdu: Uint8Array) => void, private readonly onOversize: () => void) {}

  /** Feed in-order bytes; whole PDUs go to onPdu (views valid during the call). */
  push(bytes: Uint8Array): void {
    let b = bytes;
    if (this.#lost) {
      const j = this.#tail.length ? Buffer.concat([this.#tail, b]) : b;
      const at = findSmbHeader(j);
      if (at < 0) { this.#tail = j.slice(Math.max(0, j.length - 7)); return; }
      this.#lost = false; this.#tail = new Uint8Array(0);
      b = j.subarray(at);
    }
    let i = 0;
    while (i < b.length) {
      if (this.#left === 0 && this.#parts.length === 0 && !this.#skip) {
        const take = Math.min(4 - this.#hdrLen, b.length - i);
        this.#hdr.set(b.subarray(i, i + take), this.#hdrLen);
        this.#hdrLen += take; i += take;
        if (this.#hdrLen < 4) return;
        this.#hdrLen = 0;
        this.#type = this.#hdr[0]!;
        this.#left = (this.#hdr[1]! << 16) | (this.#hdr[2]! << 8) | this.#hdr[3]!;
        if (this.#type !== 0) this.#left &= 0x1ffff;
        this.#skip = this.#type !== 0 || this.#left > SMB_MAX_PDU;
        if (this.#type === 0 && this.#left > SMB_MAX_PDU) { this.oversized++; this.onOversize(); }
        if (this.#left === 0) { this.#skip = false; continue; }
        // Whole PDU inside this chunk: hand out a view, no copy.
        if (!this.#skip && b.length - i >= this.#left) {
          const pdu = b.subarray(i, i + this.#left);
          i += this.#left; this.#left = 0;
          this.onPdu(pdu);
          continue;
        }
      }
      const take = Math.min(this.#left, b.length - i);
      if (!this.#skip) this.#parts.push(b.slice(i, i + take));
      this.#left -= take; i += take;
      if (this.#left === 0) {
        if (!this.#skip) { const pdu = Buffer.concat(this.#parts); this.#parts = []; this.onPdu(pdu); }
        this.#skip = false;
      }
    }
  }

  /** Bytes were lost: drop the PDU in progress, scan for the next NBSS + SMB header. */
  gap(): void { this.#parts = []; this.#left = 0; this.#hdrLen = 0; this.#skip = false; this.#lost = true; this.#tail = new Uint8Array(0); }
}

/** Offset of an NBSS session-message header followed by an SMB1/2/3 protocol id, or -1. */
function findSmbHeader(b: Uint8Array): number {
  for (let k = 0; k + 8 <= b.length; k++) {
    if (b[k] !== 0 || b[k + 5] !== 0x53 || b[k + 6] !== 0x4d || b[k + 7] !== 0x42) continue;
    const p = b[k + 4]!;
    if (p === 0xff || p === 0xfe || p === 0xfd || p === 0xfc) return k;
  }
  return -1;
}

/** Per-flow SMB state machine. */
export class SmbParser implements ProtocolParser {
  readonly #ctx: ProtocolContext;
  readonly #nb: [Nbss, Nbss];
  /** SMB2: "ssn:msg" → CREATE name; FileId hex → name; "ssn:tree" → tree; "ssn:msg" → READ request; "ssn:msg" → TREE_CONNECT path. */
  readonly #createNames = new Lru<string>();
  readonly #fidNames = new Lru<string>();
  readonly #trees = new Lru<Tree>();
  readonly #reads = new Lru<ReadReq>();
  readonly #treeReqs = new Lru<string>();
  /** SMB1: "pid:mid" → NT_CREATE name / READ_ANDX (fid, offset) / TREE_CONNECT path. */
  readonly #files = new Map<string, FileTx>();
  #dialect = 0;
  #dialect1: string | null = null;
  #dialects1: string[] = [];
  #txCount = 0;
  #encrypted = 0;
  /** Related operations (compounds whose FileId is all 0xFF): the CREATE of the request chain being read, the
   *  FileId each CREATE response gave ("ssn:msg" of the CREATE), writes opened before it, closes awaiting it. */
  #reqCreateKey: string | null = null;
  #placeholders = 0;
  readonly #createFids = new Lru<Uint8Array>();
  readonly #pendingWrites = new Lru<string>();
  readonly #pendingCloses = new Lru<string>();
  readonly stats = { pdus: 0, smb1: 0, smb2: 0, encrypted: 0, compressed: 0, malformed: 0, files: 0 };

  constructor(ctx: ProtocolContext) {
    this.#ctx = ctx;
    const big = () => ctx.note('smb-pdu-oversized');
    this.#nb = [new Nbss((p) => this.#pdu(0, p), big), new Nbss((p) => this.#pdu(1, p), big)];
  }

  /** In-order bytes of one direction (any segmentation). */
  data(dir: Direction, bytes: Uint8Array): void { this.#nb[dir].push(bytes); }

  /** `len` bytes lost in `dir`: the PDU in progress is dropped and framing resynchronises on the next SMB header. */
  gap(dir: Direction, len: number): void {
    this.#nb[dir].gap();
    this.#ctx.note('smb-gap', { dir, len });
  }

  /** Flow end: every open file finishes. */
  close(): void {
    // Files still open at flow end never saw CLOSE / END_OF_FILE: TRUNCATED (as Suricata).
    for (const f of [...this.#files.values()]) this.#finish(f, 'TRUNCATED');
  }

  #pdu(dir: Direction, p: Uint8Array): void {
    this.stats.pdus++;
    if (p.length < 4 || p[1] !== 0x53 || p[2] !== 0x4d || p[3] !== 0x42) { this.stats.malformed++; return; }
    switch (p[0]) {
      case 0xfe: this.stats.smb2++; this.#smb2(dir, p); return;
      case 0xff: this.stats.smb1++; this.#smb1(p); return;
      case 0xfd: {
        this.stats.encrypted++;
        if (this.#encrypted++ === 0) this.#ctx.note('smb3-encrypted', { session_id: p.length >= 52 ? u64(p, 44) : 0, dialect: this.#dialectName() });
        return;
      }
      case 0xfc: this.stats.compressed++; if (this.stats.compressed === 1) this.#ctx.note('smb3-compressed'); return;
      default: this.stats.malformed++;
    }
  }

  #dialectName(): string { return this.#dialect ? smb2DialectName(this.#dialect) : this.#dialect1 ?? 'unknown'; }

  // ---------------------------------------------------------------- SMB2/3

  #smb2(dir: Direction, pdu: Uint8Array): void {
    let off = 0;
    this.#reqCreateKey = null;
    for (let guard = 0; guard < 64; guard++) {
      if (pdu.length - off < 64 || pdu[off] !== 0xfe) { this.stats.malformed++; return; }
      const next = u32(pdu, off + 20);
      const end = next ? off + next : pdu.length;
      if (end > pdu.length || (next && next < 64)) { this.stats.malformed++; return; }
      // Offsets inside a message (DataOffset, NameOffset) count from its own header.
      this.#smb2Msg(dir, pdu.subarray(off, end));
      if (!next) return;
      off = end;
    }
  }

  #smb2Msg(dir: Direction, m: Uint8Array): void {
    const status = u32(m, 8);
    const cmd = u16(m, 12);
    const flags = u32(m, 16);
    const response = (flags & 1) !== 0;
    const related = (flags & 4) !== 0;
    const msgId = u64(m, 24);
    const treeId = flags & 2 ? 0 : u32(m, 36);
    const sessionId = u64(m, 40);
    const b = 64;
    const mk = `${sessionId}:${msgId}`;
    if (m.length < b + 2) return;
    if (!response) {
      if (cmd !== 8 && cmd !== 9 && cmd !== 16 && cmd !== 17) this.#txCount++;
      switch (cmd) {
        case 3: { // TREE_CONNECT request: path
          if (m.length < b + 8) return;
          const po = u16(m, b + 4), pl = u16(m, b + 6);
          if (po + pl <= m.length) this.#treeReqs.set(mk, ucs2(m.subarray(po, po + pl)));
          return;
        }
        case 4: this.#trees.delete(`${sessionId}:${treeId}`); return; // TREE_DISCONNECT
        case 5: { // CREATE request: name
          this.#reqCreateKey = mk;
          if (m.length < b + 48) return;
          const no = u16(m, b + 44), nl = u16(m, b + 46);
          if (no + nl <= m.length) this.#createNames.set(mk, ucs2(m.subarray(no, no + nl)));
          return;
        }
        case 6: { // CLOSE: finishes both directions' files of this FileId
          if (m.length < b + 24) return;
          const fid = m.subarray(b + 8, b + 24);
          // Related CLOSE after a CREATE in this chain: its FileId is known only from the CREATE response.
          if (related && ALL_FF(fid) && this.#reqCreateKey) { this.#pendingCloses.set(mk, this.#reqCreateKey); return; }
          this.#closeFid(hexOf(fid));
          return;
        }
        case 8: { // READ request: remember offset and FileId for the response
          if (m.length < b + 32) return;
          const ph = related && ALL_FF(m.subarray(b + 16, b + 32));
          this.#reads.set(mk, { fid: m.slice(b + 16, b + 32), offset: u64(m, b + 8), createKey: ph ? this.#reqCreateKey : null });
          return;
        }
        case 9: { // WRITE request: data at DataOffset
          if (m.length < b + 32) return;
          const dofs = u16(m, b + 2), len = u32(m, b + 4), offset = u64(m, b + 8);
          const fid = m.subarray(b + 16, b + 32);
          const data = m.subarray(Math.min(dofs, m.length), Math.min(m.length, dofs + len));
          if (data.length < len) this.#ctx.note('smb-write-short', { missing: len - data.length });
          const ck = related && ALL_FF(fid) ? this.#reqCreateKey : null;
          const f = this.#fileData(0, ck ? this.#placeholder() : fid, offset, data, 2, 'SMB2_COMMAND_WRITE', sessionId, treeId, ck ? this.#createNames.get(ck) ?? null : null);
          if (ck && f) this.#pendingWrites.set(ck, f.key);
          return;
        }
      }
      return;
    }
    switch (cmd) {
      case 0: if (m.length >= b + 6) this.#dialect = u16(m, b + 4); return; // NEGOTIATE response
      case 3: { // TREE_CONNECT response: share type 2 = pipe
        const path = this.#treeReqs.take(mk);
        if (status !== STATUS_SUCCESS || path === undefined || m.length < b + 3) return;
        this.#trees.set(`${sessionId}:${treeId}`, { name: path, pipe: m[b + 2] === 2 });
        return;
      }
      case 5: { // CREATE response: FileId ↔ name
        const name = this.#createNames.take(mk);
        if (status !== STATUS_SUCCESS || m.length < b + 80) return;
        const fid = m.slice(b + 64, b + 80);
        this.#createFids.set(mk, fid);
        if (name !== undefined) this.#fidNames.set(hexOf(fid), name);
        // A related WRITE opened its file before the FileId was known: file it under the real FileId now.
        const wk = this.#pendingWrites.take(mk);
        const wf = wk ? this.#files.get(wk) : undefined;
        if (wf) { this.#files.delete(wf.key); wf.fid = fid; wf.key = `0:${hexOf(fid)}`; this.#files.set(wf.key, wf); }
        return;
      }
      case 6: { // CLOSE response of a related CLOSE
        const ck = this.#pendingCloses.take(mk);
        const fid = ck ? this.#createFids.get(ck) : undefined;
        if (fid && status === STATUS_SUCCESS) this.#closeFid(hexOf(fid));
        return;
      }
      case 8: { // READ response
        const rq = this.#reads.take(mk);
        if (!rq) return;
        const fid = rq.createKey ? this.#createFids.get(rq.createKey) ?? rq.fid : rq.fid;
        if (status === STATUS_END_OF_FILE) {
          const f = this.#files.get(`1:${hexOf(fid)}`);
          if (f) { f.status = STATUS_END_OF_FILE; this.#finish(f); }
          return;
        }
        if ((status !== STATUS_SUCCESS && status !== STATUS_BUFFER_OVERFLOW) || m.length < b + 8) return;
        const dofs = m[b + 2]!, len = u32(m, b + 4);
        const data = m.subarray(Math.min(dofs, m.length), Math.min(m.length, dofs + len));
        if (data.length < len) this.#ctx.note('smb-read-short', { missing: len - data.length });
        this.#fileData(1, fid, rq.offset, data, 2, 'SMB2_COMMAND_READ', sessionId, treeId, rq.createKey ? this.#createNames.get(rq.createKey) ?? null : null);
        return;
      }
    }
  }

  /** Place READ/WRITE data for `fid` in direction `dir`, opening the file transaction on first data. */
  #fileData(dir: Direction, fid: Uint8Array, offset: number, data: Uint8Array, version: 1 | 2, command: string, sessionId: number, treeId: number, chainName: string | null): FileTx | null {
    const fk = version === 2 ? hexOf(fid) : `${hexOf(fid)}:${sessionId}`;
    let f = this.#files.get(`${dir}:${fk}`);
    if (!f) {
      const tree = this.#trees.get(`${sessionId}:${treeId}`);
      if (tree?.pipe) return null;
      const known = this.#fidNames.get(fk) ?? chainName ?? undefined;
      if (!tree && DCERPC(data)) return null;
      if (known === undefined && DCERPC(data)) return null;
      if (this.#files.size >= SMB_MAX_OPEN_FILES) this.#finish(this.#files.values().next().value as FileTx, 'TRUNCATED');
      const name = known ?? (dir === 1 ? '<unknown>' : '');
      const id = ++this.#txCount;
      const share = tree?.name ?? '';
      const tx: Omit<FileTx, 'h'> = { key: `${dir}:${fk}`, id, dir, fid: fid.slice(), name, share, version, command, sessionId, treeId, status: null };
      const h = this.#ctx.files.open({ filename: name, direction: dir, txId: id - 1, appProto: 'smb', meta: this.#meta(tx) });
      f = { ...tx, h };
      this.#files.set(f.key, f);
      this.stats.files++;
    }
    if (data.length) f.h.writeAt(offset, data);
    return f;
  }

  /** A fresh 16-byte stand-in FileId (0xFE…, counter) for a related WRITE seen before its CREATE response. */
  #placeholder(): Uint8Array {
    const b = new Uint8Array(16).fill(0xfe);
    new DataView(b.buffer).setUint32(12, ++this.#placeholders);
    return b;
  }

  /** CLOSE of an SMB2 FileId: its files in both directions finish (status SUCCESS). */
  #closeFid(k: string): void {
    this.#fidNames.delete(k);
    for (const d of [0, 1] as Direction[]) { const f = this.#files.get(`${d}:${k}`); if (f) { f.status = STATUS_SUCCESS; this.#finish(f); } }
  }

  #meta(f: Omit<FileTx, 'h'>): Record<string, unknown> {
    const smb: Record<string, unknown> = { id: f.id, dialect: this.#dialectName(), command: f.command };
    if (f.status !== null) {
      smb['status'] = STATUS_NAMES[f.status] ?? String(f.status);
      smb['status_code'] = `0x${f.status.toString(16)}`;
    }
    smb['session_id'] = f.sessionId;
    smb['tree_id'] = f.treeId;
    smb['filename'] = f.name;
    smb['share'] = f.share;
    smb['fuid'] = fuidString(f.fid);
    return { smb };
  }

  #finish(f: FileTx, state?: 'TRUNCATED'): void {
    this.#files.delete(f.key);
    f.h.setMeta(this.#meta(f));
    f.h.close(state);
  }

  // ---------------------------------------------------------------- SMB1

  #smb1(m: Uint8Array): void {
    if (m.length < 33) { this.stats.malformed++; return; }
    const flags2 = u16(m, 10);
    const unicode = (flags2 & 0x8000) !== 0;
    const status = flags2 & 0x4000 ? u32(m, 5) : m[5] === 0 ? 0 : 0xc0000001;
    const response = (m[9]! & 0x80) !== 0;
    const tid = u16(m, 24), pid = u16(m, 26), uid = u16(m, 28), mid = u16(m, 30);
    const rk = `${pid}:${mid}`;
    let cmd = m[4]!;
    let off = 32;
    for (let guard = 0; guard < 16; guard++) {
      if (off + 1 > m.length) return;
      const wc = m[off]!;
      const w = off + 1;
      const bcOff = w + 2 * wc;
      if (bcOff + 2 > m.length) { this.stats.malformed++; return; }
      const bc = u16(m, bcOff);
      const bytes = bcOff + 2;
      const andx = isAndx(cmd) && wc >= 2 ? { cmd: m[w]!, off: u16(m, w + 2) } : null;
      if (!response) this.#smb1Request(cmd, m, w, wc, bytes, bc, unicode, rk, tid, uid);
      else this.#smb1Response(cmd, m, w, wc, bytes, bc, status, rk, tid, uid);
      if (!andx || andx.cmd === 0xff || andx.off <= off || andx.off >= m.length) return;
      cmd = andx.cmd; off = andx.off;
    }
  }

  #smb1Request(cmd: number, m: Uint8Array, w: number, wc: number, bytes: number, bc: number, unicode: boolean, rk: string, tid: number, uid: number): void {
    if (cmd !== 0x2e && cmd !== 0x2f && cmd !== 0x0a && cmd !== 0x0b) this.#txCount++;
    const end = Math.min(m.length, bytes + bc);
    switch (cmd) {
      case 0x72: { // NEGOTIATE: dialect strings (0x02 "name" NUL)…
        const list: string[] = [];
        let i = bytes;
        while (i < end) { if (m[i] !== 2) break; let j = i + 1; while (j < end && m[j] !== 0) j++; list.push(latin1.decode(m.subarray(i + 1, j))); i = j + 1; }
        this.#dialects1 = list;
        return;
      }
      case 0x75: { // TREE_CONNECT_ANDX: password, path
        if (wc < 4) return;
        const path = smb1String(m, bytes + u16(m, w + 6), end, unicode);
        this.#treeReqs.set(`1:${rk}`, path.s);
        return;
      }
      case 0xa2: { // NT_CREATE_ANDX: name
        if (wc < 24) return;
        const nameLen = u16(m, w + 5);
        let i = bytes;
        if (unicode && (i & 1)) i++; // pad to an even offset from the header
        const raw = m.subarray(i, Math.min(end, i + nameLen));
        this.#createNames.set(`1:${rk}`, trimName(unicode ? ucs2(raw) : latin1.decode(raw).replace(/\0+$/, '')));
        return;
      }
      case 0x2e: { // READ_ANDX: fid, offset (+ high 32 bits with 12 words)
        if (wc < 10) return;
        const fid = m.slice(w + 4, w + 6);
        const offset = u32(m, w + 6) + (wc >= 12 ? u32(m, w + 20) * 0x100000000 : 0);
        this.#reads.set(`1:${rk}`, { fid, offset, createKey: null });
        return;
      }
      case 0x2f: { // WRITE_ANDX: data at DataOffset (padding before it is skipped that way)
        if (wc < 12) return;
        const fid = m.subarray(w + 4, w + 6);
        const offset = u32(m, w + 6) + (wc >= 14 ? u32(m, w + 24) * 0x100000000 : 0);
        const len = u16(m, w + 20) + (u16(m, w + 18) << 16);
        const dofs = u16(m, w + 22);
        const data = m.subarray(Math.min(dofs, m.length), Math.min(m.length, dofs + len));
        this.#fileData(0, fid, offset, data, 1, 'SMB1_COMMAND_WRITE_ANDX', uid, tid, null);
        return;
      }
      case 0x0b: { // WRITE: fid, count, offset; data block 0x01 len data
        if (wc < 5) return;
        const fid = m.subarray(w, w + 2);
        const offset = u32(m, w + 4);
        if (m[bytes] !== 1) return;
        const len = u16(m, bytes + 1);
        this.#fileData(0, fid, offset, m.subarray(bytes + 3, Math.min(m.length, bytes + 3 + len)), 1, 'SMB1_COMMAND_WRITE', uid, tid, null);
        return;
      }
      case 0x0a: { // READ: fid, count, offset
        if (wc < 5) return;
        this.#reads.set(`1:${rk}`, { fid: m.slice(w, w + 2), offset: u32(m, w + 4), createKey: null });
        return;
      }
      case 0x04: { // CLOSE
        if (wc < 3) return;
        const fk = `${hexOf(m.subarray(w, w + 2))}:${uid}`;
        this.#fidNames.delete(fk);
        for (const d of [0, 1] as Direction[]) { const f = this.#files.get(`${d}:${fk}`); if (f) { f.status = STATUS_SUCCESS; this.#finish(f); } }
        return;
      }
    }
  }

  #smb1Response(cmd: number, m: Uint8Array, w: number, wc: number, bytes: number, bc: number, status: number, rk: string, tid: number, uid: number): void {
    switch (cmd) {
      case 0x72: { // NEGOTIATE: chosen dialect index
        if (wc >= 1 && status === 0) { const i = u16(m, w); this.#dialect1 = this.#dialects1[i] ?? this.#dialect1; }
        return;
      }
      case 0x75: { // TREE_CONNECT_ANDX: service "IPC" = pipe
        const path = this.#treeReqs.take(`1:${rk}`);
        if (status !== 0 || path === undefined) return;
        const end = Math.min(m.length, bytes + bc);
        let j = bytes; while (j < end && m[j] !== 0) j++;
        const service = latin1.decode(m.subarray(bytes, j));
        this.#trees.set(`${uid}:${tid}`, { name: path, pipe: service === 'IPC' });
        return;
      }
      case 0xa2: { // NT_CREATE_ANDX: FID
        const name = this.#createNames.take(`1:${rk}`);
        if (status !== 0 || wc < 3 || name === undefined) return;
        this.#fidNames.set(`${hexOf(m.subarray(w + 5, w + 7))}:${uid}`, name);
        return;
      }
      case 0x2e: { // READ_ANDX: DataLength(+High), DataOffset
        const rq = this.#reads.take(`1:${rk}`);
        if (!rq) return;
        if (status === STATUS_END_OF_FILE) { const f = this.#files.get(`1:${hexOf(rq.fid)}:${uid}`); if (f) { f.status = status; this.#finish(f); } return; }
        if (status !== 0 || wc < 12) return;
        const len = u16(m, w + 10) + (u16(m, w + 14) << 16);
        const dofs = u16(m, w + 12);
        const data = m.subarray(Math.min(dofs, m.length), Math.min(m.length, dofs + len));
        this.#fileData(1, rq.fid, rq.offset, data, 1, 'SMB1_COMMAND_READ_ANDX', uid, tid, null);
        return;
      }
      case 0x0a: { // READ: data block 0x01 len data
        const rq = this.#reads.take(`1:${rk}`);
        if (!rq || status !== 0 || wc < 5 || m[bytes] !== 1) return;
        const len = u16(m, bytes + 1);
        this.#fileData(1, rq.fid, rq.offset, m.subarray(bytes + 3, Math.min(m.length, bytes + 3 + len)), 1, 'SMB1_COMMAND_READ', uid, tid, null);
        return;
      }
    }
  }
}

/** SMB1 AndX commands (their first words are AndXCommand, reserved, AndXOffset). */
function isAndx(cmd: number): boolean {
  return cmd === 0x2e || cmd === 0x2f || cmd === 0x73 || cmd === 0x74 || cmd === 0x75 || cmd === 0xa2 || cmd === 0x24 || cmd === 0x2d;
}

/** A NUL-terminated SMB1 string at `i` (UTF-16LE aligned to 2 from the header when unicode). */
function smb1String(m: Uint8Array, i: number, end: number, unicode: boolean): { s: string; next: number } {
  if (unicode) {
    if (i & 1) i++;
    let j = i; while (j + 1 < end && (m[j] !== 0 || m[j + 1] !== 0)) j += 2;
    return { s: ucs2(m.subarray(i, j)), next: j + 2 };
  }
  let j = i; while (j < end && m[j] !== 0) j++;
  return { s: latin1.decode(m.subarray(i, j)), next: j + 1 };
}

/** SMB1 names start with a backslash Suricata keeps; strip only NULs. */
function trimName(s: string): string { return s.replace(/\0+$/, ''); }
