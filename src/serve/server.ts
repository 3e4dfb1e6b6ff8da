// The probe service: a fastify app serving the probe manager's documented /rest/rules/... endpoints for
// alerts/events (qfilter), conditional pcaps (upload alert → extract → retrieve → download) and extracted files.
// Every path it reads is built from configured directories plus names it validated itself.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { FlowcarveError } from '../errors.js';
import { ProbeEvents, queryEvents } from './events.js';
import { QfilterError, parseQfilter } from './qfilter.js';

/** One probe: its conditional pcap store, its filestore and its EVE files. */
export interface ProbeConfig {
  name: string;
  store: string;
  filestore: string;
  eve: string[];
}

/** Carves the flow of `alert` from `store` into `outDir`; returns the pcap's path. */
export type Carver = (alert: Record<string, unknown>, store: string, outDir: string) => Promise<{ path: string; sha256: string; packets: number }>;

export interface ServeOptions {
  token: string;
  probes: ProbeConfig[];
  /** Directory for uploaded alerts and carved pcaps (per probe subfolders). */
  workDir: string;
  carver: Carver;
  /** Largest accepted upload in bytes (default 1 MiB). */
  maxUpload?: number;
  https?: { cert: string | Buffer; key: string | Buffer };
  logger?: boolean;
  /** Default page size of event lists. */
  pageSize?: number;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly detail: string, readonly extra: Record<string, unknown> = {}) {
    super(detail);
  }
}

const UPLOAD_NAME = /^alert-[0-9a-f]{32}\.json$/;
const SHA256 = /^[0-9a-f]{64}$/;

interface Job { state: 'running' | 'done' | 'failed'; pcap?: string; error?: string; result?: Record<string, unknown> }

