// Backup and restore of the embedded database (PGlite in DATA_DIR/pgdata), as files in the
// format of domain/backup-file.ts. PostgreSQL deployments use pg_dump / pg_restore instead
// (cli/backup.ts says so): PostgreSQL's own tools are consistent while it runs and known to
// every operator, and Herald has nothing to add to them.
//
// Files are streamed, never held whole in memory: a backup of 100 000 messages is ~80 MB, and
// the server that takes one keeps serving.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { projectRoot } from '../config/paths.js';
import { BackupError, checkPayload, checkSchema, decodeHeader, encodeHeader, MAX_HEADER_BYTES, type BackupManifest } from '../domain/backup-file.js';
import { copyTree, extractInto, packDirectory } from './backup-archive.js';
import { lockDataDir } from './data-dir-lock.js';
import { readMigrations } from './migrate.js';
import { openPGlite, pgliteVersion } from './pglite-template.js';

/** Where Herald keeps the embedded cluster inside DATA_DIR (as src/db/database.ts opens it). */
export const pgdataOf = (dataDir: string) => path.join(dataDir, 'pgdata');
/** Working copies beside pgdata (same file system: copies are fast, the final rename atomic). */
const RESTORING_PREFIX = 'pgdata.restoring-';
const SNAPSHOT_PREFIX = 'pgdata.snapshot-';
/**
 * Not copied, as pg_basebackup leaves them out: the running server's pid file would make the
 * restored cluster look in use; postmaster.opts describes the running process, not the data.
 */
const NOT_COPIED = new Set(['postmaster.pid', 'postmaster.opts']);

let snapshots = 0;

/**
 * Writes a backup file of an open embedded database to `target`: the server's own PGlite while
 * it serves, or the CLI's when no server runs. Returns the manifest written.
 *
 * Consistent: PGlite is one connection, and the data directory is copied while PGlite's query
 * lock is held (`runExclusive`), so no statement runs in between and the copy is the files as
 * they were at one instant: exactly what PostgreSQL finds after a power cut, every committed
 * transaction in the WAL. Restoring it, PostgreSQL recovers as after a crash: every transaction
 * committed before the copy is there, one in flight is not. The CHECKPOINT before makes the data
 * files current, so recovery has little to replay. The database waits only for the local copy
 * (an operating-system copy beside pgdata); the tar, gzip and hashing run from that copy after.
 */
export async function writeBackup(pglite: PGlite, target: string): Promise<BackupManifest> {
  const pgdata = pglite.dataDir;
  if (!pgdata || pgdata.startsWith('memory://') || !existsSync(path.join(pgdata, 'PG_VERSION'))) {
    throw new BackupError('UNUSABLE', 'this database is in memory: there is nothing on disk to back up');
  }
  await pglite.exec('CHECKPOINT');
  const migrations = await appliedMigrations(pglite);
  const postgresVersion = (await pglite.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  const createdAt = new Date().toISOString();
  const dataDir = path.dirname(pgdata);
  // Left by a backup that was killed: whoever writes here holds DATA_DIR's lock, which is this
  // process, so copies of other processes are abandoned.
  for (const entry of readdirSync(dataDir)) {
    if ((entry.startsWith(SNAPSHOT_PREFIX) || entry.startsWith('backup-download-')) && !entry.includes(`-${process.pid}-`)) {
      await rm(path.join(dataDir, entry), { recursive: true, force: true });
    }
  }
  const snapshot = path.join(dataDir, `${SNAPSHOT_PREFIX}${process.pid}-${++snapshots}`);
  const payloadFile = `${target}.payload-${process.pid}`;
  try {
    await pglite.runExclusive(() => copyTree(pgdata, snapshot, NOT_COPIED));
    const digest = createHash('sha256');
    let payloadBytes = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        digest.update(chunk);
        payloadBytes += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(packDirectory(snapshot), createGzip({ level: 6 }), measure, createWriteStream(payloadFile));
    await rm(snapshot, { recursive: true, force: true });
    const manifest = { heraldVersion: heraldVersion(), pgliteVersion: pgliteVersion(), postgresVersion, migrations, createdAt, payloadBytes, payloadSha256: digest.digest('hex') };
    const header = encodeHeader(manifest);
    const out = createWriteStream(target);
    out.write(header);
    await pipeline(createReadStream(payloadFile), out);
    return { format: 1, ...manifest };
  } finally {
    await rm(snapshot, { recursive: true, force: true });
    await rm(payloadFile, { force: true });
  }
}

/**
 * A backup of DATA_DIR's database when no process holds it: takes DATA_DIR's lock (a
 * DataDirBusyError when a server runs on it: the caller then asks that server), opens the
 * cluster as it is (no migrations: the backup is of what is there) and writes it to `target`.
 */
export async function backupDataDir(dataDir: string, target: string): Promise<BackupManifest> {
  if (!existsSync(path.join(pgdataOf(dataDir), 'PG_VERSION'))) {
    throw new BackupError('NO_DATABASE', `there is no embedded database in ${dataDir} (no pgdata/PG_VERSION): nothing to back up`);
  }
  const unlock = lockDataDir(dataDir, 'herald backup');
  try {
    const pglite = await openPGlite(pgdataOf(dataDir));
    try {
      return await writeBackup(pglite, target);
    } finally {
      await pglite.close();
    }
  } finally {
    await unlock();
  }
}

/** Reads a backup file through once: its manifest, after checking its length and SHA-256. */
export async function verifyBackupFile(file: string): Promise<{ manifest: BackupManifest; payloadOffset: number }> {
  const handle = await open(file, 'r');
  let start: Buffer;
  try {
    const buffer = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    start = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const header = decodeHeader(start);
  if (header instanceof BackupError) throw header;
  const digest = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { start: header.payloadOffset }) as AsyncIterable<Buffer>) {
    digest.update(chunk);
    bytes += chunk.length;
  }
  const problem = checkPayload(header.manifest, bytes, digest.digest('hex'));
  if (problem) throw problem;
  return header;
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
export async function restoreDataDir(dataDir: string, file: string): Promise<RestoreSummary> {
  const { manifest, payloadOffset } = await verifyBackupFile(file);
  const schema = checkSchema(manifest, readMigrations().map((m) => m.name));
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

    try {
      await extractInto(payloadStream(file, payloadOffset), partial);
    } catch (error) {
      throw new BackupError('UNUSABLE', `the backup's database could not be unpacked (${(error as Error).message}); it was not restored`);
    }
    const counts = await openAndCheck(partial, manifest);
    await rename(partial, pgdataOf(dataDir));
    restored = true;
    return { manifest, counts };
  } finally {
    if (!restored) await rm(partial, { recursive: true, force: true });
    await unlock();
    // DATA_DIR made by this restore (for its lock) goes too when the restore failed.
    if (!restored && !existed) await rm(dataDir, { recursive: true, force: true });
  }
}

function payloadStream(file: string, offset: number): Readable {
  const out = new PassThrough();
  pipeline(createReadStream(file, { start: offset }), createGunzip(), out).catch((error: Error) => out.destroy(error));
  return out;
}

/** Opens the unpacked cluster (PostgreSQL recovers it) and checks it is the manifest's. */
async function openAndCheck(dir: string, manifest: BackupManifest): Promise<RestoreSummary['counts']> {
  let pglite: PGlite | undefined;
  try {
    // Without it openPGlite would take the directory for a new database and fill it.
    if (!existsSync(path.join(dir, 'PG_VERSION'))) throw new BackupError('UNUSABLE', "the backup holds no database (no PG_VERSION); it was not restored");
    pglite = await openPGlite(dir);
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
