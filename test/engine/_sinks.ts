// Test sinks loaded by runFlows in workers: a recorder (per-flow packet indexes, end order) and failing ones.
import type { FlowRecord } from '../../src/flow/record.js';
import type { FlowSink, PacketContext, SinkContext } from '../../src/engine/sink.js';

interface Opts { mode: 'record' | 'ignore' | 'throw' | 'exit' | 'throw-create'; after?: number }

/** Module entry used by runFlows(). */
export function createSink(options: unknown, ctx: SinkContext): FlowSink {
  const o = options as Opts;
  if (o.mode === 'throw-create') throw new Error(`cannot start sink in worker ${ctx.worker}`);
  let n = 0;
  const packets = new Map<string, number[]>();
  const ended: string[] = [];
  let other = 0;
  const id = (f: FlowRecord) => `${f.flowId}`;
  return {
    onPacket(c: PacketContext) {
      if (++n > (o.after ?? 0) && o.mode !== 'ignore') {
        if (o.mode === 'throw') throw new Error(`sink exploded at packet ${c.packetIndex}`);
        if (o.mode === 'exit') process.exit(7);
      }
      const k = id(c.flow);
      let l = packets.get(k);
      if (!l) packets.set(k, (l = []));
      l.push(c.packetIndex);
      if (c.view.ipVersion !== 4 && c.view.ipVersion !== 6) throw new Error('view not decoded');
      // 'ignore': keep the first `after` packets of each flow (default 1), then ask for no more.
      if (o.mode === 'ignore' && l.length >= (o.after ?? 1)) c.ignore();
    },
    onFlowEnd(f: FlowRecord) {
      if (!packets.has(id(f))) throw new Error('flow ended without packets');
      ended.push(id(f));
    },
    onOtherPacket() { other++; },
    finish() { return { worker: ctx.worker, workers: ctx.workers, packets: [...packets.entries()], ended, other }; },
  };
}
