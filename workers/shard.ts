// Shard worker entry: one flow shard of the parallel pipeline (logic in src/engine/shard-worker.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { serveShard } from '../src/engine/shard-worker.js';
import type { ShardInit } from '../src/engine/protocol.js';

if (!parentPort) throw new Error('workers/shard.js must run in a worker thread');
void serveShard(parentPort, workerData as ShardInit);
