// GET /admin/backup: a backup file of the embedded database, taken by the server that holds it.
//
// Why over HTTP: the running server holds DATA_DIR exclusively (src/db/data-dir-lock.ts), so
// `herald backup` cannot open the database while it serves; the server can snapshot its own
// PGlite consistently (src/db/backup.ts) without stopping. ADMIN API keys only: a backup holds
// every message, key hash and per-install secret. Access tokens are refused whatever their
// scope: they are for applications, not for carrying the whole database away.
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import { writeBackup } from '../db/backup.js';
import { BackupError } from '../domain/backup-file.js';
import type { Logger } from '../logging/logger.js';
import { recordAudit } from '../services/audit.js';
import { authenticate, presentsAccessToken, type AuthDeps } from './auth.js';

export const BACKUP_PATH = '/admin/backup';

export interface BackupRouteDeps {
  auth: AuthDeps;
  /** The embedded database; undefined on PostgreSQL. */
  pglite: PGlite | undefined;
  logger: Logger;
}

export async function serveBackup(req: IncomingMessage, res: ServerResponse, deps: BackupRouteDeps): Promise<void> {
  if (req.method !== 'GET') return refuse(res, 405, 'METHOD_NOT_ALLOWED', 'use GET');
  if (presentsAccessToken(req.headers.authorization)) return refuse(res, 403, 'FORBIDDEN', 'a backup needs an ADMIN API key, not an access token');
  let role: string;
  let who: { accountId: string; keyId: string | null };
  try {
    const auth = await authenticate(deps.auth, req.headers.authorization);
    role = auth.role;
    who = { accountId: auth.accountId, keyId: auth.keyId };
  } catch (error) {
    return refuse(res, 401, 'UNAUTHENTICATED', error instanceof Error ? error.message : 'unauthenticated');
  }
  if (role !== 'ADMIN') return refuse(res, 403, 'FORBIDDEN', 'a backup needs an ADMIN API key');
  if (!deps.pglite) {
    return refuse(res, 409, 'POSTGRES', 'this Herald runs on PostgreSQL (DATABASE_URL): back it up with pg_dump (see docs/operations.md)');
  }
  const started = performance.now();
  // Written to a file beside the database first (the manifest in front needs the payload's
  // length and digest), then sent from it with its length, and removed.
  const file = path.join(path.dirname(deps.pglite.dataDir ?? '.'), `backup-download-${process.pid}-${++downloads}`);
  try {
    let manifest;
    try {
      manifest = await writeBackup(deps.pglite, file);
    } catch (error) {
      if (error instanceof BackupError) return refuse(res, 409, error.code, error.message);
      throw error;
    }
    const { size } = await stat(file);
    // Everything the install holds leaves with it: who took it is in the audit log (after the
    // snapshot, so not in the file itself).
    await recordAudit(deps.auth.store.prisma, who, { action: 'backup.download', subjectId: manifest.createdAt, after: { bytes: size, migrations: manifest.migrations.length } });
    deps.logger.info({ bytes: size, ms: Math.round(performance.now() - started), migrations: manifest.migrations.length }, 'backup taken');
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      'content-disposition': `attachment; filename="herald-${manifest.createdAt.replace(/[:.]/g, '-')}.backup"`,
      'cache-control': 'no-store',
    });
    await pipeline(createReadStream(file), res);
  } finally {
    await rm(file, { force: true });
  }
}

let downloads = 0;

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: message, code }));
}
