// SMTP file extraction through the files pipeline against Suricata's verification suite
// (../shared/corpus/suricata-verify, rows of expectations.tsv with protocol smtp): the required checks
// (fileinfo with sha256/md5/size, filestore-present) via files-common, then every field each check gives
// (other_match too: addresses, tx_id, smtp.*, email.*). Second, independent opinion: tshark's
// `--export-objects imf` messages, decoded with our MIME decoder, hold no attachment we did not extract, and
// where every export is intact, we extract nothing else (but for the listed BDAT message).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip, FIXTURES } from '../_util.js';
import { tsharkSkip } from './files-common.js';
import { judgeProtocol, pipelineEvents, tsharkImfAttachments } from '../files/smtp-ftp-checks.js';

/** Required smtp checks we pass (all 9 at corpus commit 10a45e4b); all fields of all fileinfo checks (9). */
const REQUIRED_FLOOR = 9;
const FULL_FLOOR = 9;

test('suricata-verify smtp: required checks and every field of each fileinfo check', { skip: corpusSkip() }, async () => {
  const r = await judgeProtocol(join(corpusDir()!, 'suricata-verify'), 'smtp');
  assert.ok(r.required[0] >= REQUIRED_FLOOR, `required ${r.required[0]}/${r.required[1]}`);
  assert.ok(r.all[0] >= FULL_FLOOR, `every-field ${r.all[0]}/${r.all[1]}`);
});

/**
 * Files of ours that tshark's intact exports lack, per capture, and why: a capture absent here must show none.
 * tshark's imf export skips messages sent with BDAT (CHUNKING); the fixture sends one.
 */
const OURS_ONLY: Record<string, { files: string[]; why: string }> = {
  'fixtures/files/smtp/smtp-mime.pcap': { files: ['chunked.bin'], why: 'its BDAT message: tshark exports DATA messages only' },
};

test('second opinion: tshark --export-objects imf messages hold the same attachments as we extract', { skip: tsharkSkip() }, async () => {
  const pcaps: string[] = [join(FIXTURES, 'files/smtp/smtp-mime.pcap')];
  const dir = corpusDir();
  if (dir) {
    // Corpus SMTP captures in which tshark sees mail, each distinct file once.
    const sv = join(dir, 'suricata-verify');
    const seen = new Set<string>();
    for (const row of readFileSync(join(sv, 'tests.tsv'), 'utf8').split('\n').slice(1)) {
      const c = row.split('\t');
      if (c[3] !== 'smtp' || !(c[10] ?? '').split(' ').includes('imf')) continue;
      const p = join(sv, c[0]!, c[1]!);
      if (!existsSync(p)) continue;
      const key = `${statSync(p).size}:${createHash('sha1').update(readFileSync(p)).digest('hex')}`;
      if (!seen.has(key)) { seen.add(key); pcaps.push(p); }
    }
  }
  let both = 0, theirs = 0, ours = 0, damaged = 0, exact = 0;
  for (const p of pcaps) {
    const evs = (await pipelineEvents(p)).filter((e) => e.app_proto === 'smtp');
    const o = new Set(evs.map((e) => e.fileinfo.sha256));
    const t = tsharkImfAttachments(p, o);
    const missing = [...t.sha].filter((x) => !o.has(x));
    const name = p.replace(/.*suricata-verify\//, 'sv/').replace(/.*fixtures\//, 'fixtures/');
    both += t.sha.size - missing.length; theirs += t.sha.size; ours += o.size; damaged += t.damaged;
    console.log(`# ${name}: tshark messages ${t.messages} (damaged export ${t.damaged}), attachments tshark ${t.sha.size}, ours ${o.size}, tshark-only ${missing.length}`);
    assert.deepEqual(missing, [], `${p}: attachments of intact tshark messages that we did not extract`);
    // Where every export is intact, the sets are equal but for the files listed in OURS_ONLY.
    if (t.damaged === 0) {
      const extra = [...new Set(evs.filter((e) => !t.sha.has(e.fileinfo.sha256)).map((e) => e.fileinfo.filename))].sort();
      assert.deepEqual(extra, OURS_ONLY[name]?.files ?? [], `${name}: files we extracted that tshark's intact messages do not hold`);
      if (extra.length) console.log(`#   ours only: ${extra.join(', ')}: ${OURS_ONLY[name]!.why}`);
      exact++;
    }
  }
  console.log(`# imf second opinion over ${pcaps.length} captures: ${both}/${theirs} attachments of intact tshark messages extracted by us (ours ${ours}; ${damaged} tshark exports damaged, not compared); ${exact} captures with every export intact hold the same set`);
  // Without ../shared only the committed fixture is compared (its 6 attachments).
  if (!dir) console.log('# imf second opinion: ../shared/corpus absent, the committed fixture only');
  assert.ok(theirs >= (dir ? 12 : 6), `only ${theirs} attachments compared`);
});
