// SMTP parser with a fake context: commands vs replies, DATA with dot-unstuffing, BDAT, pipelining, rejected
// DATA, STARTTLS, gaps and flow end, metadata shapes; expected bytes come from the fixture generator.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SmtpParser, probeSmtp, smtp } from '../../src/files/protocols/smtp/index.js';
import { dotStuff, nestedMessage, prng, simpleMessage } from '../../fixtures/make/files-mail-ftp.js';
import { fakeContext, fakeFlow, feed } from './smtp-ftp-fake.js';

const sha = (x: Uint8Array) => createHash('sha256').update(x).digest('hex');
const b = (s: string) => Buffer.from(s, 'latin1');

function session(body: string, o: { reply?: string; pipelined?: boolean } = {}): Array<[0 | 1, string]> {
  return [
    [1, '220 mx.example.net ESMTP\r\n'], [0, 'EHLO me.example\r\n'], [1, '250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n'],
    [0, 'MAIL FROM:<a@example.org> SIZE=100\r\n'], [1, '250 Ok\r\n'], [0, 'RCPT TO:<b@example.net>\r\n'], [1, '250 Ok\r\n'],
    [0, 'RCPT TO: <c@example.net>\r\n'], [1, '250 Ok\r\n'], [0, 'DATA\r\n'], [1, o.reply ?? '354 go\r\n'], [0, body], [1, '250 queued\r\n'],
    [0, 'QUIT\r\n'], [1, '221 bye\r\n'],
  ];
}

test('DATA: nested message, every attachment with its bytes, metadata and tx_id', () => {
  const m = nestedMessage();
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  feed(p, session(dotStuff(m.text)));
  p.close();
  assert.deepEqual(ctx.opened.map((f) => f.info.filename), ['report.bin', 'notes.txt', 'dots.txt', 'forwarded-doc.pdf']);
  ctx.opened.forEach((f, i) => {
    assert.equal(f.sha256(), sha(m.files[i]!.bytes), f.info.filename);
    assert.equal(f.state, 'CLOSED');
    assert.equal(f.info.direction, 0);
    assert.equal(f.info.txId, 0);
    assert.equal(f.info.appProto, 'smtp');
  });
  const meta = ctx.opened[3]!.meta;
  assert.deepEqual(meta.smtp, { helo: 'me.example', mail_from: '<a@example.org>', rcpt_to: ['<b@example.net>', '<c@example.net>'] });
  assert.deepEqual(meta.email, {
    from: '"Alice Example" <alice@example.org>', to: ['bob@example.net', '"Carol, C." <carol@example.net>'], cc: ['dave@example.net'],
    status: 'PARSE_DONE', attachment: ['report.bin', 'notes.txt', 'dots.txt', 'forwarded-doc.pdf'], subject: 'Quarterly files',
  });
  assert.equal(p.stats.messages, 1);
  assert.equal(p.stats.files, 4);
});

test('DATA: the same files whatever the segmentation (byte by byte, odd chunks)', () => {
  const m = nestedMessage();
  const wire = Buffer.concat(session(dotStuff(m.text)).filter(([d]) => d === 0).map(([, s]) => b(s)));
  const replies = session('').filter(([d]) => d === 1).map(([, s]) => b(s));
  const want = m.files.map((f) => sha(f.bytes));
  for (const step of [1, 3, 536, 4096]) {
    const ctx = fakeContext();
    const p = new SmtpParser(ctx);
    // Replies first up to 354 (capture order), then the client's bytes in `step` chunks, then the rest.
    replies.slice(0, 4).forEach((r) => p.data(1, r));
    const cmdEnd = wire.indexOf(b('DATA\r\n')) + 6;
    for (let i = 0; i < cmdEnd; i += step) p.data(0, wire.subarray(i, Math.min(cmdEnd, i + step)));
    p.data(1, replies[4]!);
    p.data(1, replies[5]!);
    for (let i = cmdEnd; i < wire.length; i += step) p.data(0, wire.subarray(i, Math.min(wire.length, i + step)));
    p.close();
    assert.deepEqual(ctx.opened.map((f) => f.sha256()), want, `step ${step}`);
  }
});

