// ShardMapper reads the key of plain Ethernet/IPv4/TCP|UDP packets straight from the header bytes; every packet
// must get the shard the full decoder + KeyBuilder give it (else a flow's packets would be skipped by the shard
// that owns it). Checked on random crafted headers around every condition of the fast path (IHL, total length,
// fragment bits, truncation, tunnel ports, equal endpoints, VLAN tags, other link types), on every committed
// fixture and, when ../shared is present, on the suricata-verify captures. The keyed output (the key, hash, side,
// protocol, TCP flags or ICMP type and code a shard without sinks takes instead of decoding) must equal the
// decoder's, field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, corpusDir } from '../_util.js';
import { MAPPED_KEY_WORDS, SHARD_ALL, ShardMapper } from '../../src/engine/core.js';
import { decodeBatchPacket } from '../../src/decode/decode.js';
import { PacketView } from '../../src/decode/view.js';
import { KeyBuilder, shardOf } from '../../src/flow/key.js';
import { allocBatch, type PacketBatch } from '../../src/pcap/batch.js';
import { CaptureReader } from '../../src/pcap/reader.js';

/** The shards by the full decoder, as the shards themselves key packets. */
function reference(batch: PacketBatch, workers: number): Uint8Array {
  const v = new PacketView(), kb = new KeyBuilder(true), out = new Uint8Array(batch.count);
  for (let i = 0; i < batch.count; i++) {
    decodeBatchPacket(v, batch, i, true);
    if (v.ipVersion === 0 || v.isFragment) { out[i] = SHARD_ALL; continue; }
    kb.build(v, v.srcPort, v.dstPort);
    out[i] = shardOf(kb.hash(), workers);
  }
  return out;
}

/** Check `batch` (see the module comment); returns the packets keyed (not fragments or non-IP) and those mapped on the fast path. */
function check(batch: PacketBatch, what: string): { keyed: number; fast: number } {
  let keyed = 0, fast = 0;
  for (const w of [2, 3, 4, 7]) {
    const got = new Uint8Array(batch.count), keys = new Uint32Array(batch.count * MAPPED_KEY_WORDS).fill(0xdead);
    new ShardMapper(w).map(batch, got, w === 2 ? keys : undefined);
    const want = reference(batch, w);
    for (let i = 0; i < batch.count; i++) if (got[i] !== want[i]) assert.fail(`${what}: packet ${i}, ${w} workers: shard ${got[i]}, decoder says ${want[i]}`);
    if (w === 2) {
      fast += checkKeys(batch, keys, what);
      for (let i = 0; i < batch.count; i++) if (want[i] !== SHARD_ALL) keyed++;
    }
  }
  return { keyed, fast };
}

/**
 * The keyed output (what a shard without sinks uses instead of decoding): for every packet it marks, the table's
 * inputs as the decoder and KeyBuilder give them; returns the packets keyed. Every packet is either marked or 0.
 */
function checkKeys(batch: PacketBatch, keys: Uint32Array, what: string): number {
  const v = new PacketView(), kb = new KeyBuilder(true);
  let keyed = 0;
  for (let i = 0; i < batch.count; i++) {
    const k = i * MAPPED_KEY_WORDS, m = keys[k + 5]!;
    if (m === 0) continue;
    keyed++;
    decodeBatchPacket(v, batch, i, true);
    assert.ok(v.ipVersion === 4 && !v.isFragment, `${what}: packet ${i} keyed but not a whole IPv4 packet`);
    kb.build(v, v.srcPort, v.dstPort);
    const proto = (m >>> 16) & 0xff, words = [4 | (proto << 8), keys[k + 1], keys[k + 2], keys[k + 3], 0, 0, 0, keys[k + 4], 0, 0, 0];
    const msg = `${what}: packet ${i}`;
    assert.deepEqual(words, [...kb.words], `${msg}: key words`);
    assert.equal(keys[k], kb.hash(), `${msg}: hash`);
    assert.equal((m & 2) !== 0, kb.swapped, `${msg}: side`);
    assert.equal(proto, v.proto, `${msg}: protocol`);
    if (v.proto === 1) {
      assert.deepEqual([(m >>> 8) & 0xff, m >>> 24], [v.icmpType, v.icmpCode], `${msg}: ICMP type and code`);
      assert.equal(m & 0xfd, 1, `${msg}: meta bits`);
    } else {
      assert.equal((m >>> 8) & 0xff, v.proto === 6 ? v.tcpFlags : 0, `${msg}: TCP flags`);
      assert.equal(m & ~0xffff02, 1, `${msg}: meta bits`);
    }
  }
  return keyed;
}

