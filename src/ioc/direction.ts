// Direction of a packet relative to the home network: private ranges (RFC 1918, loopback, link-local, CGNAT,
// IPv6 unique-local, link-local and loopback) plus a configurable HOME_NET. Private → public is outbound,
// everything else inbound.

import { ERR, FlowcarveError } from '../errors.js';
import { IndicatorList } from './indicators.js';

/** Ranges treated as home by default. */
export const PRIVATE_CIDRS: readonly string[] = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10',
  'fc00::/7', 'fe80::/10', '::1/128',
];

export const enum Direction {
  Inbound = 0,
  Outbound = 1,
}

/** Names of Direction values. */
export const DIRECTION_NAMES = ['inbound', 'outbound'] as const;

export interface HomeNetOptions {
  /** Extra home CIDRs (Suricata's HOME_NET), as an array or a comma-separated string. */
  homeNet?: readonly string[] | string;
  /** Include PRIVATE_CIDRS (default true). */
  includePrivate?: boolean;
}

/** Membership test for home addresses, backed by the same range tables as indicator lists. */
export class HomeNet {
  readonly cidrs: readonly string[];
  readonly #list: IndicatorList;

  constructor(o: HomeNetOptions = {}) {
    const extra = typeof o.homeNet === 'string' ? o.homeNet.split(',') : [...(o.homeNet ?? [])];
    const cleaned = extra.map((s) => s.trim().replace(/^\[|\]$/g, '')).filter(Boolean);
    this.cidrs = [...(o.includePrivate === false ? [] : PRIVATE_CIDRS), ...cleaned];
    this.#list = IndicatorList.fromEntries('home-net', this.cidrs);
    if (this.#list.problemCount) {
      const p = this.#list.problems[0]!;
      throw new FlowcarveError(ERR.USAGE, `bad --home-net entry '${this.cidrs[p.line - 1]}': ${p.message}`);
    }
  }

  /** True when the address (4 bytes for version 4, 16 for 6) at b[o] is home. */
  isHome(version: 4 | 6, b: Uint8Array, o: number): boolean {
    return (version === 4 ? this.#list.v4 : this.#list.v6).lookupBytes(b, o) >= 0;
  }

  /** Outbound when the source is home and the destination is not; inbound otherwise. */
  direction(version: 4 | 6, b: Uint8Array, srcOff: number, dstOff: number): Direction {
    return this.isHome(version, b, srcOff) && !this.isHome(version, b, dstOff) ? Direction.Outbound : Direction.Inbound;
  }
}
