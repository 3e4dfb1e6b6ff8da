// Indicator lists: overlapping CIDRs (most specific wins), IPv6, comments, bad lines with file:line, CSV and
// JSON formats, duplicates, and a randomized comparison of the range tables against a linear scan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IndicatorList, IndicatorSet } from '../../src/ioc/indicators.js';
import { RangeTable } from '../../src/ioc/ranges.js';
import { tmpDir } from '../_util.js';

test('overlapping IPv4 blocks: the most specific label wins', () => {
  const l = IndicatorList.parse([
    '10.0.0.0/8,ten',
    '10.1.0.0/16,ten-one',
    '10.1.2.0/24,ten-one-two',
    '10.1.2.3,host',
    '0.0.0.0/0,anything',
    '255.255.255.255,top',
    '10.1.2.255/32,edge',
  ].join('\n'), { name: 'l' });
  const find = (a: string) => l.find(a)?.label ?? null;
  assert.equal(find('10.1.2.3'), 'host');
  assert.equal(find('10.1.2.4'), 'ten-one-two');
  assert.equal(find('10.1.2.254'), 'ten-one-two');
  assert.equal(find('10.1.2.255'), 'edge');
  assert.equal(find('10.1.3.0'), 'ten-one');
  assert.equal(find('10.1.255.255'), 'ten-one');
  assert.equal(find('10.2.0.0'), 'ten');
  assert.equal(find('10.255.255.255'), 'ten');
  assert.equal(find('11.0.0.0'), 'anything');
  assert.equal(find('9.255.255.255'), 'anything');
  assert.equal(find('0.0.0.0'), 'anything');
  assert.equal(find('255.255.255.254'), 'anything');
  assert.equal(find('255.255.255.255'), 'top');
  assert.deepEqual(l.find('10.1.2.9'), { indicator: '10.1.2.0/24', label: 'ten-one-two' });
  assert.deepEqual(l.find('10.1.2.3'), { indicator: '10.1.2.3', label: 'host' });
  // Order in the file does not matter.
  const r = IndicatorList.parse('10.1.2.3 host\n10.1.0.0/16 mid\n10.0.0.0/8 wide\n', { name: 'r' });
  assert.equal(r.find('10.1.2.3')?.label, 'host');
  assert.equal(r.find('10.1.9.9')?.label, 'mid');
  assert.equal(r.find('10.9.9.9')?.label, 'wide');
  assert.equal(r.find('11.0.0.1'), null);
});

test('IPv6 blocks, zones, brackets and mixed lists', () => {
  const l = IndicatorList.parse([
    '2001:db8::/32\tdoc',
    '2001:db8:bad::/48\tbad-net',
    '2001:db8:bad::1\tbad-host',
    '[2001:db8:beef::7]\tbracketed',
    'fe80::1%eth0\tlink-local',
    '::ffff:192.0.2.1\tmapped',
    '198.51.100.0/24\tv4',
  ].join('\n'), { name: 'v6' });
  assert.equal(l.count6, 6);
  assert.equal(l.count4, 1);
  assert.equal(l.find('2001:db8:bad::1')?.label, 'bad-host');
  assert.equal(l.find('2001:db8:bad::2')?.label, 'bad-net');
  assert.equal(l.find('2001:db8:bad:ffff:ffff:ffff:ffff:ffff')?.label, 'bad-net');
  assert.equal(l.find('2001:db8:bae::')?.label, 'doc');
  assert.equal(l.find('2001:db8:beef::7')?.label, 'bracketed');
  assert.equal(l.find('2001:db9::')?.label, undefined);
  assert.equal(l.find('fe80::1')?.label, 'link-local');
  assert.equal(l.find('::ffff:192.0.2.1')?.label, 'mapped');
  assert.equal(l.find('198.51.100.7')?.label, 'v4');
  assert.deepEqual(l.find('2001:db8:bad::9'), { indicator: '2001:db8:bad::/48', label: 'bad-net' });
  assert.deepEqual(l.find('2001:db8:ff::'), { indicator: '2001:db8::/32', label: 'doc' });
});

