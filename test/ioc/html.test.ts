// The HTML report: self-contained (no external scripts, styles or fonts), with a timeline and a table of top
// indicators; a headless Debian chromium opens it, finds both, and a screenshot is kept in the test's temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { classicPcap } from '../../fixtures/make/capture.js';
import { IndicatorList, IndicatorSet } from '../../src/ioc/indicators.js';
import { IocMatcher } from '../../src/ioc/matcher.js';
import { matchInput } from '../../src/ioc/input.js';
import { timelineSvg, toHtml, summariseIndicators } from '../../src/ioc/report.js';
import { runCli, tmpDir } from '../_util.js';
import { iocFrames, LIST } from './_fixture.js';

const CHROMIUM = '/usr/bin/chromium';

async function report(dir: string): Promise<{ html: string; path: string; m: IocMatcher }> {
  const cap = join(dir, 'ioc.pcap');
  writeFileSync(cap, classicPcap(iocFrames()));
  const m = new IocMatcher(new IndicatorSet([IndicatorList.parse(LIST, { name: 'feed.txt' })]));
  await matchInput(cap, m);
  const html = toHtml(m.results(), m.timelines(), { inputs: [cap], stats: m.stats, lists: [{ name: 'feed.txt', entries: 6, problems: 0 }] });
  const path = join(dir, 'report.html');
  writeFileSync(path, html);
  return { html, path, m };
}

test('HTML report is self-contained and holds the timeline and the top-indicator table', async () => {
  const { html, m } = await report(tmpDir('ioc-html-'));
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.doesNotMatch(html, /<script|<link|@import|url\(|src=/i);
  assert.match(html, /<svg id="timeline"/);
  assert.match(html, /<table id="top-indicators">/);
  const inds = summariseIndicators(m.results());
  assert.deepEqual(inds.map((s) => [s.indicator, s.packets, s.outbound, s.inbound, s.peers]), [
    ['203.0.113.80', 15, 6, 9, 2],
    ['198.51.100.66', 8, 4, 4, 2],
    ['2001:db8:bad::/48', 9, 5, 4, 2],
    ['10.8.8.8', 1, 0, 1, 1],
    ['198.51.100.53', 1, 1, 0, 1],
  ].sort((a, b) => (b[1] as number) - (a[1] as number) || String(a[0]).localeCompare(String(b[0]))));
  // One table row per indicator, one SVG row label per indicator with timestamps.
  assert.equal((html.match(/<tr><td class="n">\d+<\/td><td class="mono">/g) ?? []).length, 5);
  assert.equal((html.match(/class="lbl"/g) ?? []).length, 5);
  assert.ok((html.match(/<rect class="bar"/g) ?? []).length >= 5);
  // Labels and addresses are escaped.
  const evil = toHtml([], [], { title: '<b>x</b>' });
  assert.match(evil, /&lt;b&gt;x&lt;\/b&gt;/);
  assert.match(timelineSvg([]), /no timestamped hits/);
});

test('headless chromium renders the report: timeline and table present, screenshot saved', async (t) => {
  if (!existsSync(CHROMIUM)) { t.skip(`${CHROMIUM} is absent (apt-get install -y chromium)`); return; }
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    t.skip(`playwright-core is not installed: ${(e as Error).message}`); return;
  }
  const dir = tmpDir('ioc-html-');
  // Through the CLI, as a user would make it.
  const cap = join(dir, 'ioc.pcap');
  writeFileSync(cap, classicPcap(iocFrames()));
  const list = join(dir, 'feed.txt');
  writeFileSync(list, LIST);
  const path = join(dir, 'report.html');
  const r = runCli(['ioc', '--list', list, '--html', path, '-o', join(dir, 'out.ndjson'), cap]);
  assert.equal(r.status, 0, r.stderr.toString());
  const profile = mkdtempSync(join(tmpdir(), 'ioc-chromium-profile-'));
  // A fresh profile directory per run (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const requests: string[] = [];
    page.on('request', (q) => { if (!q.url().startsWith('file:')) requests.push(q.url()); });
    await page.goto(pathToFileURL(path).href);
    const bars = await page.locator('svg#timeline rect.bar').count();
    const rows = await page.locator('table#top-indicators tbody tr').count();
    const firstRow = await page.locator('table#top-indicators tbody tr').first().innerText();
    const box = await page.locator('svg#timeline').boundingBox();
    assert.ok(bars >= 5, `timeline bars: ${bars}`);
    assert.equal(rows, 5);
    assert.match(firstRow, /203\.0\.113\.80\s+feed\.txt\s+web\s+15/);
    assert.ok(box && box.width > 500 && box.height > 100, `timeline box ${JSON.stringify(box)}`);
    assert.deepEqual(requests, []);
    const shot = join(dir, 'ioc-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok(statSync(shot).size > 5000);
    console.log(`# screenshot: ${shot}`);
    // CI keeps it as an artifact when it names a directory for them.
    const keep = process.env.FLOWCARVE_ARTIFACTS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(shot, join(keep, 'ioc-report.png'));
      console.log(`# screenshot kept: ${join(keep, 'ioc-report.png')}`);
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
