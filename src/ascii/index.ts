// Public surface of the tcpdump-exact ASCII export (`tcpdump -tt -n -r` text, tcpdump 4.99.3).

export { AsciiPrinter, DEFAULT_TCP_SEQ_CAP, type AsciiPrinterOptions, type AsciiPrinterStats } from './printer.js';
export { printCapture, writeChunk, type PrintCaptureResult } from './capture.js';
export { SplitWriter } from './split.js';
export { TcpSeqTable4 } from './tcpseq.js';
