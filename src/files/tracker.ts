// The file tracker: what happens to a file's bytes once a parser opens it. Streams them into sha256 (always)
// and md5/sha1 (when asked) and into a filestore temp file (whose buffer, when there is one, feeds the hashes:
// one copy of the bytes, hashed in buffer-sized runs); keeps an ordered range map for offset protocols
// (SMB/NFS writeAt: out-of-order ranges buffered up to a cap, hashed in order); counts gaps into the size
// without padding; enforces maxFileSize (hash but do not store); builds the fileinfo event on close.

import { createHash, type Hash } from 'node:crypto';
import type { Direction, FileHandle, FileOpenInfo, FileState, FileTracker, FlowInfo } from './protocols/contract.js';
import type { Filestore, TempFile } from './filestore.js';
import { makeEvent, type FileEvent, type FileOrder } from './fileinfo.js';
import type { PackedFilesBuilder } from './packed-files.js';

/** Extra digests beside sha256. */
export type HashName = 'md5' | 'sha1';

export interface TrackerOptions {
  /** md5 and/or sha1 besides sha256. */
  hashes?: HashName[];
  /** Files larger than this are hashed but not stored (stored:false); 0 = no limit. */
  maxFileSize?: number;
  /** Out-of-order bytes one file may buffer for writeAt (default 16 MiB); beyond, the first hole becomes a gap. */
  maxRangeBuffer?: number;
  /** Pack finished non-provisional files here (after onFile) instead of keeping them in `finished`. */
  pack?: PackedFilesBuilder;
}

/** Default cap of buffered out-of-order writeAt bytes per file. */
export const TRACKER_MAX_RANGE_BUFFER = 16 * 1024 * 1024;

/**
 * A file's first bytes are held in memory (up to TRACKER_HOLD_FILE) and hashed in one go when it closes: most
 * files are small and stay open until their flow ends, and a held copy costs far less than live hash objects.
 * Beyond, or when the tracker's open files hold TRACKER_HOLD_TOTAL bytes, the file's hashes start streaming.
 */
export const TRACKER_HOLD_FILE = 4096;
export const TRACKER_HOLD_TOTAL = 16 * 1024 * 1024;
/** Held copies are carved from slabs of this size (one ArrayBuffer for many files, no Buffer object each). */
const TRACKER_SLAB = 256 * 1024;

/** Capture time source of a flow's files. */
export interface FileClock { now(): { sec: number; nsec: number } }

/**
 * What a flow's files ask their flow: its identity (read only when a file closes, so a host may resolve it
 * late) and the capture time.
 */
export interface FlowFilesHost extends FileClock { readonly flow: FlowInfo }

/** A closed file: its event, sort key, and (while unresolved) its temp file. Structured-clone-able. */
export interface FinishedFile {
  order: FileOrder;
  event: FileEvent;
  direction: Direction;
  /** Temp file still to commit or discard (provisional files only). */
  tempPath?: string;
  /** Or the bytes themselves, held in memory (provisional files within FILESTORE_PROVISIONAL_HOLD). */
  data?: Uint8Array;
  /** Opened by a fallback parser (e.g. ftp-data candidate): kept out of the output until resolved. */
  provisional?: boolean;
}

/** Counters of a tracker. */
export interface TrackerCounters {
  opened: number;
  closed: number;
  truncated: number;
  /** Files above maxFileSize (not stored). */
  tooLarge: number;
  /** writeAt holes declared gaps because a file's range buffer was full. */
  rangeCapGaps: number;
  bytes: number;
}

/** Per-worker tracker: owns options, the filestore and the finished files (listed, or packed with `pack`). */
export class Tracker {
  readonly finished: FinishedFile[] = [];
  readonly counters: TrackerCounters = { opened: 0, closed: 0, truncated: 0, tooLarge: 0, rangeCapGaps: 0, bytes: 0 };
  readonly hashes: HashName[];
  readonly maxFileSize: number;
  readonly maxRangeBuffer: number;
  readonly pack: PackedFilesBuilder | null;
  /** Open files (closed by flows that end). */
  readonly open = new Set<TrackedFile>();
  /** Bytes open files hold for hashing at close (see TRACKER_HOLD_FILE). */
  held = 0;
  #slab = new ArrayBuffer(0);
  #slabUsed = 0;

