// Test double for the SMB/NFS/RPC parser tests: a ProtocolContext whose FileTracker keeps each file's
// writeAt ranges in memory (first write of a byte wins), finds holes at close (gaps → TRUNCATED), and records
// notes — so the sans-IO parsers are tested without reassembly or the pipeline.
import { createHash } from 'node:crypto';
import type { Direction, FileHandle, FileOpenInfo, FileState, FlowInfo, ProtocolContext } from '../../src/files/protocols/contract.js';

/** A file as the fake tracker saw it. */
export interface RangeFile {
  info: FileOpenInfo;
  meta: Record<string, unknown>;
  state?: FileState;
  gaps: boolean;
  /** Bytes in offset order (holes left as zeros). */
  bytes(): Buffer;
  sha256(): string;
  ranges: Array<[number, Uint8Array]>;
}

export interface RangeContext extends ProtocolContext { opened: RangeFile[]; notes: string[] }

/** A flow for tests (defaults: TCP client 10.0.0.1:50000 → 10.0.0.2:445). */
export function flow(o: Partial<FlowInfo> = {}): FlowInfo {
  return { flowId: '7', communityId: '1:test', srcIp: '10.0.0.1', srcPort: 50000, dstIp: '10.0.0.2', dstPort: 445, proto: 6, ...o };
}

/** A context whose tracker keeps files in memory. */
export function rangeContext(f: FlowInfo = flow()): RangeContext {
  const opened: RangeFile[] = [];
  const notes: string[] = [];
  const ctx: RangeContext = {
    flow: f, opened, notes,
    now: () => ({ sec: 0, nsec: 0 }),
    expect: () => { throw new Error('SMB/NFS never expect connections'); },
    note: (e) => { notes.push(e); },
    files: {
      open(info: FileOpenInfo): FileHandle {
        const ranges: Array<[number, Uint8Array]> = [];
        let end = 0, closed = false, gapFlag = false;
        const rf: RangeFile = {
          info, meta: { ...info.meta }, gaps: false, ranges,
          bytes() {
            const out = Buffer.alloc(end);
            // First write of a byte wins: apply in reverse order.
            for (let k = ranges.length - 1; k >= 0; k--) out.set(ranges[k]![1], ranges[k]![0]);
            return out;
          },
          sha256() { return createHash('sha256').update(rf.bytes()).digest('hex'); },
        };
        opened.push(rf);
        const holes = () => {
          const s = [...ranges].sort((a, b) => a[0] - b[0]);
          let at = 0;
          for (const [o, b] of s) { if (o > at) return true; at = Math.max(at, o + b.length); }
          return false;
        };
        return {
          write(b) { ranges.push([end, b.slice()]); end += b.length; },
          writeAt(o, b) { if (closed) throw new Error('writeAt after close'); ranges.push([o, b.slice()]); end = Math.max(end, o + b.length); },
          gap(n) { end += n; gapFlag = true; },
          setMeta(m) { Object.assign(rf.meta, m); },
          close(st) { if (closed) return; closed = true; rf.gaps = gapFlag || holes(); rf.state = st ?? (rf.gaps ? 'TRUNCATED' : 'CLOSED'); if (rf.gaps && rf.state === 'CLOSED') rf.state = 'TRUNCATED'; },
          get size() { return end; },
          get closed() { return closed; },
        };
      },
    },
  };
  return ctx;
}

/** Feed `bytes` to `fn` in pieces of `n` bytes (segment boundaries anywhere). */
export function inPieces(bytes: Uint8Array, n: number, fn: (b: Uint8Array) => void): void {
  for (let o = 0; o < bytes.length; o += n) fn(bytes.subarray(o, Math.min(bytes.length, o + n)));
}

export type { Direction };
