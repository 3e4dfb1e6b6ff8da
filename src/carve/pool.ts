// Carving many alerts at once on a piscina pool (workers/carve.ts): alerts are split into chunks, each chunk
// carved by one worker; results come back in input order. One alert, or `threads: 0`, carves in this thread.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Alert } from '../eve/alert.js';
import { FlowcarveError } from '../errors.js';
import { carve, type CarveOptions, type CarveResult } from './carve.js';

/** A carve that failed: the alert's position and the error's code and message. */
export interface CarveFailure { n: number; error: string; code: string }

/** Worker entry (compiled): dist/workers/carve.js beside dist/src. */
export const CARVE_WORKER = fileURLToPath(new URL('../../workers/carve.js', import.meta.url));

/** Carve `alerts` in chunks; failures are reported per alert, never thrown. */
export async function carveMany(alerts: Alert[], o: CarveOptions & { threads?: number; chunk?: number }): Promise<Array<CarveResult | CarveFailure>> {
  const threads = o.threads ?? Math.max(1, Math.min(availableParallelism(), 4));
  if (threads === 0 || alerts.length <= 1) return carveChunk({ alerts, base: 0, store: o.store, out: o.out });
  const chunk = o.chunk ?? Math.max(1, Math.ceil(alerts.length / (threads * 4)));
  const pool = new Piscina({ filename: CARVE_WORKER, maxThreads: threads, minThreads: Math.min(threads, 1) });
  try {
    const jobs: Array<Promise<Array<CarveResult | CarveFailure>>> = [];
    for (let i = 0; i < alerts.length; i += chunk) jobs.push(pool.run({ alerts: alerts.slice(i, i + chunk), base: i, store: o.store, out: o.out }));
    return (await Promise.all(jobs)).flat();
  } finally {
    await pool.destroy();
  }
}

/** Carve one chunk in this thread (what a pool worker runs). */
export function carveChunk(t: { alerts: Alert[]; base: number; store: string; out: string }): Array<CarveResult | CarveFailure> {
  return t.alerts.map((a, k) => {
    try {
      return carve(a, { store: t.store, out: t.out });
    } catch (e) {
      return { n: t.base + k, error: (e as Error).message, code: e instanceof FlowcarveError ? e.code : 'ERR_CARVE' };
    }
  });
}
