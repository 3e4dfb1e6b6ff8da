// IPv4/IPv6 fragment tracking before keying: non-first fragments carry no ports, so each datagram (version,
// addresses, protocol, id) remembers the ports its first fragment announced and later fragments land in that flow.
// Fragments that arrive before their first fragment are held (copied) until it comes, or until the datagram
// times out on capture time, when they are handed back as orphans (keyed without ports). Caps: trackers, held bytes.

import { allocBatch, type PacketBatch } from '../pcap/batch.js';
import type { PacketView } from '../decode/view.js';

export interface DefragOptions {
  /** Seconds of capture time a datagram is tracked after its last fragment (default 60, as Suricata). */
  timeoutSec?: number;
  /** Datagrams tracked at once (default 65536); the oldest is dropped (its held fragments orphaned) beyond. */
  maxTrackers?: number;
  /** Bytes of held fragments (default 4 MiB); beyond, a fragment is not held but processed as an orphan. */
  maxHeldBytes?: number;
}

/** A fragment copied out of its batch while its first fragment is missing. */
export interface HeldFragment {
  /** One-packet batch owning a copy of the bytes. */
  batch: PacketBatch;
  /** Packet number in the whole input. */
  packetIndex: number;
  /** Ports and ICMP type/code to key it with (from its first fragment; 0/0/-1/-1 for an orphan). */
  sport: number;
  dport: number;
  icmpType: number;
  icmpCode: number;
}

interface Datagram {
  known: boolean;
  sport: number;
  dport: number;
  icmpType: number;
  icmpCode: number;
  last: number;
  /** Payload bytes seen and the datagram's payload size once the last fragment (MF=0) is seen (-1 before). */
  seen: number;
  total: number;
  held: HeldFragment[];
  heldBytes: number;
}

/** Counters of the fragment tracker. */
export interface DefragCounters {
  fragments: number;
  /** Datagrams whose fragments were all seen. */
  completed: number;
  /** Fragments held until their first fragment arrived / released when it did. */
  held: number;
  released: number;
  /** Fragments processed without ports (first fragment never came, or over the held-bytes cap). */
  orphans: number;
  /** Datagrams dropped by timeout / by the tracker cap. */
  timeouts: number;
  evictions: number;
  heldOverflow: number;
}

/** Result of DefragTracker.resolve(). */
export const enum Frag { NotFragment = 0, Resolved = 1, Held = 2, Orphan = 3 }

/** Tracks fragmented datagrams; see the module comment. Deterministic: depends only on the packet sequence. */
export class DefragTracker {
  readonly counters: DefragCounters = { fragments: 0, completed: 0, held: 0, released: 0, orphans: 0, timeouts: 0, evictions: 0, heldOverflow: 0 };
  readonly #map = new Map<string, Datagram>();
  readonly #timeout: number;
  readonly #maxTrackers: number;
  readonly #maxHeld: number;
  #heldBytes = 0;
  /** Fragments released by the last resolve() (to process before the current packet) or expire(). */
  out: HeldFragment[] = [];

  constructor(o: DefragOptions = {}) {
    this.#timeout = o.timeoutSec ?? 60;
    this.#maxTrackers = o.maxTrackers ?? 65536;
    this.#maxHeld = o.maxHeldBytes ?? 4 << 20;
  }

