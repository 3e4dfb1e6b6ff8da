// `npm start` = `flowcarve demo`: every feature on the bundled capture, with concrete results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, FIXTURES } from '../_util.js';
import { demoCapture } from '../../fixtures/make/demo.js';
import { classicPcap } from '../../fixtures/make/capture.js';

test('the committed demo capture is what the generator makes', () => {
  const d = demoCapture();
  assert.deepEqual(readFileSync(join(FIXTURES, 'demo/demo.pcap')), Buffer.from(classicPcap(d.frames)));
  assert.equal(readFileSync(join(FIXTURES, 'demo/eve.json'), 'utf8'), d.eve.map((e) => JSON.stringify(e)).join('\n') + '\n');
});

test('demo prints flows, text, files, carved alerts and indicator hits', () => {
  const r = runCli(['demo']);
  const out = r.stdout.toString();
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(out, /== capture: 62 packets, 8032 bytes, pcap LE usec/);
  assert.match(out, /== flows \(2 worker threads\): 5, 2 alerted\n/);
  assert.match(out, /192\.168\.1\.23:49200 +-> 198\.51\.100\.66:8080 .* ALERTED\n/);
  assert.match(out, /== tcpdump -tt -n text: 62 lines/);
  assert.match(out, /1700000000\.004000 IP 192\.168\.1\.1\.53 > 192\.168\.1\.23\.53001: 4660 1\/0\/0 A 203\.0\.113\.80 \(55\)/);
  // Files: the gzip+chunked CSV is hashed decoded; the binary and the base64 attachment by their content.
  const tool = Buffer.from(new Uint8Array(3000).map((_, i) => (i * 31 + 7) & 0xff));
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  assert.match(out, /== files extracted: 4 \(stored 4/);
  assert.ok(out.includes(`"/tools/updater.bin"           3000 B  CLOSED  sha256 ${sha(tool)}`), out);
  assert.ok(out.includes(sha('invoice 2023-11 total 1234.00 EUR\n'.repeat(8))));
  assert.ok(out.includes(sha('Quarterly report\n' + 'revenue,cost,margin\n'.repeat(40))));
  assert.match(out, /== conditional store: 2 of 2 alerts matched, 16 packets kept of 62/);
  assert.match(out, /carved sid 2013028 .*: 9 packets/);
  assert.match(out, /carved sid 2029743 .*: 7 packets/);
  assert.match(out, /198\.51\.100\.66 +demo-c2 +outbound 192\.168\.1\.23 <-> 198\.51\.100\.66  6 pkts/);
});
