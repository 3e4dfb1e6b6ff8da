// `flowcarve serve`: the probe REST service over HTTPS (or HTTP) for alerts, conditional pcaps and files.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseSize } from '../command.js';
import { loadServeConfig } from '../../serve/config.js';
import { buildServer } from '../../serve/server.js';
import { storeCarver } from '../../serve/carver.js';

export const summary = 'serve alerts, conditional pcaps and extracted files over the probe manager REST API';
export const usage = `usage: flowcarve serve [--config FILE] [--host ADDR] [--port N] [--cert PEM --key PEM]
                       (--token TOKEN | --token-file FILE) --probe NAME=STORE_DIR,FILESTORE_DIR,EVE_FILE... [--probe ...]
                       [--work-dir DIR] [--max-upload SIZE]

Endpoints (all need 'Authorization: Token <token>'):
  GET  /rest/rules/es/alerts_tail/?qfilter=Q[&host=P][&page=N&page_size=N]
  GET  /rest/rules/es/events_tail/?qfilter=Q
  GET  /rest/rules/es/events_from_flow_id/?qfilter=flow_id:ID
  POST /rest/rules/filestore_pcap/upload/?host=P          (multipart: the alert JSON as a file) -> {"filename"}
  POST /rest/rules/filestore_pcap/NAME/extract_pcap/?host=P
  GET  /rest/rules/filestore_pcap/NAME/retrieve/?host=P   -> {"retrieve":"done"}
  GET  /rest/rules/filestore_pcap/NAME/download/           -> application/vnd.tcpdump.pcap
  GET  /rest/rules/filestore/SHA256/{status,retrieve,download}/?host=P
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' },
      token: { type: 'string' }, 'token-file': { type: 'string' }, probe: { type: 'string', multiple: true }, 'work-dir': { type: 'string' },
      'max-upload': { type: 'string' },
    },
  });
  const cfg = loadServeConfig({
    config: values.config, host: values.host, port: values.port, token: values.token, tokenFile: values['token-file'], probe: values.probe,
    workDir: values['work-dir'], maxUpload: values['max-upload'] ? parseSize(values['max-upload']) : undefined, cert: values.cert, key: values.key,
  });
  const app = await buildServer({
    token: cfg.token, probes: cfg.probes, workDir: cfg.workDir, maxUpload: cfg.maxUpload, carver: storeCarver,
    https: cfg.cert && cfg.key ? { cert: readFileSync(cfg.cert), key: readFileSync(cfg.key) } : undefined,
  });
  const addr = await app.listen({ host: cfg.host, port: cfg.port });
  process.stderr.write(`flowcarve serve: listening on ${addr} (${cfg.probes.map((p) => p.name).join(', ')})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => { app.close().then(() => resolve(), () => resolve()); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
