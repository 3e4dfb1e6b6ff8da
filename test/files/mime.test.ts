// MIME decoders: base64 (RFC 2045 leniency as Suricata), quoted-printable per line, header parameters
// (RFC 2231 sections, lenient fallback), and the streaming multipart parser (depth, encapsulation, caps).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Base64Decoder, decodeBase64 } from '../../src/files/mime/base64.js';
import { QpDecoder, decodeQuotedPrintable } from '../../src/files/mime/qp.js';
import { findParam, findParamLenient, findParamStrict, parseHeaderLine, splitAddressList, MIME_MAX_TOKEN_LEN } from '../../src/files/mime/header.js';
import { LineSplitter } from '../../src/files/mime/lines.js';
import { MimeParser, MIME_MAX_LINE, type MimeFileEvents } from '../../src/files/mime/parser.js';
import { b64lines, nestedMessage, prng, qpEncode } from '../../fixtures/make/files-mail-ftp.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const sha = (x: Uint8Array) => createHash('sha256').update(x).digest('hex');

test('base64: RFC 2045 leniency, padding inside the stream, junk skipped', () => {
  assert.equal(Buffer.from(decodeBase64(b('aGVsbG8gd29ybGQ='))).toString(), 'hello world');
  // Suricata's bug-6207 case: "NA=" "=Mg" "==" across lines decodes to "42".
  const d = new Base64Decoder();
  const out = [d.decode(b('NA=')), d.decode(b('=Mg')), d.decode(b('==')), d.flush()];
  assert.equal(Buffer.concat(out).toString(), '42');
  assert.equal(Buffer.from(decodeBase64(b('aGV s\r\nbG8*!'))).toString(), 'hello');
  // A partial quad is padded by flush (at a part boundary).
  const e = new Base64Decoder();
  assert.equal(e.decode(b('aGk')).length, 0);
  assert.equal(e.pending, 3);
  assert.equal(Buffer.from(e.flush()).toString(), 'hi');
  // '=' in the first two places of a quad is dropped and counted.
  const f = new Base64Decoder();
  assert.equal(f.decode(b('==AAaGk=')).length, 2);
  assert.equal(f.invalidQuads, 1);
});

test('base64: every split of a 3000-byte attachment decodes identically', () => {
  const raw = prng(3000, 9);
  const enc = b(b64lines(raw));
  for (const step of [1, 2, 3, 5, 77, 1000]) {
    const d = new Base64Decoder();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < enc.length; i += step) parts.push(d.decode(enc.subarray(i, i + step)));
    parts.push(d.flush());
    assert.equal(sha(Buffer.concat(parts)), sha(raw), `step ${step}`);
  }
});

test('quoted-printable: escapes, soft breaks, held EOL of an empty line, split escapes', () => {
  assert.equal(Buffer.from(decodeQuotedPrintable(b('caf=C3=A9 =3D ok\r\nsoft=\r\nbreak\r\n'))).toString(), 'café = ok\r\nsoftbreak\r\n');
  // Lower-case hex is decoded (Suricata drops it); an invalid escape is skipped and counted.
  const q = new QpDecoder();
  assert.equal(Buffer.from(q.line(b('a=3db=ZZc'), b('\r\n'))).toString(), 'a=bc\r\n');
  assert.equal(q.invalid, 1);
  // An empty line's CRLF is held until the next line (dropped if a boundary follows).
  const h = new QpDecoder();
  assert.equal(h.line(b(''), b('\r\n')).length, 0);
  assert.equal(Buffer.from(h.line(b('x'), b('\r\n'))).toString(), '\r\nx\r\n');
  // An escape cut by a fragment end is completed by the next fragment.
  for (const cut of [1, 2]) {
    const s = new QpDecoder();
    const line = b('ab=C3=A9cd');
    const first = s.line(line.subarray(0, 2 + cut), b(''));
    const second = s.line(line.subarray(2 + cut), b('\r\n'));
    assert.equal(Buffer.concat([first, second]).toString(), 'abécd\r\n', `cut ${cut}`);
  }
  // Round trip of our generator's encoder (text ending in CRLF, long lines, tabs, '=').
  const text = Buffer.from('x'.repeat(200) + ' = \t\u00e9\r\nline two ==\r\n', 'utf8');
  assert.equal(sha(decodeQuotedPrintable(b(qpEncode(text)))), sha(text));
});