  /**
   * Classify packet `i` of `batch`, decoded in `v`. For a non-first fragment of a known datagram, the view's
   * ports and ICMP type/code are set from the first fragment (Resolved). Held: the packet was copied and must
   * not be processed now. On Resolved, `out` may list earlier fragments to process first (capture order).
   */
  resolve(v: PacketView, batch: PacketBatch, i: number, packetIndex: number, now: number): Frag {
    if (this.out.length) this.out = [];
    if (!v.isFragment || v.ipVersion === 0) return Frag.NotFragment;
    this.counters.fragments++;
    const k = datagramKey(v);
    let d = this.#map.get(k);
    if (d) this.#map.delete(k); // re-insert below: the Map's order is the age order
    else {
      if (this.#map.size >= this.#maxTrackers) this.#dropOldest();
      d = { known: false, sport: 0, dport: 0, icmpType: -1, icmpCode: -1, last: now, seen: 0, total: -1, held: [], heldBytes: 0 };
    }
    d.last = now;
    this.#map.set(k, d);
    const plen = Math.max(0, v.ipEnd - (v.fragOffset === 0 && v.l4 >= 0 ? v.l4 : v.payload >= 0 ? v.payload : v.ipEnd));
    d.seen += plen;
    if (!v.moreFragments) d.total = v.fragOffset + plen;
    let r: Frag;
    if (v.fragOffset === 0) {
      d.known = true; d.sport = v.srcPort; d.dport = v.dstPort; d.icmpType = v.icmpType; d.icmpCode = v.icmpCode;
      if (d.held.length) {
        for (const h of d.held) { h.sport = d.sport; h.dport = d.dport; h.icmpType = d.icmpType; h.icmpCode = d.icmpCode; this.out.push(h); }
        this.counters.released += d.held.length;
        this.#heldBytes -= d.heldBytes;
        d.held = []; d.heldBytes = 0;
      }
      r = Frag.Resolved;
    } else if (d.known) {
      v.srcPort = d.sport; v.dstPort = d.dport; v.icmpType = d.icmpType; v.icmpCode = d.icmpCode;
      r = Frag.Resolved;
    } else {
      const n = batch.caplen[i]!;
      if (this.#heldBytes + n > this.#maxHeld) { this.counters.heldOverflow++; this.counters.orphans++; return Frag.Orphan; }
      const off = batch.offset[i]!;
      const hb = allocBatch(batch.buf.slice(off, off + n), 1, batch.source, batch.firstIndex + i);
      hb.count = 1; hb.offset[0] = 0; hb.caplen[0] = n; hb.origlen[0] = batch.origlen[i]!;
      hb.tsSec[0] = batch.tsSec[i]!; hb.tsNsec[0] = batch.tsNsec[i]!; hb.recOffset[0] = batch.recOffset[i]!;
      hb.linkType[0] = batch.linkType[i]!; hb.iface[0] = batch.iface[i]!;
      d.held.push({ batch: hb, packetIndex, sport: 0, dport: 0, icmpType: -1, icmpCode: -1 });
      d.heldBytes += n; this.#heldBytes += n;
      this.counters.held++;
      return Frag.Held;
    }
    if (d.total >= 0 && d.known && d.seen >= d.total && d.held.length === 0) { this.#map.delete(k); this.counters.completed++; }
    return r;
  }

  /** Drop datagrams idle longer than the timeout at capture time `now`; their held fragments go to `out` as orphans. */
  expire(now: number): void {
    if (this.out.length) this.out = [];
    for (const [k, d] of this.#map) {
      if (now - d.last <= this.#timeout) break;
      this.#map.delete(k);
      this.counters.timeouts++;
      this.#orphan(d);
    }
  }

  /** End of input: every held fragment to `out` as an orphan. */
  flush(): void {
    if (this.out.length) this.out = [];
    for (const d of this.#map.values()) this.#orphan(d);
    this.#map.clear();
  }

  /** Datagrams tracked now and bytes held. */
  get size(): number { return this.#map.size; }
  get heldBytes(): number { return this.#heldBytes; }

  #dropOldest(): void {
    const first = this.#map.keys().next();
    if (first.done) return;
    const d = this.#map.get(first.value)!;
    this.#map.delete(first.value);
    this.counters.evictions++;
    this.#orphan(d);
  }

  #orphan(d: Datagram): void {
    if (!d.held.length) return;
    for (const h of d.held) this.out.push(h);
    this.counters.orphans += d.held.length;
    this.#heldBytes -= d.heldBytes;
    d.held = []; d.heldBytes = 0;
  }
}

function datagramKey(v: PacketView): string {
  const b = v.buf, n = v.ipVersion === 4 ? 4 : 16;
  let s = String.fromCharCode(v.ipVersion, v.proto & 0xff, v.fragId >>> 16, v.fragId & 0xffff);
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[v.src + i]!, b[v.dst + i]!);
  return s;
}
