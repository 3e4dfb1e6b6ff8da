// Piscina task entry for `flowcarve carve --alerts`: carve one chunk of alerts from a store.
import { carveChunk } from '../src/carve/pool.js';
import type { Alert } from '../src/eve/alert.js';

/** Carve `alerts` (positions start at `base`) from `store` into `out`. */
export default function carveTask(t: { alerts: Alert[]; base: number; store: string; out: string }) {
  return carveChunk(t);
}
