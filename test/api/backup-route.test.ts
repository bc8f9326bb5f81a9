// GET /admin/backup (src/http/backup-route.ts): ADMIN API keys only; on the embedded database a
// whole backup file that restores (src/db/backup.ts) with what was sent; on PostgreSQL a 409
// that says to use pg_dump.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreDataDir } from '../../src/db/backup.js';
import { readMigrations } from '../../src/db/migrate.js';
import { BackupError, decodeBackup } from '../../src/domain/backup-file.js';
import { expectNoErrors, startTestHerald, testDatabaseKind, type SeededAccount, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let account: SeededAccount;
let backupUrl: string;
beforeAll(async () => {
  t = await startTestHerald();
  account = await t.seedAccount();
  backupUrl = new URL('/admin/backup', t.url).toString();
});
afterAll(async () => {
  await t?.stop();
});

const get = (authorization?: string, method = 'GET') => fetch(backupUrl, { method, headers: authorization ? { authorization } : {} });

describe('GET /admin/backup', () => {
  it('refuses no key, a wrong key, a SENDER key and other methods, with a JSON code', async () => {
    const cases: [Response, number, string][] = [
      [await get(), 401, 'UNAUTHENTICATED'],
      [await get('Bearer hk_aaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'), 401, 'UNAUTHENTICATED'],
      [await get(`Bearer ${account.senderKey}`), 403, 'FORBIDDEN'],
      [await get(`Bearer ${account.adminKey}`, 'POST'), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [response, status, code] of cases) {
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ code });
    }
  });

  it.runIf(testDatabaseKind() === 'postgres')('on PostgreSQL answers 409 POSTGRES, naming pg_dump', async () => {
    const response = await get(`Bearer ${account.adminKey}`);
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ code: 'POSTGRES', error: expect.stringContaining('pg_dump') });
  });

  it.runIf(testDatabaseKind() === 'pglite')('on the embedded database answers a whole backup that restores with what was sent', async () => {
    const sent = expectNoErrors(
      await account.sender(`mutation { sendMessage(input: { to: "+14155550123", body: "in the backup" }) { ... on SendMessageSuccess { data { id } } } }`),
    ).sendMessage.data.id as string;
    const response = await get(`Bearer ${account.adminKey}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="herald-.*\.backup"$/);
    const file = Buffer.from(await response.arrayBuffer());
    const decoded = decodeBackup(file);
    if (decoded instanceof BackupError) throw decoded;
    expect(decoded.manifest.migrations).toEqual(readMigrations().map((m) => m.name));

    const dir = await mkdtemp(path.join(tmpdir(), 'herald-backup-route-'));
    try {
      const { counts } = await restoreDataDir(path.join(dir, 'data'), file);
      expect(counts.messages).toBeGreaterThanOrEqual(1);
      const { PGlite } = await import('@electric-sql/pglite');
      const restored = new PGlite(path.join(dir, 'data', 'pgdata'));
      try {
        // The API's ids are global ("Message:<uuid>", base64).
        const uuid = Buffer.from(sent, 'base64').toString('utf8').replace(/^Message:/, '');
        const { rows } = await restored.query<{ id: string; to: string }>('SELECT id, "to" FROM "Message" WHERE id = $1', [uuid]);
        expect(rows).toEqual([{ id: uuid, to: '+14155550123' }]);
      } finally {
        await restored.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
