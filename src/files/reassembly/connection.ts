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

/** Both directions of one connection. */
export class TcpConnection {
  readonly dirs: [StreamDir, StreamDir];
  constructor(out: [StreamOutput, StreamOutput], limits: StreamLimits, memcap: Memcap, c: ReassemblyCounters) {
    this.dirs = [new StreamDir(out[0], limits, memcap, c), new StreamDir(out[1], limits, memcap, c)];
  }

  /** One segment: direction (0 to server), TCP flags, seq/ack and payload (valid only during the call). */
  segment(dir: 0 | 1, flags: number, seq: number, ack: number, payload: Uint8Array): void {
    const s = this.dirs[dir], peer = this.dirs[dir ^ 1]!;
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

  /** Flow ended (timeout, shutdown, eviction): deliver what is buffered, holes as gaps. */
  flush(): void { this.dirs[0].flush(); this.dirs[1].flush(); }

  /** True when both directions ended. */
  get ended(): boolean { return this.dirs[0].ended && this.dirs[1].ended; }

  /** Out-of-order bytes held by this connection. */
  get pendingBytes(): number { return this.dirs[0].pendingBytes + this.dirs[1].pendingBytes; }
}
