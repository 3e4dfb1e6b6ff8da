// The contract every CLI command module fulfils, and small helpers shared by commands.

/** A command module: `summary` for the command list, `usage` for --help, `run` returns the exit code. */
export interface CommandModule {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Parse a size such as `15MB`, `100MiB`, `1.5G`, `4096` into bytes (MB = 10^6, MiB = 2^20). */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)(b?)\s*$/i.exec(s);
  if (!m) throw new Error(`bad size '${s}' (expected e.g. 15MB, 100MiB, 4096)`);
  const unit = m[2]!.toLowerCase();
  const pow = unit === '' ? 0 : 'kmgt'.indexOf(unit) + 1;
  const base = m[3] ? 1024 : 1000;
  return Math.floor(Number(m[1]) * base ** pow);
}

/** Write a progress line to stderr when it is a terminal or FLOWCARVE_PROGRESS=1 (never in library code). */
export function progress(msg: string): void {
  if (process.stderr.isTTY || process.env.FLOWCARVE_PROGRESS === '1') process.stderr.write(`\r${msg}\x1b[K`);
}

/** Finish a progress line. */
export function progressDone(): void {
  if (process.stderr.isTTY || process.env.FLOWCARVE_PROGRESS === '1') process.stderr.write('\n');
}
