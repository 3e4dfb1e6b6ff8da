// The `http` protocol module: content probe (request line or status line, any port) and the HTTP/1.x parser.

import type { Direction, FlowInfo, ProbeResult, ProtocolContext, ProtocolModule } from '../contract.js';
import { HttpParser } from './parser.js';

export { HttpParser, HTTP_MAX_LINE, HTTP_MAX_HEADERS, HTTP_MAX_PENDING_TX } from './parser.js';
export { HttpTx, dispositionFilename, parseContentRange, percentDecode } from './state.js';
export { MultipartSink, DecodingSink, parseCodings, HTTP_MAX_ENCODED_BODY, HTTP_MAX_DECODED_BODY, type BodySink } from './body.js';

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT'];
const HTTP_ = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"

/** Content probe: a known method + space from the client, or "HTTP/" from the server. */
export function probeHttp(dir: Direction, head: Uint8Array, _flow: FlowInfo): ProbeResult {
  if (dir === 1) {
    const n = Math.min(head.length, 5);
    for (let i = 0; i < n; i++) if ((i < 4 ? head[i]! & 0xdf : head[i]) !== HTTP_[i]) return 'no';
    return n < 5 ? 'need-more' : 'yes';
  }
  let i = 0;
  while (i < head.length && i < 12 && head[i]! >= 0x41 && head[i]! <= 0x5a) i++;
  if (i === head.length) {
    const s = Buffer.from(head).toString('latin1');
    return METHODS.some((m) => m.startsWith(s)) ? 'need-more' : 'no';
  }
  if (head[i] !== 0x20) return 'no';
  const m = Buffer.from(head.subarray(0, i)).toString('latin1');
  return METHODS.includes(m) ? 'yes' : 'no';
}

/** HTTP/1.x. */
export const http: ProtocolModule = {
  name: 'http',
  transport: 'tcp',
  probe: probeHttp,
  create: (ctx: ProtocolContext) => new HttpParser(ctx),
};
