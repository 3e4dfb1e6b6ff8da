// Public API of flowcarve: types, errors, readers, writers, decoders and pipelines. No side effects on import.
export * from './errors.js';
export * from './pcap/batch.js';
export * from './pcap/format.js';
export { CaptureParser } from './pcap/parser.js';
export { CaptureReader, expandInputs, readInputs, DEFAULT_CHUNK, type ReadOptions } from './pcap/reader.js';
export { PcapEncoder, PcapWriter, pcapFileHeader, type PcapWriterOptions } from './pcap/writer.js';
export * from './decode/index.js';
export { captureInfo, formatInfo, formatInfoTime, type CaptureInfo, type InfoTime } from './pcap/info.js';
export { IndicatorList, IndicatorSet, RangeTable, HomeNet, PRIVATE_CIDRS, IocMatcher, Timeline, parseTcpdumpLine, TextPacket, LineKind,
  LineSplitter, matchInput, matchStream, matchTextStream, sniffInput, sniffBytes, toNdjson, toCsv, toTable, toHtml, parseCidr } from './ioc/index.js';
export type { IocRecord, IocStats, IocMatcherOptions, IndicatorTimeline, ListOptions, ListProblem, IndicatorEntry, HomeNetOptions, InputKind } from './ioc/index.js';
export { smtp, SmtpParser, probeSmtp } from './files/protocols/smtp/index.js';
export { ftp, ftpData, FtpParser, FtpDataParser, FtpDataCandidateParser, resolveFtpData, ftpDataMeta, type FtpExpectation } from './files/protocols/ftp/index.js';
export { MimeParser, type MimeFileEvents, type EmailMeta } from './files/mime/parser.js';
export { Base64Decoder, decodeBase64 } from './files/mime/base64.js';
export { QpDecoder, decodeQuotedPrintable } from './files/mime/qp.js';
export { smb, SmbParser, probeSmb, fuidString, smb2DialectName } from './files/protocols/smb/index.js';
export { nfs, NfsParser, probeNfs, handleHash } from './files/protocols/nfs/index.js';
export { RecordMarker, parseRpc, XidTable } from './files/protocols/rpc/rpc.js';
export * from './ascii/index.js';
