// The pipeline engine: sinks run in the flow-owning worker and see each flow's packets in capture order, the same
// per-flow packets for any worker count; a failing worker (throw, process.exit, failed start) fails the run with a
// WorkerError naming the cause; a hostile SYN flood (300k one-packet flows, generated here into a temp file) runs
// with a small max-flows cap in bounded memory with every eviction counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, tmpDir } from '../_util.js';
import { runFlows } from '../../src/engine/run.js';
import { WorkerError } from '../../src/errors.js';
import { synFloodPcap } from '../../fixtures/make/flows.js';

const PCAP = join(FIXTURES, 'flows/known.pcap');
const SINK = fileURLToPath(new URL('./_sinks.js', import.meta.url));

type Rec = { worker: number; workers: number; packets: Array<[string, number[]]>; ended: string[]; other: number };

async function record(workers: number): Promise<{ flows: Map<string, number[]>; res: Rec[] }> {
  const r = await runFlows([PCAP], { workers, sinks: [{ module: SINK, options: { mode: 'record' } }] });
  const res = r.sinks[0] as Rec[];
  assert.equal(res.length, Math.max(1, workers));
  const flows = new Map<string, number[]>();
  res.forEach((x, w) => {
    assert.equal(x.worker, w);
    for (const [k, l] of x.packets) { assert.ok(!flows.has(k), 'a flow lives in one worker'); flows.set(k, l); }
    assert.equal(x.ended.length, x.packets.length);
  });
  assert.equal(res.reduce((s, x) => s + x.other, 0), 1, 'the ARP packet reaches one instance');
  return { flows, res };
}

test('sinks see every flow packet once, in capture order, identically for 0, 1, 2 and 4 workers', async () => {
  const base = await record(0);
  let total = 0;
  for (const l of base.flows.values()) {
    total += l.length;
    // Only the out-of-order fragments (held until their first fragment) may precede an earlier index.
    for (let k = 1; k < l.length; k++) if (l[k]! < l[k - 1]!) assert.ok(l[k - 1]! - l[k]! <= 2);
  }
  assert.equal(total, 61);
  for (const w of [1, 2, 4]) {
    const r = await record(w);
    assert.deepEqual([...r.flows.entries()].sort(), [...base.flows.entries()].sort(), `workers ${w}`);
    if (w > 1) assert.ok(r.res.filter((x) => x.packets.length > 0).length > 1, 'flows spread over workers');
  }
});

test('ctx.ignore(): the ignoring sink gets no more packets of that flow and no onFlowEnd for it, other sinks all of them', async () => {
  const base = await record(0);
  for (const w of [0, 2]) {
    const r = await runFlows([PCAP], { workers: w, sinks: [{ module: SINK, options: { mode: 'ignore', after: 2 } }, { module: SINK, options: { mode: 'record' } }] });
    const ign = new Map((r.sinks[0] as Rec[]).flatMap((x) => x.packets));
    const all = new Map((r.sinks[1] as Rec[]).flatMap((x) => x.packets));
    assert.deepEqual([...all.entries()].sort(), [...base.flows.entries()].sort(), `workers ${w}: the other sink saw everything`);
    assert.equal(ign.size, base.flows.size);
    for (const [k, l] of base.flows) assert.deepEqual(ign.get(k), l.slice(0, 2), `workers ${w}: flow ${k}`);
    // Flows of one packet were never ignored (the sink asks after its 2nd): only those end in the ignoring sink.
    const short = [...base.flows.values()].filter((l) => l.length < 2).length;
    assert.ok(short > 0 && short < base.flows.size, `${short} one-packet flows of ${base.flows.size}`);
    assert.equal((r.sinks[0] as Rec[]).reduce((s, x) => s + x.ended.length, 0), short, 'only the flows not ignored end in the ignoring sink');
    assert.equal((r.sinks[1] as Rec[]).reduce((s, x) => s + x.ended.length, 0), base.flows.size, 'every flow ends in the other sink');
  }
});

for (const mode of ['throw', 'exit', 'throw-create'] as const) {
  test(`a worker whose sink ${mode === 'exit' ? 'calls process.exit' : mode === 'throw' ? 'throws' : 'fails to start'} fails the run loudly`, async () => {
    await assert.rejects(runFlows([PCAP], { workers: 2, sinks: [{ module: SINK, options: { mode, after: 3 } }] }), (e: unknown) => {
      assert.ok(e instanceof WorkerError, String(e));
      assert.equal(e.code, 'ERR_WORKER');
      const want = mode === 'throw' ? /sink exploded at packet/ : mode === 'exit' ? /exited with code 7/ : /cannot start sink/;
      assert.match(e.message, want);
      return true;
    });
  });
}

test('sequential mode: a throwing sink rejects with its own error', async () => {
  await assert.rejects(runFlows([PCAP], { sinks: [{ module: SINK, options: { mode: 'throw', after: 3 } }] }), /sink exploded at packet 3/);
});

test('SYN flood: 300k one-packet flows with max-flows 1000 stay bounded, evictions counted', async () => {
  const dir = tmpDir();
  const file = join(dir, 'flood.pcap');
  writeFileSync(file, synFloodPcap(300_000, 7));
  for (const workers of [0, 2]) {
    let n = 0, forced = 0;
    let peak = 0;
    const r = await runFlows([file], {
      workers, table: { maxFlows: 1000 },
      onFlow: (f) => { n++; if (f.reason === 'forced') forced++; if ((n & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed); },
    });
    const per = Math.max(1, workers);
    assert.equal(n, 300_000);
    assert.equal(r.counters.table.flows, 300_000);
    assert.equal(r.counters.table.forced, forced);
    // Each shard holds at most 1000 flows: all but those left at the end were evicted.
    assert.equal(forced, 300_000 - r.counters.table.shutdown);
    assert.ok(r.counters.table.shutdown <= 1000 * per);
    for (const c of r.perWorker) assert.ok(c.table.maxActive <= 1000);
    assert.ok(peak < 400 * 2 ** 20, `heap ${peak}`);
    console.log(`syn flood, workers ${workers}: ${forced} forced evictions, ${r.counters.table.shutdown} at shutdown`);
  }
});