  /** `onFile` is called for every finished non-provisional file, in close order. */
  constructor(readonly store: Filestore | null, o: TrackerOptions = {}, readonly onFile?: (f: FinishedFile) => void) {
    this.hashes = o.hashes ?? [];
    this.maxFileSize = o.maxFileSize ?? 0;
    this.maxRangeBuffer = o.maxRangeBuffer ?? TRACKER_MAX_RANGE_BUFFER;
    this.pack = o.pack ?? null;
  }

  /** A FileTracker for one flow; `now` gives the capture time; files of a `provisional` flow await resolution. */
  forFlow(flow: FlowInfo, now: () => { sec: number; nsec: number }): FlowFiles {
    return new FlowFiles(this, { flow, now });
  }

  /** A FileTracker for the flow of `host` (identity asked only when a file closes). */
  forHost(host: FlowFilesHost): FlowFiles {
    return new FlowFiles(this, host);
  }

  /** `n` bytes for a held copy, carved from the current slab (a slab is freed once none of its copies lives). */
  alloc(n: number): Uint8Array {
    if (this.#slabUsed + n > this.#slab.byteLength) { this.#slab = new ArrayBuffer(Math.max(TRACKER_SLAB, n)); this.#slabUsed = 0; }
    const b = new Uint8Array(this.#slab, this.#slabUsed, n);
    this.#slabUsed += (n + 7) & ~7;
    return b;
  }

  /** Called by a file when it closes. */
  done(f: FinishedFile): void {
    if (f.provisional) { this.finished.push(f); return; }
    if (this.onFile) this.onFile(f);
    if (this.pack !== null) this.pack.add(f); else this.finished.push(f);
  }
}

/** The files of one flow: numbers them 1, 2, … (file_id before the merge renumbers). */
export class FlowFiles implements FileTracker {
  seq = 0;
  /** When set, files opened from now on are provisional (fallback parsers). */
  provisional = false;
  constructor(readonly tracker: Tracker, readonly host: FlowFilesHost) {}

  /** The flow's identity (from the host: may be resolved now). */
  get flow(): FlowInfo { return this.host.flow; }

  /** Open a file (see FileTracker). */
  open(info: FileOpenInfo): TrackedFile {
    return new TrackedFile(this, info, ++this.seq, this.provisional);
  }
}

interface Range { off: number; bytes: Uint8Array }

const NO_RANGES: Range[] = [];
const NO_HASHES: Hash[] = [];

/** One file; see the module comment. */
export class TrackedFile implements FileHandle {
  #size = 0;
  #closed = false;
  #gaps = false;
  /** Streaming hashes, created when the file outgrows its held bytes (null while held). */
  #sha256: Hash | null = null;
  #extra: Hash[] = NO_HASHES;
  /** The first bytes, hashed at close while #sha256 is null. */
  #held: Uint8Array | null = null;
  #heldLen = 0;
  #temp: TempFile | null;
  /** Protocol metadata: the opener's object until setMeta() (then a copy), so opening copies nothing. */
  #meta: Record<string, unknown>;
  #ownMeta = false;
  /** Out-of-order writeAt ranges, sorted (the shared empty list until the first one). */
  #ranges: Range[] = NO_RANGES;
  #rangeBytes = 0;
  #tooLarge = false;

  constructor(readonly owner: FlowFiles, readonly info: FileOpenInfo, readonly seq: number, readonly provisional: boolean) {
    const t = owner.tracker;
    this.#temp = t.store ? t.store.temp(info.sizeHint) : null;
    if (this.#temp !== null) this.#temp.onBytes = (b) => this.#hash(b);
    this.#meta = info.meta;
    t.counters.opened++;
    t.open.add(this);
  }

  get size(): number { return this.#size; }
  get closed(): boolean { return this.#closed; }

  write(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    this.#append(bytes);
    if (this.#ranges.length) this.#drainRanges();
  }

  writeAt(offset: number, bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    const end = offset + bytes.length;
    if (end <= this.#size) return; // already written: first wins
    if (offset <= this.#size) { this.write(bytes.subarray(this.#size - offset)); return; }
    this.#bufferRange(offset, bytes);
  }

  gap(len: number): void {
    if (this.#closed) return;
    this.#gaps = true;
    if (len > 0) this.#size += len;
    if (this.#ranges.length) this.#drainRanges();
  }

  setMeta(meta: Record<string, unknown>): void {
    if (!this.#ownMeta) { this.#meta = { ...this.#meta }; this.#ownMeta = true; }
    Object.assign(this.#meta, meta);
  }

  close(state?: FileState): void {
    if (this.#closed) return;
    // Ranges never joined: their holes are gaps.
    while (this.#ranges.length) {
      const r = this.#ranges[0]!;
      if (r.off > this.#size) this.gap(r.off - this.#size); else this.#drainRanges();
    }
    this.#closed = true;
    const t = this.owner.tracker;
    t.open.delete(this);
    t.counters.closed++;
    let st: FileState = state ?? 'CLOSED';
    if (this.#gaps && st === 'CLOSED') st = 'TRUNCATED';
    if (st === 'TRUNCATED') t.counters.truncated++;
    const temp = this.#temp;
    if (temp !== null && !temp.aborted) temp.feed();
    if (this.#sha256 === null) this.#startHashes();
    const sha256 = this.#sha256!.digest('hex');
    let stored = false;
    let tempPath: string | undefined, data: Uint8Array | undefined;
    if (temp && !temp.aborted) {
      if (this.provisional) {
        // Most candidates are discarded by the merge: keep small ones in memory rather than create a temp file.
        const held = t.store!.holdProvisional(temp);
        if (held) data = held; else { temp.finish(); tempPath = temp.path; }
      }
      else {
        temp.commit(sha256);
        stored = true;
      }
    }
    const { sec, nsec } = this.owner.host.now();
    const body = {
      filename: this.info.filename,
      gaps: this.#gaps,
      state: st,
      ...(this.#extra.length ? Object.fromEntries(t.hashes.map((h, k) => [h, this.#extra[k]!.digest('hex')])) : {}),
      sha256,
      stored,
      file_id: this.seq,
      size: this.#size,
      ...(this.info.start !== undefined ? { start: this.info.start, end: this.info.end ?? this.info.start + this.#size - 1 } : {}),
      tx_id: this.info.txId,
    } as FileEvent['fileinfo'];
    const flow = this.info.flow ?? this.owner.flow;
    const event = makeEvent({ flow, direction: this.info.direction, sec, nsec, appProto: this.info.appProto, meta: this.#meta, body });
    const f: FinishedFile = { order: { sec, nsec, flowId: flow.flowId, txId: this.info.txId, seq: this.seq }, event, direction: this.info.direction };
    if (this.provisional) { f.provisional = true; if (tempPath) f.tempPath = tempPath; if (data) f.data = data; }
    t.done(f);
  }

  /** Create the streaming hashes and feed them the held bytes (released). */
  #startHashes(): void {
    const t = this.owner.tracker;
    this.#sha256 = createHash('sha256');
    if (t.hashes.length) this.#extra = t.hashes.map((h) => createHash(h));
    const held = this.#held;
    if (held !== null) {
      const b = held.subarray(0, this.#heldLen);
      this.#sha256.update(b);
      for (const h of this.#extra) h.update(b);
      t.held -= held.length;
      this.#held = null; this.#heldLen = 0;
    }
  }

  /** Hash `b` now (the hashes start on the first bytes). */
  #hash(b: Uint8Array): void {
    if (this.#sha256 === null) this.#startHashes();
    this.#sha256!.update(b);
    for (const h of this.#extra) h.update(b);
  }

  /** Hash `b`, or hold a copy while the file is small (no temp file feeds the hashes). */
  #digest(b: Uint8Array): void {
    if (this.#sha256 === null) {
      const need = this.#heldLen + b.length;
      const t = this.owner.tracker;
      if (need <= TRACKER_HOLD_FILE) {
        let held = this.#held;
        if (held === null || need > held.length) {
          // First buffer: the announced size when it fits, else what is needed; then doubling, up to the cap.
          const hint = this.info.sizeHint ?? 0;
          let cap = held === null ? (hint >= need && hint <= TRACKER_HOLD_FILE ? hint : need) : Math.min(TRACKER_HOLD_FILE, Math.max(need, held.length * 2));
          if (t.held + cap - (held?.length ?? 0) > TRACKER_HOLD_TOTAL) cap = -1;
          if (cap >= 0) {
            const grown = t.alloc(cap);
            if (held !== null) { grown.set(held.subarray(0, this.#heldLen)); t.held -= held.length; }
            t.held += cap;
            this.#held = held = grown;
          } else held = null;
        }
        if (held !== null) {
          held.set(b, this.#heldLen);
          this.#heldLen = need;
          return;
        }
      }
    }
    this.#hash(b);
  }

  /** Count `b`, then store it (its temp file hashes it) or, without one, hash it. */
  #append(b: Uint8Array): void {
    this.#size += b.length;
    const t = this.owner.tracker;
    t.counters.bytes += b.length;
    const temp = this.#temp;
    if (temp === null || this.#tooLarge) { this.#digest(b); return; }
    if (t.maxFileSize > 0 && this.#size > t.maxFileSize) {
      this.#tooLarge = true;
      t.counters.tooLarge++;
      if (t.store) t.store.counters.tooLarge++;
      temp.feed(); // what it holds is hashed before it is dropped
      temp.abort();
      this.#digest(b);
      return;
    }
    temp.write(b);
  }

  #bufferRange(off: number, b: Uint8Array): void {
    const t = this.owner.tracker;
    if (this.#rangeBytes + b.length > t.maxRangeBuffer) {
      // Full: the first hole will not be filled in time.
      t.counters.rangeCapGaps++;
      while (this.#ranges.length) {
        const r = this.#ranges[0]!;
        if (r.off > this.#size) this.gap(r.off - this.#size); else this.#drainRanges();
      }
      if (off > this.#size) this.gap(off - this.#size);
      this.writeAt(off, b);
      return;
    }
    // Insert a copy of the parts not yet buffered (first wins).
    if (this.#ranges === NO_RANGES) this.#ranges = [];
    const q = this.#ranges;
    const end = off + b.length;
    let cur = off;
    const add: Range[] = [];
    for (const r of q) {
      if (cur >= end) break;
      const rEnd = r.off + r.bytes.length;
      if (rEnd <= cur) continue;
      if (r.off > cur) add.push({ off: cur, bytes: b.slice(cur - off, Math.min(end, r.off) - off) });
      cur = Math.max(cur, rEnd);
    }
    if (cur < end) add.push({ off: cur, bytes: b.slice(cur - off) });
    for (const a of add) { q.push(a); this.#rangeBytes += a.bytes.length; }
    q.sort((x, y) => x.off - y.off);
  }

  #drainRanges(): void {
    const q = this.#ranges;
    while (q.length && q[0]!.off <= this.#size) {
      const r = q.shift()!;
      this.#rangeBytes -= r.bytes.length;
      const rEnd = r.off + r.bytes.length;
      if (rEnd > this.#size) this.#append(r.bytes.subarray(this.#size - r.off));
    }
  }
}
