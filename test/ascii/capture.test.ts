// printCapture (library helper): same bytes as the CLI, several inputs in order, a format fault returned (not thrown)
// after every packet before it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { printCapture } from '../../src/ascii/capture.js';
import { CaptureFormatError } from '../../src/errors.js';
import { tmpDir } from '../_util.js';
import { pcap, ether, ipv4, udp, tcp, ascii } from './_build.js';

const dir = tmpDir('flowcarve-ascii-cap-');
const frames = Array.from({ length: 50 }, (_, i) => ({
  ts: 1_700_000_000 + i, usec: i * 3,
  data: i % 2
    ? ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(4000 + i, 53000, [i])))
    : ether('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0800, ipv4('10.0.0.2', '10.0.0.1', 6, tcp(21, 3000, i, 7, 0x18, 1, [], ascii(`230 Login ${i} \xe9\r\n`)))),
}));
const good = join(dir, 'good.pcap');
writeFileSync(good, pcap(1, frames));
const cut = join(dir, 'cut.pcap');
const whole = pcap(1, frames);
writeFileSync(cut, whole.subarray(0, whole.length - 3));

async function collect(paths: string[]): Promise<{ text: string; r: Awaited<ReturnType<typeof printCapture>> }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const r = await printCapture(paths, out);
  out.end();
  return { text: Buffer.concat(chunks).toString('latin1'), r };
}

test('printCapture prints inputs in order and returns packet counts', async () => {
  const one = await collect([good]);
  assert.equal(one.r.packets, 50);
  assert.equal(one.r.error, undefined);
  assert.equal(one.text.split('\n').length - 1, 50);
  assert.match(one.text, /^1700000000\.000000 IP 10\.0\.0\.2\.21 > 10\.0\.0\.1\.3000: Flags \[P\.\], seq 0:15, ack 7, win 1, length 15: FTP\n/); // a non-ASCII byte: tcpdump prints no line
  const two = await collect([good, good]);
  assert.equal(two.text, one.text + one.text);
});

test('printCapture returns the format error after the packets before it', async () => {
  const r = await collect([cut, good]);
  assert.equal(r.r.packets, 49);
  assert.ok(r.r.error instanceof CaptureFormatError);
  assert.equal(r.r.error!.file, cut);
  assert.equal(r.text.split('\n').length - 1, 49);
});
