// EVE input: alerts typed and normalised, JSON Lines / JSON documents read with bounded memory, alert → flow matching.
export * from './alert.js';
export * from './reader.js';
export * from './keys.js';
export * from './match.js';
export * from './alerted.js';
