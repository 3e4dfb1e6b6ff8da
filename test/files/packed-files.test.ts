// Packed finished files (the worker → merge transfer): the EVE line made from an event's packed JSON equals
// fileinfoJson of the event with that file_id, for file names and metadata that imitate the markers it edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileinfoJson, fileinfoLine, makeEvent, type FileEvent } from '../../src/files/fileinfo.js';
import { packedCount, packedEvent, packedJson, packedOrder, PackedFilesBuilder, type PackedFiles } from '../../src/files/packed-files.js';
import type { FinishedFile } from '../../src/files/tracker.js';

function file(filename: string, meta: Record<string, unknown>, seq: number, hashes: Record<string, string> = {}, range: Record<string, number> = {}): FinishedFile {
  const flow = { flowId: '18446744073709551615', communityId: '1:abc=', srcIp: '10.0.0.1', srcPort: 40000, dstIp: '10.0.0.2', dstPort: 80, proto: 6 };
  const body = { filename, gaps: false, state: 'CLOSED', ...hashes, sha256: 'ab'.repeat(32), stored: true, file_id: seq, size: 12, ...range, tx_id: 3 } as FileEvent['fileinfo'];
  const event = makeEvent({ flow, direction: 1, sec: 100 + seq, nsec: 5000, appProto: 'http', meta, body });
  return { order: { sec: 100 + seq, nsec: 5000, flowId: flow.flowId, txId: 3, seq }, event, direction: 1 };
}

function pack(files: FinishedFile[]): PackedFiles {
  const b = new PackedFilesBuilder();
  for (const f of files) b.add(f);
  return b.build();
}

test('packed files: lines and events equal the objects with their file_id, names imitating the edited fields', () => {
  const files = [
    file('/a,"file_id":7,"size":1', { http: { url: '/x?"file_id":9', hostname: 'h' } }, 1),
    file('"file_id":', { parent_id: '42', ftp_data: { filename: 'flow_id":"1' } }, 2, { md5: '00'.repeat(16) }, { start: 0, end: 11 }),
    file('ümlaut\n\u2028', {}, 3),
  ];
  const p = structuredClone(pack(files));
  assert.equal(packedCount(p), 3);
  for (let k = 0; k < 3; k++) {
    const want = structuredClone(files[k]!.event);
    want.fileinfo.file_id = 40 + k;
    assert.equal(fileinfoLine(packedJson(p, k), 40 + k), fileinfoJson(want));
    const ev = packedEvent(p, k);
    ev.fileinfo.file_id = 40 + k;
    assert.deepEqual(ev, want);
    assert.deepEqual(packedOrder(p, k), files[k]!.order);
  }
  assert.match(fileinfoLine(packedJson(p, 1), 41), /^\{"timestamp":"[^"]+","flow_id":18446744073709551615,.*"parent_id":42,.*"md5":"0{32}","sha256":"(ab){32}","stored":true,"file_id":41,"size":12,"start":0,"end":11,"tx_id":3\}\}$/);
  assert.equal(packedCount(pack([])), 0);
});
