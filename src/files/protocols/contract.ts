// The one small contract every file-carrying protocol implements (Suricata app-layer style): probe by content,
// parse each direction's reassembled bytes incrementally (sans-IO), open/write/close files on the tracker.
// Reassembly (src/files/reassembly) feeds parsers in order; the tracker (src/files/tracker) hashes, stores and
// emits fileinfo events. Parsers never touch the filesystem and never turn wire strings into paths.

/** 0 = client → server (to server), 1 = server → client (to client). */
export type Direction = 0 | 1;

/** Verdict of a content probe on the first bytes of a direction. */
export type ProbeResult = 'yes' | 'no' | 'need-more';

/** What a parser knows of its flow (addresses as the client/server of the flow). */
export interface FlowInfo {
  /** Our 64-bit flow id (decimal string) and the spec Community ID. */
  flowId: string;
  communityId: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** IP protocol number (6 TCP, 17 UDP). */
  proto: number;
}

/** Where a file's bytes come from: `direction` of the data (1 = download to the client). */
export interface FileOpenInfo {
  /** File name as Suricata reports it (never used as a path). */
  filename: string;
  direction: Direction;
  /** Transaction number within the flow's app-layer state (Suricata's tx_id). */
  txId: number;
  /** app_proto of the fileinfo event: http, smtp, ftp-data, smb, nfs, … */
  appProto: string;
  /** Protocol metadata objects merged into the event, e.g. `{ http: {...} }` or `{ email: {...}, smtp: {...} }`. */
  meta: Record<string, unknown>;
  /** Byte range of a partial file (HTTP Content-Range), reported as start/end. */
  start?: number;
  end?: number;
  /** Expected size in bytes when the protocol announces it (e.g. HTTP Content-Length): sizes the store buffer; never trusted beyond that. */
  sizeHint?: number;
  /** When set, the event's address tuple and flow ids come from this flow instead (FTP data channel → its own flow). */
  flow?: FlowInfo;
}

/** Final state of a file, as Suricata's fileinfo.state. */
export type FileState = 'CLOSED' | 'TRUNCATED' | 'ERROR' | 'UNKNOWN';

/** An open file: append bytes in order, or write at an offset (SMB/NFS), record gaps, close once. */
export interface FileHandle {
  /** Append bytes at the current end. */
  write(bytes: Uint8Array): void;
  /** Place bytes at absolute `offset` (out-of-order protocols); overlapping bytes already written win. */
  writeAt(offset: number, bytes: Uint8Array): void;
  /** `len` bytes are missing at the current end (reassembly gap or lost range): the file gets gaps=true. */
  gap(len: number): void;
  /** Update protocol metadata before close (e.g. HTTP status known later). */
  setMeta(meta: Record<string, unknown>): void;
  /** Finish the file; state defaults to CLOSED (TRUNCATED when gaps or caps cut it). */
  close(state?: FileState): void;
  readonly size: number;
  readonly closed: boolean;
}

/** Opens files for parsers; implemented by src/files/tracker. */
export interface FileTracker {
  open(info: FileOpenInfo): FileHandle;
}

/** Per-run limits parsers honour; 0 = none. */
export interface ProtocolLimits {
  /**
   * HTTP body bytes of one request / response that go to its file (libhtp's request-body-limit and
   * response-body-limit in Suricata, 100 KiB each by default there): more body data closes the file TRUNCATED.
   */
  httpRequestBody: number;
  httpResponseBody: number;
}

/** Services a parser gets from its flow. */
export interface ProtocolContext {
  flow: FlowInfo;
  files: FileTracker;
  /** Limits of this run (absent: none). */
  limits?: ProtocolLimits;
  /** Capture time of the packet being processed (seconds, nanoseconds). */
  now(): { sec: number; nsec: number };
  /** Announce a future connection (FTP PORT/PASV/EPRT/EPSV): resolved across flows and workers by the file sink. */
  expect(e: Expectation): void;
  /** Report a protocol event or anomaly (counted; e.g. 'smb3-encrypted'). */
  note(event: string, detail?: Record<string, unknown>): void;
}

/** A data connection announced on a control channel. */
export interface Expectation {
  /** Address and port that will accept the data connection (server side of the data flow). */
  ip: string;
  port: number;
  /** The other end, when known. */
  peerIp?: string;
  appProto: string;
  /** Metadata for the file carried by that connection (e.g. ftp command + filename), and its direction relative to the control client. */
  command: string;
  filename: string;
  /** 0 = the control client sends the data (STOR/APPE/STOU), 1 = the server sends it (RETR). */
  direction: Direction;
  /** Control flow's flow id (the data flow's parent_id). */
  parentFlowId: string;
  txId: number;
}

/** A parser bound to one flow. Bytes arrive in order per direction, already reassembled. */
export interface ProtocolParser {
  data(dir: Direction, bytes: Uint8Array): void;
  /** `len` bytes were lost in `dir`; parsers mark open files (gap) and resynchronise if they can. */
  gap(dir: Direction, len: number): void;
  /** The flow ended: finish what is open (TRUNCATED when incomplete). */
  close(): void;
}

/** A protocol: its app_proto name, a content probe, and a parser factory. */
export interface ProtocolModule {
  readonly name: string;
  /** Transport the protocol rides on. */
  readonly transport: 'tcp' | 'udp' | 'both';
  /** Decide from the first bytes seen in `dir` (and the ports in `flow`). */
  probe(dir: Direction, head: Uint8Array, flow: FlowInfo): ProbeResult;
  create(ctx: ProtocolContext): ProtocolParser;
}
