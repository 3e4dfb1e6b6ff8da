// Test doubles for the SMTP/FTP parser tests: a ProtocolContext whose FileTracker keeps every file's bytes,
// metadata and state in memory, and records expectations and notes — so parsers are tested without the pipeline.
import { createHash } from 'node:crypto';
import type { Direction, Expectation, FileHandle, FileOpenInfo, FileState, FlowInfo, ProtocolContext, ProtocolParser } from '../../src/files/protocols/contract.js';

/** A file as the fake tracker saw it. */
export interface FakeFile {
  info: FileOpenInfo;
  chunks: Uint8Array[];
  gaps: number;
  state?: FileState;
  meta: Record<string, unknown>;
  bytes(): Buffer;
  sha256(): string;
}

/** Fake context: `files`, `expectations`, `notes` collect what the parser did. */
export interface FakeContext extends ProtocolContext {
  opened: FakeFile[];
  expectations: Expectation[];
  notes: string[];
}

/** A flow description for tests. */
export function fakeFlow(o: Partial<FlowInfo> = {}): FlowInfo {
  return { flowId: '1', communityId: '1:x', srcIp: '10.0.0.1', srcPort: 40000, dstIp: '10.0.0.2', dstPort: 25, proto: 6, ...o };
}

/** A context whose tracker keeps files in memory. */
export function fakeContext(flow: FlowInfo = fakeFlow()): FakeContext {
  const opened: FakeFile[] = [];
  const ctx: FakeContext = {
    flow,
    opened,
    expectations: [],
    notes: [],
    now: () => ({ sec: 0, nsec: 0 }),
    expect: (e) => { ctx.expectations.push(e); },
    note: (ev) => { ctx.notes.push(ev); },
    files: {
      open(info: FileOpenInfo): FileHandle {
        const f: FakeFile = {
          info, chunks: [], gaps: 0, meta: { ...info.meta },
          bytes: () => Buffer.concat(f.chunks),
          sha256: () => createHash('sha256').update(Buffer.concat(f.chunks)).digest('hex'),
        };
        opened.push(f);
        let size = 0;
        const h: FileHandle = {
          write(b) { if (f.state) throw new Error('write after close'); f.chunks.push(Uint8Array.from(b)); size += b.length; },
          writeAt() { throw new Error('writeAt not expected'); },
          gap(n) { f.gaps += n; },
          setMeta(m) { Object.assign(f.meta, m); },
          close(s) { if (f.state) throw new Error('closed twice'); f.state = s ?? (f.gaps ? 'TRUNCATED' : 'CLOSED'); },
          get size() { return size; },
          get closed() { return f.state !== undefined; },
        };
        return h;
      },
    },
  };
  return ctx;
}

/** Feed a scripted conversation: [dir, text-or-bytes] pairs, in order. */
export function feed(p: ProtocolParser, script: Array<[Direction, string | Uint8Array]>): void {
  for (const [d, x] of script) p.data(d, typeof x === 'string' ? Buffer.from(x, 'latin1') : x);
}
