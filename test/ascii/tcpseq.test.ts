// TcpSeqTable4 (the bounded IPv4 TCP sequence table) against a Map model with the same FIFO eviction, and the
// printer's documented behaviour at the cap: a forgotten conversation prints absolute numbers again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpSeqTable4 } from '../../src/ascii/tcpseq.js';
import { AsciiPrinter } from '../../src/ascii/printer.js';
import { allocBatch } from '../../src/pcap/batch.js';
import { ether, ipv4, tcp } from './_build.js';

test('TcpSeqTable4 matches a Map with FIFO eviction over 200k random operations', () => {
  const cap = 500;
  const t = new TcpSeqTable4(cap);
  const model = new Map<string, [number, number]>();
  let seed = 7;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  for (let op = 0; op < 200_000; op++) {
    const a = rnd(40) - 20, b = rnd(40) | 0x7fff0000, c = rnd(30) << 16;
    const key = `${a},${b},${c}`;
    let slot = t.find(a, b, c);
    assert.equal(slot >= 0, model.has(key), `op ${op}: presence of ${key}`);
    if (slot < 0) {
      if (model.size >= cap) model.delete(model.keys().next().value as string);
      slot = t.insert(a, b, c);
      model.set(key, [0, 0]);
    }
    const v = (op * 2654435761) >>> 0;
    t.seq[slot] = v; t.ack[slot] = (v ^ 1) >>> 0;
    model.set(key, [v, (v ^ 1) >>> 0]);
    if (op % 997 === 0) {
      for (const [k, [s, ak]] of model) {
        const [x, y, z] = k.split(',').map(Number) as [number, number, number];
        const i = t.find(x, y, z);
        assert.ok(i >= 0);
        assert.equal(t.seq[i], s);
        assert.equal(t.ack[i], ak);
      }
    }
  }
  assert.equal(t.size, model.size);
  assert.ok(t.evicted > 0);
});

test('printer at its cap forgets the oldest conversation (absolute seq again) and counts it', () => {
  const frames = [
    ether('00:00:00:00:00:01', '00:00:00:00:00:02', 0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1000, 80, 5000, 7000, 0x10, 1, [], [1]))),
    ether('00:00:00:00:00:01', '00:00:00:00:00:02', 0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1000, 80, 5001, 7000, 0x10, 1, [], [1]))),
    ether('00:00:00:00:00:01', '00:00:00:00:00:02', 0x0800, ipv4('10.0.0.1', '10.0.0.3', 6, tcp(1000, 80, 9000, 1, 0x10, 1, [], [1]))),
    ether('00:00:00:00:00:01', '00:00:00:00:00:02', 0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1000, 80, 5002, 7000, 0x10, 1, [], [1]))),
  ];
  const buf = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
  const b = allocBatch(buf, frames.length, 'mem', 0);
  let o = 0;
  frames.forEach((f, i) => {
    buf.set(f, o);
    b.offset[i] = o; b.caplen[i] = f.length; b.origlen[i] = f.length; b.tsSec[i] = 1; b.tsNsec[i] = i * 1000; b.linkType[i] = 1;
    o += f.length;
  });
  b.count = frames.length;
  const lines = new AsciiPrinter({ tcpSeqCap: 1 }).printBatch(b).split('\n');
  assert.match(lines[0]!, /seq 5000:5001, ack 7000,/); // new conversation: absolute
  assert.match(lines[1]!, /seq 1:2, ack 1,/); // known: relative
  assert.match(lines[2]!, /seq 9000:9001, ack 1,/); // second conversation evicts the first
  assert.match(lines[3]!, /seq 5002:5003, ack 7000,/); // first one is new again
  const p2 = new AsciiPrinter({ tcpSeqCap: 1 });
  p2.printBatch(b);
  assert.equal(p2.stats.tcpSeqEvicted, 2);
  assert.equal(p2.stats.packets, 4);
});
