// A tiny deterministic packet builder for the ASCII printer tests: classic pcap files from hand-made frames.
// Checksums are left zero (tcpdump does not check them without -v).

export interface Rec { ts: number; usec: number; data: Uint8Array; origlen?: number; caplen?: number }

const be16 = (n: number) => [(n >> 8) & 255, n & 255];
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** Classic little-endian µs pcap with `linktype`; caplen/origlen can be forced per record. */
export function pcap(linktype: number, recs: Rec[]): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16); h.writeUInt32LE(linktype, 20);
  parts.push(h);
  for (const r of recs) {
    const cap = r.caplen ?? r.data.length;
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(r.ts >>> 0, 0); rh.writeUInt32LE(r.usec >>> 0, 4);
    rh.writeUInt32LE(cap, 8); rh.writeUInt32LE(r.origlen ?? r.data.length, 12);
    parts.push(rh, Buffer.from(r.data.subarray(0, cap)));
  }
  return Buffer.concat(parts);
}

export const mac = (s: string) => s.split(':').map((x) => parseInt(x, 16));
export const ip4 = (s: string) => s.split('.').map(Number);
export function ip6(s: string): number[] {
  const [a, b] = s.split('::') as [string, string | undefined];
  const words = (x: string) => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const head = words(a), tail = b !== undefined ? words(b) : [];
  const all = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  return all.flatMap((w) => be16(w));
}

export function ether(dst: string, src: string, type: number, payload: number[], vlans: number[][] = []): Uint8Array {
  const tags = vlans.flatMap(([tpid, vid]) => [...be16(tpid!), ...be16(vid!)]);
  return Uint8Array.from([...mac(dst), ...mac(src), ...tags, ...be16(type), ...payload]);
}

export function ipv4(src: string, dst: string, proto: number, payload: number[], o: { id?: number; frag?: number; ttl?: number; totalLen?: number } = {}): number[] {
  const len = o.totalLen ?? 20 + payload.length;
  return [0x45, 0, ...be16(len), ...be16(o.id ?? 1), ...be16(o.frag ?? 0), o.ttl ?? 64, proto, 0, 0, ...ip4(src), ...ip4(dst), ...payload];
}

export function ipv6(src: string, dst: string, nh: number, payload: number[], plen?: number): number[] {
  return [0x60, 0, 0, 0, ...be16(plen ?? payload.length), nh, 64, ...ip6(src), ...ip6(dst), ...payload];
}

export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, win: number, opts: number[] = [], data: number[] = []): number[] {
  while (opts.length % 4) opts = [...opts, 0];
  const off = (20 + opts.length) / 4;
  return [...be16(sport), ...be16(dport), ...be32(seq), ...be32(ack), off << 4, flags, ...be16(win), 0, 0, 0, 0, ...opts, ...data];
}

export function udp(sport: number, dport: number, data: number[]): number[] {
  return [...be16(sport), ...be16(dport), ...be16(8 + data.length), 0, 0, ...data];
}

export const ascii = (s: string) => [...Buffer.from(s, 'latin1')];

/** DNS name in wire format. */
export const dnsName = (n: string) => [...n.split('.').filter(Boolean).flatMap((l) => [l.length, ...ascii(l)]), 0];

export function dns(id: number, flags: number, qs: [string, number][], ans: number[][] = [], ar: number[][] = []): number[] {
  return [...be16(id), ...be16(flags), ...be16(qs.length), ...be16(ans.length), 0, 0, ...be16(ar.length),
    ...qs.flatMap(([n, t]) => [...dnsName(n), ...be16(t), 0, 1]), ...ans.flat(), ...ar.flat()];
}

/** An answer record whose name is a pointer to offset 12 (the first question). */
export function rr(type: number, ttl: number, rdata: number[]): number[] {
  return [0xc0, 12, ...be16(type), 0, 1, ...be32(ttl), ...be16(rdata.length), ...rdata];
}

export { be16, be32 };
