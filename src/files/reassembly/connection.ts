// One TCP connection's reassembly: two StreamDirs (0 = client → server, 1 = server → client) driven by the
// segments of the flow in capture order. SYN/SYN-ACK fix the initial sequence numbers; without them the first
// payload byte starts the stream (mid-stream pickup). ACKs tell the opposite direction which holes are final;
// RST and flow end flush both directions (holes become gaps; on a RST the peer's unacknowledged bytes are dropped).

import { Memcap, StreamDir, type ReassemblyCounters, type StreamLimits, type StreamOutput } from './stream.js';

export { Memcap, StreamDir, newReassemblyCounters, seqDiff, type ReassemblyCounters, type StreamLimits, type StreamOutput } from './stream.js';

const FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

/** Default caps, as Suricata's stream.reassembly: 64 MiB memcap per worker, 1 MiB buffered per direction, depth unlimited. */
export const REASSEMBLY_MEMCAP = 64 * 1024 * 1024;
export const REASSEMBLY_MAX_PENDING = 1024 * 1024;
export const REASSEMBLY_DEPTH = 0;

/**
 * One segment of a connection whose directions are `d0` (client → server) and `d1`: direction, TCP flags, seq/ack
 * and payload (valid only during the call). TcpConnection.segment; callers that keep the two StreamDirs in their
 * own per-flow state (one object less per flow) call it directly.
 */
export function tcpSegment(d0: StreamDir, d1: StreamDir, dir: 0 | 1, flags: number, seq: number, ack: number, payload: Uint8Array): void {
  const s = dir === 0 ? d0 : d1, peer = dir === 0 ? d1 : d0;
  if (flags & SYN) s.syn(seq);
  if (flags & RST) {
    // Data on a RST is not delivered (as most stacks); both sides end here. The peer's bytes beyond what this
    // RST acknowledges never reached this side: dropped, not flushed with gaps (Suricata 8 does the same).
    if (flags & ACK) { peer.dropUnacked(ack); peer.ack(ack); }
    s.flush(); peer.flush();
    return;
  }
  if (payload.length > 0 || flags & FIN) s.segment((flags & SYN ? seq + 1 : seq) >>> 0, payload, (flags & FIN) !== 0);
  if (flags & ACK) peer.ack(ack);
}

/** Both directions of one connection. */
export class TcpConnection {
  /** Direction 0 (client → server) and 1 (server → client). */
  readonly d0: StreamDir;
  readonly d1: StreamDir;
  /** `out`: one output per direction, or one for both (it tells them apart by the `dir` argument). */
  constructor(out: StreamOutput | [StreamOutput, StreamOutput], limits: StreamLimits, memcap: Memcap, c: ReassemblyCounters) {
    const o0 = Array.isArray(out) ? out[0] : out, o1 = Array.isArray(out) ? out[1] : out;
    this.d0 = new StreamDir(o0, limits, memcap, c, 0);
    this.d1 = new StreamDir(o1, limits, memcap, c, 1);
  }

  /** Both directions, indexed by direction. */
  get dirs(): [StreamDir, StreamDir] { return [this.d0, this.d1]; }

  /** One segment: direction (0 to server), TCP flags, seq/ack and payload (valid only during the call). */
  segment(dir: 0 | 1, flags: number, seq: number, ack: number, payload: Uint8Array): void {
    tcpSegment(this.d0, this.d1, dir, flags, seq, ack, payload);
  }

  /** Flow ended (timeout, shutdown, eviction): deliver what is buffered, holes as gaps. */
  flush(): void { this.d0.flush(); this.d1.flush(); }

  /** Release buffered memory of both directions without delivering (flow discarded). */
  drop(): void { this.d0.drop(); this.d1.drop(); }

  /** True when both directions ended. */
  get ended(): boolean { return this.d0.ended && this.d1.ended; }

  /** Out-of-order bytes held by this connection. */
  get pendingBytes(): number { return this.d0.pendingBytes + this.d1.pendingBytes; }
}
