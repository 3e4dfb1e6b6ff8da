// Decoders: link, network and transport layers into a reused PacketView.
export * from './view.js';
export * from './decode.js';
export * from './addr.js';
