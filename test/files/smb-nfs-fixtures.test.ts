// End to end on our generated SMB/NFS captures (fixtures/make/files-smb-nfs.ts): the committed pcaps are what
// the generator writes today (byte for byte), and the file pipeline (reassembly → probe → SMB/NFS parser →
// tracker) yields exactly the expected files (name, size, sha256, state, gaps, direction) with 1 and 2 workers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../_util.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { smbNfsFixtures, type SmbNfsExpected } from '../../fixtures/make/files-smb-nfs.js';
import { extractFiles } from '../../src/files/sink.js';

const fixtures = smbNfsFixtures();

test('committed SMB/NFS fixtures match the generator', () => {
  for (const f of fixtures) {
    const committed = readFileSync(join(FIXTURES, 'files', f.dir, `${f.name}.pcap`));
    assert.ok(Buffer.from(classicPcap(f.frames)).equals(committed), `${f.dir}/${f.name}.pcap differs: run node dist/fixtures/make/files-smb-nfs.js`);
    const exp = JSON.parse(readFileSync(join(FIXTURES, 'files', f.dir, 'expected.json'), 'utf8')) as Record<string, { files: SmbNfsExpected[] }>;
    assert.deepEqual(exp[`${f.name}.pcap`]!.files, f.files);
  }
});

for (const workers of [1, 2]) {
  test(`SMB/NFS fixtures yield the expected files (${workers} worker${workers > 1 ? 's' : ''})`, async () => {
    const paths = fixtures.map((f) => join(FIXTURES, 'files', f.dir, `${f.name}.pcap`));
    const out = await extractFiles(paths, { workers });
    const want = fixtures.flatMap((f) => f.files);
    assert.equal(out.events.length, want.length);
    for (const w of want) {
      const e = out.events.find((x) => x.fileinfo.filename === w.filename && x.app_proto === w.app_proto && x.fileinfo.state === w.state);
      assert.ok(e, `no event for ${w.filename} (${w.state})`);
      assert.equal(e.fileinfo.size, w.size, w.filename);
      if (w.sha256) assert.equal(e.fileinfo.sha256, w.sha256, w.filename);
      assert.equal(e.fileinfo.gaps, w.gaps, w.filename);
    }
    const meta = out.events.map((e) => (e as unknown as Record<string, Record<string, unknown>>)[e.app_proto]!);
    const smb2 = meta.find((m) => m['filename'] === 'reports\\q3.bin')!;
    assert.deepEqual([smb2['command'], smb2['dialect'], smb2['share'], smb2['fuid'], smb2['status']], ['SMB2_COMMAND_READ', '2.10', '\\\\fileserver\\projects', '0000004d-0000-0000-0009-0000ffffffff', 'STATUS_END_OF_FILE']);
    const nfs = meta.find((m, k) => m['filename'] === 'disk.img' && out.events[k]!.fileinfo.state === 'CLOSED')!;
    assert.deepEqual([nfs['procedure'], nfs['version'], (nfs['read'] as { chunks: number }).chunks], ['READ', 3, 12]);
  });
}
