// A throwaway self-signed certificate for HTTPS tests (openssl CLI), and a tiny HTTPS client over a real socket.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';

/** Create key.pem + cert.pem for CN=localhost in `dir`; null when openssl is missing. */
export function makeCert(dir: string): { key: Buffer; cert: Buffer } | null {
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  if (r.status !== 0) return null;
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

export interface Resp { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** One HTTPS request to 127.0.0.1:`port`, trusting `ca`. */
export function httpsRequest(port: number, ca: Buffer, method: string, path: string, o: { token?: string; body?: Buffer | (() => AsyncIterable<Buffer>); headers?: Record<string, string> } = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token !== undefined) headers.authorization = `Token ${o.token}`;
    const req = request({ host: '127.0.0.1', port, method, path, ca, servername: 'localhost', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (typeof o.body === 'function') {
      (async () => {
        try {
          for await (const c of (o.body as () => AsyncIterable<Buffer>)()) {
            if (req.destroyed) break;
            if (!req.write(c)) await new Promise((r) => req.once('drain', r));
          }
          req.end();
        } catch { /* the server may close early on a refused upload */ }
      })();
    } else req.end(o.body);
  });
}

/** A multipart/form-data body with one file field. */
export function multipartBody(field: string, filename: string, content: Buffer): { body: Buffer; type: string } {
  const boundary = '----flowcarve' + Date.now().toString(16);
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/json\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, content, tail]), type: `multipart/form-data; boundary=${boundary}` };
}
