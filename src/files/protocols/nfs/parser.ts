// NFS v2/v3/v4 file extraction over ONC RPC (TCP record marking or UDP datagrams), following what Suricata
// reports: LOOKUP/CREATE/READDIRPLUS (v3) and OPEN+GETFH (v4) replies name file handles (unknown → ""), READ
// replies and WRITE calls place data at offsets, READ eof / FILE_SYNC WRITE / COMMIT / CLOSE (v4) finish a
// file, flow end finishes what is open (the tracker makes files with holes TRUNCATED). Owns the per-flow
// name map, the XID table and the file transactions; fileinfo metadata is `nfs` + `rpc` as Suricata logs them.

import type { Direction, FileHandle, ProtocolContext, ProtocolParser } from '../contract.js';
import { parseRpc, RecordMarker, rpcAuthName, rpcStatusName, XidTable, Xdr, type RpcCall, type UnixCreds } from '../rpc/rpc.js';

export const NFS_PROGRAM = 100003;
/** Handle → name entries kept per flow (oldest evicted beyond). */
export const NFS_MAX_NAMES = 8192;
/** Open file transactions per flow; beyond, the oldest is finished (TRUNCATED by its holes, else CLOSED). */
export const NFS_MAX_OPEN_FILES = 1024;

const V3_NAMES = ['NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK', 'MKNOD', 'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT'];
const STATUS: Record<number, string> = {
  0: 'OK', 1: 'ERR_PERM', 2: 'ERR_NOENT', 5: 'ERR_IO', 6: 'ERR_NXIO', 13: 'ERR_ACCES', 17: 'ERR_EXIST', 18: 'ERR_XDEV', 19: 'ERR_NODEV',
  20: 'ERR_NOTDIR', 21: 'ERR_ISDIR', 22: 'ERR_INVAL', 27: 'ERR_FBIG', 28: 'ERR_NOSPC', 30: 'ERR_ROFS', 31: 'ERR_MLINK', 63: 'ERR_NAMETOOLONG',
  66: 'ERR_NOTEMPTY', 69: 'ERR_DQUOT', 70: 'ERR_STALE', 71: 'ERR_REMOTE', 10001: 'ERR_BADHANDLE', 10002: 'ERR_NOT_SYNC', 10003: 'ERR_BAD_COOKIE',
  10004: 'ERR_NOTSUPP', 10005: 'ERR_TOOSMALL', 10006: 'ERR_SERVERFAULT', 10007: 'ERR_BADTYPE', 10008: 'ERR_JUKEBOX',
};
/** NFS status as Suricata prints it. */
export function nfsStatusName(s: number): string { return STATUS[s] ?? String(s); }

let crcTable: Uint32Array | null = null;
/** CRC-32 (IEEE) of a file handle, Suricata's `hhash` (lowercase hex, no padding). */
export function handleHash(fh: Uint8Array): string {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; crcTable[n] = c >>> 0; }
  }
  let c = 0xffffffff;
  for (let i = 0; i < fh.length; i++) c = crcTable[(c ^ fh[i]!) & 0xff]! ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16);
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const utf8 = new TextDecoder();

/** What a call leaves for its reply. */
interface Pending { vers: number; proc: number; fh: Uint8Array | null; name: string; offset: number; gss: boolean }

/** One file transfer (one handle, one direction), Suricata's NFS file transaction. */
interface FileTx {
  id: number;
  key: string;
  fh: Uint8Array;
  name: string;
  dir: Direction;
  xid: number;
  lastXid: number;
  proc: number;
  vers: number;
  authType: number;
  unix: UnixCreds | null;
  chunks: number;
  last: boolean;
  nfsStatus: number;
  rpcStatus: number;
  h: FileHandle | null;
}

