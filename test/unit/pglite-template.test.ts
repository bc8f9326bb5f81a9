import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, readMigrations } from '../../src/db/migrate.js';
import { buildTemplate, openPGlite, templatePaths } from '../../src/db/pglite-template.js';

let pglite: PGlite | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await pglite?.close();
  pglite = undefined;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const appliedCount = async (db: PGlite) =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL')).rows[0].n;

describe('the embedded database template', () => {
  beforeAll(async () => {
    // npm ci makes it; building again is a no-op that says so.
    await buildTemplate();
  });

  it('is named after the PGlite version and the migrations it holds', async () => {
    const { path: built, built: again } = await buildTemplate();
    expect(again).toBe(false);
    const paths = await templatePaths();
    expect(built).toBe(paths.dir);
    expect(path.basename(paths.dir)).toMatch(/^pgdata-\d+\.\d+\.\d+-[0-9a-f]{16}$/);
    expect(paths.tarball).toBe(`${paths.dir}.tar.gz`);
  });

  it('gives a fresh data directory every migration, with nothing left for the runner', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-template-'));
    dirs.push(dir);
    pglite = await openPGlite(path.join(dir, 'pgdata'));
    expect(await appliedCount(pglite)).toBe((await readMigrations()).length);
    expect(await applyMigrations(pglite, { advisoryLock: false })).toEqual([]);
    // Smaller than PostgreSQL's 128 MB default: the embedded server's idle memory (see openPGlite).
    expect((await pglite.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]!.shared_buffers).toBe('32MB');
    // A real cluster on disk, writable and kept across a reopen (not unpacked again over it).
    await pglite.exec(`INSERT INTO "Account" (id, name) VALUES ('00000000-0000-7000-8000-000000000001', 'kept')`);
    await pglite.close();
    pglite = await openPGlite(path.join(dir, 'pgdata'));
    expect((await pglite.query<{ name: string }>('SELECT name FROM "Account"')).rows).toEqual([{ name: 'kept' }]);
  });

  it('discards a copy an interrupted start left behind, and copies anew', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-template-'));
    dirs.push(dir);
    const leftover = path.join(dir, 'pgdata.partial-999999');
    await mkdir(path.join(leftover, 'base'), { recursive: true });
    await writeFile(path.join(leftover, 'PG_VERSION'), '17');
    pglite = await openPGlite(path.join(dir, 'pgdata'));
    expect(await appliedCount(pglite)).toBe(readMigrations().length);
    expect(await readdir(dir)).toEqual(['pgdata']);
  });

  it('leaves alone a directory that holds other files but no database', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-template-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'pgdata'));
    await writeFile(path.join(dir, 'pgdata', 'notes.txt'), 'mine');
    await expect(openPGlite(path.join(dir, 'pgdata'))).rejects.toThrow(/not empty and holds no database/);
    expect(await readdir(path.join(dir, 'pgdata'))).toEqual(['notes.txt']);
  });

  it('falls back to initdb and the migration runner when there is no template', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-template');
    pglite = await openPGlite('memory://', { template: { dir: missing, tarball: `${missing}.tar.gz` } });
    expect(await pglite.query('SELECT to_regclass($1) AS t', ['"_prisma_migrations"'])).toMatchObject({ rows: [{ t: null }] });
    const applied = await applyMigrations(pglite, { advisoryLock: false });
    expect(applied.length).toBe((await readMigrations()).length);
  });
});
