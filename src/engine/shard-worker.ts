// The body of a shard worker (workers/shard.ts is its entry): loads sinks, runs a ShardCore over every broadcast
// batch, acknowledges each ring slot with the flows ended meanwhile, and reports sink results at the end.

import type { MessagePort } from 'node:worker_threads';
import { viewBatch } from '../pcap/batch.js';
import { MAPPED_KEY_WORDS, ShardCore } from './core.js';
import type { FromShard, ShardInit, SlotBuffers, ToShard } from './protocol.js';
import type { PackedFlows } from './packed.js';
import { loadSinks, makeFlowIdFn } from './shard-setup.js';

/** Serve one shard on `port` (the worker's parentPort) with the init data from workerData. */
export async function serveShard(port: MessagePort, init: ShardInit): Promise<void> {
  // Packed runs are cloned (measured: transferring them was no faster).
  const post = (m: FromShard) => { port.postMessage(m); };
  const fail = (e: unknown) => {
    const err = e as Error & { code?: string };
    post({ t: 'error', message: err?.message ?? String(e), ...(err?.stack ? { stack: err.stack } : {}), ...(err?.code ? { code: err.code } : {}) });
  };
  let core: ShardCore;
  let sinks: Awaited<ReturnType<typeof loadSinks>>;
  try {
    const flowId = await makeFlowIdFn();
    sinks = await loadSinks(init.sinks, init.core.worker, init.core.workers);
    core = new ShardCore(init.core, sinks, flowId);
  } catch (e) { fail(e); return; }
  // Ended flows travel packed: EVE lines written as flows end, or record copies (see EndedFlows).
  const take = (): PackedFlows | null => (init.output === 'none' ? null : core.takeEnded());
  post({ t: 'ready' });
  const slots: SlotBuffers[] = [];
  port.on('message', (m: ToShard) => {
    if (m.t === 'batch') {
      try {
        if (m.bufs) slots[m.slot] = m.bufs;
        const b = slots[m.slot]!;
        core.processBatch(viewBatch(new Uint8Array(b.data, 0, m.len), b.index as unknown as ArrayBuffer, m.cap, m.count, m.source, m.firstIndex), new Uint8Array(b.shards, 0, m.count), b.keys ? new Uint32Array(b.keys, 0, m.count * MAPPED_KEY_WORDS) : undefined);
        post({ t: 'done', slot: m.slot, clock: core.table.clock, out: take() });
      } catch (e) { fail(e); }
      return;
    }
    void (async () => {
      try {
        const clock = core.table.clock;
        if (init.output !== 'none') core.finish((p, last) => post({ t: 'flows', clock, last, out: p }));
        else core.finish();
        const results: unknown[] = [];
        for (const s of sinks) results.push(await s.finish());
        post({ t: 'result', sinks: results, counters: core.counters });
        port.close();
      } catch (e) { fail(e); }
    })();
  });
}
