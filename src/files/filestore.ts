// The filestore (Suricata filestore v2 layout): DIR/<first two hex of sha256>/<sha256>. Files stream into a
// temp file under DIR/tmp (name unique per process, worker and file) and are renamed on completion; an existing
// sha256 is not written again (dedup, counted) but its mtime is refreshed, so oldest-first pruning (--max-size)
// removes the least recently seen file. Names from the wire never reach the filesystem: paths are built only
// from hex digests and our own counters. Safe with several worker threads writing the same store (unique temp
// names, atomic rename, dedup by existence).

import { promises as fsp } from 'node:fs';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FlowcarveError, ERR } from '../errors.js';

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

/** Background store writes in flight per handle, and their bytes (beyond: written synchronously). */
export const FILESTORE_ASYNC_JOBS = 16;
export const FILESTORE_ASYNC_BYTES = 16 * 1024 * 1024;

/** A file being written: buffered in memory up to FILESTORE_WRITE_BUFFER, then appended to its temp file. */
export class TempFile {
  #fd = -1;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #written = 0;
  #aborted = false;
  constructor(readonly store: Filestore, readonly path: string) {}

  /** Bytes accepted so far. */
  get size(): number { return this.#written + this.#buffered; }

  /** Append a copy of `b` (valid only during the call). */
  write(b: Uint8Array): void {
    if (this.#aborted || b.length === 0) return;
    this.#chunks.push(Uint8Array.prototype.slice.call(b) as Uint8Array);
    this.#buffered += b.length;
    if (this.#buffered >= FILESTORE_WRITE_BUFFER) this.#spill();
  }

  /** Stop storing (file too large): the temp file is removed. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#chunks = []; this.#buffered = 0;
    if (this.#fd >= 0) { closeSync(this.#fd); this.#fd = -1; }
    try { unlinkSync(this.path); } catch { /* never created */ }
  }

  get aborted(): boolean { return this.#aborted; }

  /** A file that never left memory is written and committed in the background (see Filestore.enqueue); false when it already spilled to disk. */
  commitAsync(sha256: string): boolean {
    if (this.#aborted || this.#fd >= 0 || this.#written > 0) return false;
    const chunks = this.#chunks, n = this.#buffered;
    this.#chunks = []; this.#buffered = 0;
    this.store.counters.bytesWritten += n;
    this.store.enqueue(sha256, chunks, n, this.path);
    return true;
  }

  /** Flush and close the temp file (it stays under DIR/tmp until commit or discard). */
  finish(): void {
    if (this.#aborted) return;
    if (this.#fd < 0) this.#fd = this.store.openTemp(this.path);
    this.#spill();
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #spill(): void {
    if (this.#fd < 0) this.#fd = this.store.openTemp(this.path);
    for (const c of this.#chunks) {
      let o = 0;
      while (o < c.length) o += writeSync(this.#fd, c, o, c.length - o);
    }
    this.store.counters.bytesWritten += this.#buffered;
    this.#written += this.#buffered;
    this.#chunks = []; this.#buffered = 0;
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
  /** Background writes in flight and their bytes. */
  #jobs = new Set<Promise<void>>();
  #inflight = 0;
  #error: unknown = null;
  constructor(readonly dir: string, readonly tag: string = `${process.pid}`) {
    this.tmpDir = join(dir, 'tmp');
    try { mkdirSync(this.tmpDir, { recursive: true }); } catch (e) {
      throw new FlowcarveError(ERR.STORE, `cannot create filestore ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
    }
  }

  /** A new temp file (not yet created on disk). */
  temp(): TempFile {
    return new TempFile(this, join(this.tmpDir, `${this.tag}-${++this.#seq}.tmp`));
  }

  /** Create a temp file for writing (exclusive). */
  openTemp(path: string): number {
    try { return openSync(path, 'wx'); } catch (e) {
      throw new FlowcarveError(ERR.STORE, `cannot create ${path}: ${(e as Error).message}`, { file: path, cause: e });
    }
  }

  /** Path of a stored file. */
  pathOf(sha256: string): string {
    if (!HEX64.test(sha256)) throw new FlowcarveError(ERR.STORE, `not a sha256: ${sha256.slice(0, 80)}`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /**
   * Store a small file held in memory: written to its temp name and renamed by libuv's thread pool while parsing
   * goes on (at most FILESTORE_ASYNC_JOBS files and FILESTORE_ASYNC_BYTES bytes in flight; beyond, synchronously).
   * drain() waits for all of them.
   */
  enqueue(sha256: string, chunks: Uint8Array[], bytes: number, tempPath: string): void {
    const dst = this.pathOf(sha256);
    if (this.#known.has(sha256)) { this.#dedup(dst); return; }
    this.#known.add(sha256);
    const sub = sha256.slice(0, 2);
    if (!this.#dirs.has(sub)) { mkdirSync(join(this.dir, sub), { recursive: true }); this.#dirs.add(sub); }
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
    if (this.#jobs.size >= FILESTORE_ASYNC_JOBS || this.#inflight + bytes > FILESTORE_ASYNC_BYTES) {
      writeFileSync(tempPath, data, { flag: 'wx' });
      this.#known.delete(sha256); // commit() decides dedup by existence
      this.commit(tempPath, sha256);
      return;
    }
    this.#inflight += bytes;
    const job = (async () => {
      try {
        if (existsSync(dst)) { this.counters.dedup++; const now = new Date(); await fsp.utimes(dst, now, now).catch(() => {}); return; }
        await fsp.writeFile(tempPath, data, { flag: 'wx' });
        await fsp.rename(tempPath, dst);
        this.counters.stored++;
      } catch (e) {
        this.#error ??= new FlowcarveError(ERR.STORE, `cannot store ${dst}: ${(e as Error).message}`, { file: dst, cause: e });
      } finally {
        this.#inflight -= bytes;
      }
    })();
    this.#jobs.add(job);
    void job.then(() => this.#jobs.delete(job));
  }

  /** Wait for background writes; throws the first write error. */
  async drain(): Promise<void> {
    while (this.#jobs.size) await Promise.all([...this.#jobs]);
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
