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
export { IocFlowSink, IOC_FLOW_SINK_MODULE, registerFlowSet, unregisterFlowSet } from './flow-sink.js';
export type { FlowListSpec, IocFlowSinkOptions, IocFlowSinkResult, IocFlowSinkCounters, FlowHitRecord, FlowTimelinePart } from './flow-sink.js';
export * from './flows.js';
