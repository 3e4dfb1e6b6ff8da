// The filestore's writer thread, client side: small files held in memory are copied into a batch buffer
// (STORE_BATCH_BYTES) that is transferred to one writer thread (store-worker.ts) doing the file creation,
// write and rename. Per file the parsing thread pays one memcpy instead of five thread-pool round trips.
// Large files stream through the same queue: appends to their temp file (created by the first), then a commit
// (rename, or dedup), a close (kept for the merge) or a discard; so the parsing thread never creates a file.
// Back-pressure: past STORE_MAX_PENDING bytes not yet written the caller blocks (Atomics.wait) until the
// writer catches up; drain() waits for everything and returns the writer's counters and first error.

import { Worker } from 'node:worker_threads';

/** Batch size: a batch is posted when it holds this many bytes or STORE_BATCH_FILES files. */
export const STORE_BATCH_BYTES = 1024 * 1024;
export const STORE_BATCH_FILES = 256;
/** Bytes posted and not yet written beyond which enqueue blocks (named cap, see module comment). */
export const STORE_MAX_PENDING = 64 * 1024 * 1024;

/** How long a blocked enqueue waits for a writer that makes no progress before going on regardless. */
export const STORE_STALL_MS = 30_000;

/** Slots of the shared control array: bytes posted and not yet written; batches written (futex). */
export const CTRL_BYTES = 0;
export const CTRL_DONE = 1;

/**
 * Operations of a batch entry: a whole file (write tmp, rename to dst unless dst exists), an append to temp
 * file tmp (created by its first append), closing tmp (it stays for a later commit by path), committing tmp
 * to dst (closed first; dedup when dst exists), discarding tmp (closed and removed).
 */
export const OP_FILE = 0, OP_APPEND = 1, OP_CLOSE = 2, OP_COMMIT = 3, OP_DISCARD = 4;

/**
 * One posted batch: entry i is operation op[i] on tmp[i] (and dst[i]) with the bytes buf[off[i], off[i] + len[i]).
 * A commit carries in mtime[i] the wall-clock time (ms) its file was finished, stamped as the stored file's
 * mtime however late the writer gets to it (--max-size prunes least recently seen first); -1 elsewhere.
 */
export interface StoreBatch { buf: ArrayBuffer; bytes: number; op: number[]; dst: string[]; tmp: string[]; off: number[]; len: number[]; mtime: number[] }

/** The writer's answer to 'drain'. */
export interface StoreDrained { stored: number; dedup: number; error: { file: string; message: string } | null }

const WORKER_URL = new URL('./store-worker.js', import.meta.url);
const EMPTY = new Uint8Array(0);

/** A writer thread (started on first use) and the batch being filled. */
export class StoreWriter {
  #worker: Worker | null = null;
  #ctrl = new Int32Array(new SharedArrayBuffer(8));
  #buf: Uint8Array | null = null;
  #used = 0;
  /** Batches posted so far (the writer counts the ones it finished in CTRL_DONE). */
  #posted = 0;
  #op: number[] = [];
  #mtime: number[] = [];
  #dst: string[] = [];
  #tmp: string[] = [];
  #off: number[] = [];
  #len: number[] = [];
  #failed: Error | null = null;

  /** Queue `data` (copied now) to be written to `tmp` and renamed to `dst`. */
  add(dst: string, tmp: string, data: Uint8Array): void { this.#push(OP_FILE, dst, tmp, data); }

  /** Queue an append of `data` (copied now) to temp file `tmp`, created by its first append. */
  append(tmp: string, data: Uint8Array): void { this.#push(OP_APPEND, '', tmp, data); }

  /** Queue the commit of temp file `tmp` to `dst` (an existing `dst` makes it a duplicate: tmp is removed). */
  commit(tmp: string, dst: string): void { this.#push(OP_COMMIT, dst, tmp, EMPTY, Date.now()); }

  /** Queue the removal of temp file `tmp`. */
  discard(tmp: string): void { this.#push(OP_DISCARD, '', tmp, EMPTY); }

  /** Close temp file `tmp` and wait until the writer has done everything queued: the file is then complete on disk. */
  closeAndWait(tmp: string): void {
    this.#push(OP_CLOSE, '', tmp, EMPTY);
    this.#post();
    this.#waitWhile(() => Atomics.load(this.#ctrl, CTRL_DONE) < this.#posted && this.#failed === null);
  }

  /**
   * Block while `busy()` holds, waking on each batch the writer finishes. A writer that makes no progress for
   * STORE_STALL_MS (it died) ends the wait; drain() reports its error.
   */
  #waitWhile(busy: () => boolean): void {
    let stalled = 0;
    while (busy() && stalled < STORE_STALL_MS) {
      const r = Atomics.wait(this.#ctrl, CTRL_DONE, Atomics.load(this.#ctrl, CTRL_DONE), 100);
      stalled = r === 'timed-out' ? stalled + 100 : 0;
    }
  }

  #push(op: number, dst: string, tmp: string, data: Uint8Array, mtime = -1): void {
    if (this.#buf !== null && this.#used + data.length > this.#buf.length) this.#post();
    if (this.#buf === null) this.#buf = Buffer.allocUnsafeSlow(Math.max(STORE_BATCH_BYTES, data.length)); // own ArrayBuffer: transferable
    this.#buf.set(data, this.#used);
    this.#op.push(op); this.#dst.push(dst); this.#tmp.push(tmp); this.#off.push(this.#used); this.#len.push(data.length); this.#mtime.push(mtime);
    this.#used += data.length;
    if (this.#used >= STORE_BATCH_BYTES || this.#dst.length >= STORE_BATCH_FILES) this.#post();
  }

  /** Post what is batched, wait until every file is written; the writer's counters and first error. */
  async drain(): Promise<StoreDrained> {
    if (this.#dst.length) this.#post();
    const w = this.#worker;
    if (w === null) return { stored: 0, dedup: 0, error: null };
    this.#worker = null;
    w.ref(); // keep the process alive while waiting for the answer
    const r = await new Promise<StoreDrained>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
      w.postMessage('drain');
    });
    await w.terminate();
    if (this.#failed) throw this.#failed;
    return r;
  }

  #post(): void {
    const w = this.#worker ??= this.#start();
    const bytes = this.#used;
    // Back-pressure: wait for the writer while too much is queued (it notifies after each batch).
    this.#waitWhile(() => Atomics.load(this.#ctrl, CTRL_BYTES) + bytes > STORE_MAX_PENDING && Atomics.load(this.#ctrl, CTRL_BYTES) > 0);
    Atomics.add(this.#ctrl, CTRL_BYTES, bytes);
    const buf = this.#buf!.buffer as ArrayBuffer;
    const batch: StoreBatch = { buf, bytes, op: this.#op, dst: this.#dst, tmp: this.#tmp, off: this.#off, len: this.#len, mtime: this.#mtime };
    w.postMessage(batch, [buf]);
    this.#posted++;
    this.#buf = null; this.#used = 0;
    this.#op = []; this.#dst = []; this.#tmp = []; this.#off = []; this.#len = []; this.#mtime = [];
  }

  #start(): Worker {
    const w = new Worker(WORKER_URL, { workerData: { ctrl: this.#ctrl.buffer } });
    w.on('error', (e) => { this.#failed ??= e; Atomics.notify(this.#ctrl, CTRL_DONE); });
    w.unref();
    return w;
  }
}
