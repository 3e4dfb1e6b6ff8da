// Probe-service configuration: a JSON file (--config) and/or flags; validated into ServeOptions pieces.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { ProbeConfig } from './server.js';

export interface ServeConfig {
  host: string;
  port: number;
  token: string;
  probes: ProbeConfig[];
  workDir: string;
  maxUpload: number;
  cert?: string;
  key?: string;
}

/** Parse `NAME=STORE_DIR,FILESTORE_DIR,EVE_FILE...` into a probe. */
export function parseProbeFlag(s: string): ProbeConfig {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new UsageError(`--probe expects NAME=STORE_DIR,FILESTORE_DIR,EVE_FILE... (got '${s}')`);
  const name = s.slice(0, eq);
  const parts = s.slice(eq + 1).split(',').filter(Boolean);
  if (parts.length < 2) throw new UsageError(`--probe ${name}: needs at least STORE_DIR,FILESTORE_DIR`);
  return { name, store: resolve(parts[0]!), filestore: resolve(parts[1]!), eve: parts.slice(2).map((p) => resolve(p)) };
}

/** Merge a JSON config file with flag values (flags win). */
export function loadServeConfig(flags: { config?: string; host?: string; port?: string; token?: string; tokenFile?: string; probe?: string[]; workDir?: string; maxUpload?: number; cert?: string; key?: string }): ServeConfig {
  let file: Record<string, unknown> = {};
  if (flags.config) {
    try {
      file = JSON.parse(readFileSync(flags.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`cannot read config ${flags.config}: ${(e as Error).message}`);
    }
  }
  const tokenFile = flags.tokenFile ?? (file.tokenFile as string | undefined);
  let token = flags.token ?? (file.token as string | undefined);
  if (!token && tokenFile) token = readFileSync(tokenFile, 'utf8').trim();
  if (!token) throw new UsageError('a token is required (--token, --token-file or "token" in the config)');
  const probes: ProbeConfig[] = [];
  const fp = file.probes as Record<string, { store: string; filestore: string; eve?: string[] | string }> | undefined;
  if (fp) for (const [name, p] of Object.entries(fp)) probes.push({ name, store: resolve(p.store), filestore: resolve(p.filestore), eve: (Array.isArray(p.eve) ? p.eve : p.eve ? [p.eve] : []).map((e) => resolve(e)) });
  for (const s of flags.probe ?? []) probes.push(parseProbeFlag(s));
  if (probes.length === 0) throw new UsageError('at least one --probe NAME=STORE_DIR,FILESTORE_DIR,EVE_FILE... is required');
  const cert = flags.cert ?? (file.cert as string | undefined);
  const key = flags.key ?? (file.key as string | undefined);
  if ((cert && !key) || (key && !cert)) throw new UsageError('--cert and --key go together');
  return {
    host: flags.host ?? (file.host as string | undefined) ?? '127.0.0.1',
    port: Number(flags.port ?? file.port ?? 8443),
    token,
    probes,
    workDir: resolve(flags.workDir ?? (file.workDir as string | undefined) ?? '.flowcarve-serve'),
    maxUpload: flags.maxUpload ?? (file.maxUpload as number | undefined) ?? 1 << 20,
    cert,
    key,
  };
}
