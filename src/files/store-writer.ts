// The filestore's writer thread, client side: small files held in memory are copied into a batch buffer
// (STORE_BATCH_BYTES) that is transferred to one writer thread (store-worker.ts) doing the file creation,
// write and rename. Per file the parsing thread pays one memcpy instead of five thread-pool round trips.
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

/** One posted batch: file i is buf[off[i], off[i] + len[i]) to write to tmp[i] and rename to dst[i]. */
export interface StoreBatch { buf: ArrayBuffer; bytes: number; dst: string[]; tmp: string[]; off: number[]; len: number[] }

/** The writer's answer to 'drain'. */
export interface StoreDrained { stored: number; dedup: number; error: { file: string; message: string } | null }

const WORKER_URL = new URL('./store-worker.js', import.meta.url);

/** A writer thread (started on first use) and the batch being filled. */
export class StoreWriter {
  #worker: Worker | null = null;
  #ctrl = new Int32Array(new SharedArrayBuffer(8));
  #buf: Uint8Array | null = null;
  #used = 0;
  #dst: string[] = [];
  #tmp: string[] = [];
  #off: number[] = [];
  #len: number[] = [];
  #failed: Error | null = null;

  /** Queue `data` (copied now) to be written to `tmp` and renamed to `dst`. */
  add(dst: string, tmp: string, data: Uint8Array): void {
    if (this.#buf !== null && this.#used + data.length > this.#buf.length) this.#post();
    if (this.#buf === null) this.#buf = Buffer.allocUnsafeSlow(Math.max(STORE_BATCH_BYTES, data.length)); // own ArrayBuffer: transferable
    this.#buf.set(data, this.#used);
    this.#dst.push(dst); this.#tmp.push(tmp); this.#off.push(this.#used); this.#len.push(data.length);
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
    // A writer that makes no progress for STORE_STALL_MS (it died) stops the wait; drain() reports its error.
    let stalled = 0;
    while (Atomics.load(this.#ctrl, CTRL_BYTES) + bytes > STORE_MAX_PENDING && Atomics.load(this.#ctrl, CTRL_BYTES) > 0 && stalled < STORE_STALL_MS) {
      const r = Atomics.wait(this.#ctrl, CTRL_DONE, Atomics.load(this.#ctrl, CTRL_DONE), 100);
      stalled = r === 'timed-out' ? stalled + 100 : 0;
    }
    Atomics.add(this.#ctrl, CTRL_BYTES, bytes);
    const buf = this.#buf!.buffer as ArrayBuffer;
    const batch: StoreBatch = { buf, bytes, dst: this.#dst, tmp: this.#tmp, off: this.#off, len: this.#len };
    w.postMessage(batch, [buf]);
    this.#buf = null; this.#used = 0;
    this.#dst = []; this.#tmp = []; this.#off = []; this.#len = [];
  }

  #start(): Worker {
    const w = new Worker(WORKER_URL, { workerData: { ctrl: this.#ctrl.buffer } });
    w.on('error', (e) => { this.#failed ??= e; Atomics.notify(this.#ctrl, CTRL_DONE); });
    w.unref();
    return w;
  }
}
