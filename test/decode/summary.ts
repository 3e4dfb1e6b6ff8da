// The one-line decode summary fixtures/make/foundation.ts writes as each packet's expected `d` field.
import { LAYER_NAMES, type PacketView } from '../../src/decode/index.js';

/** `l3/proto/sport>dport/vVLANS/trunc` where trunc is `ok` or `layer@offset-from-packet-start`. */
export function summarize(v: PacketView): string {
  const n = v.vlanCount;
  const vl = [v.vlan0, v.vlan1].slice(0, Math.min(n, 2)).join('.') + (n > 2 ? `+${n - 2}` : '');
  const l3 = v.ipVersion === 4 ? 'ip4' : v.ipVersion === 6 ? 'ip6' : v.etherType === 0x0806 ? 'arp' : 'none';
  const t = v.truncLayer ? `${LAYER_NAMES[v.truncLayer]}@${v.truncAt - v.start}` : 'ok';
  return `${l3}/${v.proto >= 0 ? v.proto : '-'}/${v.srcPort}>${v.dstPort}/v${vl}/${t}`;
}
