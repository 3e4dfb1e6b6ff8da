// Which flows carry an alert: the `alerted` field of flow records. Alerts are indexed by Community ID (spec and
// Suricata flavours) and by canonical tuple; a flow is alerted when an alert with its ID (or, for alerts without
// one, its tuple) falls inside the flow's lifetime, on the same outer VLAN when both have one.

import type { FlowRecord } from '../flow/record.js';
import { alertHash, hasPorts, type Alert } from './alert.js';
import { flowKeyHash, suricataCommunityId } from './keys.js';

interface Mark { tsUs: number; vlan: number }

const us = (sec: number, nsec: number) => sec * 1e6 + Math.floor(nsec / 1000);

/** Answers "did any alert fire on this flow?" for finished flow records. */
export class AlertedIndex {
  readonly #byCid = new Map<string, Mark[]>();
  readonly #byTuple = new Map<string, Mark[]>();

  constructor(alerts: readonly Alert[]) {
    for (const a of alerts) {
      const m: Mark = { tsUs: a.tsUs, vlan: a.vlan.length ? a.vlan[0]! : -1 };
      const [map, k] = a.communityId !== undefined ? [this.#byCid, a.communityId] : [this.#byTuple, alertHash(a).join(':')];
      const l = map.get(k);
      if (l) l.push(m); else map.set(k, [m]);
    }
  }

  /** Alerts indexed. */
  get size(): number {
    let n = 0;
    for (const l of this.#byCid.values()) n += l.length;
    for (const l of this.#byTuple.values()) n += l.length;
    return n;
  }

  /** True when an alert belongs to flow `f` (see the module comment). */
  alerted(f: FlowRecord): boolean {
    const lists: Array<Mark[] | undefined> = [this.#byCid.get(f.communityId)];
    if (!hasPorts(f.proto)) lists.push(this.#byCid.get(suricataCommunityId(f)));
    if (this.#byTuple.size) lists.push(this.#byTuple.get(flowKeyHash(f.key).join(':')));
    const a = us(f.startSec, f.startNsec), b = us(f.endSec, f.endNsec), v = f.vlan.length ? f.vlan[0]! : -1;
    for (const l of lists) {
      if (!l) continue;
      for (const m of l) if (m.tsUs >= a && m.tsUs <= b && (m.vlan < 0 || v < 0 || m.vlan === v)) return true;
    }
    return false;
  }
}
