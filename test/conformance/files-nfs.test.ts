// NFS file extraction against Suricata's verification suite (../shared/corpus/suricata-verify, read in place):
// every nfs fileinfo check with a sha256/md5/size (matched/total printed), again with all its other_match fields
// (nfs.hhash, nfs.procedure, rpc.xid, tx_id, addresses, …); and the nfs captures of the suite (TCP and UDP, v2,
// v3, v4) yield the files they carry.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { corpusDir, corpusSkip } from '../_util.js';
import { loadExpectations, relevantRows, report, runSuite } from './files-common.js';
import { strictCount } from './files-smb-nfs-match.js';
import { extractFiles } from '../../src/files/sink.js';

/** At corpus commit 10a45e4b there is one nfs fileinfo check (nfs4-01, size 5, with 19 other fields). */
const CONTENT_FLOOR = 1;

test('suricata-verify nfs: content and strict fileinfo checks', { skip: corpusSkip() }, async () => {
  const sv = join(corpusDir()!, 'suricata-verify');
  const rows = loadExpectations(sv, 'nfs').filter((r) => r.check_kind === 'fileinfo' || r.check_kind === 'filestore-present');
  const { results, events } = await runSuite(sv, rows);
  const rel = new Set(relevantRows(rows));
  const ok = report('nfs content + filestore-present', results.filter((r) => rel.has(r.row)));
  let strict = 0;
  for (const r of rows.filter((x) => x.check_kind === 'fileinfo')) {
    const got = strictCount(r, events.get(r.test)!);
    if (got === r.count) strict++;
    else console.log(`#   strict ${r.test}: expected ${r.count} events, got ${got}`);
  }
  console.log(`# nfs fileinfo checks with all fields: matched ${strict}/${rows.filter((x) => x.check_kind === 'fileinfo').length}`);
  assert.ok(ok >= CONTENT_FLOOR);
  assert.equal(ok, rel.size);
  assert.equal(strict, rows.filter((x) => x.check_kind === 'fileinfo').length);
});

test('suricata-verify nfs captures: v2 over UDP, v3 and v4 over TCP give their files', { skip: corpusSkip() }, async () => {
  const sv = join(corpusDir()!, 'suricata-verify');
  // Contents checked against tshark's reassembled READ/WRITE data of the same captures.
  const v2 = await extractFiles([join(sv, 'issue-3277-nfsv2-filestore/nfsv2.pcap')]);
  const got2 = v2.events.map((e) => `${e.fileinfo.filename}:${e.fileinfo.size}:${e.fileinfo.state}:${(e as unknown as { nfs: { procedure: string } }).nfs.procedure}`).sort();
  assert.deepEqual(got2, ['b:11:CLOSED:READ', 'h:17:TRUNCATED:WRITE']);
  const v34 = await extractFiles([join(sv, 'nfs3-procedure/input.pcap')]);
  const got34 = v34.events.map((e) => `${e.fileinfo.filename}:${e.fileinfo.size}:${e.fileinfo.state}:${e.fileinfo.sha256.slice(0, 16)}`).sort();
  assert.deepEqual(got34, [':5:CLOSED:f2ca1bb6c7e907d0', 'bln:11:CLOSED:cb39bdb9ce305c91', 'h:17:TRUNCATED:8a86c1d6da22ff16']);
  console.log(`# nfs: v2/UDP ${v2.events.length} files, v3+v4/TCP ${v34.events.length} files`);
});
