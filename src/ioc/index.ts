// Threat-intel matching: indicator lists (IPv4/IPv6 addresses and CIDRs), tcpdump text parsing, direction,
// the matcher that aggregates hits, input sniffing and report renderers.
export * from './ranges.js';
export * from './indicators.js';
export * from './direction.js';
export * from './tcpdump-text.js';
export * from './matcher.js';
export * from './input.js';
export * from './report.js';
export { parseCidr, parseIpv4Bytes, parseIpv6Bytes } from './addr.js';