test('comments, blank lines, labels and bad lines reported with file:line', () => {
  const dir = tmpDir('ioc-list-');
  const f = join(dir, 'feed.txt');
  writeFileSync(f, [
    '# a feed',                      // 1
    '',                              // 2
    '192.0.2.1,c2 server',           // 3
    '192.0.2.0/24 # trailing',       // 4
    'not-an-ip,oops',                // 5
    '300.1.2.3',                     // 6
    '192.0.2.9/33',                  // 7
    '2001:db8::1::2',                // 8
    '  198.51.100.5\tphish\textra',  // 9
    '203.0.113.0/24;scanner',        // 10
    '10.0.0.1/8,hostbits',           // 11
    '"192.0.2.77","quoted"',         // 12
  ].join('\r\n'));
  const l = IndicatorList.parse(readFileSync(f, 'utf8'), { file: f, name: 'feed.txt' });
  assert.deepEqual(l.problems.map((p) => `${p.file}:${p.line}`), [5, 6, 7, 8].map((n) => `${f}:${n}`));
  assert.match(l.problems[0]!.message, /not an IP address or CIDR: 'not-an-ip'/);
  assert.match(l.problems[2]!.message, /prefix length \/33 exceeds 32/);
  assert.match(l.problems[3]!.message, /not an IPv6 address/);
  assert.equal(l.problemCount, 4);
  assert.equal(l.size, 6);
  assert.equal(l.hostBitsCleared, 1);
  assert.deepEqual(l.find('192.0.2.1'), { indicator: '192.0.2.1', label: 'c2 server' });
  assert.deepEqual(l.find('192.0.2.2'), { indicator: '192.0.2.0/24', label: '' });
  assert.equal(l.find('198.51.100.5')?.label, 'phish');
  assert.equal(l.find('203.0.113.200')?.label, 'scanner');
  assert.deepEqual(l.find('10.200.0.1'), { indicator: '10.0.0.0/8', label: 'hostbits' });
  assert.equal(l.find('192.0.2.77')?.label, 'quoted');
});

test('load() names the list after the file and reports problems with the path', async () => {
  const dir = tmpDir('ioc-list-');
  const f = join(dir, 'bad.lst');
  writeFileSync(f, '1.2.3.4\nbogus\n');
  const l = await IndicatorList.load(f);
  assert.equal(l.name, 'bad.lst');
  assert.deepEqual(l.problems, [{ file: f, line: 2, message: "not an IP address or CIDR: 'bogus'" }]);
  await assert.rejects(IndicatorList.load(join(dir, 'missing.txt')), (e: Error & { code?: string }) => e.code === 'ERR_IOC');
});

test('CSV with a named column, quoting, auto-detected label column and bad rows', () => {
  const csv = [
    '# exported feed',
    'first_seen,dst_ip,port,malware,notes',
    '2024-01-01,192.0.2.10,443,"Emotet, epoch 4","x"',
    '2024-01-02,2001:db8::5,80,QakBot,"say ""hi"""',
    '2024-01-03,,80,empty,',
    '2024-01-04,nope,80,bad,',
    '2024-01-05,"unterminated,80,bad,',
  ].join('\n');
  const l = IndicatorList.parse(csv, { name: 'c', file: 'feed.csv', column: 'dst_ip' });
  assert.equal(l.find('192.0.2.10')?.label, 'Emotet, epoch 4');
  assert.equal(l.find('2001:db8::5')?.label, 'QakBot');
  assert.deepEqual(l.problems.map((p) => [p.line, p.message]), [
    [5, "no value in column 'dst_ip'"],
    [6, "not an IP address or CIDR: 'nope'"],
    [7, 'unterminated quoted field'],
  ]);
  const l2 = IndicatorList.parse('ip,label\n198.51.100.1,one\n', { name: 'c2', file: 'x.csv' });
  assert.equal(l2.find('198.51.100.1')?.label, 'one');
  const l3 = IndicatorList.parse('addr\tnote\n198.51.100.2\ttwo\n', { name: 'c3', format: 'csv', column: 'addr', labelColumn: 'note' });
  assert.equal(l3.find('198.51.100.2')?.label, 'two');
  assert.throws(() => IndicatorList.parse('a,b\n1,2\n', { name: 'c4', format: 'csv' }), /no address column/);
  assert.throws(() => IndicatorList.parse('ip,b\n1.2.3.4,2\n', { name: 'c5', format: 'csv', column: 'zz' }), /no column 'zz'/);
});

