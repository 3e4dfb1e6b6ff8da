// Alert → flow over finished flow records (the offline form of what the store sink does online): by Community
// ID when the alert has one (spec flavour, or Suricata's for port-less protocols), else by the tuple in
// either direction; the alert time must fall inside the flow's lifetime, and `flow.start` picks among several.
// Suricata's flow_id is kept beside our flow id as an alias. Unmatched alerts are returned, never dropped.

import type { FlowRecord } from '../flow/record.js';
import { flowKeyHash, suricataCommunityId } from './keys.js';
import { alertHash, hasPorts, type Alert } from './alert.js';

/** One alert matched to one flow. */
export interface AlertMatch {
  alert: Alert;
  flow: FlowRecord;
  /** Our deterministic flow id and Suricata's (alias, as text). */
  flowId: bigint;
  suricataFlowId?: string;
  by: 'community_id' | 'tuple';
}

/** Matches and the alerts no flow took (with why). */
export interface MatchResult {
  matches: AlertMatch[];
  unmatched: Array<{ alert: Alert; reason: string }>;
}

const us = (sec: number, nsec: number) => sec * 1e6 + Math.floor(nsec / 1000);

/** Match `alerts` to `flows` (any order). */
export function matchAlerts(alerts: readonly Alert[], flows: readonly FlowRecord[]): MatchResult {
  const byCid = new Map<string, FlowRecord[]>();
  const byHash = new Map<string, FlowRecord[]>();
  const push = (m: Map<string, FlowRecord[]>, k: string, f: FlowRecord) => { const l = m.get(k); if (l) l.push(f); else m.set(k, [f]); };
  for (const f of flows) {
    push(byCid, f.communityId, f);
    if (!hasPorts(f.proto)) { const s = suricataCommunityId(f); if (s !== f.communityId) push(byCid, s, f); }
    push(byHash, flowKeyHash(f.key).join(':'), f);
  }
  const out: MatchResult = { matches: [], unmatched: [] };
  for (const a of alerts) {
    const by = a.communityId !== undefined ? 'community_id' as const : 'tuple' as const;
    let cands = (by === 'community_id' ? byCid.get(a.communityId!) : byHash.get(alertHash(a).join(':'))) ?? [];
    if (a.vlan.length) cands = cands.filter((f) => f.vlan.length === 0 || f.vlan[0] === a.vlan[0]);
    if (cands.length === 0) { out.unmatched.push({ alert: a, reason: `no flow with this ${by === 'community_id' ? 'Community ID' : 'tuple'}` }); continue; }
    const inside = cands.filter((f) => a.tsUs >= us(f.startSec, f.startNsec) && a.tsUs <= us(f.endSec, f.endNsec));
    if (inside.length === 0) { out.unmatched.push({ alert: a, reason: 'alert time outside every flow with this tuple' }); continue; }
    let best = inside[0]!;
    if (inside.length > 1 && a.flowStartUs !== undefined) {
      const fs = a.flowStartUs;
      for (const f of inside) if (Math.abs(us(f.startSec, f.startNsec) - fs) < Math.abs(us(best.startSec, best.startNsec) - fs)) best = f;
    }
    const m: AlertMatch = { alert: a, flow: best, flowId: best.flowId, by };
    if (a.flowId !== undefined) m.suricataFlowId = a.flowId;
    out.matches.push(m);
  }
  return out;
}
