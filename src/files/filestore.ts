// The filestore (Suricata filestore v2 layout): DIR/<first two hex of sha256>/<sha256>. Large files stream into a
// temp file under DIR/tmp (name unique per process, worker and file), small ones are written from memory to a
// dot-named temp file beside their destination; both are renamed on completion, and both are created and
// written by the writer thread (store-writer.ts) once it runs, never by the parsing thread; an existing
// sha256 is not written again (dedup, counted) but its mtime is refreshed, so oldest-first pruning (--max-size)
// removes the least recently seen file. Names from the wire never reach the filesystem: paths are built only
// from hex digests and our own counters. Safe with several worker threads writing the same store (unique temp
// names, atomic rename, dedup by existence).

import { access, close, open, rename, utimes, write } from 'node:fs';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { FlowcarveError, ERR } from '../errors.js';
import { StoreWriter } from './store-writer.js';

/** Counters of one filestore handle. */
export interface FilestoreCounters {
  /** Files renamed into the store. */
  stored: number;
  /** Completed files whose sha256 was already stored (not written again). */
  dedup: number;
  /** Files not stored because they exceed maxFileSize. */
  tooLarge: number;
  /** Files removed by pruning (maxSize) and their bytes. */
  pruned: number;
  prunedBytes: number;
  /** Bytes written to temp files. */
  bytesWritten: number;
}