test('JSON arrays of strings and objects; bad elements reported at their line', () => {
  const json = `[
  "192.0.2.1",
  {"ip": "192.0.2.0/24", "label": "net"},
  {"cidr": "2001:db8::/32", "description": "doc v6"},
  {"host": "nothing"},
  42,
  "999.1.1.1",
  {"ip": "198.51.100.1", "label": "with, comma ] and \\" quote"}
]`;
  const l = IndicatorList.parse(json, { name: 'j' });
  assert.equal(l.find('192.0.2.1')?.label, '');
  assert.equal(l.find('192.0.2.9')?.label, 'net');
  assert.equal(l.find('2001:db8::1')?.label, 'doc v6');
  assert.equal(l.find('198.51.100.1')?.label, 'with, comma ] and " quote');
  assert.deepEqual(l.problems.map((p) => p.line), [5, 6, 7]);
  assert.match(l.problems[0]!.message, /no address field/);
  assert.match(l.problems[1]!.message, /neither a string nor an object/);
  const open = IndicatorList.parse('["1.2.3.4",\n"5.6.7.8"', { name: 'open' });
  assert.equal(open.size, 2);
  assert.deepEqual(open.problems.map((p) => [p.line, p.message]), [[2, 'JSON array is not closed']]);
});

test('identical blocks keep the first label; sets reject duplicate names and replace lists', () => {
  const l = IndicatorList.parse('192.0.2.0/24,first\n192.0.2.0/24,second\n192.0.2.5/24,third\n', { name: 'dup' });
  assert.equal(l.duplicates, 2);
  assert.equal(l.find('192.0.2.1')?.label, 'first');
  const set = new IndicatorSet([l]);
  assert.throws(() => set.add(IndicatorList.parse('1.1.1.1', { name: 'dup' })), /duplicate list name/);
  const v = set.version;
  const r = set.replaceList('dup', [{ cidr: '203.0.113.0/24', label: 'new' }]);
  assert.equal(set.version, v + 1);
  assert.equal(set.lists.length, 1);
  assert.equal(set.lists[0], r);
  assert.equal(r.find('203.0.113.1')?.label, 'new');
  assert.equal(r.find('192.0.2.1'), null);
  set.replaceList('other', IndicatorList.parse('1.1.1.1', { name: 'whatever' }));
  assert.equal(set.lists[1]!.name, 'other');
  assert.equal(set.replaceList('text', '# as list text\n9.9.9.9,nine\n').find('9.9.9.9')?.label, 'nine');
  set.removeList('text');
  assert.deepEqual(set.lists.map((x) => x.name), ['dup', 'other']);
  assert.equal(set.removeList('dup'), true);
  assert.deepEqual(set.lists.map((x) => x.name), ['other']);
});

// Deterministic PRNG (mulberry32) so failures reproduce.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('IPv4 range table equals a linear longest-prefix scan on 3000 random nested blocks', () => {
  const rand = rng(7);
  const n = 3000;
  const addr = new Uint32Array(n), prefix = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // Cluster blocks under a few /8s so they nest a lot.
    // A few wide blocks anywhere (they span many buckets), the rest clustered under three /8s.
    const p = i < 20 ? 4 + Math.floor(rand() * 9) : 8 + Math.floor(rand() * 25);
    const a = i < 20 ? Math.floor(rand() * 2 ** 32) >>> 0 : ((10 + Math.floor(rand() * 3)) << 24 | Math.floor(rand() * 0x1000000)) >>> 0;
    const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    addr[i] = (a & mask) >>> 0; prefix[i] = p;
  }
  const t = RangeTable.build(1, { addr, prefix, count: n });
  // The same blocks with a 24-bit bucket index (mostly empty buckets, spans across many of them).
  const tf = RangeTable.build(1, { addr, prefix, count: n }, { bucketBits: 24 });
  assert.equal(t.bucketBits, 16);
  assert.equal(tf.bucketBits, 24);
  const linear = (ip: number): number => {
    let best = -1;
    for (let i = 0; i < n; i++) {
      const p = prefix[i]!;
      const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      if (((ip & mask) >>> 0) === addr[i] && (best < 0 || p > prefix[best]!)) best = i;
    }
    return best;
  };
  for (let k = 0; k < 20000; k++) {
    // Half the probes near block boundaries, half anywhere in the clustered space.
    let ip: number;
    if (k % 2) {
      const i = Math.floor(rand() * n);
      const p = prefix[i]!;
      const size = 2 ** (32 - p);
      ip = (addr[i]! + [0, size - 1, size, -1][k % 4 === 1 ? 0 : Math.floor(rand() * 4)]!) >>> 0;
    } else ip = ((10 + Math.floor(rand() * 4)) << 24 | Math.floor(rand() * 0x1000000)) >>> 0;
    const want = linear(ip);
    const got = t.lookup4(ip);
    assert.equal(tf.lookup4(ip), got, `24-bit buckets, ip ${ip}`);
    if (want < 0) assert.equal(got, -1, `ip ${ip >>> 0}`);
    else {
      assert.notEqual(got, -1, `ip ${ip}`);
      // Identical blocks may resolve to either duplicate index; compare the block itself.
      assert.equal(addr[got], addr[want], `ip ${ip}`);
      assert.equal(prefix[got], prefix[want], `ip ${ip}`);
    }
  }
});

