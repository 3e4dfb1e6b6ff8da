// ONC RPC (RFC 5531) as the base for NFS: TCP record marking (fragments across segments, several records per
// segment, last-fragment bit), call/reply header decoding over a record, and a bounded XID table that pairs a
// reply with its call. Sans-IO: bytes in, whole records out; no knowledge of the program carried.

/** Largest RPC record we reassemble (NFS READ/WRITE payloads are ≤ 1 MiB on Linux; allow several). */
export const RPC_MAX_RECORD = 16 * 1024 * 1024 + 4096;
/** Calls remembered per flow while waiting for their reply; the oldest is evicted beyond. */
export const RPC_MAX_PENDING = 4096;

/** An XDR cursor over one record; every read checks bounds and sets `bad` instead of throwing. */
export class Xdr {
  pos: number;
  bad = false;
  readonly #dv: DataView;
  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.pos = pos;
    this.#dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  /** Bytes left. */
  get left(): number { return this.end - this.pos; }
  /** Big-endian u32 (0 and `bad` past the end). */
  u32(): number {
    if (this.pos + 4 > this.end) { this.bad = true; this.pos = this.end; return 0; }
    const v = this.#dv.getUint32(this.pos); this.pos += 4; return v;
  }
  /** 64-bit unsigned as a number (exact below 2^53). */
  u64(): number { const hi = this.u32(), lo = this.u32(); return hi * 0x100000000 + lo; }
  /** Skip `n` bytes plus XDR padding to 4. */
  skip(n: number): void {
    const p = this.pos + n + ((4 - (n % 4)) % 4);
    if (n < 0 || p > this.end) { this.bad = true; this.pos = this.end; return; }
    this.pos = p;
  }
  /** Fixed-length opaque (view into the record, padded to 4). */
  fixed(n: number): Uint8Array {
    if (this.pos + n > this.end) { this.bad = true; this.pos = this.end; return new Uint8Array(0); }
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.skip(n);
    return v;
  }
  /** Variable-length opaque<max> (view); a length beyond `max` or the record sets `bad` and gives no bytes. */
  opaque(max = 0x7fffffff): Uint8Array {
    const n = this.u32();
    if (this.bad) return new Uint8Array(0);
    if (n > max) { this.bad = true; return new Uint8Array(0); }
    return this.fixed(n);
  }
  /** opaque data whose announced length may run past the record end (a READ/WRITE cut by the capture). */
  data(): { bytes: Uint8Array; count: number } {
    const n = this.u32();
    if (this.bad) return { bytes: new Uint8Array(0), count: 0 };
    const have = Math.min(n, this.end - this.pos);
    const bytes = this.buf.subarray(this.pos, this.pos + have);
    this.pos = Math.min(this.end, this.pos + n + ((4 - (n % 4)) % 4));
    return { bytes, count: n };
  }
  /** XDR string as latin1/UTF-8 bytes → string. */
  str(max = 4096): string { return new TextDecoder().decode(this.opaque(max)); }
}

/** Auth flavors as Suricata names them. */
export function rpcAuthName(flavor: number): string {
  switch (flavor) {
    case 0: return 'NULL';
    case 1: return 'UNIX';
    case 2: return 'SHORT';
    case 3: return 'DH';
    case 6: return 'RPCSEC_GSS';
    default: return String(flavor);
  }
}

/** reply_stat as Suricata names it. */
export function rpcStatusName(s: number): string {
  return s === 0 ? 'ACCEPTED' : s === 1 ? 'DENIED' : String(s);
}

/** AUTH_UNIX credentials. */
export interface UnixCreds { machineName: string; uid: number; gid: number }

/** A decoded call header; `body` is the offset of the procedure arguments in the record. */
export interface RpcCall {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  credFlavor: number;
  unix: UnixCreds | null;
  /** RPCSEC_GSS credential procedure and service (for integrity-wrapped bodies). */
  gssProc: number;
  gssService: number;
  body: number;
}

/** A decoded reply header; `body` is the offset of the results (meaningful when accepted with status 0). */
export interface RpcReply { xid: number; replyStat: number; acceptStat: number; body: number }

/** Decode an RPC message header: a call, a reply, or null when the record is not RPC. */
export function parseRpc(rec: Uint8Array): { call: RpcCall } | { reply: RpcReply } | null {
  const x = new Xdr(rec);
  const xid = x.u32();
  const mtype = x.u32();
  if (x.bad) return null;
  if (mtype === 0) {
    const rpcvers = x.u32();
    if (rpcvers !== 2) return null;
    const prog = x.u32(), vers = x.u32(), proc = x.u32();
    const credFlavor = x.u32();
    const cred = x.opaque(400);
    let unix: UnixCreds | null = null;
    let gssProc = 0, gssService = 0;
    if (credFlavor === 1) {
      const c = new Xdr(cred);
      c.u32();
      const machineName = c.str(255);
      const uid = c.u32(), gid = c.u32();
      if (!c.bad) unix = { machineName, uid, gid };
    } else if (credFlavor === 6) {
      const c = new Xdr(cred);
      c.u32(); gssProc = c.u32(); c.u32(); gssService = c.u32();
    }
    x.u32(); x.opaque(400);
    if (x.bad) return null;
    return { call: { xid, prog, vers, proc, credFlavor, unix, gssProc, gssService, body: x.pos } };
  }
  if (mtype === 1) {
    const replyStat = x.u32();
    let acceptStat = 0;
    if (replyStat === 0) {
      x.u32(); x.opaque(400);
      acceptStat = x.u32();
    } else if (replyStat !== 1) return null;
    if (x.bad) return null;
    return { reply: { xid, replyStat, acceptStat, body: x.pos } };
  }
  return null;
}

