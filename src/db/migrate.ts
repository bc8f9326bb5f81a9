// Applies prisma/migrations/*/migration.sql at start, recording them in `_prisma_migrations`
// with the same table and checksums as `prisma migrate deploy`, so a database migrated here
// and one migrated by the Prisma CLI are interchangeable.
//
// Why not Prisma's engine: the CLI needs a native schema-engine binary it cannot download
// offline, and the WASM engine's applyMigrations (7.10.0-7) fails inside its bindings on both
// PostgreSQL and PGlite adapters ("invalid type … expected unit"). Applying ordered SQL files
// is small enough to own; creating migrations still uses the WASM engine's diff
// (scripts/create-migration.ts).
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/paths.js';

export const prismaDir = path.join(projectRoot, 'prisma');
export const schemaPath = path.join(prismaDir, 'schema.prisma');
export const migrationsDir = path.join(prismaDir, 'migrations');

/** The two calls the runner needs, over one connection (pg.Client or PGlite). */
export interface SqlSession {
  exec(sql: string): Promise<unknown>;
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

// An arbitrary constant: every Herald process migrating the same PostgreSQL database takes
// this advisory lock, so two instances starting together apply each migration once.
const MIGRATION_LOCK_ID = 72_707_369;

export async function applyMigrations(session: SqlSession, options: { advisoryLock: boolean }): Promise<string[]> {
  const migrations = readMigrations();
  if (options.advisoryLock) await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
  try {
    await session.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await session.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...applied.keys()].filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new MigrationError(
        `the database has migrations this version of Herald does not know (${unknown.join(', ')}); it was migrated by a newer version`,
      );
    }

    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new MigrationError(`migration ${migration.name} was changed after it was applied (checksum mismatch)`);
        }
        continue;
      }
      await applyOne(session, migration);
      newlyApplied.push(migration.name);
    }
    return newlyApplied;
  } finally {
    if (options.advisoryLock) await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  // PostgreSQL DDL is transactional: a failing migration leaves nothing half-applied.
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK').catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${migration.name} failed: ${reason}`);
  }
}

/**
 * The migrations in prisma/migrations, in order. Synchronous (a few small files): the start
 * names the embedded database's template from them before it yields (src/db/pglite-template.ts).
 */
export function readMigrations(): Migration[] {
  const entries = readdirSync(migrationsDir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return names.map((name) => {
    const sql = readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8');
    return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}