test('dot-unstuffing: leading dots removed, a lone "." inside the body is data, CRLF.CRLF ends it', () => {
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  const file = 'x\r\n.\r\n..\r\n.end\r\n';
  const msg = ['Content-Disposition: attachment; filename=d.txt', '', file].join('\r\n');
  feed(p, session(dotStuff(msg)));
  assert.equal(ctx.opened.length, 1);
  assert.equal(ctx.opened[0]!.bytes().toString('latin1'), file);
  assert.equal(ctx.opened[0]!.state, 'CLOSED');
  // After the message the connection is back in command mode: QUIT was parsed as a command.
  assert.equal(p.stats.commands, 6); // EHLO MAIL RCPT RCPT DATA QUIT
});

test('pipelining: envelope + DATA in one segment, two transactions, message followed by QUIT in one segment', () => {
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  const a = prng(700, 1), c = prng(64, 2);
  feed(p, [
    [1, '220 mx ESMTP\r\n'], [0, 'EHLO me\r\n'], [1, '250-mx\r\n250 PIPELINING\r\n'],
    [0, 'MAIL FROM:<a@x>\r\nRCPT TO:<r1@y>\r\nDATA\r\n'], [1, '250 Ok\r\n250 Ok\r\n354 go\r\n'],
    [0, dotStuff(simpleMessage('one', 'one.bin', a))], [1, '250 queued\r\n'],
    [0, 'MAIL FROM:<b@x>\r\nRCPT TO:<r2@y>\r\nRCPT TO:<r3@y>\r\nDATA\r\n'], [1, '250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n'],
    [0, dotStuff(simpleMessage('two', 'two.bin', c)) + 'QUIT\r\n'], [1, '250 queued\r\n221 bye\r\n'],
  ]);
  p.close();
  assert.deepEqual(ctx.opened.map((f) => [f.info.filename, f.info.txId, f.sha256()]), [['one.bin', 0, sha(a)], ['two.bin', 1, sha(c)]]);
  assert.deepEqual(ctx.opened[1]!.meta.smtp, { helo: 'me', mail_from: '<b@x>', rcpt_to: ['<r2@y>', '<r3@y>'] });
  assert.equal(p.transactions, 2);
});

test('pipelining: the client body arrives before the 354 (held, then accepted)', () => {
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  const a = prng(300, 3);
  feed(p, [
    [1, '220 mx ESMTP\r\n'], [0, 'EHLO me\r\n'], [1, '250 mx\r\n'],
    [0, 'MAIL FROM:<a@x>\r\nRCPT TO:<r@y>\r\nDATA\r\n' + dotStuff(simpleMessage('early', 'early.bin', a))],
    [1, '250 Ok\r\n250 Ok\r\n354 go\r\n250 queued\r\n'],
  ]);
  p.close();
  assert.deepEqual(ctx.opened.map((f) => [f.info.filename, f.sha256(), f.state]), [['early.bin', sha(a), 'CLOSED']]);
});

test('rejected DATA: no file, the held bytes are commands again; a later accepted DATA works', () => {
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  const ok = prng(200, 4);
  feed(p, [
    [1, '220 mx ESMTP\r\n'], [0, 'HELO me\r\n'], [1, '250 mx\r\n'], [0, 'MAIL FROM:<a@x>\r\n'], [1, '250 Ok\r\n'],
    [0, 'RCPT TO:<r@y>\r\n'], [1, '250 Ok\r\n'], [0, 'DATA\r\n'], [1, '554 5.7.1 no\r\n'],
    [0, dotStuff(simpleMessage('rejected', 'rejected.bin', prng(100, 5)))],
    [0, 'RSET\r\n'], [1, '250 Ok\r\n'],
    [0, 'MAIL FROM:<a@x>\r\n'], [1, '250 Ok\r\n'], [0, 'RCPT TO:<r@y>\r\n'], [1, '250 Ok\r\n'], [0, 'DATA\r\n'], [1, '354 go\r\n'],
    [0, dotStuff(simpleMessage('accepted', 'accepted.bin', ok))], [1, '250 queued\r\n'],
  ]);
  p.close();
  assert.deepEqual(ctx.opened.map((f) => [f.info.filename, f.sha256()]), [['accepted.bin', sha(ok)]]);
  assert.equal(p.stats.dataRejected, 1);
  assert.ok(ctx.notes.includes('smtp-data-rejected'));
  // A 5xx after the message (rejected once transmitted) still leaves the file, as Suricata logs it.
  const ctx2 = fakeContext();
  const p2 = new SmtpParser(ctx2);
  feed(p2, session(dotStuff(simpleMessage('late', 'late.bin', ok))).map(([d, s]) => [d, s === '250 queued\r\n' ? '550 rejected after data\r\n' : s] as [0 | 1, string]));
  p2.close();
  assert.deepEqual(ctx2.opened.map((f) => [f.info.filename, f.state]), [['late.bin', 'CLOSED']]);
});

