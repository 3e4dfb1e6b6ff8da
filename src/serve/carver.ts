// The service's carver: the same carve() the `carve` command uses, so API downloads equal CLI output.

import { carve } from '../carve/carve.js';
import type { Carver } from './server.js';

/** Carve `alert`'s flow from `store` into `outDir` (sha256-named, deduplicated). */
export const storeCarver: Carver = async (alert, store, outDir) => {
  const r = carve(alert, { store, out: outDir });
  return { path: r.path, sha256: r.sha256, packets: r.packets };
};
