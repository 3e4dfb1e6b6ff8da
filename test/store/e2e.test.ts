// End to end: our generator builds a capture and the eve.json a probe wrote for it (fixtures/make/alerts.ts),
// `flowcarve store` replays both into a store (small segments: rotation cuts flows), every alerted flow is
// carved and compared byte for byte with that flow's packets cut from the original capture from the alert
// packet on — from the generator's ground truth and, when tcpdump is installed, from tcpdump with a BPF filter.
// Cases: two alerts on one flow, a UDP tuple that times out and returns (two flows), IPv6, VLAN (with an
// un-alerted twin on another VLAN), rotation in the middle of a flow, a flow spanning deleted segments,
// unacked TCP data and --pre-alert, alerts arriving late in embedded use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tcpdumpPath, tmpDir } from '../_util.js';
import { storeScenario, type ScenarioFlow } from '../../fixtures/make/alerts.js';
import { classicPcap } from '../../fixtures/make/capture.js';
import { TcpConversation, type Frame } from '../../fixtures/make/packet.js';
import { carve } from '../../src/carve/carve.js';
import { toAlert } from '../../src/eve/alert.js';
import { storeCapture, ConditionalStore } from '../../src/store/offline.js';
import { CaptureReader } from '../../src/pcap/reader.js';

const sc = storeScenario();
const work = tmpDir('flowcarve-e2e-');
const capture = join(work, 'capture.pcap');
const evePath = join(work, 'eve.json');
writeFileSync(capture, classicPcap(sc.frames));
writeFileSync(evePath, sc.eve);

function record(f: Frame): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(f.sec, 0); h.writeUInt32LE(Math.floor(f.nsec / 1000), 4); h.writeUInt32LE(f.data.length, 8); h.writeUInt32LE(f.data.length, 12);
  return Buffer.concat([h, f.data]);
}
function records(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 24; p + 16 <= buf.length;) { const n = 16 + buf.readUInt32LE(p + 8); out.push(buf.subarray(p, p + n)); p += n; }
  return out;
}
const flow = (name: string) => sc.flows.find((f) => f.name === name)!;
const alertOf = (f: ScenarioFlow) => sc.alerts.find((a) => {
  const ts = (a.timestamp as string);
  return [a.src_ip, a.dest_ip].includes(f.src) && [a.src_port, a.dest_port].includes(f.sport) && (f.vlan === undefined || (a.vlan as number[])[0] === f.vlan)
    && toAlert(a)!.tsUs >= f.frames[0]!.sec * 1e6 + f.frames[0]!.nsec / 1000 && toAlert(a)!.tsUs <= f.frames.at(-1)!.sec * 1e6 + f.frames.at(-1)!.nsec / 1000 && ts;
})!;

const store = join(work, 'store');
const cli = runCli(['store', '--eve', evePath, '--out', store, '--file-size', '16KiB', capture]);
const summary = JSON.parse(cli.stdout.toString()) as { matched: number; unmatched: unknown[]; packets: number; segments: string[] };

test('store: every alert matched, the torn eve line reported, no packet stored twice', () => {
  assert.equal(cli.status, 0, cli.stderr.toString());
  assert.match(cli.stderr.toString(), /eve\.json:4: .*truncated/);
  assert.equal(summary.matched, 8);
  assert.deepEqual(summary.unmatched, []);
  const alerted = sc.flows.filter((f) => f.alertAt >= 0);
  assert.equal(alerted.length, 7);
  const expected = alerted.reduce((n, f) => n + f.frames.length - f.alertAt, 0);
  assert.equal(summary.packets, expected);
  let stored = 0;
  for (const n of readdirSync(store).filter((x) => /^log\.pcap\.\d+\.\d+$/.test(x))) stored += records(readFileSync(join(store, n))).length;
  assert.equal(stored, expected);
  assert.ok(summary.segments.length >= 4, `${summary.segments.length} segments`);
});

test('carve: each alerted flow byte-identical to its packets from the alert packet on', () => {
  const out = tmpDir('flowcarve-e2e-out-');
  for (const f of sc.flows.filter((x) => x.alertAt >= 0)) {
    const r = carve(alertOf(f), { store, out });
    assert.deepEqual(records(readFileSync(r.path)), f.frames.slice(f.alertAt).map(record), f.name);
    assert.equal(r.packets, f.frames.length - f.alertAt);
    assert.equal(r.missing_segments, undefined);
    if (f.name === 'long') assert.ok(r.segments.length > 1, 'rotation cut the long flow');
  }
  // both alerts of the double flow carve to the same single file
  const dbl = flow('double');
  const two = sc.alerts.filter((a) => a.src_port === dbl.sport || a.dest_port === dbl.sport);
  assert.equal(two.length, 2);
  const p1 = carve(two[0]!, { store, out }), p2 = carve(two[1]!, { store, out });
  assert.equal(p1.path, p2.path);
  assert.equal(readdirSync(out).length, 7);
});

