// Matching a capture directly gives the same hits as matching the text tcpdump prints for it (-tt, -tttt and
// time-of-day forms), and as matching our own `ascii` output when that command exists. The capture is built
// by ./_fixture.ts from the deterministic packet builders in fixtures/make.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { classicPcap } from '../../fixtures/make/capture.js';
import { IndicatorList, IndicatorSet } from '../../src/ioc/indicators.js';
import { IocMatcher, type IocRecord } from '../../src/ioc/matcher.js';
import { matchInput, sniffInput } from '../../src/ioc/input.js';
import { iocFrames, LIST } from './_fixture.js';
import { REPO, runCli, tcpdumpPath, tcpdumpSkip, tmpDir } from '../_util.js';

function keyOf(r: IocRecord, time: (s: string) => string = (s) => s): string {
  return [r.list, r.indicator, r.label, r.direction, r.local, r.remote, r.matched, r.packets, time(r.firstSeen), time(r.lastSeen),
    r.remotePorts.join(' '), r.localPorts.join(' '), r.protocols.join() === 'tcp' && r.payloadBytes !== null ? r.payloadBytes : '-'].join('|');
}

function setup() {
  const dir = tmpDir('ioc-tcpdump-');
  const cap = join(dir, 'ioc.pcap');
  writeFileSync(cap, classicPcap(iocFrames()));
  const list = join(dir, 'feed.txt');
  writeFileSync(list, LIST);
  return { dir, cap, list };
}

async function matchFile(path: string, list: string): Promise<IocMatcher> {
  const m = new IocMatcher(new IndicatorSet([await IndicatorList.load(list)]));
  await matchInput(path, m);
  return m;
}

test('capture matching: expected records (fixture built in the test)', async () => {
  const { cap, list } = setup();
  assert.equal(await sniffInput(cap), 'capture');
  const m = await matchFile(cap, list);
  const got = m.results().map((r) => keyOf(r));
  assert.deepEqual(got, [
    // The web conversation: 6 packets each way (handshake, 27-byte request, 3019-byte response in 3 segments, close).
    'feed.txt|203.0.113.80|web|inbound|192.168.1.23|203.0.113.80|remote|6|2023-11-14T22:13:20.010000Z|2023-11-14T22:13:20.100000Z|80|49152|3019',
    'feed.txt|203.0.113.80|web|outbound|192.168.1.23|203.0.113.80|remote|6|2023-11-14T22:13:20.000000Z|2023-11-14T22:13:20.110000Z|80|49152|27',
    // UDP to 9999, a UDP datagram in two fragments (the second has no ports) and an ICMP echo request.
    'feed.txt|198.51.100.66|c2|outbound|192.168.1.23|198.51.100.66|remote|4|2023-11-14T22:13:23.100000Z|2023-11-14T22:13:23.410000Z|7777 9999|40000 40001|-',
    // IPv6 over VLAN 10, most specific block of the list is the /48.
    'feed.txt|2001:db8:bad::/48|bad6|inbound|fd00::23|2001:db8:bad::66|remote|4|2023-11-14T22:13:21.020000Z|2023-11-14T22:13:21.140000Z|443|50000|6',
    'feed.txt|2001:db8:bad::/48|bad6|outbound|fd00::23|2001:db8:bad::66|remote|4|2023-11-14T22:13:21.000000Z|2023-11-14T22:13:21.120000Z|443|50000|5',
    // Public to public: always inbound, local = the destination; both ends are listed.
    'feed.txt|198.51.100.66|c2|inbound|203.0.113.80|198.51.100.66|remote|2|2023-11-14T22:13:22.000000Z|2023-11-14T22:13:22.010000Z|8080|80|0',
    'feed.txt|203.0.113.80|web|inbound|203.0.113.80|198.51.100.66|local|2|2023-11-14T22:13:22.000000Z|2023-11-14T22:13:22.010000Z|8080|80|0',
    // Private to private with a truncated TCP header: ports still read (as tcpdump prints them).
    'feed.txt|10.8.8.8|inside|inbound|10.8.8.8|10.9.9.9|local|1|2023-11-14T22:13:23.700000Z|2023-11-14T22:13:23.700000Z|0|0|-',
    'feed.txt|198.51.100.53|resolver|outbound|192.168.1.23|198.51.100.53|remote|1|2023-11-14T22:13:23.000000Z|2023-11-14T22:13:23.000000Z|53|33000|-',
    'feed.txt|198.51.100.66|c2|inbound|192.168.1.23|198.51.100.66|remote|1|2023-11-14T22:13:23.300000Z|2023-11-14T22:13:23.300000Z|||-',
    'feed.txt|198.51.100.66|c2|inbound|198.51.100.66|203.0.113.80|local|1|2023-11-14T22:13:22.005000Z|2023-11-14T22:13:22.005000Z|80|8080|0',
    'feed.txt|2001:db8:bad::/48|bad6|outbound|fe80::1|2001:db8:bad::99|remote|1|2023-11-14T22:13:23.600000Z|2023-11-14T22:13:23.600000Z|||-',
    'feed.txt|203.0.113.80|web|inbound|198.51.100.66|203.0.113.80|remote|1|2023-11-14T22:13:22.005000Z|2023-11-14T22:13:22.005000Z|80|8080|0',
  ]);
  assert.equal(m.stats.packets, iocFrames().length);
  assert.equal(m.results().reduce((a, r) => a + (r.bytes ?? 0), 0) > 0, true);
});

