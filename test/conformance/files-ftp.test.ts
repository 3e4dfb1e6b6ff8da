// FTP file extraction through the files pipeline against Suricata's verification suite
// (../shared/corpus/suricata-verify, rows of expectations.tsv with protocol ftp): the required checks via
// files-common, every field of each fileinfo check (addresses, tx_id, ftp_data.*), the same events with 1 and
// 3 workers (data connections resolved across workers), and a second opinion: every file tshark's
// `--export-objects ftp-data` writes is one we extracted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip, FIXTURES } from '../_util.js';
import { tsharkExport, tsharkSkip } from './files-common.js';
import { judgeProtocol, pipelineEvents } from '../files/smtp-ftp-checks.js';
import { fileinfoJson } from '../../src/files/fileinfo.js';

/** Required ftp checks we pass (all 7 at corpus commit 10a45e4b); all fields of all 11 fileinfo checks. */
const REQUIRED_FLOOR = 7;
const FULL_FLOOR = 11;

test('suricata-verify ftp: required checks and every field of each fileinfo check', { skip: corpusSkip() }, async () => {
  const r = await judgeProtocol(join(corpusDir()!, 'suricata-verify'), 'ftp');
  assert.ok(r.required[0] >= REQUIRED_FLOOR, `required ${r.required[0]}/${r.required[1]}`);
  assert.ok(r.all[0] >= FULL_FLOOR, `every-field ${r.all[0]}/${r.all[1]}`);
});

test('suricata-verify ftp captures: identical fileinfo lines with 1 and 3 workers', { skip: corpusSkip() }, async () => {
  const sv = join(corpusDir()!, 'suricata-verify');
  for (const t of ['bug-4877', 'firewall/ruletype-firewall-116-ftp-all-data-ipv4', 'filestore-ftp-active-mode/ftp-active-mode.pcap']) {
    const pcap = t.endsWith('.pcap') ? join(sv, t) : join(sv, t, 'input.pcap');
    const one = (await pipelineEvents(pcap, { workers: 1 })).map(fileinfoJson);
    const three = (await pipelineEvents(pcap, { workers: 3 })).map(fileinfoJson);
    assert.deepEqual(three, one, t);
    assert.ok(one.length > 0 && one.every((l) => l.includes('"app_proto":"ftp-data"') && /"parent_id":\d+/.test(l)), t);
    console.log(`# ${t}: ${one.length} ftp-data events, identical with 1 and 3 workers`);
  }
});

test('second opinion: tshark --export-objects ftp-data files are all extracted by us', { skip: tsharkSkip() }, async () => {
  const pcaps = [join(FIXTURES, 'files/ftp/ftp-v4.pcap'), join(FIXTURES, 'files/ftp/ftp-v6.pcap')];
  const dir = corpusDir();
  if (dir) {
    const sv = join(dir, 'suricata-verify');
    const seen = new Set<string>();
    for (const row of readFileSync(join(sv, 'tests.tsv'), 'utf8').split('\n').slice(1)) {
      const c = row.split('\t');
      if (c[3] !== 'ftp' || !(c[10] ?? '').split(' ').includes('ftp-data')) continue;
      const p = join(sv, c[0]!, c[1]!);
      if (!existsSync(p)) continue;
      const key = `${statSync(p).size}:${createHash('sha1').update(readFileSync(p)).digest('hex')}`;
      if (!seen.has(key)) { seen.add(key); pcaps.push(p); }
    }
  }
  let theirs = 0, both = 0;
  for (const p of pcaps) {
    const t = tsharkExport(p, 'ftp-data')!;
    const o = new Set((await pipelineEvents(p)).filter((e) => e.app_proto === 'ftp-data').map((e) => e.fileinfo.sha256));
    const missing = [...t].filter((x) => !o.has(x));
    theirs += t.size; both += t.size - missing.length;
    console.log(`# ${p.replace(/.*suricata-verify\//, 'sv/').replace(/.*fixtures\//, 'fixtures/')}: tshark ${t.size} distinct files, ours ${o.size}, tshark-only ${missing.length}`);
    assert.deepEqual(missing, [], `${p}: files tshark exported that we did not extract`);
  }
  console.log(`# ftp-data second opinion over ${pcaps.length} captures: ${both}/${theirs} tshark files extracted by us`);
  // Without ../shared only the committed fixtures are compared (3 distinct files).
  if (!dir) console.log('# ftp-data second opinion: ../shared/corpus absent, the committed fixtures only');
  assert.ok(theirs >= (dir ? 14 : 3), `only ${theirs} tshark files compared`);
});
