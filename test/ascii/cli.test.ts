// `flowcarve ascii` command: stdout/--out, --split-size (every file under the limit, cut only between packets,
// concatenation = unsplit output), several inputs in order, and the report of a cut capture.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tmpDir } from '../_util.js';
import { pcap, ether, ipv4, tcp, udp, ascii, type Rec } from './_build.js';
import { SplitWriter } from '../../src/ascii/split.js';

const dir = tmpDir('flowcarve-ascii-cli-');

/** 300 packets: TCP, UDP and unknown-ethertype frames whose hex dumps span several continuation lines. */
function bigCapture(): Buffer {
  const recs: Rec[] = [];
  for (let i = 0; i < 300; i++) {
    let data: Uint8Array;
    if (i % 3 === 0) data = ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1000 + i, 80, i, 1, 0x18, 9, [], ascii(`GET /${i} HTTP/1.1\r\n`))));
    else if (i % 3 === 1) data = ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0800, ipv4('10.0.0.2', '10.0.0.1', 17, udp(5000, 6000 + i, new Array(i % 50).fill(1))));
    else data = ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x7878, new Array(20 + (i % 90)).fill(0x41 + (i % 26)));
    recs.push({ ts: 1_700_000_000 + i, usec: i, data });
  }
  return pcap(1, recs);
}

const cap = join(dir, 'big.pcap');
writeFileSync(cap, bigCapture());

test('stdout and --out give the same text; several inputs print in order', () => {
  const a = runCli(['ascii', cap]);
  assert.equal(a.status, 0, a.stderr.toString());
  const text = a.stdout.toString('latin1');
  assert.equal(text.split('\n').filter((l) => /^\d+\.\d{6} /.test(l)).length, 300);
  const out = join(dir, 'one.txt');
  const b = runCli(['ascii', '--out', out, cap]);
  assert.equal(b.status, 0);
  assert.equal(readFileSync(out, 'latin1'), text);
  const two = runCli(['ascii', cap, cap]);
  assert.equal(two.stdout.toString('latin1'), text + text);
});

test('--split-size: files strictly under the limit, cut between packets, concatenation equals the whole', () => {
  const whole = runCli(['ascii', cap]).stdout.toString('latin1');
  for (const limit of [600, 2000, 15000]) {
    const sub = tmpDir('flowcarve-split-');
    const base = join(sub, 'part');
    const r = runCli(['ascii', '--split-size', String(limit), '--out', base, cap]);
    assert.equal(r.status, 0, r.stderr.toString());
    const files = readdirSync(sub).sort();
    assert.ok(files.length > 1, `limit ${limit}: expected several files`);
    files.forEach((f, i) => assert.equal(f, `part.${String(i).padStart(3, '0')}`));
    let cat = '';
    for (const f of files) {
      const t = readFileSync(join(sub, f), 'latin1');
      assert.ok(statSync(join(sub, f)).size < limit, `${f} is ${t.length} bytes, limit ${limit}`);
      assert.ok(t.endsWith('\n'), `${f} ends inside a line`);
      assert.match(t, /^\d+\.\d{6} /, `${f} starts with a continuation line`);
      cat += t;
    }
    assert.equal(cat, whole);
  }
});

test('--split-size without --out writes out-NNN.txt in the working directory', () => {
  const sub = tmpDir('flowcarve-split-cwd-');
  const r = runCli(['ascii', '--split-size', '5kB', cap], { cwd: sub });
  assert.equal(r.status, 0, r.stderr.toString());
  const files = readdirSync(sub).sort();
  assert.ok(files.length >= 2);
  assert.deepEqual(files, files.map((_, i) => `out-${String(i).padStart(3, '0')}.txt`));
  assert.equal(files.map((f) => readFileSync(join(sub, f), 'latin1')).join(''), runCli(['ascii', cap]).stdout.toString('latin1'));
});

test('SplitWriter: a packet larger than the limit is cut between its lines; a longer line gets its own file', () => {
  const sub = tmpDir('flowcarve-splitw-');
  const w = new SplitWriter((i) => join(sub, `f${i}`), 20);
  const text = '1.000000 aaaa\n\tbbbbbbbb\n\tcccccccc\n2.000000 dd\n' + 'x'.repeat(30) + '\n3.0 e\n';
  w.write(text);
  w.close();
  const files = readdirSync(sub).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const parts = files.map((f) => readFileSync(join(sub, f), 'latin1'));
  assert.equal(parts.join(''), text);
  assert.equal(w.oversizeLines, 1);
  for (const p of parts) {
    assert.ok(p.endsWith('\n'));
    if (!p.startsWith('xxx')) assert.ok(p.length < 20, JSON.stringify(p));
  }
  assert.deepEqual(parts, ['1.000000 aaaa\n', '\tbbbbbbbb\n', '\tcccccccc\n', '2.000000 dd\n', 'x'.repeat(30) + '\n', '3.0 e\n']);
});

test('a cut capture prints every packet before the fault, reports file and offset, exits 1', () => {
  const full = bigCapture();
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, full.subarray(0, full.length - 7));
  const r = runCli(['ascii', cut]);
  assert.equal(r.status, 1);
  const lines = r.stdout.toString('latin1').split('\n').filter((l) => /^\d+\.\d{6} /.test(l));
  assert.equal(lines.length, 299);
  assert.match(r.stderr.toString(), /^flowcarve: .*cut\.pcap: offset \d+: .* \[ERR_PCAP_TRUNCATED_RECORD\]\n$/);
});

test('usage errors', () => {
  assert.equal(runCli(['ascii']).status, 2);
  const r = runCli(['ascii', '--split-size', 'lots', cap]);
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /ERR_USAGE/);
});
