// Carving: one alert's flow from the store to its own pcap, and many alerts on a worker pool.
export * from './carve.js';
export * from './locate.js';
export * from './pool.js';
