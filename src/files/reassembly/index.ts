// TCP reassembly: per-direction streams (stream.ts) and connections (connection.ts).
export * from './connection.js';
