// Typed errors: every error has a readable name, a stable code and structured fields (file, byte offset),
// so callers never match message strings.

/** Base class of every error flowcarve raises on purpose. */
export class FlowcarveError extends Error {
  readonly code: string;
  /** Input file name ('-' for stdin), when the error concerns an input. */
  file?: string;
  /** Byte offset in the (decompressed) input where the fault starts. */
  offset?: number;
  constructor(code: string, message: string, fields: { file?: string; offset?: number; cause?: unknown } = {}) {
    super(message, fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    if (fields.file !== undefined) this.file = fields.file;
    if (fields.offset !== undefined) this.offset = fields.offset;
  }
  /** Message prefixed with `file: offset N:` when known. */
  describe(): string {
    const where = [this.file, this.offset !== undefined ? `offset ${this.offset}` : undefined].filter(Boolean).join(': ');
    return where ? `${where}: ${this.message} [${this.code}]` : `${this.message} [${this.code}]`;
  }
}

/** Capture-format faults: bad magic, truncated header/record, absurd caplen, lying block length. */
export class CaptureFormatError extends FlowcarveError {}

/** Codes used by CaptureFormatError. */
export const ERR = {
  BAD_MAGIC: 'ERR_PCAP_BAD_MAGIC',
  TRUNCATED_HEADER: 'ERR_PCAP_TRUNCATED_HEADER',
  TRUNCATED_RECORD: 'ERR_PCAP_TRUNCATED_RECORD',
  BAD_CAPLEN: 'ERR_PCAP_BAD_CAPLEN',
  BAD_BLOCK: 'ERR_PCAPNG_BAD_BLOCK',
  TRUNCATED_BLOCK: 'ERR_PCAPNG_TRUNCATED_BLOCK',
  NO_INTERFACE: 'ERR_PCAPNG_NO_INTERFACE',
  EMPTY: 'ERR_PCAP_EMPTY',
  INPUT: 'ERR_INPUT',
  USAGE: 'ERR_USAGE',
  WORKER: 'ERR_WORKER',
  EVE: 'ERR_EVE',
  STORE: 'ERR_STORE',
  CARVE: 'ERR_CARVE',
  IOC: 'ERR_IOC',
} as const;

/** Wrong command-line or API usage. */
export class UsageError extends FlowcarveError {
  constructor(message: string) {
    super(ERR.USAGE, message);
  }
}

/** A worker thread crashed, exited or reported an error. */
export class WorkerError extends FlowcarveError {}