/** Fresh counters. */
export function newFilestoreCounters(): FilestoreCounters {
  return { stored: 0, dedup: 0, tooLarge: 0, pruned: 0, prunedBytes: 0, bytesWritten: 0 };
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Bytes buffered per temp file before the file is opened and written (small files never open a descriptor early). */
export const FILESTORE_WRITE_BUFFER = 64 * 1024;

/** Background store writes in flight per handle, and their bytes (beyond: written synchronously, back-pressure). */
export const FILESTORE_ASYNC_JOBS = 1024;
export const FILESTORE_ASYNC_BYTES = 64 * 1024 * 1024;

/**
 * Background files stored through thread-pool callbacks before a writer thread (store-writer.ts) takes over:
 * small runs never start a thread; big ones stop paying five thread-pool round trips per file.
 */
export const FILESTORE_WRITER_AFTER = 64;

/** Bytes of provisional (fallback-candidate) files one handle keeps in memory for the merge; beyond, temp files. */
export const FILESTORE_PROVISIONAL_HOLD = 64 * 1024 * 1024;

/** First allocation of a temp file's memory buffer (grows by doubling up to FILESTORE_WRITE_BUFFER). */
const FIRST_BUFFER = 2048;
const EMPTY = new Uint8Array(0);

/**
 * A file being written: its bytes are copied once into one growing buffer (up to FILESTORE_WRITE_BUFFER); a
 * file that outgrows it goes a full buffer at a time to the filestore's writer thread, which creates and
 * appends to its temp file (store-writer.ts): the parsing thread neither creates files nor writes them.
 */
export class TempFile {
  /**
   * Receives every byte written, in order and once, in runs as large as the buffer: before the buffer goes to
   * the writer thread, and on feed(). The tracker hashes here, from the copy just made (warm in cache, one
   * update per run instead of one per segment).
   */
  onBytes: ((b: Uint8Array) => void) | null = null;
  /** Bytes went to the writer thread (the temp file exists there, or will). */
  #spilled = false;
  #buf: Buffer | null = null;
  #buffered = 0;
  /** Bytes of the buffer already passed to onBytes. */
  #fed = 0;
  #written = 0;
  #aborted = false;
  /** `sizeHint`: expected size (0 = unknown); the first buffer is that large (up to FILESTORE_WRITE_BUFFER). */
  constructor(readonly store: Filestore, readonly path: string, readonly sizeHint = 0) {}

  /** Bytes accepted so far. */
  get size(): number { return this.#written + this.#buffered; }

  /** Append a copy of `b` (valid only during the call). */
  write(b: Uint8Array): void {
    if (this.#aborted || b.length === 0) return;
    let need = this.#buffered + b.length;
    if (need > FILESTORE_WRITE_BUFFER) {
      // Too big for memory: the buffer goes to the temp file and is refilled, so a large file costs one
      // transfer per FILESTORE_WRITE_BUFFER bytes, not one per segment; a view larger than the buffer goes as is.
      this.#spill();
      if (b.length >= FILESTORE_WRITE_BUFFER) { this.onBytes?.(b); this.#send(b); return; }
      need = b.length;
    }
    let buf = this.#buf;
    if (buf === null || need > buf.length) {
      let cap = buf === null ? (this.sizeHint >= need ? this.sizeHint : FIRST_BUFFER) : buf.length * 2;
      while (cap < need) cap *= 2;
      // allocUnsafe: below 4 KiB from Node's shared pool, above one ArrayBuffer (the data outlives this call).
      const grown = Buffer.allocUnsafe(Math.min(cap, FILESTORE_WRITE_BUFFER));
      if (buf !== null && this.#buffered > 0) grown.set(buf.subarray(0, this.#buffered), 0);
      this.#buf = buf = grown;
    }
    buf.set(b, this.#buffered);
    this.#buffered = need;
  }

  /** Pass the buffered bytes onBytes has not seen yet (before a digest: commit() needs it). */
  feed(): void {
    if (this.#fed === this.#buffered) return;
    this.onBytes?.(this.#buf!.subarray(this.#fed, this.#buffered));
    this.#fed = this.#buffered;
  }

  /** Stop storing (file too large): the temp file is removed (bytes not fed yet never reach onBytes). */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#buf = null; this.#buffered = 0; this.#fed = 0;
    if (this.#spilled) this.store.discardSpilled(this.path);
  }

  get aborted(): boolean { return this.#aborted; }

  /**
   * Store the file under `sha256`: a file that never left memory is written and committed in the background
   * (Filestore.enqueue), a spilled one is finished and committed by the writer thread after its appends.
   */
  commit(sha256: string): void {
    if (this.#aborted) return;
    if (!this.#spilled) {
      const data = this.#buf === null ? Buffer.alloc(0) : this.#buf.subarray(0, this.#buffered);
      this.#buf = null; this.#buffered = 0; this.#fed = 0;
      this.store.counters.bytesWritten += data.length;
      this.store.enqueue(sha256, data, this.path);
      return;
    }
    this.#spill();
    this.#buf = null;
    this.store.commitSpilled(this.path, sha256);
  }

  /** The bytes of a file that never left memory (an exact-size copy), and the temp file is done; null when it spilled to disk. */
  take(): Uint8Array | null {
    if (this.#aborted || this.#spilled) return null;
    const data = this.#buf === null ? new Uint8Array(0) : Uint8Array.prototype.slice.call(this.#buf, 0, this.#buffered) as Uint8Array;
    this.#buf = null; this.#buffered = 0; this.#fed = 0;
    this.#aborted = true; // nothing left to write or remove
    return data;
  }

  /** Write out and close the temp file, and wait until it is complete on disk (it stays under DIR/tmp until commit or discard by path). */
  finish(): void {
    if (this.#aborted) return;
    if (!this.#spilled) this.#send(EMPTY); // creates it
    this.#spill();
    this.#buf = null;
    this.store.closeSpilled(this.path);
  }

  /** Send what is buffered to the temp file (fed to onBytes first). */
  #spill(): void {
    if (this.#buffered === 0) return;
    this.feed();
    this.#send(this.#buf!.subarray(0, this.#buffered));
    this.#buffered = 0; this.#fed = 0;
  }

  #send(b: Uint8Array): void {
    this.store.spill(this.path, b);
    this.#spilled = true;
    this.#written += b.length;
    this.store.counters.bytesWritten += b.length;
  }
}

/** A filestore directory opened by one worker (`tag` makes temp names unique across workers/processes). */
export class Filestore {
  readonly counters = newFilestoreCounters();
  readonly tmpDir: string;
  #seq = 0;
  /** <xx> directories known to exist. */
  #dirs = new Set<string>();
  /** sha256s this handle stored or is storing (dedup without touching the disk). */
  #known = new Set<string>();
  /** Background writes in flight, their bytes, and who waits for them to end. */
  #jobs = 0;
  #inflight = 0;
  #idle: (() => void) | null = null;
  /** Files sent to the background so far; past FILESTORE_WRITER_AFTER they go to the writer thread. */
  #queued = 0;
  #writer: StoreWriter | null = null;
  /** Bytes of provisional files held in memory (holdProvisional). */
  #held = 0;
  /** `dir` normalised, with a trailing separator (paths by concatenation, no join per file). */
  readonly #prefix: string;
  #error: unknown = null;
  constructor(readonly dir: string, readonly tag: string = `${process.pid}`) {
    this.tmpDir = join(dir, 'tmp');
    this.#prefix = join(dir, 'x').slice(0, -1);
    try { mkdirSync(this.tmpDir, { recursive: true }); } catch (e) {
      throw new FlowcarveError(ERR.STORE, `cannot create filestore ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
    }
  }

  /** A new temp file (not yet created on disk); `sizeHint` = expected bytes, if announced. */
  temp(sizeHint = 0): TempFile {
    return new TempFile(this, join(this.tmpDir, `${this.tag}-${++this.#seq}.tmp`), sizeHint);
  }

  /**
   * A provisional file's bytes to keep in memory until the merge decides (most are discarded): an exact-size
   * copy while the handle holds at most FILESTORE_PROVISIONAL_HOLD such bytes; null = use the temp file.
   */
  holdProvisional(temp: TempFile): Uint8Array | null {
    if (this.#held + temp.size > FILESTORE_PROVISIONAL_HOLD) return null;
    const data = temp.take();
    if (data) this.#held += data.length;
    return data;
  }

  /** Store bytes held in memory now (merge of a resolved provisional file): temp file beside the destination, then commit(). */
  storeNow(sha256: string, data: Uint8Array): 'stored' | 'dedup' {
    const dst = this.pathOf(sha256);
    if (this.#known.has(sha256) || existsSync(dst)) { this.#known.add(sha256); this.#dedup(dst); return 'dedup'; }
    const sub = sha256.slice(0, 2);
    if (!this.#dirs.has(sub)) { mkdirSync(join(this.dir, sub), { recursive: true }); this.#dirs.add(sub); }
    const tmp = `${this.#prefix}${sub}${sep}.${this.tag}-${++this.#seq}.tmp`;
    writeFileSync(tmp, data, { flag: 'wx' });
    return this.commit(tmp, sha256);
  }

  /** Append `data` (copied now) to temp file `path` through the writer thread; the first append creates it. */
  spill(path: string, data: Uint8Array): void {
    (this.#writer ??= new StoreWriter()).append(path, data);
  }

  /** Commit spilled temp file `path` under `sha256` in the writer thread (after its appends); a known sha256 is a duplicate. */
  commitSpilled(path: string, sha256: string): void {
    const dst = this.pathOf(sha256);
    const w = this.#spillWriter(path);
    if (this.#known.has(sha256)) { this.#dedup(dst); w.discard(path); return; }
    this.#known.add(sha256);
    w.commit(path, dst);
  }

  /** Close spilled temp file `path` and wait until it is complete on disk (for a commit or discard by path later). */
  closeSpilled(path: string): void { this.#spillWriter(path).closeAndWait(path); }

  /** Remove spilled temp file `path` (in the writer thread, after its appends). */
  discardSpilled(path: string): void { this.#spillWriter(path).discard(path); }

  /** The writer thread holding `path` open (it lives until drain(), which comes after every file closed). */
  #spillWriter(path: string): StoreWriter {
    if (this.#writer === null) throw new FlowcarveError(ERR.STORE, `filestore: temp file ${path} used after drain`, { file: path });
    return this.#writer;
  }

  /** Path of a stored file. */
  pathOf(sha256: string): string {
    if (!HEX64.test(sha256)) throw new FlowcarveError(ERR.STORE, `not a sha256: ${sha256.slice(0, 80)}`);
    return this.#prefix + sha256.slice(0, 2) + sep + sha256;
  }

  /**
   * Store a small file held in memory: existence check, temp write and rename run on libuv's thread pool (plain
   * callbacks, one chain per file) while parsing goes on. At most FILESTORE_ASYNC_JOBS files and
   * FILESTORE_ASYNC_BYTES bytes are in flight; beyond, the file is written synchronously (back-pressure).
   * drain() waits for all of them. `data` must stay untouched until then (it is the file's own buffer).
   */
  enqueue(sha256: string, data: Uint8Array, tempPath: string): void {
    const dst = this.pathOf(sha256);
    if (this.#known.has(sha256)) { this.#dedup(dst); return; }
    this.#known.add(sha256);
    const sub = sha256.slice(0, 2);
    const bytes = data.length;
    // The temp name sits beside its destination: creates spread over the <xx> directories (no one directory
    // lock for every file) and the rename stays in one directory. Dot-named, so no listing takes it for a file.
    const tmp = this.#prefix + sub + sep + '.' + basename(tempPath);
    const sync = this.#jobs >= FILESTORE_ASYNC_JOBS || this.#inflight + bytes > FILESTORE_ASYNC_BYTES;
    // The writer thread creates the <xx> directories itself (mkdir is slow on some disks).
    if (!sync && ++this.#queued > FILESTORE_WRITER_AFTER) { (this.#writer ??= new StoreWriter()).add(dst, tmp, data); return; }
    if (!this.#dirs.has(sub)) { mkdirSync(join(this.dir, sub), { recursive: true }); this.#dirs.add(sub); }
    if (sync) {
      writeFileSync(tmp, data, { flag: 'wx' });
      this.#known.delete(sha256); // commit() decides dedup by existence
      this.commit(tmp, sha256);
      return;
    }
    this.#jobs++;
    this.#inflight += bytes;
    new StoreJob(this, dst, tmp, data).start();
  }

  /** Called by a StoreJob when it ends (error: the first one is kept and thrown by drain()). */
  jobDone(bytes: number, outcome: 'stored' | 'dedup' | 'error', dst: string, e?: unknown): void {
    this.#jobs--;
    this.#inflight -= bytes;
    if (outcome === 'stored') this.counters.stored++;
    else if (outcome === 'dedup') this.counters.dedup++;
    else this.#error ??= new FlowcarveError(ERR.STORE, `cannot store ${dst}: ${(e as Error).message}`, { file: dst, cause: e });
    if (this.#jobs === 0 && this.#idle) { const r = this.#idle; this.#idle = null; r(); }
  }

  /** Wait for background writes; throws the first write error. */
  async drain(): Promise<void> {
    if (this.#writer) {
      const w = this.#writer;
      this.#writer = null;
      const r = await w.drain();
      this.counters.stored += r.stored;
      this.counters.dedup += r.dedup;
      if (r.error) this.#error ??= new FlowcarveError(ERR.STORE, `cannot store ${r.error.file}: ${r.error.message}`, { file: r.error.file });
    }
    if (this.#jobs > 0) await new Promise<void>((r) => { this.#idle = r; });
    if (this.#error) throw this.#error;
  }

  #dedup(dst: string): void {
    this.counters.dedup++;
    const now = new Date();
    try { utimesSync(dst, now, now); } catch { /* still being written in the background, or pruned */ }
  }

  /** Move a finished temp file to DIR/xx/<sha256>; an existing copy is kept (dedup) and its mtime refreshed. Returns 'stored' | 'dedup'. */
  commit(tempPath: string, sha256: string): 'stored' | 'dedup' {
    const dst = this.pathOf(sha256);
    const known = this.#known.has(sha256);
    this.#known.add(sha256);
    if (known || existsSync(dst)) {
      this.counters.dedup++;
      const now = new Date();
      try { utimesSync(dst, now, now); } catch { /* pruned meanwhile */ }
      try { unlinkSync(tempPath); } catch { /* already gone */ }
      return 'dedup';
    }
    const sub = sha256.slice(0, 2);
    if (!this.#dirs.has(sub)) { mkdirSync(join(this.dir, sub), { recursive: true }); this.#dirs.add(sub); }
    // rename is atomic: a concurrent writer of the same content just replaces identical bytes.
    renameSync(tempPath, dst);
    this.counters.stored++;
    return 'stored';
  }

  /** Remove a temp file that will not be stored. */
  discard(tempPath: string): void {
    try { unlinkSync(tempPath); } catch { /* never created */ }
  }

  /** Write `<sha256>.<secs>.<fileId>.json` beside the stored file (Suricata's write-fileinfo naming). */
  writeMeta(sha256: string, secs: number, fileId: number, json: string): void {
    const p = `${this.pathOf(sha256)}.${Math.floor(secs)}.${Math.floor(fileId)}.json`;
    writeFileSync(p, json + '\n');
  }

  /** Delete stored files oldest mtime first until their total size is at most `maxSize` (metadata files go with them). */
  prune(maxSize: number): void {
    const files: { p: string; size: number; mtime: number; name: string }[] = [];
    let total = 0;
    for (const d of safeReaddir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      for (const f of safeReaddir(join(this.dir, d))) {
        if (!HEX64.test(f)) continue;
        const p = join(this.dir, d, f);
        const st = statSync(p);
        files.push({ p, size: st.size, mtime: st.mtimeMs, name: f });
        total += st.size;
      }
    }
    if (total <= maxSize) return;
    files.sort((a, b) => a.mtime - b.mtime || (a.name < b.name ? -1 : 1));
    for (const f of files) {
      if (total <= maxSize) break;
      unlinkSync(f.p);
      for (const m of safeReaddir(join(f.p, '..'))) if (m.startsWith(f.name + '.') && m.endsWith('.json')) unlinkSync(join(f.p, '..', m));
      total -= f.size;
      this.counters.pruned++;
      this.counters.prunedBytes += f.size;
    }
  }

  /** Total bytes of stored files. */
  totalSize(): number {
    let total = 0;
    for (const d of safeReaddir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      for (const f of safeReaddir(join(this.dir, d))) if (HEX64.test(f)) total += statSync(join(this.dir, d, f)).size;
    }
    return total;
  }
}

function safeReaddir(p: string): string[] {
  try { return readdirSync(p); } catch { return []; }
}

/** One background store: access(dst) → dedup (refresh mtime) | open temp → write → close → rename (fs callbacks). */
class StoreJob {
  #fd = -1;
  #off = 0;
  constructor(readonly store: Filestore, readonly dst: string, readonly tmp: string, readonly data: Uint8Array) {}

  start(): void {
    access(this.dst, (e) => {
      if (!e) { const now = new Date(); utimes(this.dst, now, now, () => this.#end('dedup')); return; }
      open(this.tmp, 'wx', (e2, fd) => { if (e2) return this.#end('error', e2); this.#fd = fd; this.#write(); });
    });
  }

  #write(): void {
    if (this.#off >= this.data.length) { close(this.#fd, (e) => (e ? this.#end('error', e) : this.#rename())); return; }
    write(this.#fd, this.data, this.#off, this.data.length - this.#off, null, (e, n) => {
      if (e) { close(this.#fd, () => this.#end('error', e)); return; }
      this.#off += n;
      this.#write();
    });
  }

  #rename(): void {
    // rename is atomic: a concurrent writer of the same content just replaces identical bytes.
    rename(this.tmp, this.dst, (e) => (e ? this.#end('error', e) : this.#end('stored')));
  }

  #end(outcome: 'stored' | 'dedup' | 'error', e?: unknown): void { this.store.jobDone(this.data.length, outcome, this.dst, e); }
}
