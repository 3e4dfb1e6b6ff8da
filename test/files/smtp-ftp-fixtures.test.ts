// Our generated SMTP/FTP captures (fixtures/files/{smtp,ftp}) through the files pipeline: the committed pcaps
// are what the generator writes today (deterministic), and extraction yields exactly the files the generator
// recorded from the original bytes — same fileinfo lines with 1, 2 and 3 workers (FTP data connections then
// run on other workers than their control connection), each file stored once under its sha256.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tmpDir } from '../_util.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { mailFtpFixtures, type ExpectedFile } from '../../fixtures/make/files-mail-ftp.js';
import { extractFiles } from '../../src/files/sink.js';
import { fileinfoJson } from '../../src/files/fileinfo.js';

const fixtures = mailFtpFixtures();

test('committed captures equal the generator output byte for byte', () => {
  for (const f of fixtures) {
    const committed = readFileSync(join(FIXTURES, 'files', f.dir, f.name));
    assert.equal(Buffer.compare(committed, Buffer.from(classicPcap(f.frames))), 0, `${f.dir}/${f.name} is stale: run node dist/fixtures/make/files-mail-ftp.js`);
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'files', f.dir, 'expected.json'), 'utf8')) as Record<string, { files: ExpectedFile[] }>;
    assert.deepEqual(expected[f.name]!.files, f.files);
  }
});

for (const f of fixtures) {
  test(`${f.dir}/${f.name}: ${f.notes}`, async () => {
    const pcap = join(FIXTURES, 'files', f.dir, f.name);
    const out = tmpDir('flowcarve-mailftp-');
    const res = await extractFiles([pcap], { workers: 1, out });
    const got = res.events;
    const key = (x: { app_proto: string; filename: string; size: number; sha256: string; src_ip: string; dest_ip: string }) =>
      [x.app_proto, x.filename, x.size, x.sha256, x.src_ip, x.dest_ip].join('\t');
    assert.deepEqual(got.map((e) => key({ ...e, ...e.fileinfo })).sort(), f.files.map(key).sort());
    for (const e of got) {
      const fi = e.fileinfo;
      assert.equal(fi.state, 'CLOSED', fi.filename);
      assert.equal(fi.gaps, false);
      assert.ok(existsSync(join(out, fi.sha256.slice(0, 2), fi.sha256)), `${fi.filename} stored under its sha256`);
      const want = f.files.find((x) => x.sha256 === fi.sha256 && x.filename === fi.filename)!;
      if (want.tx_id !== undefined) assert.equal(fi.tx_id, want.tx_id, fi.filename);
      if (e.app_proto === 'ftp-data') {
        assert.deepEqual(e.ftp_data, { command: want.command, filename: want.filename });
        assert.match(String(e.parent_id), /^\d+$/);
        assert.notEqual(String(e.parent_id), e.flow_id);
        assert.equal(fi.tx_id, 0);
      } else {
        assert.equal((e.email as { status: string }).status, 'PARSE_DONE');
        assert.ok((e.smtp as { helo?: string }).helo);
      }
    }
    if (f.dir === 'ftp') assert.equal(res.counters.ftpDataMatched, f.files.length);
    rmSync(out, { recursive: true, force: true });
    const lines = got.map(fileinfoJson);
    for (const w of [2, 3]) {
      const o2 = tmpDir('flowcarve-mailftp-');
      const r = await extractFiles([pcap], { workers: w, out: o2 });
      rmSync(o2, { recursive: true, force: true });
      assert.deepEqual(r.events.map(fileinfoJson), lines, `${w} workers`);
      if (f.dir === 'ftp' && w === 3) {
        // Data connections ran on workers that did not see the control connection.
        const away = r.workers.filter((c) => !c.claimed.ftp).reduce((n, c) => n + c.fallback, 0);
        assert.ok(away > 0, 'some data connection on another worker than its control connection');
      }
    }
    console.log(`# ${f.name}: ${got.length} files as expected, identical with 1, 2 and 3 workers`);
  });
}