/** True when `b` (at least 12 bytes) starts like an RPC call or reply body (used by probes and resync). */
export function looksLikeRpc(b: Uint8Array, off = 0): boolean {
  if (b.length - off < 12) return false;
  const mtype = be32(b, off + 4);
  if (mtype === 0) return b.length - off >= 24 ? be32(b, off + 8) === 2 : true;
  if (mtype === 1) return be32(b, off + 8) <= 1;
  return false;
}

/** Big-endian uint32 at `o` (caller checked the length): no DataView per probe (one per datagram otherwise). */
export function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * TCP record marking: each record is one or more fragments with a 4-byte header (bit 31 = last fragment,
 * low 31 bits = length). Emits whole records; fragments of one record are joined. Records beyond
 * RPC_MAX_RECORD are skipped (counted in `oversized`). After a gap, scans for a plausible record header.
 */
export class RecordMarker {
  #hdr = new Uint8Array(4);
  #hdrLen = 0;
  /** Bytes still expected in the current fragment. */
  #fragLeft = 0;
  #last = false;
  #parts: Uint8Array[] = [];
  #size = 0;
  #skipping = false;
  #lost = false;
  #tail = new Uint8Array(0);
  oversized = 0;
  resyncs = 0;
  /** `plausible` may narrow resynchronisation (e.g. a reply whose XID is pending, a call to a known program). */
  constructor(private readonly onRecord: (rec: Uint8Array) => void, private readonly max = RPC_MAX_RECORD, private readonly plausible?: (b: Uint8Array, off: number) => boolean) {}

  /** Feed in-order stream bytes. */
  push(bytes: Uint8Array): void {
    let b = bytes;
    if (this.#lost) {
      const joined = this.#tail.length ? Buffer.concat([this.#tail, b]) : b;
      const at = this.#findHeader(joined);
      if (at < 0) { this.#tail = joined.slice(Math.max(0, joined.length - 27)); return; }
      this.#lost = false; this.#tail = new Uint8Array(0); this.resyncs++;
      b = joined.subarray(at);
    }
    let i = 0;
    while (i < b.length) {
      if (this.#fragLeft === 0) {
        const need = 4 - this.#hdrLen;
        const take = Math.min(need, b.length - i);
        this.#hdr.set(b.subarray(i, i + take), this.#hdrLen);
        this.#hdrLen += take; i += take;
        if (this.#hdrLen < 4) return;
        this.#hdrLen = 0;
        const v = ((this.#hdr[0]! << 24) | (this.#hdr[1]! << 16) | (this.#hdr[2]! << 8) | this.#hdr[3]!) >>> 0;
        this.#last = (v & 0x80000000) !== 0;
        this.#fragLeft = v & 0x7fffffff;
        if (this.#size + this.#fragLeft > this.max) { this.#skipping = true; this.#parts = []; this.#size = 0; }
        if (this.#fragLeft === 0) { this.#endFrag(); continue; }
      }
      const take = Math.min(this.#fragLeft, b.length - i);
      if (!this.#skipping) { this.#parts.push(b.slice(i, i + take)); this.#size += take; }
      this.#fragLeft -= take; i += take;
      if (this.#fragLeft === 0) this.#endFrag();
    }
  }

  /** `len` bytes were lost: drop the record in progress and look for the next header. */
  gap(_len: number): void {
    this.#parts = []; this.#size = 0; this.#fragLeft = 0; this.#hdrLen = 0; this.#skipping = false;
    this.#lost = true; this.#tail = new Uint8Array(0);
  }

  #endFrag(): void {
    if (!this.#last) return;
    if (this.#skipping) { this.#skipping = false; this.oversized++; return; }
    const rec = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.#parts = []; this.#size = 0;
    this.onRecord(rec);
  }

  /** Offset of a fragment header (first fragment of a record) followed by an RPC call/reply header, or -1. */
  #findHeader(b: Uint8Array): number {
    for (let k = 0; k + 16 <= b.length; k++) {
      const len = (((b[k]! & 0x7f) << 24) | (b[k + 1]! << 16) | (b[k + 2]! << 8) | b[k + 3]!) >>> 0;
      if (len < 12 || len > this.max) continue;
      if (looksLikeRpc(b, k + 4) && (!this.plausible || this.plausible(b, k + 4))) return k;
    }
    return -1;
  }
}

/** Bounded XID → call-info table (insertion order; the oldest entry is evicted beyond `cap`). */
export class XidTable<T> {
  readonly #m = new Map<number, T>();
  evicted = 0;
  constructor(private readonly cap = RPC_MAX_PENDING) {}
  /** Remember the call `xid` (replaces an older one with the same XID). */
  set(xid: number, v: T): void {
    this.#m.delete(xid);
    this.#m.set(xid, v);
    if (this.#m.size > this.cap) { const k = this.#m.keys().next().value as number; this.#m.delete(k); this.evicted++; }
  }
  /** Remove and return the call for `xid`. */
  take(xid: number): T | undefined { const v = this.#m.get(xid); if (v !== undefined) this.#m.delete(xid); return v; }
  /** Is a call with this XID pending? */
  has(xid: number): boolean { return this.#m.has(xid); }
  /** Pending calls. */
  get size(): number { return this.#m.size; }
}

