// Thread entry of the filestore writer (see store-writer.ts): receives batches of operations (one transferred
// buffer + an index) and runs them with plain sync calls. A small in-memory file: existence check (dedup:
// refresh the mtime), the <xx> directory when new, write to its dot-named temp file beside the destination,
// atomic rename. A large file: appends to its temp file under DIR/tmp (open descriptors kept by path), then
// commit (the same dedup check and rename), close or discard. The parsing thread never waits on file creation.
// Reports counters and first error on drain.

import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, existsSync, futimesSync, mkdirSync, openSync, renameSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { CTRL_BYTES, CTRL_DONE, OP_APPEND, OP_CLOSE, OP_COMMIT, OP_DISCARD, OP_FILE, type StoreBatch, type StoreDrained } from './store-writer.js';

const ctrl = new Int32Array((workerData as { ctrl: SharedArrayBuffer }).ctrl);
const out: StoreDrained = { stored: 0, dedup: 0, error: null };
/** <xx> directories known to exist. */
const dirs = new Set<string>();
/** Open temp files of streamed (large) files, by path. */
const open = new Map<string, number>();

/** Close `tmp` if open; with `mtimeMs`, stamp that modification time first. */
function closeTemp(tmp: string, mtimeMs = -1): void {
  const fd = open.get(tmp);
  if (fd === undefined) return;
  open.delete(tmp);
  if (mtimeMs >= 0) futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
  closeSync(fd);
}

/** Move a finished file to `dst`, or count a duplicate (refresh its mtime, drop `tmp`). */
function store(tmp: string, dst: string, data: Uint8Array | null): void {
  if (existsSync(dst)) {
    out.dedup++;
    const now = new Date();
    try { utimesSync(dst, now, now); } catch { /* pruned meanwhile */ }
    if (data === null) unlinkSync(tmp);
    return;
  }
  const d = dirname(dst);
  if (!dirs.has(d)) { mkdirSync(d, { recursive: true }); dirs.add(d); }
  if (data !== null) writeFileSync(tmp, data, { flag: 'wx' });
  renameSync(tmp, dst);
  out.stored++;
}

parentPort!.on('message', (m: StoreBatch | 'drain') => {
  if (m === 'drain') { parentPort!.postMessage(out); return; }
  const buf = new Uint8Array(m.buf);
  for (let k = 0; k < m.dst.length; k++) {
    const op = m.op[k]!, dst = m.dst[k]!, tmp = m.tmp[k]!;
    const data = buf.subarray(m.off[k]!, m.off[k]! + m.len[k]!);
    try {
      if (op === OP_FILE) store(tmp, dst, data);
      else if (op === OP_APPEND) {
        let fd = open.get(tmp);
        if (fd === undefined) { fd = openSync(tmp, 'wx'); open.set(tmp, fd); }
        let o = 0;
        while (o < data.length) o += writeSync(fd, data, o, data.length - o);
      } else if (op === OP_CLOSE) closeTemp(tmp);
      else if (op === OP_COMMIT) { closeTemp(tmp, m.mtime[k]!); store(tmp, dst, null); }
      else if (op === OP_DISCARD) { closeTemp(tmp); try { unlinkSync(tmp); } catch { /* never created */ } }
    } catch (e) {
      out.error ??= { file: dst || tmp, message: (e as Error).message };
    }
  }
  Atomics.sub(ctrl, CTRL_BYTES, m.bytes);
  Atomics.add(ctrl, CTRL_DONE, 1);
  Atomics.notify(ctrl, CTRL_DONE);
});
