// Shared test helpers: repo paths, the third-party corpus (read in place, skipped when absent), tcpdump lookup.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/...). */
export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** Compiled CLI entry. */
export const CLI = join(REPO, 'dist/src/cli/main.js');
/** Committed fixtures. */
export const FIXTURES = join(REPO, 'fixtures');
const corpus = resolve(REPO, '../shared/corpus');

/** Path of ../shared/corpus, or null (with the reason printed once) when it is absent. */
export function corpusDir(): string | null {
  if (existsSync(corpus)) return corpus;
  if (!warned) { warned = true; console.log(`# skipping corpus checks: ${corpus} does not exist`); }
  return null;
}
let warned = false;

/** Skip reason when the corpus is missing (for `test(name, { skip: corpusSkip() }, fn)`). */
export function corpusSkip(): string | false {
  return existsSync(corpus) ? false : `../shared/corpus not present at ${corpus}`;
}

/** Path of the tcpdump binary, or null. */
export function tcpdumpPath(): string | null {
  for (const p of ['/usr/bin/tcpdump', '/usr/sbin/tcpdump', '/usr/local/bin/tcpdump', '/usr/local/sbin/tcpdump']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** Skip reason when tcpdump is not installed. */
export function tcpdumpSkip(): string | false {
  return tcpdumpPath() ? false : 'tcpdump is not installed (apt-get install -y tcpdump)';
}

const made: string[] = [];
/** A fresh temporary directory, removed when the test process exits (FLOWCARVE_KEEP_TMP=1 keeps them). */
export function tmpDir(prefix = 'flowcarve-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  if (made.length === 0 && !process.env.FLOWCARVE_KEEP_TMP) {
    process.once('exit', () => { for (const x of made) { try { rmSync(x, { recursive: true, force: true }); } catch { /* best effort */ } } });
  }
  made.push(d);
  return d;
}

/** Run the compiled CLI synchronously. */
export function runCli(args: string[], opts: { input?: Buffer | string; cwd?: string } = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'buffer', input: opts.input, cwd: opts.cwd ?? REPO, maxBuffer: 1 << 30 });
}