/** xorshift32: a seeded generator, so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

test('shard map: random headers around every fast-path condition agree with the decoder', () => {
  const r = rng(20261123);
  const pick = <T>(a: readonly T[]): T => a[r() % a.length]!;
  const n = 20000, buf = new Uint8Array(n * 96), batch = allocBatch(buf, n, 'crafted', 0);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const start = pos;
    const link = pick([1, 1, 1, 1, 101]);
    if (link === 1) {
      for (let k = 0; k < 12; k++) buf[pos++] = r() & 0xff;
      const vlan = r() % 8 === 0;
      if (vlan) { buf[pos++] = 0x81; buf[pos++] = 0x00; buf[pos++] = 0; buf[pos++] = r() & 0xff; }
      const et = pick([0x0800, 0x0800, 0x0800, 0x86dd, 0x0806]);
      buf[pos++] = et >> 8; buf[pos++] = et & 0xff;
    }
    const ihl = pick([5, 5, 5, 6, 4]);
    const proto = pick([6, 6, 17, 17, 1, 47, 132]);
    const l4len = pick([20, 8, 4, 30, 0, 12]);
    buf[pos] = (pick([4, 4, 4, 6]) << 4) | ihl;
    const total = pick([ihl * 4 + l4len, ihl * 4 + l4len, 10, 0, 21, ihl * 4 + 4, 1500]);
    buf[pos + 2] = total >> 8; buf[pos + 3] = total & 0xff;
    buf[pos + 6] = pick([0, 0, 0x40, 0x20, 0x01, 0x80]); buf[pos + 7] = pick([0, 0, 0, 8]);
    buf[pos + 9] = proto;
    const same = r() % 10 === 0;
    const a = [10, 0, r() % 4, r() % 4], b = same ? a : [10, 0, r() % 4, r() % 4];
    for (let k = 0; k < 4; k++) { buf[pos + 12 + k] = a[k]!; buf[pos + 16 + k] = b[k]!; }
    pos += ihl * 4 > 20 ? ihl * 4 : 20;
    const sp = pick([80, 1024, 4789, 6081, r() & 0xffff]), dp = same && r() % 2 ? sp : pick([80, 4789, 6081, 1024, r() & 0xffff]);
    buf[pos] = sp >> 8; buf[pos + 1] = sp & 0xff; buf[pos + 2] = dp >> 8; buf[pos + 3] = dp & 0xff;
    // ICMP: echo request/reply and other two-way types, one-way types, random; the code decides one-way "ports".
    if (proto === 1) { buf[pos] = pick([8, 0, 13, 14, 3, 11, r() & 0xff]); buf[pos + 1] = pick([0, 0, 1, r() & 0xff]); }
    buf[pos + 12] = pick([0x50, 0x50, 0x40, 0x80]);
    for (let k = 4; k < l4len; k++) if (k !== 12) buf[pos + k] = r() & 0xff;
    pos += l4len;
    // Captured length: whole, or cut anywhere in the headers.
    const whole = pos - start;
    const cap = r() % 4 === 0 ? r() % (whole + 1) : whole;
    batch.offset[i] = start; batch.caplen[i] = cap; batch.origlen[i] = whole; batch.linkType[i] = link;
    batch.tsSec[i] = i; batch.tsNsec[i] = 0;
    pos = start + whole;
  }
  batch.count = n;
  const { keyed, fast } = check(batch, 'crafted');
  assert.ok(keyed > 2000 && keyed < n, `${keyed} of ${n} crafted packets are keyed (not fragments or non-IP)`);
  assert.ok(fast > 100 && fast < keyed, `${fast} of them on the fast path`);
});

async function checkFile(path: string): Promise<{ keyed: number; fast: number }> {
  const n = { keyed: 0, fast: 0 };
  try {
    for await (const b of new CaptureReader(path).batches()) { const c = check(b, path); n.keyed += c.keyed; n.fast += c.fast; }
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e; // faulty captures end early: their good packets were checked
  }
  return n;
}

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng|cap)$/.test(e)) out.push(p);
  }
  return out;
}

test('shard map: every committed fixture agrees with the decoder', async () => {
  const files = captures(FIXTURES);
  assert.ok(files.length >= 40, `${files.length} fixtures`);
  let keyed = 0, fast = 0;
  for (const f of files) { const c = await checkFile(f); keyed += c.keyed; fast += c.fast; }
  assert.ok(keyed > 1000 && fast > 500, `${keyed} keyed packets, ${fast} on the fast path`);
});

test('shard map: the suricata-verify captures agree with the decoder', async (t) => {
  const c = corpusDir();
  if (!c) { t.skip('../shared/corpus not present'); return; }
  const files = captures(join(c, 'suricata-verify'));
  let keyed = 0, fast = 0;
  for (const f of files) { const c = await checkFile(f); keyed += c.keyed; fast += c.fast; }
  console.log(`# shard map: ${files.length} captures, ${keyed} keyed packets (${fast} on the fast path), all as the decoder`);
  assert.ok(files.length > 500 && keyed > 20000 && fast > 10000);
});