test('IPv6 range table equals a linear longest-prefix scan on 800 random nested blocks', () => {
  const rand = rng(11);
  const n = 800;
  const addr = new Uint32Array(n * 4), prefix = new Uint8Array(n);
  const words = (): number[] => [0x20010db8, Math.floor(rand() * 4) * 0x10000 + Math.floor(rand() * 3), Math.floor(rand() * 2 ** 32), Math.floor(rand() * 2 ** 32)];
  const mask = (w: number[], p: number): number[] => w.map((v, i) => {
    const bits = Math.max(0, Math.min(32, p - 32 * i));
    return bits === 0 ? 0 : bits === 32 ? v >>> 0 : (v & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
  });
  for (let i = 0; i < n; i++) {
    const p = [32, 40, 48, 56, 64, 80, 96, 112, 120, 127, 128][Math.floor(rand() * 11)]!;
    const m = mask(words(), p);
    addr.set(m, i * 4); prefix[i] = p;
  }
  const t = RangeTable.build(4, { addr, prefix, count: n });
  const linear = (w: number[]): number => {
    let best = -1;
    for (let i = 0; i < n; i++) {
      const m = mask(w, prefix[i]!);
      if (m.every((v, k) => v === addr[i * 4 + k]) && (best < 0 || prefix[i]! > prefix[best]!)) best = i;
    }
    return best;
  };
  for (let k = 0; k < 3000; k++) {
    let w: number[];
    if (k % 2) {
      const i = Math.floor(rand() * n);
      w = [addr[i * 4]!, addr[i * 4 + 1]!, addr[i * 4 + 2]!, addr[i * 4 + 3]!];
      if (k % 4 === 3) w = mask(w, 128).map((v, j) => (j === 3 ? (v | ((2 ** Math.max(0, Math.min(32, 128 - prefix[i]!))) - 1)) >>> 0 : v));
    } else w = words();
    const want = linear(w);
    const got = t.lookup6(w[0]!, w[1]!, w[2]!, w[3]!);
    if (want < 0) assert.equal(got, -1);
    else {
      assert.notEqual(got, -1);
      assert.equal(prefix[got], prefix[want]);
      for (let j = 0; j < 4; j++) assert.equal(addr[got * 4 + j], addr[want * 4 + j]);
    }
  }
});

test('one million /32 and CIDR entries load in seconds and look up correctly', () => {
  const rand = rng(3);
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const a = Math.floor(rand() * 2 ** 32);
    lines.push(i % 10 === 0 ? `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 0}.0/24,net${i % 7}` : `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255},host`);
  }
  lines.push('192.0.2.1,needle');
  const text = lines.join('\n');
  const t0 = performance.now();
  const l = IndicatorList.parse(text, { name: 'big' });
  const ms = performance.now() - t0;
  console.log(`# parsed ${l.count4} entries in ${ms.toFixed(0)} ms`);
  assert.equal(l.problemCount, 0);
  assert.equal(l.count4, 1_000_001);
  assert.ok(ms < 10_000, `load took ${ms} ms`);
  assert.equal(l.find('192.0.2.1')?.label, 'needle');
});

