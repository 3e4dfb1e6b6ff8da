#!/usr/bin/env node
// flowcarve command-line entry: a thin dispatcher; each command lives in ./commands/<name>.ts.

import { FlowcarveError } from '../errors.js';
import type { CommandModule } from './command.js';

/** Command name → module path; modules are loaded only when used. */
const COMMANDS: Record<string, string> = {
  demo: './commands/demo.js',
  info: './commands/info.js',
  ascii: './commands/ascii.js',
  flows: './commands/flows.js',
  split: './commands/split.js',
  store: './commands/store.js',
  carve: './commands/carve.js',
  files: './commands/files.js',
  ioc: './commands/ioc.js',
  serve: './commands/serve.js',
};

async function load(name: string): Promise<CommandModule | null> {
  const path = COMMANDS[name];
  if (!path) return null;
  try {
    return (await import(path)) as CommandModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(path.slice(2))) return null;
    throw e;
  }
}

async function help(): Promise<string> {
  const lines = ['usage: flowcarve <command> [options] INPUT...', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const m = await load(name);
    if (m) lines.push(`  ${name.padEnd(8)} ${m.summary}`);
  }
  lines.push('', "Inputs are pcap or pcapng files (gzip allowed), globs, or '-' for stdin.", "Run 'flowcarve <command> --help' for a command's options.");
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await help());
    return name ? 0 : 2;
  }
  const m = await load(name);
  if (!m) {
    process.stderr.write(`flowcarve: unknown command '${name}'\n` + (await help()));
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(m.usage.endsWith('\n') ? m.usage : m.usage + '\n');
    return 0;
  }
  return m.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof FlowcarveError) process.stderr.write(`flowcarve: ${e.describe()}\n`);
    else process.stderr.write(`flowcarve: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
