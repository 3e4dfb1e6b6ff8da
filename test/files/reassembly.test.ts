// TCP reassembly on raw sequence numbers: in-order delivery, out-of-order buffering, retransmissions and
// overlaps (first-seen wins), sequence wrap-around, gaps (ACKed holes, flushes), mid-stream pickup, RST,
// unacknowledged data on a RST, memcap drops and the per-stream cap (counted; the hole becomes a gap), depth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Memcap, StreamDir, TcpConnection, newReassemblyCounters, type StreamOutput } from '../../src/files/reassembly/index.js';

const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;
const b = (s: string) => new TextEncoder().encode(s);

/** Output that records data as text and gaps as `[gap N]`. */
function rec(): StreamOutput & { log: string[]; text(): string } {
  const log: string[] = [];
  return { log, data: (x) => log.push(new TextDecoder().decode(x)), gap: (n) => log.push(`[gap ${n}]`), text: () => log.join('') };
}

function dir(o: { maxPending?: number; depth?: number; memcap?: number } = {}) {
  const out = rec(), c = newReassemblyCounters(), mc = new Memcap(o.memcap ?? 1 << 20);
  const s = new StreamDir(out, { maxPending: o.maxPending ?? 1 << 20, depth: o.depth ?? 0 }, mc, c);
  return { out, c, mc, s };
}

test('in order, out of order, retransmission and overlaps: first-seen bytes win', () => {
  const { out, c, s, mc } = dir();
  s.syn(99);
  s.segment(100, b('AAAA'), false);
  s.segment(108, b('CCCC'), false); // ahead: buffered
  assert.equal(out.text(), 'AAAA');
  assert.equal(mc.used, 4);
  s.segment(106, b('xxZZ'), false); // overlaps the buffered CCCC at 108..109? no: 106..109 → 'xx' new, 'ZZ' vs 'CC' conflict
  s.segment(100, b('AAAA'), false); // retransmission
  s.segment(102, b('qqBB'), false); // overlaps delivered bytes: trimmed to 104..105
  assert.equal(out.text(), 'AAAABBxxCCCC');
  assert.equal(c.retransmissions, 1);
  assert.equal(c.overlaps, 2);
  assert.equal(c.overlapConflicts, 1);
  assert.equal(c.outOfOrder, 2);
  assert.equal(mc.used, 0);
});

test('sequence numbers wrap around 2^32', () => {
  const { out, s } = dir();
  s.syn(0xfffffffd); // data starts at 0xfffffffe
  s.segment(0x00000002, b('CD'), false); // after the wrap, ahead
  s.segment(0xfffffffe, b('AB'), false);
  s.segment(0x00000000, b('xy'), false);
  assert.equal(out.text(), 'ABxyCD');
});

test('a hole the peer has ACKed is a gap; later data continues', () => {
  const out0 = rec(), out1 = rec(), c = newReassemblyCounters();
  const conn = new TcpConnection([out0, out1], { maxPending: 1 << 20, depth: 0 }, new Memcap(1 << 20), c);
  conn.segment(0, SYN, 1000, 0, new Uint8Array(0));
  conn.segment(1, SYN | ACK, 5000, 1001, new Uint8Array(0));
  conn.segment(1, ACK, 5001, 1001, b('hello '));
  conn.segment(1, ACK, 5017, 1001, b('world')); // 10 bytes missing at 5007..5016
  assert.equal(out1.text(), 'hello ');
  conn.segment(0, ACK, 1001, 5022, new Uint8Array(0)); // client ACKs everything: the hole is final
  assert.equal(out1.text(), 'hello [gap 10]world');
  assert.equal(c.gaps, 1);
  assert.equal(c.gapBytes, 10);
  conn.segment(1, ACK | FIN, 5022, 1001, b('!'));
  assert.equal(out1.text(), 'hello [gap 10]world!');
  assert.equal(conn.dirs[1].ended, true);
});

test('flush turns holes into gaps; mid-stream pickup starts at the first byte seen; RST ends both sides', () => {
  const { out, s, c } = dir();
  s.segment(7000, b('mid'), false);
  s.segment(7010, b('late'), false);
  assert.equal(c.midstream, 1);
  s.flush();
  assert.equal(out.text(), 'mid[gap 7]late');
  const o0 = rec(), o1 = rec();
  const conn = new TcpConnection([o0, o1], { maxPending: 1 << 20, depth: 0 }, new Memcap(1 << 20), newReassemblyCounters());
  conn.segment(0, ACK, 1, 1, b('abc'));
  conn.segment(0, ACK, 10, 1, b('xyz'));
  conn.segment(1, RST, 1, 0, new Uint8Array(0));
  assert.equal(o0.text(), 'abc[gap 6]xyz');
  assert.equal(conn.ended, true);
});

