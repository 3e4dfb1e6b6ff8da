// The protocol modules file extraction runs, in probe order. Each protocol adds one import and one entry.

import type { ProtocolModule } from './protocols/contract.js';
import { http } from './protocols/http/index.js';
import { smb } from './protocols/smb/index.js';
import { nfs } from './protocols/nfs/index.js';
import { smtp } from './protocols/smtp/index.js';
import { ftp, ftpData } from './protocols/ftp/index.js';

/** Registered protocol modules (probe order; modules with `fallback: true` run only for unclaimed flows). */
export const PROTOCOLS: ProtocolModule[] = [
  http,
  smb,
  nfs,
  smtp,
  ftp,
  ftpData,
];
