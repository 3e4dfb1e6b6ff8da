// Public API of flowcarve: types, errors, readers, writers, decoders and pipelines. No side effects on import.
export * from './errors.js';
export * from './pcap/batch.js';
export * from './pcap/format.js';
export { CaptureParser } from './pcap/parser.js';
export { CaptureReader, expandInputs, readInputs, DEFAULT_CHUNK, type ReadOptions } from './pcap/reader.js';
export { PcapEncoder, PcapWriter, pcapFileHeader, type PcapWriterOptions } from './pcap/writer.js';
export * from './decode/index.js';
export { captureInfo, formatInfo, formatInfoTime, type CaptureInfo, type InfoTime } from './pcap/info.js';
