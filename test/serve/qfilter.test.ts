// qfilter parsing and matching: AND / OR / NOT, parentheses, quotes, encoded colons, dotted paths, big flow ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchQuery, parseQfilter, QfilterError } from '../../src/serve/qfilter.js';
import { parseEveLine, ProbeEvents, queryEvents } from '../../src/serve/events.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../_util.js';

const lines = [
  '{"timestamp":"2024-01-01T00:00:01.000000+0000","flow_id":2077942411095108,"event_type":"alert","src_ip":"10.0.0.1","alert":{"signature_id":2029743,"signature":"ET POLICY curl"}}',
  '{"timestamp":"2024-01-01T00:00:02.000000+0000","flow_id":9223372036854775001,"event_type":"alert","src_ip":"10.0.0.2","alert":{"signature_id":1,"signature":"Other thing"}}',
  '{"timestamp":"2024-01-01T00:00:03.000000+0000","flow_id":2077942411095108,"event_type":"fileinfo","fileinfo":{"stored":true,"sha256":"aa","filename":"/a b.exe"}}',
  '{"timestamp":"2024-01-01T00:00:04.000000+0000","flow_id":5,"event_type":"fileinfo","fileinfo":{"stored":false,"sha256":"bb","filename":"x"}}',
];
const events = lines.map((l, i) => parseEveLine(l, 'probe1', i)!);

function ids(q: string): number[] {
  const query = parseQfilter(q);
  return events.flatMap((e, i) => (matchQuery(query, e.obj) ? [i] : []));
}

test('terms on dotted paths, numbers and booleans', () => {
  assert.deepEqual(ids('alert.signature_id:2029743'), [0]);
  assert.deepEqual(ids('fileinfo.stored:true'), [2]);
  assert.deepEqual(ids('event_type:fileinfo'), [2, 3]);
  assert.deepEqual(ids('fileinfo.sha256:bb'), [3]);
});

test('64-bit flow ids match exactly (no float rounding)', () => {
  assert.deepEqual(ids('flow_id:9223372036854775001'), [1]);
  assert.deepEqual(ids('flow_id:9223372036854775000'), []);
  assert.deepEqual(ids('flow_id:2077942411095108'), [0, 2]);
});

test('AND, OR, NOT, parentheses, implicit AND', () => {
  assert.deepEqual(ids('event_type:alert AND src_ip:10.0.0.2'), [1]);
  assert.deepEqual(ids('event_type:alert src_ip:10.0.0.2'), [1]);
  assert.deepEqual(ids('alert.signature_id:1 OR fileinfo.sha256:aa'), [1, 2]);
  assert.deepEqual(ids('NOT event_type:alert'), [2, 3]);
  assert.deepEqual(ids('(event_type:alert OR event_type:fileinfo) AND NOT flow_id:2077942411095108'), [1, 3]);
  assert.deepEqual(ids('event_type:fileinfo AND (fileinfo.stored:true OR fileinfo.sha256:bb)'), [2, 3]);
});

test('quoted values, wildcards and encoded colons', () => {
  assert.deepEqual(ids('alert.signature:"ET POLICY curl"'), [0]);
  assert.deepEqual(ids('fileinfo.filename:"/a b.exe"'), [2]);
  assert.deepEqual(ids('alert.signature:ET*'), [0]);
  assert.deepEqual(ids('alert.signature_id%3A2029743'), [0]);
  assert.deepEqual(ids('event_type%3Aalert%20AND%20src_ip%3A10.0.0.1'), [0]);
  assert.deepEqual(ids('fileinfo.sha256:*'), [2, 3]);
});

test('syntax errors are typed with an offset', () => {
  assert.throws(() => parseQfilter('(event_type:alert'), (e: unknown) => e instanceof QfilterError && e.offset === 17);
  assert.throws(() => parseQfilter('event_type:'), QfilterError);
  assert.throws(() => parseQfilter('alert.signature:"open'), QfilterError);
  assert.deepEqual(parseQfilter(''), { op: 'all' });
});

test('events keep exact raw text, gain a host field, and list newest first', async () => {
  assert.equal(events[1]!.raw.startsWith('{"host":"probe1","timestamp"'), true);
  assert.equal(events[1]!.raw.includes('"flow_id":9223372036854775001'), true);
  const dir = tmpDir();
  writeFileSync(join(dir, 'eve.json'), lines.join('\n') + '\n{broken\n');
  const pe = new ProbeEvents('probe1', [join(dir, 'eve.json')]);
  await pe.refresh();
  assert.equal(pe.events.length, 4);
  assert.equal(pe.malformed, 1);
  const r = queryEvents([pe], parseQfilter('flow_id:2077942411095108'), { page: 1, pageSize: 1 });
  assert.equal(r.count, 2);
  assert.equal(r.results[0]!.obj.event_type, 'fileinfo');
  const r2 = queryEvents([pe], parseQfilter(''), { type: 'alert', page: 2, pageSize: 1 });
  assert.equal(r2.results[0]!.obj.src_ip, '10.0.0.1');
  assert.equal(parseEveLine('{not json', 'p', 0), null);
});