test('BDAT: chunks cut mid-line, LAST ends the message; BDAT 0 LAST', () => {
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  const raw = prng(1500, 6);
  const msg = b(simpleMessage('chunked', 'chunked.bin', raw));
  const cuts = [0, 1, 777, 778, msg.length];
  const script: Array<[0 | 1, string | Uint8Array]> = [[1, '220 mx ESMTP\r\n'], [0, 'EHLO me\r\n'], [1, '250-mx\r\n250 CHUNKING\r\n'], [0, 'MAIL FROM:<a@x>\r\nRCPT TO:<r@y>\r\n'], [1, '250 Ok\r\n250 Ok\r\n']];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const chunk = msg.subarray(cuts[k], cuts[k + 1]);
    script.push([0, Buffer.concat([b(`BDAT ${chunk.length}\r\n`), chunk])], [1, `250 ${chunk.length} octets\r\n`]);
  }
  script.push([0, 'BDAT 0 LAST\r\nQUIT\r\n'], [1, '250 message ok\r\n221 bye\r\n']);
  feed(p, script);
  p.close();
  assert.deepEqual(ctx.opened.map((f) => [f.info.filename, f.sha256(), f.state, f.info.txId]), [['chunked.bin', sha(raw), 'CLOSED', 0]]);
  // BDAT data is not dot-unstuffed and may contain CRLF.CRLF.
  const ctx2 = fakeContext();
  const p2 = new SmtpParser(ctx2);
  const body = 'Content-Disposition: attachment; filename=raw.txt\r\n\r\nline\r\n.\r\n..x\r\n';
  feed(p2, [[1, '220 mx\r\n'], [0, `EHLO me\r\nMAIL FROM:<a@x>\r\nRCPT TO:<r@y>\r\nBDAT ${body.length} LAST\r\n${body}QUIT\r\n`]]);
  p2.close();
  assert.equal(ctx2.opened[0]!.bytes().toString('latin1'), 'line\r\n.\r\n..x');
  assert.equal(ctx2.opened[0]!.state, 'CLOSED');
});

test('STARTTLS: once accepted nothing is parsed; refused STARTTLS keeps parsing', () => {
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  feed(p, [[1, '220 mx\r\n'], [0, 'EHLO me\r\n'], [1, '250 STARTTLS\r\n'], [0, 'STARTTLS\r\n'], [1, '220 go ahead\r\n'],
    [0, 'MAIL FROM:<a@x>\r\nRCPT TO:<r@y>\r\nDATA\r\n'], [1, '354 go\r\n'], [0, dotStuff(simpleMessage('x', 'x.bin', prng(10, 1)))]]);
  p.close();
  assert.equal(ctx.opened.length, 0);
  assert.ok(ctx.notes.includes('smtp-starttls'));
  const ctx2 = fakeContext();
  const p2 = new SmtpParser(ctx2);
  feed(p2, [[1, '220 mx\r\n'], [0, 'EHLO me\r\n'], [1, '250 mx\r\n'], [0, 'STARTTLS\r\n'], [1, '454 TLS not available\r\n'],
    [0, 'MAIL FROM:<a@x>\r\nRCPT TO:<r@y>\r\nDATA\r\n'], [1, '250 Ok\r\n250 Ok\r\n354 go\r\n'], [0, dotStuff(simpleMessage('x', 'x.bin', prng(10, 1)))]]);
  p2.close();
  assert.deepEqual(ctx2.opened.map((f) => f.info.filename), ['x.bin']);
});

