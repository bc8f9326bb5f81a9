// GET /admin/backup (src/http/backup-route.ts): ADMIN API keys only; on the embedded database a
// whole backup file that restores (src/db/backup.ts) with what was sent; on PostgreSQL a 409
// that says to use pg_dump.
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type RunningHerald } from '../../src/app/server.js';
import { makeConfig } from '../../src/config/config.js';
import { restoreDataDir } from '../../src/db/backup.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { readMigrations } from '../../src/db/migrate.js';
import { BackupError, decodeBackup } from '../../src/domain/backup-file.js';
import { createLogger } from '../../src/logging/logger.js';
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';
import { waitFor } from '../support/delivery.js';
import { expectNoErrors, graphqlCaller, startTestHerald, testDatabaseKind, type TestHerald } from '../support/herald.js';

let workDir: string;
let stop: () => Promise<void>;
let adminKey: string;
let senderKey: string;
let graphqlUrl: string;
let backupUrl: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'herald-backup-route-'));
  if (testDatabaseKind() === 'postgres') {
    const t: TestHerald = await startTestHerald();
    const account = await t.seedAccount();
    ({ adminKey, senderKey } = account);
    graphqlUrl = t.url;
    stop = () => t.stop();
  } else {
    // On disk, not the tests' usual in-memory PGlite: a backup is of the files in DATA_DIR.
    const database: Database = await openDatabase({ databaseUrl: undefined, dataDir: path.join(workDir, 'data'), holder: 'test' });
    const config = makeConfig({ port: 0, production: true, bootstrapAdminKey: false, logLevel: 'silent', dispatch: false, statsRollupPollMs: 0, qualityFlushMs: 0 });
    const herald: RunningHerald = await startHerald({ config, logger: createLogger(config), database });
    const account = await ensureAccount(database.prisma, 'backup-route');
    adminKey = (await createApiKey(database.prisma, { accountId: account.id, name: 'admin', role: 'ADMIN' })).secret;
    senderKey = (await createApiKey(database.prisma, { accountId: account.id, name: 'sender', role: 'SENDER' })).secret;
    graphqlUrl = `${herald.url}/graphql`;
    stop = async () => {
      await herald.stop();
      await database.close();
    };
  }
  backupUrl = new URL('/admin/backup', graphqlUrl).toString();
}, 60_000);

afterAll(async () => {
  await stop?.();
  await rm(workDir, { recursive: true, force: true });
});

const get = (authorization?: string, method = 'GET') => fetch(backupUrl, { method, headers: authorization ? { authorization } : {} });

describe('GET /admin/backup', () => {
  it('refuses no key, a wrong key, a SENDER key and other methods, with a JSON code', async () => {
    const cases: [Response, number, string][] = [
      [await get(), 401, 'UNAUTHENTICATED'],
      [await get('Bearer hk_aaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'), 401, 'UNAUTHENTICATED'],
      [await get(`Bearer ${senderKey}`), 403, 'FORBIDDEN'],
      [await get(`Bearer ${adminKey}`, 'POST'), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [response, status, code] of cases) {
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ code });
    }
  });

  it.runIf(testDatabaseKind() === 'postgres')('on PostgreSQL answers 409 POSTGRES, naming pg_dump', async () => {
    const response = await get(`Bearer ${adminKey}`);
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ code: 'POSTGRES', error: expect.stringContaining('pg_dump') });
  });

  it.runIf(testDatabaseKind() === 'pglite')('on the embedded database answers a whole backup that restores with what was sent', async () => {
    const sent = expectNoErrors(
      await graphqlCaller(graphqlUrl, senderKey)(`mutation { sendMessage(input: { to: "+14155550123", body: "in the backup" }) { ... on SendMessageSuccess { data { id } } } }`),
    ).sendMessage.data.id as string;
    const response = await get(`Bearer ${adminKey}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="herald-.*\.backup"$/);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    const decoded = decodeBackup(bytes);
    if (decoded instanceof BackupError) throw decoded;
    expect(decoded.manifest.migrations).toEqual(readMigrations().map((m) => m.name));
    // Who took it is in the audit log.
    const audit = expectNoErrors(await graphqlCaller(graphqlUrl, adminKey)(`{ auditLog(first: 5, filter: { action: "backup.download" }) { edges { node { action keyId after } } } }`)).auditLog.edges;
    expect(audit).toHaveLength(1);
    expect(audit[0].node.after).toMatchObject({ bytes: bytes.length });
    // Nothing of the download is left beside the database (removed once sent).
    await waitFor(() => readdirSync(path.join(workDir, 'data')).length === 2, { what: 'the download removed' });
    expect(readdirSync(path.join(workDir, 'data')).sort()).toEqual(['herald.lock', 'pgdata']);

    const file = path.join(workDir, 'route.backup');
    await writeFile(file, bytes);
    const { counts } = await restoreDataDir(path.join(workDir, 'restored'), file);
    expect(counts).toMatchObject({ messages: 1, apiKeys: 2 });
    const restored = new PGlite(path.join(workDir, 'restored', 'pgdata'));
    try {
      // The API's ids are global ("Message:<uuid>", base64).
      const uuid = Buffer.from(sent, 'base64').toString('utf8').replace(/^Message:/, '');
      const { rows } = await restored.query<{ id: string; to: string }>('SELECT id, "to" FROM "Message" WHERE id = $1', [uuid]);
      expect(rows).toEqual([{ id: uuid, to: '+14155550123' }]);
    } finally {
      await restored.close();
    }
  }, 60_000);
});