test('carve vs tcpdump: filtered original capture cut from the alert packet on', { skip: tcpdumpPath() ? false : 'tcpdump not installed' }, () => {
  const out = tmpDir('flowcarve-e2e-td-');
  for (const name of ['single', 'double', 'ipv6', 'long']) {
    const f = flow(name);
    const r = carve(alertOf(f), { store, out });
    const o = join(out, `${name}.tcpdump.pcap`);
    const td = spawnSync(tcpdumpPath()!, ['-r', capture, '-w', o, `host ${f.src} and host ${f.dst} and port ${f.sport} and port ${f.dport}`]);
    assert.equal(td.status, 0, td.stderr.toString());
    const all = records(readFileSync(o));
    const at = all.findIndex((x) => x.equals(record(f.frames[f.alertAt]!)));
    assert.ok(at >= 0);
    assert.deepEqual(records(readFileSync(r.path)), all.slice(at), name);
  }
});

test('a flow spanning deleted segments: carve returns what is left and says so', () => {
  const small = join(work, 'small');
  const res = runCli(['store', '--eve', evePath, '--out', small, '--file-size', '16KiB', '--max-size', '40KiB', capture]);
  assert.equal(res.status, 0, res.stderr.toString());
  const f = flow('long');
  const r = carve(alertOf(f), { store: small, out: tmpDir() });
  const want = f.frames.slice(f.alertAt).map(record);
  assert.equal(r.missing_segments, true);
  assert.ok(r.packets > 0 && r.packets < want.length);
  assert.equal(r.missing_packets, want.length - r.packets);
  assert.deepEqual(records(readFileSync(r.path)), want.slice(want.length - r.packets));
});

test('CLI carve: one alert file and many alerts through the worker pool', () => {
  const out = join(work, 'cli-out');
  const one = join(work, 'one-alert.json');
  writeFileSync(one, JSON.stringify(alertOf(flow('ipv6')), null, 2));
  const r1 = runCli(['carve', '--store', store, '--alert', one, '--out', out]);
  assert.equal(r1.status, 0, r1.stderr.toString());
  const j = JSON.parse(r1.stdout.toString());
  assert.deepEqual(Object.keys(j).slice(0, 7), ['path', 'sha256', 'packets', 'bytes', 'first', 'last', 'segments']);
  assert.equal(j.packets, flow('ipv6').frames.length - flow('ipv6').alertAt);
  const rm = runCli(['carve', '--store', store, '--alerts', evePath, '--out', out, '--threads', '2']);
  assert.equal(rm.status, 0, rm.stderr.toString());
  const lines = rm.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 8);
  assert.equal(new Set(lines.map((l) => l.sha256)).size, 7);
  assert.equal(readdirSync(out).filter((n) => n.endsWith('.pcap')).length, 7);
});

/** A flow with unacked client data just before the server packet that raises the alert. */
function unackedFlow(): { frames: Frame[]; alertAt: number } {
  const t = new TcpConversation({ ip: '10.3.0.1', port: 43000 }, { ip: '192.0.2.30', port: 21 }, { t0: 1700000100, step: 0.01 });
  t.handshake(); // 0,1,2
  t.send(true, 'USER a\r\n'); // 3 data, 4 ack
  t.send(true, 'PASS b\r\n', { ack: false }); // 5 (unacked)
  t.send(true, 'RETR c\r\n', { ack: false }); // 6 (unacked)
  t.send(false, '230 ok\r\n'); // 7 data (acks 5 and 6), 8 ack
  t.close();
  return { frames: t.frames, alertAt: 7 };
}

test('alerts mode keeps the unacked TCP data before the alert packet; --pre-alert adds the last N packets', async () => {
  const { frames, alertAt } = unackedFlow();
  const cap = join(work, 'unacked.pcap');
  writeFileSync(cap, classicPcap(frames));
  const at = frames[alertAt]!;
  const al = { timestamp: new Date(at.sec * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(at.nsec / 1000).padStart(6, '0')}+0000`),
    event_type: 'alert', src_ip: '192.0.2.30', src_port: 21, dest_ip: '10.3.0.1', dest_port: 43000, proto: 'TCP', alert: { signature_id: 9 } };
  const a = toAlert(al)!;
  for (const [pre, want] of [[0, [5, 6]], [3, [4, 5, 6]], [10, [0, 1, 2, 3, 4, 5, 6]]] as const) {
    const dir = tmpDir('flowcarve-unacked-');
    const res = await storeCapture([cap], { dir, alerts: [a], preAlert: pre });
    assert.equal(res.matched.length, 1);
    const r = carve(a, { store: dir, out: tmpDir() });
    const idx = [...new Set([...want, ...[...frames.keys()].filter((k) => k >= alertAt)])].sort((x, y) => x - y);
    assert.deepEqual(records(readFileSync(r.path)), idx.map((k) => record(frames[k]!)), `pre-alert ${pre}`);
  }
});

test('embedded: an alert arriving within --alert-delay still captures its packet; a later one is stored from its arrival', async () => {
  const { frames, alertAt } = unackedFlow();
  const cap = join(work, 'embedded.pcap');
  writeFileSync(cap, classicPcap(frames));
  const at = frames[alertAt]!;
  const a = toAlert({ timestamp: new Date(at.sec * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(at.nsec / 1000).padStart(6, '0')}+0000`),
    event_type: 'alert', src_ip: '10.3.0.1', src_port: 43000, dest_ip: '192.0.2.30', dest_port: 21, proto: 'TCP' })!;
  // frames are 10 ms apart: 2 packets late within a 2 s delay; 4 packets late beyond a 15 ms delay
  for (const [delayPackets, alertDelayUs, late, want] of [[2, 2e6, false, [5, 6, 7, 8, 9, 10, 11]], [4, 15e3, true, [10, 11]]] as const) {
    const dir = tmpDir('flowcarve-embedded-');
    const cs = await ConditionalStore.open({ dir, alertDelayUs });
    let n = 0;
    for await (const b of new CaptureReader(cap).batches()) {
      for (let i = 0; i < b.count; i++) {
        cs.pushPacket(b, i);
        if (n === alertAt + delayPackets) cs.addAlert(a);
        n++;
      }
    }
    const res = cs.close();
    assert.equal(res.matched.length, 1);
    assert.equal(!!res.matched[0]!.late, late);
    assert.equal(res.counters.alertsLate, late ? 1 : 0);
    const r = carve(a, { store: dir, out: tmpDir() });
    assert.deepEqual(records(readFileSync(r.path)), want.map((k) => record(frames[k]!)), `${delayPackets} packets late`);
  }
});