test('flow end and gaps: open files become TRUNCATED; one-sided capture counts DATA as accepted', () => {
  const raw = prng(3000, 8);
  const wire = dotStuff(simpleMessage('cut', 'cut.bin', raw));
  // Flow ends in the middle of the attachment.
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  feed(p, session(wire).slice(0, 11));
  p.data(0, b(wire.slice(0, wire.length / 2)));
  p.close();
  assert.equal(ctx.opened.length, 1);
  assert.equal(ctx.opened[0]!.state, 'TRUNCATED');
  assert.ok(ctx.opened[0]!.bytes().length > 0 && ctx.opened[0]!.bytes().length < raw.length);
  // A gap inside the attachment: the file is marked and closed, parsing resumes for later messages.
  const ctx2 = fakeContext();
  const p2 = new SmtpParser(ctx2);
  feed(p2, session(wire).slice(0, 11));
  p2.data(0, b(wire.slice(0, 1200)));
  p2.gap(0, 500);
  p2.data(0, b(wire.slice(1700)));
  p2.close();
  assert.equal(ctx2.opened[0]!.state, 'TRUNCATED');
  assert.equal(ctx2.opened[0]!.gaps, 500);
  // Only the client side was captured: no replies at all, the message is still extracted.
  const ctx3 = fakeContext();
  const p3 = new SmtpParser(ctx3);
  feed(p3, session(wire).filter(([d]) => d === 0));
  p3.close();
  assert.deepEqual(ctx3.opened.map((f) => [f.sha256(), f.state]), [[sha(raw), 'CLOSED']]);
  assert.ok(ctx3.notes.includes('smtp-data-reply-missing'));
});

test('hostile input: endless command line and endless DATA line stay bounded', () => {
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  feed(p, [[1, '220 mx\r\n'], [0, 'EHLO me\r\n'], [1, '250 mx\r\n']]);
  const junk = new Uint8Array(1 << 20).fill(0x41);
  for (let i = 0; i < 4; i++) p.data(0, junk);
  p.data(0, b('\r\nMAIL FROM:<a@x>\r\nRCPT TO:<r@y>\r\nDATA\r\n'));
  feed(p, [[1, '250 Ok\r\n250 Ok\r\n354 go\r\n'], [0, 'Content-Disposition: attachment; filename=big.txt\r\n\r\n']]);
  for (let i = 0; i < 4; i++) p.data(0, junk);
  p.data(0, b('\r\n.\r\n'));
  p.close();
  assert.equal(ctx.opened.length, 1);
  assert.equal(ctx.opened[0]!.bytes().length, 4 << 20);
  assert.equal(ctx.opened[0]!.state, 'CLOSED');
});

test('probe: greetings, commands and banners', () => {
  const f = fakeFlow({ dstPort: 2500 });
  assert.equal(probeSmtp(0, b('EHLO x\r\n'), f), 'yes');
  assert.equal(probeSmtp(0, b('helo x\r\n'), f), 'yes');
  assert.equal(probeSmtp(0, b('GET / HTTP/1.1\r\n'), f), 'no');
  assert.equal(probeSmtp(0, b('EH'), f), 'need-more');
  assert.equal(probeSmtp(1, b('220 mx.example.net ESMTP Postfix\r\n'), f), 'yes');
  assert.equal(probeSmtp(1, b('220 (vsFTPd 3.0.3)\r\n'), f), 'no');
  assert.equal(probeSmtp(1, b('220 host ready\r\n'), fakeFlow({ dstPort: 25 })), 'yes');
  assert.equal(probeSmtp(1, b('220 host rea'), f), 'need-more');
  assert.equal(smtp.name, 'smtp');
  assert.ok(smtp.create(fakeContext()) instanceof SmtpParser);
});

test('truncation loop and random bytes: never throws, every opened file is closed once', () => {
  const m = nestedMessage();
  const script = session(dotStuff(m.text));
  const wire = Buffer.concat(script.map(([, s]) => b(s)));
  const dirs: number[] = [];
  script.forEach(([d, s]) => { for (let i = 0; i < s.length; i++) dirs.push(d); });
  for (let cut = 0; cut < wire.length; cut += 97) {
    const ctx = fakeContext();
    const p = new SmtpParser(ctx);
    for (let i = 0; i < cut;) {
      let j = i;
      while (j < cut && dirs[j] === dirs[i]) j++;
      p.data(dirs[i] as 0 | 1, wire.subarray(i, j));
      i = j;
    }
    p.close();
    for (const f of ctx.opened) assert.ok(f.state === 'CLOSED' || f.state === 'TRUNCATED', `cut ${cut}`);
    // Files complete at the cut are CLOSED; the one cut through is TRUNCATED.
    assert.ok(ctx.opened.filter((f) => f.state === 'TRUNCATED').length <= 1, `cut ${cut}`);
  }
  const rnd = prng(200000, 99);
  const ctx = fakeContext();
  const p = new SmtpParser(ctx);
  feed(p, session('').slice(0, 11));
  for (let i = 0; i < rnd.length; i += 1000) p.data((i / 1000) % 3 === 0 ? 1 : 0, rnd.subarray(i, i + 1000));
  p.close();
  for (const f of ctx.opened) assert.ok(f.state !== undefined);
});