test('tcpdump -tt -n text of the capture gives the same hits as the capture', { skip: tcpdumpSkip() }, async () => {
  const { dir, cap, list } = setup();
  const r = spawnSync(tcpdumpPath()!, ['-tt', '-n', '-r', cap], { encoding: 'buffer' });
  assert.equal(r.status, 0, r.stderr.toString());
  const txt = join(dir, 'ioc.tt.txt');
  writeFileSync(txt, r.stdout);
  assert.equal(await sniffInput(txt), 'text');
  const fromCap = await matchFile(cap, list);
  const fromText = await matchFile(txt, list);
  assert.deepEqual(fromText.results().map((x) => keyOf(x)), fromCap.results().map((x) => keyOf(x)));
  assert.equal(fromText.stats.ipLines, fromCap.stats.ipPackets);
  assert.equal(fromText.stats.notIpLines, 1); // the ARP request
  assert.equal(fromText.stats.badIpLines, 0);
});

test('tcpdump -tttt, time-of-day, -v and -e text give the same hits (TZ=UTC)', { skip: tcpdumpSkip() }, async () => {
  const { dir, cap, list } = setup();
  const fromCap = await matchFile(cap, list);
  const same = (s: string) => s;
  for (const [flag, time] of [['-tttt', same], [null, (s: string) => s.slice(11, 26)], ['-ttv', same], ['-tte', same]] as const) {
    const args = flag === '-ttv' ? ['-tt', '-v'] : flag === '-tte' ? ['-tt', '-e'] : flag ? [flag] : [];
    const r = spawnSync(tcpdumpPath()!, [...args, '-n', '-r', cap], { encoding: 'buffer', env: { ...process.env, TZ: 'UTC' } });
    assert.equal(r.status, 0, r.stderr.toString());
    const txt = join(dir, `ioc${flag ?? ''}.txt`);
    writeFileSync(txt, r.stdout);
    const fromText = await matchFile(txt, list);
    assert.deepEqual(fromText.results().map((x) => keyOf(x)), fromCap.results().map((x) => keyOf(x, time)), `tcpdump ${flag ?? '(default)'}`);
    assert.equal(fromText.results()[0]!.dateKnown, flag !== null);
  }
});

