// Backup and restore of the embedded database (PGlite in DATA_DIR/pgdata), as files in the
// format of domain/backup-file.ts. PostgreSQL deployments use pg_dump / pg_restore instead
// (cli/backup.ts says so): PostgreSQL's own tools are consistent, incremental-capable and
// known to every operator, and Herald has nothing to add to them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { projectRoot } from '../config/paths.js';
import { BackupError, checkSchema, decodeBackup, encodeBackup, type BackupManifest } from '../domain/backup-file.js';
import { lockDataDir } from './data-dir-lock.js';
import { readMigrations } from './migrate.js';
import { openPGlite, pgliteVersion } from './pglite-template.js';

const gzipAsync = promisify(gzip);

/** Where Herald keeps the embedded cluster inside DATA_DIR (as src/db/database.ts opens it). */
export const pgdataOf = (dataDir: string) => path.join(dataDir, 'pgdata');
/** A restore unpacks here (inside DATA_DIR, so the final rename stays on one file system). */
const RESTORING_PREFIX = 'pgdata.restoring-';

/**
 * The backup file of an open embedded database, taken while it serves (the server's own
 * PGlite) or while nothing else has it open (the CLI's).
 *
 * Consistent: PGlite is one connection, and dumpDataDir holds its query lock while it reads the
 * files, so no statement runs in between and the copy is one moment's state of the files:
 * exactly what PostgreSQL finds after a power cut, committed transactions in the WAL. A restore
 * opens it as PostgreSQL recovers from a crash: every transaction committed before the copy is
 * there, one in flight is not. The CHECKPOINT first makes the data files current, so that
 * recovery replays little. The tarball is read uncompressed under the lock and compressed after
 * it (on libuv's threads): the database waits only for the file reads.
 */
export async function snapshotEmbedded(pglite: PGlite): Promise<{ file: Buffer; manifest: BackupManifest }> {
  await pglite.exec('CHECKPOINT');
  const migrations = await appliedMigrations(pglite);
  const postgresVersion = (await pglite.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  const tarball = await pglite.dumpDataDir('none');
  const payload = await gzipAsync(new Uint8Array(await tarball.arrayBuffer()), { level: 6 });
  const manifest = { heraldVersion: heraldVersion(), pgliteVersion: pgliteVersion(), postgresVersion, migrations, createdAt: new Date().toISOString() };
  const file = encodeBackup(manifest, payload);
  const decoded = decodeBackup(file);
  if (decoded instanceof BackupError) throw decoded;
  return { file, manifest: decoded.manifest };
}

/**
 * A backup of DATA_DIR's database when no process holds it: takes DATA_DIR's lock (a
 * DataDirBusyError when a server runs on it: the caller then asks that server), opens the
 * cluster as it is (no migrations: the backup is of what is there) and snapshots it.
 */
export async function backupDataDir(dataDir: string): Promise<{ file: Buffer; manifest: BackupManifest }> {
  if (!existsSync(path.join(pgdataOf(dataDir), 'PG_VERSION'))) {
    throw new BackupError('NO_DATABASE', `there is no embedded database in ${dataDir} (no pgdata/PG_VERSION): nothing to back up`);
  }
  const unlock = lockDataDir(dataDir, 'herald backup');
  try {
    const pglite = await openPGlite(pgdataOf(dataDir));
    try {
      return await snapshotEmbedded(pglite);
    } finally {
      await pglite.close();
    }
  } finally {
    await unlock();
  }
}

export interface RestoreSummary {
  manifest: BackupManifest;
  /** Rows found in the restored database (printed, so the operator sees what came back). */
  counts: { messages: number; apiKeys: number; templates: number; settings: number };
}

/**
 * Restores a backup file into an empty DATA_DIR, all or nothing: the file is checked whole
 * (length, SHA-256, schema) before DATA_DIR is touched; the database is unpacked beside its
 * final place, opened and checked (it recovers, its migrations are the manifest's), and only
 * then renamed to DATA_DIR/pgdata. A failure at any step removes what the restore made.
 * Newer migrations are not applied here: the next start does that, as after any upgrade.
 */
export async function restoreDataDir(dataDir: string, bytes: Buffer): Promise<RestoreSummary> {
  const decoded = decodeBackup(bytes);
  if (decoded instanceof BackupError) throw decoded;
  const schema = checkSchema(decoded.manifest, readMigrations().map((m) => m.name));
  if (schema) throw schema;

  const existed = existsSync(dataDir);
  // A running server's DATA_DIR is refused here (DataDirBusyError), before anything is written.
  const unlock = lockDataDir(dataDir, 'herald restore');
  const partial = path.join(dataDir, `${RESTORING_PREFIX}${process.pid}`);
  let restored = false;
  try {
    const entries = readdirSync(dataDir);
    const present = entries.filter((entry) => entry !== 'herald.lock' && !entry.startsWith(RESTORING_PREFIX));
    if (present.length > 0) {
      throw new BackupError(
        'DATA_DIR_NOT_EMPTY',
        `${dataDir} is not empty (it holds ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}): a restore goes into an empty DATA_DIR only; move it away or set DATA_DIR to a new directory`,
      );
    }
    // Left by a restore that was killed: we hold the lock, so nobody is writing them.
    for (const entry of entries.filter((e) => e.startsWith(RESTORING_PREFIX))) await rm(path.join(dataDir, entry), { recursive: true, force: true });

    const counts = await unpackAndCheck(partial, decoded.manifest, decoded.payload);
    await rename(partial, pgdataOf(dataDir));
    restored = true;
    return { manifest: decoded.manifest, counts };
  } finally {
    if (!restored) await rm(partial, { recursive: true, force: true });
    await unlock();
    // DATA_DIR made by this restore (for its lock) goes too when the restore failed.
    if (!restored && !existed) await rm(dataDir, { recursive: true, force: true });
  }
}

async function unpackAndCheck(target: string, manifest: BackupManifest, payload: Buffer): Promise<RestoreSummary['counts']> {
  let pglite: PGlite | undefined;
  try {
    // PGlite unpacks the tarball into `target` (a new directory) and recovers it on opening.
    pglite = new PGlite(target, { loadDataDir: new Blob([new Uint8Array(payload)], { type: 'application/x-gzip' }) });
    await pglite.waitReady;
    const migrations = await appliedMigrations(pglite);
    if (migrations.join('\n') !== manifest.migrations.join('\n')) {
      throw new BackupError('UNUSABLE', "the backup's database does not hold the migrations its manifest names; it was not restored");
    }
    const { rows } = await pglite.query<{ messages: number; api_keys: number; templates: number; settings: number }>(
      `SELECT (SELECT count(*)::int FROM "Message") AS messages, (SELECT count(*)::int FROM "ApiKey") AS api_keys,
              (SELECT count(*)::int FROM "Template") AS templates, (SELECT count(*)::int FROM "Setting") AS settings`,
    );
    const row = rows[0]!;
    return { messages: row.messages, apiKeys: row.api_keys, templates: row.templates, settings: row.settings };
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError('UNUSABLE', `the backup's database could not be opened (${error instanceof Error ? error.message : String(error)}); it was not restored`);
  } finally {
    await pglite?.close().catch(() => {});
  }
}

async function appliedMigrations(pglite: PGlite): Promise<string[]> {
  const { rows } = await pglite.query<{ migration_name: string }>(
    'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name',
  );
  return rows.map((r) => r.migration_name);
}

function heraldVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