test('ICMP: an alert with Suricata-flavour Community ID and one with only the tuple both find their flow', async () => {
  const { communityId } = await import('../../src/flow/community-id.js');
  const { parseIp } = await import('../../src/decode/addr.js');
  const { echoRest, ether, icmp, ipv4 } = await import('../../fixtures/make/packet.js');
  const ping = (t: number, src: string, dst: string, type: number, id: number, seq: number): Frame => {
    const sec = Math.floor(t);
    return { sec, nsec: Math.round((t - sec) * 1e6) * 1000, data: ether(0x0800, ipv4({ src, dst, proto: 1, id: seq }, icmp(type, 0, echoRest(id, seq)))) };
  };
  const frames: Frame[] = [];
  for (let k = 0; k < 4; k++) {
    frames.push(ping(1700000200 + k, '10.5.0.1', '192.0.2.99', 8, 77, k));
    frames.push(ping(1700000200 + k + 0.01, '192.0.2.99', '10.5.0.1', 0, 77, k));
  }
  const cap = join(work, 'icmp.pcap');
  writeFileSync(cap, classicPcap(frames));
  const ts = (f: Frame) => new Date(f.sec * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(f.nsec / 1000).padStart(6, '0')}+0000`);
  const cid = communityId(1, parseIp('10.5.0.1')!, parseIp('192.0.2.99')!, 8, 0, { flavour: 'suricata' });
  const withCid = toAlert({ timestamp: ts(frames[2]!), event_type: 'alert', src_ip: '10.5.0.1', dest_ip: '192.0.2.99', proto: 'ICMP', community_id: cid, icmp_type: 8, icmp_code: 0 })!;
  const dir = tmpDir('flowcarve-icmp-');
  const res = await storeCapture([cap], { dir, alerts: [withCid] });
  assert.equal(res.matched.length, 1, JSON.stringify(res.unmatched));
  const r = carve(withCid, { store: dir, out: tmpDir() });
  assert.deepEqual(records(readFileSync(r.path)), frames.slice(2).map(record));
  const bare = toAlert({ timestamp: ts(frames[5]!), event_type: 'alert', src_ip: '192.0.2.99', dest_ip: '10.5.0.1', proto: 'ICMP' })!;
  const dir2 = tmpDir('flowcarve-icmp-');
  const res2 = await storeCapture([cap], { dir: dir2, alerts: [bare] });
  assert.equal(res2.matched.length, 1);
  assert.deepEqual(records(readFileSync(carve(bare, { store: dir2, out: tmpDir() }).path)), frames.slice(5).map(record));
});

test('embedded: the global ring cap drops the oldest ringed packets of any flow, and says so', async () => {
  const dir = tmpDir('flowcarve-ringcap-');
  const cs = await ConditionalStore.open({ dir, ringBytes: 6000 });
  // everything but the UDP flow an hour later (its packet would time every TCP flow out first)
  for await (const b of new CaptureReader(capture).batches()) for (let i = 0; i < b.count; i++) if (b.tsSec[i]! < 1700000100) cs.pushPacket(b, i);
  const long = flow('long');
  cs.addAlert(alertOf(long));
  const res = cs.close();
  assert.equal(res.matched.length, 1);
  assert.equal(res.matched[0]!.late, true);
  assert.ok(res.counters.ringEvictedYoung > 0);
  // what the ring still held of the long flow (its newest packets) was stored, nothing older
  const kept = res.counters.packets;
  assert.ok(kept > 0 && kept < long.frames.length - long.alertAt, `${kept} packets`);
  const r = carve(alertOf(long), { store: dir, out: tmpDir() });
  assert.deepEqual(records(readFileSync(r.path)), long.frames.slice(long.frames.length - kept).map(record));
});
