// FlowRecord: the plain, structured-clone-able description of one flow that the table hands to sinks and that
// crosses worker boundaries. Mutable while the flow lives (counters grow); final after onFlowEnd.

/** Lifecycle state of a flow, as Suricata's EVE `flow.state`. */
export type FlowState = 'new' | 'established' | 'closed';
/** Why a flow ended, as Suricata's EVE `flow.reason` ('forced' = evicted by our max-flows cap). */
export type FlowEndReason = 'timeout' | 'forced' | 'shutdown' | 'tcp_reuse';

/** One flow. Client (src) = the side that sent the first packet (the SYN side for TCP where seen). */
export interface FlowRecord {
  /** Deterministic 64-bit id: xxhash64 over the key and the start time (positive, 63 bits). */
  flowId: bigint;
  /** Community ID v1, spec flavour, seed 0, base64 (e.g. `1:LQU9qZlK+B5F3KDmev6m5PMibrg=`). */
  communityId: string;
  /** Canonical bidirectional key (KEY_BYTES long, see key.ts): a view into a slab shared with other keys, so
   *  slice() it before keeping it past the flow or posting it to another thread. */
  key: Uint8Array;
  /** Symmetric 32-bit hash of the key (A→B equals B→A); shard = shardOf(hash, workers) (key.ts). */
  hash: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** IP protocol number. */
  proto: number;
  /** 4 or 6. */
  ipVersion: number;
  /** VLAN ids outer first (empty when untagged or when VLANs are not part of the key; read-only). */
  vlan: number[];
  startSec: number;
  startNsec: number;
  endSec: number;
  endNsec: number;
  pktsToServer: number;
  pktsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  state: FlowState;
  reason: FlowEndReason;
  tcpFlagsTs: number;
  tcpFlagsTc: number;
  /** Creation order within its worker. */
  seq: number;
  /** Capture time (s, fractional) at which the table ended the flow; output order key. */
  endedAt: number;
  /** Whether an alert fired on this flow; set only when the run was given alerts (RunOptions.alerts). */
  alerted?: boolean;
  /** ICMP type and code of the first packet (-1 when not ICMP). */
  icmpType: number;
  icmpCode: number;
}

/** The fields that order ended flows. */
export type EndedOrder = Pick<FlowRecord, 'endedAt' | 'startSec' | 'startNsec' | 'key'>;

/** Compare two ended flows for output: end event time, then start time, then key bytes. */
export function compareEnded(a: EndedOrder, b: EndedOrder): number {
  if (a.endedAt !== b.endedAt) return a.endedAt < b.endedAt ? -1 : 1;
  if (a.startSec !== b.startSec) return a.startSec - b.startSec;
  if (a.startNsec !== b.startNsec) return a.startNsec - b.startNsec;
  const ka = a.key, kb = b.key;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
  return 0;
}