/** Per-flow NFS state machine: feed reassembled bytes (TCP) or datagrams (UDP) per direction. */
export class NfsParser implements ProtocolParser {
  readonly #ctx: ProtocolContext;
  readonly #udp: boolean;
  readonly #markers: [RecordMarker, RecordMarker];
  readonly #xids = new XidTable<Pending>();
  readonly #names = new Map<string, string>();
  readonly #files = new Map<string, FileTx>();
  #txCount = 0;
  #version = 0;
  /** Counters (records seen, malformed, unmatched replies). */
  readonly stats = { records: 0, malformed: 0, unmatched: 0, files: 0 };

  constructor(ctx: ProtocolContext) {
    this.#ctx = ctx;
    this.#udp = ctx.flow.proto === 17;
    // After a gap, a record start must be a call to NFS or a reply to a pending XID.
    const plausible = (b: Uint8Array, o: number) => {
      if (b.length - o < 16) return false;
      const dv = new DataView(b.buffer, b.byteOffset + o);
      return dv.getUint32(4) === 0 ? dv.getUint32(12) === NFS_PROGRAM : this.#xids.has(dv.getUint32(0));
    };
    this.#markers = [new RecordMarker((r) => this.#record(0, r), undefined, plausible), new RecordMarker((r) => this.#record(1, r), undefined, plausible)];
  }