test('CLI: capture and tcpdump text give the same NDJSON hits; csv, table and html outputs', { skip: tcpdumpSkip() }, () => {
  const { dir, cap, list } = setup();
  const r = spawnSync(tcpdumpPath()!, ['-tt', '-n', '-r', cap], { encoding: 'buffer' });
  const txt = join(dir, 'cli.txt');
  writeFileSync(txt, r.stdout);
  const strip = (s: string) => s.trim().split('\n').map((l) => {
    const o = JSON.parse(l);
    // Text has no frame bytes, and names the transport only for some lines; payload compares for TCP.
    if (o.protocols.join() !== 'tcp' || o.payload_bytes === null) delete o.payload_bytes;
    delete o.bytes; delete o.protocols;
    return JSON.stringify(o);
  });
  // Per packet: text lines are packets, so the capture is matched the same way (the default for captures is per flow).
  const a = runCli(['ioc', '--per', 'packet', '--list', list, cap]);
  assert.equal(a.status, 0, a.stderr.toString());
  const b = runCli(['ioc', '-l', list, txt]);
  assert.equal(b.status, 0, b.stderr.toString());
  assert.equal(strip(a.stdout.toString()).length, 13);
  assert.deepEqual(strip(b.stdout.toString()), strip(a.stdout.toString()));
  // Text and captures (plain or gzip) on stdin, gzip-compressed text, and the same list as CSV with a named column.
  const c = runCli(['ioc', '--list', list, '-'], { input: r.stdout });
  assert.deepEqual(strip(c.stdout.toString()), strip(a.stdout.toString()));
  const capIn = runCli(['ioc', '--list', list, '-'], { input: readFileSync(cap) });
  assert.equal(capIn.stdout.toString(), a.stdout.toString());
  const capGzIn = runCli(['ioc', '--list', list, '-'], { input: gzipSync(readFileSync(cap)) });
  assert.equal(capGzIn.stdout.toString(), a.stdout.toString());
  const gz = join(dir, 'cli.txt.gz');
  writeFileSync(gz, gzipSync(r.stdout));
  const g = runCli(['ioc', '--list', list, gz]);
  assert.equal(g.status, 0, g.stderr.toString());
  assert.deepEqual(strip(g.stdout.toString()), strip(a.stdout.toString()));
  const csvList = join(dir, 'feed.csv');
  writeFileSync(csvList, 'seen,addr,what\n' + LIST.split('\n').filter((l) => !l.startsWith('#')).map((l) => `x,${l.replace(',', ',"')}"`).join('\n') + '\n');
  const cl = runCli(['ioc', '--per', 'packet', '--list', csvList, '--column', 'addr', '--label-column', 'what', cap]);
  assert.equal(cl.status, 0, cl.stderr.toString());
  assert.deepEqual(strip(cl.stdout.toString().replaceAll('"list":"feed.csv"', '"list":"feed.txt"')), strip(a.stdout.toString()));
  const csv = runCli(['ioc', '--per', 'packet', '--list', list, '--format', 'csv', cap]).stdout.toString().split('\n');
  assert.equal(csv[0], 'indicator,list,label,direction,local,remote,matched,first_seen,last_seen,packets,bytes,payload_bytes,remote_ports,local_ports,protocols');
  assert.equal(csv.length, 15);
  // Frame bytes of the server's 6 packets: 66 (SYN/ACK + options) + 54 + 1514 + 1514 + 153 + 54.
  assert.equal(csv[1], '203.0.113.80,feed.txt,web,inbound,192.168.1.23,203.0.113.80,remote,2023-11-14T22:13:20.010000Z,2023-11-14T22:13:20.100000Z,6,3355,3019,80,49152,tcp');
  const table = runCli(['ioc', '--per', 'packet', '--list', list, '--format', 'table', '--home-net', '203.0.113.0/24', cap]).stdout.toString();
  assert.match(table, /^PACKETS {2}DIR {2}INDICATOR/);
  assert.match(table, /\n13 records, 34 hits in 32 packets and 0 lines\n$/);
  // With 203.0.113.0/24 as home, the web server's replies to 198.51.100.66 become outbound.
  assert.match(table, /\n {6}1 {2}out {2}203\.0\.113\.80 +feed\.txt:web +203\.0\.113\.80 +198\.51\.100\.66 +8080 /);
  const html = join(dir, 'r.html');
  const h = runCli(['ioc', '--list', list, '--html', html, '-o', join(dir, 'out.ndjson'), cap]);
  assert.equal(h.status, 0);
  assert.ok(existsSync(html));
  // Two lists with the same file name are told apart by their paths.
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'b', 'feed.txt'), '198.51.100.66,other-feed\n');
  const two = runCli(['ioc', '--list', list, '--list', join(dir, 'b', 'feed.txt'), cap]).stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual([...new Set(two.map((o) => `${o.list}|${o.label}`))].sort().filter((x) => x.includes('c2') || x.includes('other')),
    [`${join(dir, 'b', 'feed.txt')}|other-feed`, `${list}|c2`]);
  // Bad usage and bad lists.
  const bad = runCli(['ioc', cap]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.toString(), /needs at least one --list FILE \[ERR_USAGE\]/);
  const badList = join(dir, 'bad.txt');
  writeFileSync(badList, '203.0.113.80\nnope\n');
  const bl = runCli(['ioc', '--list', badList, cap]);
  assert.equal(bl.status, 0);
  assert.match(bl.stderr.toString(), new RegExp(`${badList.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: not an IP address or CIDR: 'nope' \\(skipped\\)`));
});

test('our ascii command output gives the same hits as the capture', async (t) => {
  const asciiJs = join(REPO, 'dist/src/cli/commands/ascii.js');
  if (!existsSync(asciiJs)) { t.skip(`flowcarve ascii is not built yet (${asciiJs} missing)`); return; }
  const { dir, cap, list } = setup();
  const r = runCli(['ascii', cap]);
  if (r.status !== 0) { t.skip(`flowcarve ascii failed: ${r.stderr.toString().slice(0, 200)}`); return; }
  const txt = join(dir, 'ascii.txt');
  writeFileSync(txt, r.stdout);
  const fromCap = await matchFile(cap, list);
  const fromText = await matchFile(txt, list);
  assert.deepEqual(fromText.results().map((x) => keyOf(x)), fromCap.results().map((x) => keyOf(x)));
});
