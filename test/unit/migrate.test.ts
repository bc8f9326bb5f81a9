import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, MigrationError } from '../../src/db/migrate.js';

let pglite: PGlite | undefined;
afterEach(async () => {
  await pglite?.close();
});

describe('applyMigrations', () => {
  it('applies every migration once and records it like prisma migrate deploy', async () => {
    pglite = new PGlite();
    const applied = await applyMigrations(pglite, { advisoryLock: false });
    expect(applied.length).toBeGreaterThan(0);
    expect(await applyMigrations(pglite, { advisoryLock: false })).toEqual([]);
    const { rows } = await pglite.query<{ n: number }>('SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL');
    expect(rows[0].n).toBe(applied.length);
  });

  it('refuses a database whose applied migration was edited afterwards', async () => {
    pglite = new PGlite();
    await applyMigrations(pglite, { advisoryLock: false });
    await pglite.query(`UPDATE "_prisma_migrations" SET checksum = 'x'`);
    await expect(applyMigrations(pglite, { advisoryLock: false })).rejects.toThrow(MigrationError);
  });

  it('refuses a database migrated by a newer version', async () => {
    pglite = new PGlite();
    await applyMigrations(pglite, { advisoryLock: false });
    await pglite.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at) VALUES ('z', 'z', '99990101000000_future', now())`);
    await expect(applyMigrations(pglite, { advisoryLock: false })).rejects.toThrow(/newer version/);
  });

  it('rolls back a failing migration and reports which one failed', async () => {
    pglite = new PGlite();
    // A table that the first migration creates, already present: its CREATE TABLE fails.
    await pglite.exec('CREATE TABLE "Account" (x int)');
    await expect(applyMigrations(pglite, { advisoryLock: false })).rejects.toThrow(/migration \S+_init failed/);
    const { rows } = await pglite.query<{ n: number }>('SELECT count(*)::int AS n FROM "_prisma_migrations"');
    expect(rows[0].n).toBe(0);
  });
});
