// Deterministic frames of one long TCP flow (10.7.0.1:5555 → 192.0.2.77:80) for the crash test.
import { TcpConversation, type Frame } from '../../fixtures/make/packet.js';

/** The first `n` frames: handshake, then alternating data segments of varying size. */
export function* crashFrames(n: number): Generator<Frame> {
  const t = new TcpConversation({ ip: '10.7.0.1', port: 5555 }, { ip: '192.0.2.77', port: 80 }, { t0: 1700000000, step: 0.0001 });
  t.handshake();
  let k = 0, emitted = 0;
  while (emitted < n) {
    while (t.frames.length > 0 && emitted < n) { yield t.frames.shift()!; emitted++; }
    t.send(k % 3 !== 0, new Uint8Array(200 + ((k * 37) % 900)).fill(k & 0xff), { ack: true });
    k++;
  }
}
