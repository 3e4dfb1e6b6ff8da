// The flows output of shard workers that take ShardMapper's keyed packets (no sinks: plain IPv4 TCP, UDP and ICMP
// packets reach the table without being decoded) equals the sequential output, byte for byte: every committed
// fixture and, when ../shared is present, every suricata-verify capture, each set in one run, with 1, 2 and 3
// workers. The ICMP type and code (the Community ID of one-way types hashes the code) and the TCP flags come from
// the mapped key there, so a field lost on the way changes lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, corpusDir } from '../_util.js';
import { runFlows } from '../../src/engine/run.js';

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng|cap)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** The flows output of one run over `inputs` (faulty inputs skipped) and the ICMP flow lines in it. */
async function flowsOutput(inputs: string[], workers: number): Promise<{ sha: string; lines: number; icmpCodes: number }> {
  const h = createHash('sha256');
  let text = '';
  await runFlows(inputs, { workers, onFlowLines: (b) => { h.update(b); text += Buffer.from(b).toString('latin1'); }, onInputError: () => {} });
  const lines = text.split('\n').filter(Boolean);
  // Flows whose ICMP code is part of the key (one-way types such as unreachable, code > 0): the mapped code matters.
  const icmpCodes = lines.filter((l) => /"proto":"ICMP"/.test(l) && !/"src_port":(0|8|13|14|15|16|17|18|9|10),"dest_ip/.test(l) && !/"dest_port":0,/.test(l)).length;
  return { sha: h.digest('hex'), lines: lines.length, icmpCodes };
}

async function check(inputs: string[], what: string): Promise<{ lines: number; icmpCodes: number }> {
  const base = await flowsOutput(inputs, 1);
  for (const w of [2, 3]) {
    const got = await flowsOutput(inputs, w);
    assert.equal(got.sha, base.sha, `${what}: ${w} workers`);
  }
  return base;
}

test('flows output with keyed shard workers equals one worker: every fixture in one run', async () => {
  const files = captures(FIXTURES);
  const r = await check(files, 'fixtures');
  console.log(`# keyed shards: ${files.length} fixtures, ${r.lines} flows, identical for 1, 2 and 3 workers`);
  assert.ok(files.length >= 40 && r.lines > 80, `${files.length} files, ${r.lines} flows`);
});

test('flows output with keyed shard workers equals one worker: every suricata-verify capture in one run', async (t) => {
  const c = corpusDir();
  if (!c) { t.skip('../shared/corpus not present'); return; }
  const files = captures(join(c, 'suricata-verify'));
  const r = await check(files, 'suricata-verify');
  console.log(`# keyed shards: ${files.length} captures, ${r.lines} flows (${r.icmpCodes} ICMP with a code in the key), identical for 1, 2 and 3 workers`);
  assert.ok(files.length > 500 && r.lines > 800 && r.icmpCodes >= 4, `${r.lines} flows, ${r.icmpCodes} ICMP with codes`);
});
