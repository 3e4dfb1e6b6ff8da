// Conditional pcap store: segments + indexes, the store flow sink, offline replay and the embedded store.
export * from './segments.js';
export * from './index-file.js';
export * from './prefilter.js';
export * from './sink.js';
export * from './offline.js';
