// What every shard sets up before its first packet, in its own thread: the flow id function and its sinks. Kept
// apart from run.ts so a shard worker loads only the engine it runs (not the readers, the parallel runner or
// fast-glob): worker start-up is on the critical path of every parallel run.

import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import type { FlowIdFn } from '../flow/table.js';
import type { CreateSink, FlowSink, SinkSpec } from './sink.js';

/** The deterministic 64-bit flow id: xxhash64 (seed 0) over key ‖ start seconds (u64 LE) ‖ start ns (u32 LE), 63 bits. */
export async function makeFlowIdFn(): Promise<FlowIdFn> {
  // Imported here, not at the top: a parallel run's main thread never needs it.
  const { default: xxhash } = await import('xxhash-wasm');
  const { h64Raw } = await xxhash();
  const buf = new Uint8Array(44 + 12);
  const dv = new DataView(buf.buffer);
  const MASK = (1n << 63n) - 1n;
  return (key, sec, nsec) => {
    buf.set(key, 0);
    dv.setBigUint64(44, BigInt(sec), true);
    dv.setUint32(52, nsec >>> 0, true);
    return h64Raw(buf, 0n) & MASK;
  };
}

/** Import each sink module and create its instance for worker `worker` of `workers`. */
export async function loadSinks(specs: SinkSpec[], worker: number, workers: number): Promise<FlowSink[]> {
  const out: FlowSink[] = [];
  for (const s of specs) {
    const url = s.module.startsWith('file:') ? s.module : isAbsolute(s.module) ? pathToFileURL(s.module).href : s.module;
    const m = (await import(url)) as { createSink?: CreateSink };
    if (typeof m.createSink !== 'function') throw new TypeError(`sink module ${s.module} does not export createSink()`);
    out.push(await m.createSink(s.options, { worker, workers }));
  }
  return out;
}
