// Child process for the crash test: writes an endless deterministic TCP flow into a store (small segments,
// flushed often) until the parent kills it with SIGKILL. Usage: node _crash-child.js STORE_DIR
import { SegmentStore } from '../../src/store/segments.js';
import { tupleHashIps } from '../../src/eve/alert.js';
import { crashFrames } from './_crash-frames.js';

const dir = process.argv[2]!;
const { store } = SegmentStore.open(dir, { fileSize: 64 * 1024 });
const [hashHi, hashLo] = tupleHashIps(6, '10.7.0.1', 5555, '192.0.2.77', 80);
const flow = { hashHi, hashLo, fidHi: 0, fidLo: 77, flowStartUs: 1700000000e6, vlan: 0, proto: 6, stored: 0 };
let n = 0;
for (const f of crashFrames(400000)) {
  store.write(flow, f.sec, f.nsec, f.data, f.data.length, 1);
  if (++n % 20 === 0) store.flush();
  if (n === 2000) process.stdout.write('ready\n');
}
store.close();