/** Build the fastify app (not listening yet: call `listen`, or `inject` in tests). */
export async function buildServer(o: ServeOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.maxUpload ?? 1 << 20,
    ...(o.https ? { https: { cert: o.https.cert, key: o.https.key } } : {}),
  } as Record<string, unknown>) as unknown as FastifyInstance;
  await app.register(multipart, { limits: { fileSize: o.maxUpload ?? 1 << 20, files: 1, fields: 10 } });
  const expected = Buffer.from(o.token);
  const probes = new Map(o.probes.map((p) => [p.name, { cfg: p, events: new ProbeEvents(p.name, p.eve) }]));
  const jobs = new Map<string, Job>();

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const h = req.headers.authorization ?? '';
    const m = /^Token\s+(\S+)\s*$/.exec(h);
    const got = Buffer.from(m ? m[1]! : '');
    if (!m || got.length !== expected.length || !timingSafeEqual(got, expected)) {
      reply.code(401).send({ detail: m ? 'Invalid token.' : 'Authentication credentials were not provided.' });
      return reply;
    }
  });

  // Refuse an announced oversize upload before reading it (multipart framing adds at most a few KiB).
  const maxBody = (o.maxUpload ?? 1 << 20) + 16384;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const len = Number(req.headers['content-length'] ?? 0);
    if (len > maxBody) {
      reply.header('connection', 'close');
      reply.code(413).send({ detail: `upload of ${len} bytes exceeds the configured limit of ${o.maxUpload ?? 1 << 20} bytes` });
      return reply;
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ detail: err.detail, ...err.extra });
    if (err instanceof QfilterError) return reply.code(400).send({ detail: `bad qfilter: ${err.message}`, offset: err.offset });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (err.code === 'FST_REQ_FILE_TOO_LARGE' || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ detail: 'upload exceeds the configured limit' });
    return reply.code(status).send({ detail: status === 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((_req, reply) => { reply.code(404).send({ detail: 'Not found.' }); });

  const probeOf = (req: FastifyRequest, required = true) => {
    const host = (req.query as Record<string, string | undefined>).host;
    if (!host) {
      if (required) throw new HttpError(400, 'missing host parameter');
      return undefined;
    }
    const p = probes.get(host);
    if (!p) throw new HttpError(404, `unknown probe '${host}'`);
    return p;
  };

  const listEvents = async (req: FastifyRequest, reply: FastifyReply, type?: string) => {
    const q = req.query as Record<string, string | undefined>;
    const query = parseQfilter(q.qfilter);
    const pageSize = clampInt(q.page_size, o.pageSize ?? 30, 1, 10000, 'page_size');
    const page = clampInt(q.page, 1, 1, 1_000_000, 'page');
    const sel = q.host ? [probeOf(req)!] : [...probes.values()];
    for (const p of sel) await p.events.refresh();
    const r = queryEvents(sel.map((p) => p.events), query, { type, page, pageSize });
    reply.type('application/json');
    return `{"count":${r.count},"results":[${r.results.map((e) => e.raw).join(',')}]}`;
  };
  app.get('/rest/rules/es/alerts_tail/', (req, reply) => listEvents(req, reply, 'alert'));
  app.get('/rest/rules/es/events_tail/', (req, reply) => listEvents(req, reply));
  app.get('/rest/rules/es/events_from_flow_id/', (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (!q.qfilter) throw new HttpError(400, 'qfilter with flow_id is required');
    return listEvents(req, reply);
  });

  const probeDir = (name: string, sub: string) => join(o.workDir, Buffer.from(name).toString('hex'), sub);

  app.post('/rest/rules/filestore_pcap/upload/', async (req) => {
    const p = probeOf(req)!;
    if (!req.isMultipart()) throw new HttpError(400, 'expected a multipart upload with the alert JSON as a file');
    const file = await req.file();
    if (!file) throw new HttpError(400, 'no file in upload');
    const buf = await file.toBuffer();
    let alert: unknown;
    try {
      alert = JSON.parse(buf.toString('utf8').replace(BIG, '$1"$2"'));
    } catch (e) {
      throw new HttpError(400, `malformed alert JSON: ${(e as Error).message}`);
    }
    if (!alert || typeof alert !== 'object' || Array.isArray(alert)) throw new HttpError(400, 'alert JSON must be one object');
    const a = alert as Record<string, unknown>;
    if (!a.community_id && !(a.src_ip && a.dest_ip)) throw new HttpError(400, 'alert has neither community_id nor src_ip/dest_ip');
    const name = `alert-${createHash('sha256').update(buf).digest('hex').slice(0, 32)}.json`;
    const dir = probeDir(p.cfg.name, 'uploads');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, name), buf);
    return { filename: name };
  });

  const uploaded = async (req: FastifyRequest, name: string) => {
    if (!UPLOAD_NAME.test(name)) throw new HttpError(400, 'not a pcap request name issued by this server');
    const p = probeOf(req)!;
    const path = join(probeDir(p.cfg.name, 'uploads'), name);
    try {
      return { p, alert: JSON.parse((await readFile(path, 'utf8')).replace(BIG, '$1"$2"')) as Record<string, unknown> };
    } catch {
      throw new HttpError(404, `unknown pcap request '${name}'`);
    }
  };

  app.post('/rest/rules/filestore_pcap/:name/extract_pcap/', async (req) => {
    const { name } = req.params as { name: string };
    const { p, alert } = await uploaded(req, name);
    const key = `${p.cfg.name}/${name}`;
    const job: Job = { state: 'running' };
    jobs.set(key, job);
    try {
      const r = await o.carver(alert, p.cfg.store, probeDir(p.cfg.name, 'pcaps'));
      job.state = 'done';
      job.pcap = r.path;
      job.result = { sha256: r.sha256, packets: r.packets };
      return { status: 'done', filename: name, ...job.result };
    } catch (e) {
      job.state = 'failed';
      job.error = e instanceof FlowcarveError ? e.message : 'carving failed';
      throw new HttpError(404, `no pcap for this alert: ${job.error}`);
    }
  });

  app.get('/rest/rules/filestore_pcap/:name/retrieve/', async (req) => {
    const { name } = req.params as { name: string };
    const { p } = await uploaded(req, name);
    const job = jobs.get(`${p.cfg.name}/${name}`);
    if (!job) throw new HttpError(404, 'extraction was not requested for this alert');
    if (job.state === 'failed') throw new HttpError(404, `extraction failed: ${job.error}`);
    return { retrieve: job.state === 'done' ? 'done' : 'pending' };
  });

  app.get('/rest/rules/filestore_pcap/:name/download/', async (req, reply) => {
    const { name } = req.params as { name: string };
    if (!UPLOAD_NAME.test(name)) throw new HttpError(400, 'not a pcap request name issued by this server');
    const host = (req.query as Record<string, string | undefined>).host;
    const job = host ? jobs.get(`${probeOf(req)!.cfg.name}/${name}`) : [...jobs.entries()].find(([k]) => k.endsWith(`/${name}`))?.[1];
    if (!job || job.state !== 'done' || !job.pcap) throw new HttpError(404, 'pcap not ready: request extract_pcap first');
    const st = await stat(job.pcap).catch(() => null);
    if (!st) throw new HttpError(404, 'pcap no longer available');
    reply.header('content-type', 'application/vnd.tcpdump.pcap');
    reply.header('content-disposition', `attachment; filename="${name.replace(/\.json$/, '.pcap')}"`);
    reply.header('content-length', st.size);
    return reply.send(createReadStream(job.pcap));
  });

  const storedFile = async (req: FastifyRequest) => {
    const { sha256 } = req.params as { sha256: string };
    if (!SHA256.test(sha256)) throw new HttpError(400, 'not a sha256 (64 lowercase hex digits)');
    const p = probeOf(req)!;
    const path = join(p.cfg.filestore, sha256.slice(0, 2), sha256);
    const st = await stat(path).catch(() => null);
    if (st?.isFile()) return { p, path, size: st.size, sha256 };
    await p.events.refresh();
    const seen = p.events.events.some((e) => (e.obj.fileinfo as Record<string, unknown> | undefined)?.sha256 === sha256);
    throw new HttpError(404, seen ? 'file was extracted but is no longer in the filestore' : 'file not found', { status: seen ? 'deleted' : 'not found' });
  };
  app.get('/rest/rules/filestore/:sha256/status/', async (req) => {
    await storedFile(req);
    return { status: 'available' };
  });
  app.get('/rest/rules/filestore/:sha256/retrieve/', async (req) => {
    await storedFile(req);
    return { retrieve: 'done' };
  });
  app.get('/rest/rules/filestore/:sha256/download/', async (req, reply) => {
    const f = await storedFile(req);
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-disposition', `attachment; filename="${f.sha256}"`);
    reply.header('content-length', f.size);
    return reply.send(createReadStream(f.path));
  });
  return app;
}

const BIG = /("(?:[^"\\]|\\.)*"\s*:\s*)(-?\d{16,})(?=\s*[,}\]])/g;

function clampInt(v: string | undefined, dflt: number, min: number, max: number, name: string): number {
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v)) throw new HttpError(400, `${name} must be a positive integer`);
  const n = Number(v);
  if (n < min || n > max) throw new HttpError(400, `${name} must be between ${min} and ${max}`);
  return n;
}
