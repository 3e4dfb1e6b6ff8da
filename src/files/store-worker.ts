// Thread entry of the filestore writer (see store-writer.ts): receives batches of small in-memory files (one
// transferred buffer + an index) and stores each with plain sync calls — existence check (dedup: refresh the
// mtime), the <xx> directory when new, write to its dot-named temp file beside the destination, atomic
// rename. The parsing thread never waits on file creation. Reports counters and first error on drain.

import { parentPort, workerData } from 'node:worker_threads';
import { existsSync, mkdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CTRL_BYTES, CTRL_DONE, type StoreBatch, type StoreDrained } from './store-writer.js';

const ctrl = new Int32Array((workerData as { ctrl: SharedArrayBuffer }).ctrl);
const out: StoreDrained = { stored: 0, dedup: 0, error: null };
/** <xx> directories known to exist. */
const dirs = new Set<string>();

parentPort!.on('message', (m: StoreBatch | 'drain') => {
  if (m === 'drain') { parentPort!.postMessage(out); return; }
  const buf = new Uint8Array(m.buf);
  for (let k = 0; k < m.dst.length; k++) {
    const dst = m.dst[k]!, tmp = m.tmp[k]!;
    try {
      if (existsSync(dst)) { out.dedup++; const now = new Date(); try { utimesSync(dst, now, now); } catch { /* pruned meanwhile */ } continue; }
      const d = dirname(dst);
      if (!dirs.has(d)) { mkdirSync(d, { recursive: true }); dirs.add(d); }
      writeFileSync(tmp, buf.subarray(m.off[k]!, m.off[k]! + m.len[k]!), { flag: 'wx' });
      renameSync(tmp, dst);
      out.stored++;
    } catch (e) {
      out.error ??= { file: dst, message: (e as Error).message };
    }
  }
  Atomics.sub(ctrl, CTRL_BYTES, m.bytes);
  Atomics.add(ctrl, CTRL_DONE, 1);
  Atomics.notify(ctrl, CTRL_DONE);
});