  /** TCP: in-order stream bytes (record marking); UDP: one datagram = one RPC message. */
  data(dir: Direction, bytes: Uint8Array): void {
    if (this.#udp) { this.#record(dir, bytes); return; }
    const m = this.#markers[dir], o = m.oversized, r = m.resyncs;
    m.push(bytes);
    // Surface the framing caps through the sink's note counters.
    if (m.oversized !== o) this.#ctx.note('rpc-record-oversized');
    if (m.resyncs !== r) this.#ctx.note('rpc-resync');
  }

  /** `len` bytes lost: the record in progress is dropped; open files keep the hole (→ TRUNCATED, gaps). */
  gap(dir: Direction, len: number): void {
    if (!this.#udp) this.#markers[dir].gap(len);
    this.#ctx.note('nfs-gap', { dir, len });
  }

  /** Flow end: files still open finish (TRUNCATED unless eof/FILE_SYNC/COMMIT was seen). */
  close(): void {
    for (const f of [...this.#files.values()]) this.#finish(f);
  }

  #record(dir: Direction, rec: Uint8Array): void {
    this.stats.records++;
    const m = parseRpc(rec);
    if (!m) { this.stats.malformed++; return; }
    if ('call' in m) {
      if (m.call.prog !== NFS_PROGRAM) return;
      this.#call(dir, rec, m.call);
      return;
    }
    const p = this.#xids.take(m.reply.xid);
    if (!p) { this.stats.unmatched++; return; }
    if (m.reply.replyStat !== 0 || m.reply.acceptStat !== 0) return;
    if (this.#version === 0) this.#version = p.vers;
    const x = new Xdr(rec, m.reply.body);
    if (p.gss) { x.u32(); x.u32(); }
    if (p.vers === 4) this.#reply4(x, m.reply.xid, p);
    else this.#reply23(x, m.reply.xid, p);
  }

  #newTx(): number { return ++this.#txCount; }

  #call(dir: Direction, rec: Uint8Array, c: RpcCall): void {
    const x = new Xdr(rec, c.body);
    const gss = c.credFlavor === 6 && c.gssProc === 0 && c.gssService === 2;
    if (gss) { x.u32(); x.u32(); }
    const p: Pending = { vers: c.vers, proc: c.proc, fh: null, name: '', offset: 0, gss };
    if (this.#version === 0) this.#version = c.vers;
    if (c.vers === 3) this.#call3(x, c, p, dir);
    else if (c.vers === 2) this.#call2(x, c, p, dir);
    else if (c.vers === 4 && c.proc === 1) this.#call4(x, c, p, dir);
    if (x.bad) { this.stats.malformed++; this.#ctx.note('nfs-malformed', { xid: c.xid }); }
    const ev = this.#xids.evicted;
    this.#xids.set(c.xid, p);
    if (this.#xids.evicted !== ev) this.#ctx.note('rpc-xid-evicted');
  }

  #call3(x: Xdr, c: RpcCall, p: Pending, dir: Direction): void {
    switch (c.proc) {
      case 3: /* LOOKUP */ x.opaque(64); p.name = utf8.decode(x.opaque(1024)); break;
      case 4: case 1: case 17: /* ACCESS GETATTR READDIRPLUS */ p.fh = x.opaque(64); p.name = this.#nameOf(p.fh); break;
      case 6: { // READ: the file transaction starts at the request (Suricata)
        p.fh = x.opaque(64); p.offset = x.u64(); p.name = this.#nameOf(p.fh);
        if (x.bad) return;
        if (!this.#files.has(key(1, p.fh))) this.#openTx(1, p.fh, p.name, c.xid, 6, 3, c.credFlavor, c.unix);
        return;
      }
      case 7: { // WRITE
        const fh = x.opaque(64); const offset = x.u64(); x.u32(); const stable = x.u32(); const d = x.data();
        p.fh = fh;
        if (!x.bad || d.bytes.length) this.#write(dir, fh, offset, d.bytes, d.count, stable === 2, c.xid, 7, 3);
        return;
      }
      case 21: { // COMMIT
        p.fh = x.opaque(64);
        const f = this.#files.get(key(0, p.fh));
        if (f) { f.chunks++; f.lastXid = c.xid; f.last = true; this.#finish(f); }
        return;
      }
      case 8: case 12: case 9: case 13: /* CREATE REMOVE MKDIR RMDIR */ p.fh = x.opaque(64); p.name = utf8.decode(x.opaque(1024)); break;
      case 14: /* RENAME */ p.fh = x.opaque(64); p.name = utf8.decode(x.opaque(1024)); break;
    }
    this.#newTx();
  }

  #call2(x: Xdr, c: RpcCall, p: Pending, dir: Direction): void {
    switch (c.proc) {
      case 4: /* LOOKUP */ x.fixed(32); p.name = utf8.decode(x.opaque(1024)); break;
      case 6: { // READ: fhandle, offset, count, totalcount
        p.fh = x.fixed(32); p.offset = x.u32(); p.name = this.#nameOf(p.fh);
        return;
      }
      case 8: { // WRITE: fhandle, beginoffset, offset, totalcount, data
        const fh = x.fixed(32); x.u32(); const offset = x.u32(); x.u32(); const d = x.data();
        p.fh = fh;
        if (!x.bad || d.bytes.length) this.#write(dir, fh, offset, d.bytes, d.count, false, c.xid, 8, 2);
        return;
      }
      case 9: /* CREATE */ x.fixed(32); p.name = utf8.decode(x.opaque(1024)); break;
    }
    this.#newTx();
  }

  #reply23(x: Xdr, xid: number, p: Pending): void {
    const status = x.u32();
    if (x.bad) return;
    if (p.vers === 2) {
      if (status !== 0) return;
      if (p.proc === 4 || p.proc === 9) { const fh = x.fixed(32); if (!x.bad && p.name) this.#setName(fh, p.name); }
      else if (p.proc === 6 && p.fh) {
        const attr = x.fixed(68);
        const d = x.data();
        if (x.bad && !d.bytes.length) return;
        const size = attr.length === 68 ? new DataView(attr.buffer, attr.byteOffset).getUint32(20) : -1;
        this.#read(p.fh, p.name, p.offset, d.bytes, d.count, size === p.offset + d.bytes.length, xid, 2, status);
      }
      return;
    }
    switch (p.proc) {
      case 3: { // LOOKUP: object handle
        if (status !== 0) return;
        const fh = x.opaque(64); if (!x.bad) this.#setName(fh, p.name); return;
      }
      case 8: { // CREATE: post_op_fh3
        if (status !== 0) return;
        if (x.u32() === 1) { const fh = x.opaque(64); if (!x.bad) this.#setName(fh, p.name); }
        return;
      }
      case 6: { // READ: post_op_attr, count, eof, data
        if (!p.fh) return;
        skipPostOpAttr(x);
        if (status !== 0) return;
        x.u32(); const eof = x.u32() !== 0; const d = x.data();
        if (x.bad && !d.bytes.length) return;
        this.#read(p.fh, p.name, p.offset, d.bytes, d.count, eof, xid, 3, status);
        return;
      }
      case 17: { // READDIRPLUS: every entry with a handle names it
        skipPostOpAttr(x);
        if (status !== 0) return;
        x.skip(8);
        for (let n = 0; n < 100000 && x.u32() === 1 && !x.bad; n++) {
          x.skip(8); const name = utf8.decode(x.opaque(1024)); x.skip(8);
          skipPostOpAttr(x);
          if (x.u32() === 1) { const fh = x.opaque(64); if (!x.bad) this.#setName(fh, name); }
        }
        return;
      }
    }
  }

  /** NFSv4 COMPOUND call: PUTFH sets the current handle; READ/WRITE/OPEN/LOOKUP/COMMIT/CLOSE act on it. */
  #call4(x: Xdr, c: RpcCall, p: Pending, dir: Direction): void {
    x.opaque(1024); x.u32();
    const n = x.u32();
    let cur: Uint8Array | null = null;
    let main = 0;
    for (let i = 0; i < n && i < 128 && !x.bad; i++) {
      const op = x.u32();
      switch (op) {
        case 22: cur = x.opaque(128); break; // PUTFH
        case 24: case 23: case 10: case 16: case 27: case 31: case 32: break; // PUTROOTFH PUTPUBFH GETFH LOOKUPP READLINK RESTOREFH SAVEFH
        case 3: case 52: case 19: x.u32(); break; // ACCESS SECINFO_NO_NAME OPENATTR
        case 4: x.skip(20); break; // CLOSE
        case 5: x.skip(12); if (cur) this.#commit4(cur, c.xid); break; // COMMIT
        case 7: case 30: x.skip(8); break; // DELEGPURGE RENEW
        case 8: x.skip(16); break; // DELEGRETURN
        case 9: skipBitmap(x); break; // GETATTR
        case 11: case 15: case 33: p.name = utf8.decode(x.opaque(1024)); break; // LINK LOOKUP SECINFO
        case 28: p.name = utf8.decode(x.opaque(1024)); main = 28; break; // REMOVE
        case 29: x.opaque(1024); x.opaque(1024); break; // RENAME
        case 6: { // CREATE
          const t = x.u32();
          if (t === 5) x.opaque(4096); else if (t === 3 || t === 4) x.skip(8);
          p.name = utf8.decode(x.opaque(1024)); skipFattr(x); if (cur) p.fh = cur; main = 6; break;
        }
        case 17: case 37: skipFattr(x); break; // NVERIFY VERIFY
        case 34: x.skip(16); skipFattr(x); break; // SETATTR
        case 20: x.skip(20); break; // OPEN_CONFIRM
        case 21: x.skip(28); break; // OPEN_DOWNGRADE
        case 36: x.skip(16); break; // SETCLIENTID_CONFIRM
        case 39: x.skip(8); x.opaque(1024); break; // RELEASE_LOCKOWNER
        case 53: x.skip(32); break; // SEQUENCE
        case 26: x.skip(24); skipBitmap(x); break; // READDIR
        case 18: { // OPEN
          x.skip(12); x.skip(8); x.opaque(1024);
          if (x.u32() === 1) { const mode = x.u32(); if (mode === 0 || mode === 1) skipFattr(x); else if (mode === 2) x.skip(8); else if (mode === 3) { x.skip(8); skipFattr(x); } }
          const claim = x.u32();
          if (claim === 0 || claim === 3) p.name = utf8.decode(x.opaque(1024));
          else if (claim === 1) x.u32();
          else if (claim === 2) { x.skip(16); p.name = utf8.decode(x.opaque(1024)); }
          else if (claim === 5) x.skip(16);
          break;
        }
        case 25: { // READ
          x.skip(16); const off = x.u64(); x.u32();
          if (cur) { p.fh = cur; p.offset = off; p.name = this.#nameOf(cur); }
          break;
        }
        case 38: { // WRITE
          x.skip(16); const off = x.u64(); const stable = x.u32(); const d = x.data();
          if (cur && (!x.bad || d.bytes.length)) this.#write(dir, cur, off, d.bytes, d.count, stable === 2, c.xid, 38, 4);
          break;
        }
        default: i = n; // an operation we do not decode: the rest cannot be located
      }
    }
    if (main) this.#newTx();
  }

  #commit4(fh: Uint8Array, xid: number): void {
    const f = this.#files.get(key(0, fh));
    if (f) { f.lastXid = xid; f.last = true; this.#finish(f); }
  }

  /** NFSv4 COMPOUND reply: READ data for the call's handle, OPEN followed by GETFH names a handle. */
  #reply4(x: Xdr, xid: number, p: Pending): void {
    x.u32(); x.opaque(1024);
    const n = x.u32();
    let opened = false;
    for (let i = 0; i < n && i < 128 && !x.bad; i++) {
      const op = x.u32(); const st = x.u32();
      if (st !== 0) { if (op === 34) skipBitmap(x); break; }
      switch (op) {
        case 53: x.skip(36); break;
        case 22: case 23: case 24: case 31: case 32: case 15: case 16: case 30: case 8: case 39: case 36: break;
        case 10: { const fh = x.opaque(128); if (opened && !x.bad) this.#setName(fh, p.name); break; }
        case 3: x.skip(8); break;
        case 9: skipFattr(x); break;
        case 4: x.skip(16); break;
        case 5: x.skip(8); break;
        case 38: x.skip(16); break;
        case 34: skipBitmap(x); break;
        case 6: x.skip(20); skipBitmap(x); break;
        case 28: x.skip(20); break;
        case 29: x.skip(40); break;
        case 20: x.skip(16); break;
        case 21: x.skip(16); break;
        case 18: { // OPEN4resok: stateid, change_info, rflags, attrset, delegation
          x.skip(16 + 20 + 4); skipBitmap(x);
          const dt = x.u32();
          if (dt === 1 || dt === 2) { x.skip(20); if (dt === 2) x.skip(12); x.skip(12); x.opaque(1024); }
          else if (dt === 3) { const why = x.u32(); if (why === 1 || why === 2) x.u32(); }
          opened = !x.bad;
          break;
        }
        case 25: { // READ4resok
          const eof = x.u32() !== 0; const d = x.data();
          if (p.fh && (!x.bad || d.bytes.length)) this.#read(p.fh, p.name, p.offset, d.bytes, d.count, eof, xid, 4, 0);
          break;
        }
        default: i = n;
      }
    }
  }

  #nameOf(fh: Uint8Array): string { return this.#names.get(hex(fh)) ?? ''; }

  #setName(fh: Uint8Array, name: string): void {
    const k = hex(fh);
    this.#names.delete(k);
    this.#names.set(k, name);
    if (this.#names.size > NFS_MAX_NAMES) this.#names.delete(this.#names.keys().next().value as string);
  }

  #openTx(dir: Direction, fh: Uint8Array, name: string, xid: number, proc: number, vers: number, authType: number, unix: UnixCreds | null): FileTx {
    if (this.#files.size >= NFS_MAX_OPEN_FILES) this.#finish(this.#files.values().next().value as FileTx);
    const f: FileTx = { id: this.#newTx(), key: key(dir, fh), fh: fh.slice(), name, dir, xid, lastXid: 0, proc, vers, authType, unix, chunks: 0, last: false, nfsStatus: 0, rpcStatus: 0, h: null };
    this.#files.set(f.key, f);
    return f;
  }

  #chunk(f: FileTx, offset: number, bytes: Uint8Array, count: number): void {
    if (!f.h) {
      this.stats.files++;
      f.h = this.#ctx.files.open({ filename: f.name, direction: f.dir, txId: f.id - 1, appProto: 'nfs', meta: this.#meta(f) });
    }
    f.chunks++;
    if (bytes.length) f.h.writeAt(offset, bytes);
    if (bytes.length < count) this.#ctx.note('nfs-short-data', { missing: count - bytes.length });
  }

  #write(dir: Direction, fh: Uint8Array, offset: number, bytes: Uint8Array, count: number, last: boolean, xid: number, proc: number, vers: number): void {
    if (count === 0 || count > 16777216) return;
    let f = this.#files.get(key(dir, fh));
    if (!f) f = this.#openTx(dir, fh, this.#nameOf(fh), xid, proc, vers, 0, null);
    this.#chunk(f, offset, bytes, count);
    if (last) { f.lastXid = xid; f.last = true; this.#finish(f); }
  }

  #read(fh: Uint8Array, name: string, offset: number, bytes: Uint8Array, count: number, eof: boolean, xid: number, vers: number, status: number): void {
    if (count === 0 || count > 16777216) {
      const f0 = this.#files.get(key(1, fh));
      if (f0 && eof && f0.h) { f0.lastXid = xid; f0.last = true; this.#finish(f0); }
      return;
    }
    let f = this.#files.get(key(1, fh));
    if (!f) f = this.#openTx(1, fh, name, xid, vers === 4 ? 25 : 6, vers, 0, null);
    this.#chunk(f, offset, bytes, count);
    if (eof) { f.lastXid = xid; f.last = true; f.nfsStatus = status; this.#finish(f); }
  }

  #meta(f: FileTx): Record<string, unknown> {
    const version = this.#version || f.vers;
    const procedure = version === 4 ? (f.proc === 25 ? 'READ' : f.proc === 38 ? 'WRITE' : String(f.proc)) : version === 2 ? (f.proc === 6 ? 'READ' : 'WRITE') : V3_NAMES[f.proc] ?? String(f.proc);
    const io = { first: true, last: f.last, last_xid: f.lastXid, chunks: f.chunks };
    const nfs: Record<string, unknown> = { version, procedure, filename: f.name, hhash: handleHash(f.fh), id: f.id, file_tx: true, type: 'response', status: nfsStatusName(f.nfsStatus) };
    nfs[f.dir === 1 ? 'read' : 'write'] = io;
    const rpc: Record<string, unknown> = { xid: f.xid, status: rpcStatusName(f.rpcStatus), auth_type: rpcAuthName(f.authType) };
    if (f.authType === 1 && f.unix) rpc['creds'] = { machine_name: f.unix.machineName, uid: f.unix.uid, gid: f.unix.gid };
    return { nfs, rpc };
  }

  #finish(f: FileTx): void {
    this.#files.delete(f.key);
    if (!f.h) return;
    f.h.setMeta(this.#meta(f));
    // A file still open at flow end (no eof/FILE_SYNC/COMMIT seen) did not finish: TRUNCATED, as Suricata.
    f.h.close(f.last ? undefined : 'TRUNCATED');
  }
}

const key = (dir: Direction, fh: Uint8Array) => `${dir}:${hex(fh)}`;

function skipBitmap(x: Xdr): void { const n = x.u32(); if (n > 64) { x.bad = true; return; } x.skip(4 * n); }
function skipFattr(x: Xdr): void { skipBitmap(x); x.opaque(1 << 20); }
function skipPostOpAttr(x: Xdr): void { if (x.u32() === 1) x.skip(84); }