test('header parameters: Suricata reading first, RFC 2231, lenient fallback, truncation', () => {
  assert.deepEqual(parseHeaderLine('Content-Type:   text/plain; name=a'), { name: 'Content-Type', value: 'text/plain; name=a' });
  assert.equal(parseHeaderLine('no colon here'), null);
  assert.equal(findParamStrict('attachment; filename="a \\"b\\".txt"', 'filename'), 'a \\"b\\".txt');
  assert.equal(findParamStrict('attachment; filename=plain.txt ; size=3', 'filename'), 'plain.txt');
  assert.equal(findParamStrict('attachment;filename*0=abc;filename*1=def;filename*2="gh.zip"', 'filename'), 'abcdefgh.zip');
  // Suricata matches parameter names case-sensitively and needs a ';': the lenient reading still finds these.
  assert.equal(findParamStrict('attachment; FILENAME=UP.TXT', 'filename'), null);
  assert.equal(findParam('attachment; FILENAME=UP.TXT', 'filename')?.value, 'UP.TXT');
  assert.equal(findParamLenient("attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", 'filename'), Buffer.from('€ rates.pdf', 'utf8').toString('latin1'));
  assert.equal(findParamLenient("attachment; filename*0*=iso-8859-1''caf%E9; filename*1=.txt", 'filename'), Buffer.from('café.txt', 'utf8').toString('latin1'));
  assert.equal(findParam('attachment', 'filename'), null);
  const long = 'x'.repeat(300);
  const p = findParam(`attachment; filename="${long}"`, 'filename');
  assert.equal(p?.value.length, MIME_MAX_TOKEN_LEN);
  assert.equal(p?.truncated, true);
  // As Suricata: an empty item between two commas starts a field at the second comma.
  assert.deepEqual(splitAddressList(' a@x, "Last, First" <b@y>,, c@z '), ['a@x', '"Last, First" <b@y>', ', c@z ']);
});

test('line splitter: lines as views, CRLF and LF, over-long lines in bounded fragments', () => {
  const got: Array<[string, number, boolean]> = [];
  const s = new LineSplitter(8, (f, c, ok) => got.push([Buffer.from(f).toString('latin1'), c, ok]));
  s.write(b('ab\r\ncd'));
  s.write(b('e\nfghijklmnopqrs'));
  s.write(b('t\r\n'));
  assert.deepEqual(got, [['ab\r\n', 2, true], ['cde\n', 3, true], ['fghijklm', 8, false], ['nopqrst\r', 8, false], ['\n', 0, true]]);
  assert.equal(s.pending, 0);
  s.write(b('tail'));
  assert.equal(s.flush(), true);
  assert.deepEqual(got.at(-1), ['tail', 4, false]);
});

/** Collect files from a MIME parser. */
function collector(): MimeFileEvents & { files: Array<{ name: string; chunks: Uint8Array[]; closed: boolean }> } {
  const files: Array<{ name: string; chunks: Uint8Array[]; closed: boolean }> = [];
  return {
    files,
    fileOpen(name) { files.push({ name, chunks: [], closed: false }); },
    fileData(x) { files.at(-1)!.chunks.push(Uint8Array.from(x)); },
    fileClose() { files.at(-1)!.closed = true; },
  };
}

