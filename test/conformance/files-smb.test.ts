// SMB file extraction against Suricata's verification suite (../shared/corpus/suricata-verify, read in place):
// every smb fileinfo check with a sha256/md5/size and every filestore-present check (matched/total printed),
// every smb fileinfo check again with all its other_match fields (smb.fuid, smb.session_id, share, …), and a
// second opinion: every non-empty, non-DCERPC file tshark's `--export-objects smb` writes from those captures
// and from our fixtures is one we extracted (same sha256).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkip, FIXTURES } from '../_util.js';
import { loadExpectations, relevantRows, report, runSuite, tsharkSkip } from './files-common.js';
import { strictCount } from './files-smb-nfs-match.js';
import { extractFiles } from '../../src/files/sink.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpDir } from '../_util.js';

/** At corpus commit 10a45e4b: 3 content fileinfo checks + 3 filestore-present checks; 5 fileinfo checks in all. */
const CONTENT_FLOOR = 6;
const STRICT_FLOOR = 5;

test('suricata-verify smb: content, filestore-present and strict fileinfo checks', { skip: corpusSkip() }, async () => {
  const sv = join(corpusDir()!, 'suricata-verify');
  const rows = loadExpectations(sv, 'smb').filter((r) => r.check_kind === 'fileinfo' || r.check_kind === 'filestore-present');
  const { results, events } = await runSuite(sv, rows);
  const rel = new Set(relevantRows(rows));
  const ok = report('smb content + filestore-present', results.filter((r) => rel.has(r.row)));
  let strict = 0;
  const fileinfo = rows.filter((r) => r.check_kind === 'fileinfo');
  for (const r of fileinfo) {
    const got = strictCount(r, events.get(r.test)!);
    if (got === r.count) strict++;
    else console.log(`#   strict ${r.test}: expected ${r.count} events, got ${got}`);
  }
  console.log(`# smb fileinfo checks with all fields: matched ${strict}/${fileinfo.length}`);
  assert.ok(ok >= CONTENT_FLOOR, `content checks ${ok}/${rel.size}`);
  assert.equal(ok, rel.size);
  assert.ok(strict >= STRICT_FLOOR, `strict checks ${strict}/${fileinfo.length}`);
});

/** sha256 of each non-empty file tshark exports that is not DCERPC pipe traffic (05 00 …). */
function tsharkSmbFiles(pcap: string): Array<{ sha: string; bytes: Buffer }> {
  const dir = tmpDir('fc-tshark-smb-');
  spawnSync('tshark', ['-r', pcap, '-q', '--export-objects', `smb,${dir}`], { encoding: 'utf8', timeout: 60_000 });
  const out: Array<{ sha: string; bytes: Buffer }> = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (!statSync(p).isFile() || statSync(p).size === 0) continue;
    const b = readFileSync(p);
    if (b[0] === 5 && b[1] === 0) continue;
    out.push({ sha: createHash('sha256').update(b).digest('hex'), bytes: b });
  }
  rmSync(dir, { recursive: true, force: true });
  return out;
}

test('second opinion: tshark --export-objects smb files are all extracted by us', { skip: tsharkSkip() }, async () => {
  const pcaps = [join(FIXTURES, 'files/smb/smb2-read-write.pcap'), join(FIXTURES, 'files/smb/smb1-write-padding.pcap')];
  const dir = corpusDir();
  if (dir) {
    const sv = join(dir, 'suricata-verify');
    const seen = new Set<string>();
    for (const r of loadExpectations(sv, 'smb')) {
      const p = join(sv, r.test, r.pcap);
      const key = createHash('sha1').update(readFileSync(p)).digest('hex');
      if (!seen.has(key)) { seen.add(key); pcaps.push(p); }
    }
  }
  let theirs = 0, both = 0, prefix = 0;
  for (const p of pcaps) {
    const t = tsharkSmbFiles(p);
    const out = tmpDir('fc-smb-ours-');
    const ev = (await extractFiles([p], { out, run: { onInputError: () => {} } })).events;
    const ours = new Set(ev.map((e) => e.fileinfo.sha256));
    theirs += t.length;
    for (const f of t) {
      if (ours.has(f.sha)) { both++; continue; }
      // tshark stops at data it cannot place (e.g. a WRITE inside a compound): a strict prefix of our file.
      const longer = ev.find((e) => e.fileinfo.size > f.bytes.length && readFileSync(join(out, e.fileinfo.sha256.slice(0, 2), e.fileinfo.sha256)).subarray(0, f.bytes.length).equals(f.bytes));
      if (longer) { prefix++; console.log(`#   ${p}: tshark wrote the first ${f.bytes.length} of our ${longer.fileinfo.size} bytes of ${longer.fileinfo.filename}`); }
      else console.log(`#   ${p}: tshark file ${f.sha.slice(0, 16)} (${f.bytes.length} bytes) not extracted by us`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  console.log(`# smb tshark files also extracted by us: ${both}/${theirs} identical, ${prefix} tshark partial (prefix of ours), over ${pcaps.length} captures`);
  assert.ok(theirs >= (dir ? 80 : 2), `tshark exported ${theirs}`);
  assert.equal(both + prefix, theirs);
  assert.ok(prefix <= 1);
});