test('RST with ACK: the peer\'s buffered bytes beyond the acknowledgement are dropped, not flushed (Suricata 8)', () => {
  const o0 = rec(), o1 = rec(), c = newReassemblyCounters(), mc = new Memcap(1 << 20);
  const conn = new TcpConnection([o0, o1], { maxPending: 1 << 20, depth: 0 }, mc, c);
  conn.segment(1, SYN | ACK, 999, 0, new Uint8Array(0));           // server ISN 999: data from 1000
  conn.segment(1, ACK, 1000, 1, b('head'));                          // 1000..1003 delivered
  conn.segment(1, ACK, 1008, 1, b('mid!'));                          // 1008..1011 buffered (hole 1004..1007)
  conn.segment(1, ACK, 1014, 1, b('unacked'));                       // 1014..1020 buffered, straddles the ACK below
  conn.segment(1, ACK, 1030, 1, b('never'));                         // beyond it
  conn.segment(0, RST | ACK, 1, 1016, new Uint8Array(0));            // the client acknowledged up to 1016 only
  assert.equal(o1.text(), 'head[gap 4]mid![gap 2]un');
  assert.equal(c.rstUnackedBytes, 5 + 5);
  assert.equal(mc.used, 0);
  assert.equal(conn.ended, true);
  // Without ACK on the RST nothing is known: everything buffered is flushed with gaps, as before.
  const p1 = rec();
  const bare = new TcpConnection([rec(), p1], { maxPending: 1 << 20, depth: 0 }, new Memcap(1 << 20), newReassemblyCounters());
  bare.segment(1, SYN | ACK, 999, 0, new Uint8Array(0));
  bare.segment(1, ACK, 1000, 1, b('head'));
  bare.segment(1, ACK, 1008, 1, b('tail'));
  bare.segment(0, RST, 1, 0, new Uint8Array(0));
  assert.equal(p1.text(), 'head[gap 4]tail');
});

test('per-stream cap: the first hole is declared a gap instead of buffering more (counted)', () => {
  const { out, s, c } = dir({ maxPending: 8 });
  s.syn(0);
  s.segment(1, b('a'), false);
  s.segment(11, b('12345'), false);
  s.segment(21, b('67890'), false); // would hold 10 > 8
  assert.equal(c.streamCapFlushes, 1);
  assert.equal(out.text(), 'a[gap 9]12345'); // 67890 is buffered again after the forced flush
  assert.equal(s.pendingBytes, 5);
  s.flush();
  assert.equal(out.text(), 'a[gap 9]12345[gap 5]67890');
});

test('global memcap: out-of-order data beyond it is dropped and counted; the hole surfaces as a gap', () => {
  const { out, s, c, mc } = dir({ memcap: 6 });
  s.syn(0);
  s.segment(11, b('AAAA'), false);
  s.segment(21, b('BBBB'), false); // 8 > 6: dropped
  assert.equal(c.memcapDrops, 1);
  assert.equal(c.memcapDropBytes, 4);
  assert.equal(mc.peak, 4);
  s.segment(1, b('0123456789'), false);
  s.flush();
  assert.equal(out.text(), '0123456789AAAA');
  assert.equal(mc.used, 0);
});

test('depth: bytes beyond it are not delivered (counted)', () => {
  const { out, s, c } = dir({ depth: 5 });
  s.syn(0);
  s.segment(1, b('abc'), false);
  s.segment(4, b('defg'), false);
  s.segment(8, b('hij'), false);
  assert.equal(out.text(), 'abcde[gap 0]');
  assert.equal(c.depthBytes, 5);
  assert.equal(s.depthHit, true);
});

test('FIN ends a direction once everything before it is delivered', () => {
  const { s } = dir();
  s.syn(0);
  s.segment(5, b('x'), true);
  assert.equal(s.ended, false);
  s.segment(1, b('abcd'), false);
  assert.equal(s.ended, true);
  void FIN;
});