test('MIME parser: nested multipart, base64 + QP + plain, message/rfc822, RFC 2231 name', () => {
  const m = nestedMessage();
  // Dot-unstuffed wire text is the message itself here (no SMTP layer).
  for (const step of [1, 7, 100, 100000]) {
    const c = collector();
    const p = new MimeParser(c);
    const raw = b(m.text);
    for (let i = 0; i < raw.length; i += step) p.write(raw.subarray(i, i + step));
    p.end();
    assert.deepEqual(c.files.map((f) => f.name), m.files.map((f) => f.name), `step ${step}`);
    c.files.forEach((f, i) => {
      assert.equal(f.closed, true);
      assert.equal(sha(Buffer.concat(f.chunks)), sha(m.files[i]!.bytes), `${f.name} step ${step}`);
    });
    assert.deepEqual(p.attachments, ['report.bin', 'notes.txt', 'dots.txt', 'forwarded-doc.pdf']);
    assert.deepEqual(p.emailMeta(), {
      from: '"Alice Example" <alice@example.org>',
      to: ['bob@example.net', '"Carol, C." <carol@example.net>'],
      cc: ['dave@example.net'],
      status: 'PARSE_DONE',
      attachment: ['report.bin', 'notes.txt', 'dots.txt', 'forwarded-doc.pdf'],
      subject: 'Quarterly files',
    });
  }
});

test('MIME parser: parts without a name are not files; top-level attachment; unclosed inner multipart', () => {
  const c = collector();
  const p = new MimeParser(c);
  p.write(b(['Content-Type: application/zip; name=top.zip', 'Content-Transfer-Encoding: base64', '', 'UEsDBA==', ''].join('\r\n')));
  p.end();
  assert.equal(c.files.length, 1);
  assert.equal(c.files[0]!.name, 'top.zip');
  assert.equal(Buffer.concat(c.files[0]!.chunks).toString('hex'), '504b0304');

  // The inner multipart never closes: the outer boundary ends it and the next part is still found.
  const c2 = collector();
  const p2 = new MimeParser(c2);
  p2.write(b([
    'Content-Type: multipart/mixed; boundary=OUT', '', '--OUT', 'Content-Type: multipart/alternative; boundary=IN', '',
    '--IN', 'Content-Type: text/plain', '', 'body', '--OUT', 'Content-Disposition: attachment; filename=after.txt', '', 'payload', '--OUT--', '',
  ].join('\r\n')));
  p2.end();
  assert.deepEqual(c2.files.map((f) => [f.name, Buffer.concat(f.chunks).toString()]), [['after.txt', 'payload']]);

  // A message that ends without its closing boundary: the open file is closed by end(), base64 flushed.
  const c3 = collector();
  const p3 = new MimeParser(c3);
  p3.write(b('Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Disposition: attachment; filename=cut.bin\r\nContent-Transfer-Encoding: base64\r\n\r\naGk'));
  p3.end();
  assert.equal(c3.files[0]!.closed, true);
  assert.equal(Buffer.concat(c3.files[0]!.chunks).toString(), 'hi');
});

test('MIME parser: hostile input stays bounded (huge line, many headers, deep nesting)', () => {
  const c = collector();
  const p = new MimeParser(c);
  p.write(b('Subject: ' + 'A'.repeat(MIME_MAX_LINE * 3) + '\r\n'));
  for (let i = 0; i < 1000; i++) p.write(b(`X-H${i}: v\r\n`));
  p.write(b('Content-Type: multipart/mixed; boundary=B0\r\n\r\n'));
  for (let i = 1; i < 200; i++) p.write(b(`--B${i - 1}\r\nContent-Type: multipart/mixed; boundary=B${i}\r\n\r\n`));
  p.write(b('--B63\r\nContent-Disposition: attachment; filename=deep.txt\r\n\r\ndeep\r\n--B63--\r\n'));
  p.end();
  assert.ok(p.anomalies.longLine >= 1);
  assert.ok(p.anomalies.tooManyHeaders > 0);
  assert.ok(p.anomalies.tooDeep > 0);
  assert.equal((p.header('subject') ?? '').length <= 16 * 1024, true);
  assert.deepEqual(c.files.map((f) => [f.name, Buffer.concat(f.chunks).toString()]), [['deep.txt', 'deep']]);
});
