// `herald backup FILE` and `herald restore FILE`: the embedded database (DATA_DIR) to a file and
// back. The file format is domain/backup-file.ts's; taking and restoring it is db/backup.ts's.
//
// backup: when no process holds DATA_DIR the CLI opens the database itself; while a server runs
// on it (it holds DATA_DIR's lock) the CLI asks that server for the snapshot over HTTP
// (GET /admin/backup, an ADMIN key), because only the process holding PGlite can read it
// consistently. Either way the file is written aside and renamed into place once whole.
// restore: into an empty DATA_DIR only, never beside a running server.
// On PostgreSQL both print the pg_dump / pg_restore commands and do nothing.
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import type { Config } from '../config/config.js';
import { DataDirBusyError } from '../db/data-dir-lock.js';
import { BackupError, type BackupManifest } from '../domain/backup-file.js';
import { DEFAULT_URL, describeFailure, endpoint, UsageError } from './remote.js';

const REFUSED = 1;

const POSTGRES_BACKUP = `this Herald uses PostgreSQL (DATABASE_URL): back it up with PostgreSQL's own tools, e.g.
  pg_dump --format=custom --file=herald.dump "$DATABASE_URL"
and restore that into an empty database with
  pg_restore --no-owner --dbname="$DATABASE_URL" herald.dump
(docs/operations.md, "Backup and restore"). Nothing was done.`;

export function backupCommands(config: () => Config): Command[] {
  const backup = new Command('backup')
    .description('write a consistent snapshot of the embedded database (DATA_DIR) to FILE, also while the server runs')
    .argument('<file>', 'where to write the backup')
    .addOption(new Option('--url <url>', 'the running server holding DATA_DIR (asked only when it holds it)').env('HERALD_URL').default(DEFAULT_URL))
    .addOption(new Option('--key <key>', 'ADMIN API key for the running server').env('HERALD_API_KEY'))
    .option('--force', 'overwrite FILE if it exists')
    .action(async (file: string, opts: { url: string; key?: string; force?: boolean }) => {
      const cfg = config();
      if (cfg.databaseUrl) return refuse(POSTGRES_BACKUP);
      if (existsSync(file) && !opts.force) return refuse(`${file} exists; pass --force to overwrite it`);
      const started = performance.now();
      // Written aside and renamed once whole and checked: FILE is never half a backup, and an
      // older FILE stays whole until the new one is.
      const partial = `${file}.partial-${process.pid}`;
      try {
        const { manifest, via } = await takeBackup(cfg.dataDir, partial, opts);
        await rename(partial, file);
        const { size } = await stat(file);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`backed up ${cfg.dataDir} ${via} to ${file}: ${megabytes(size)}, schema ${manifest.migrations.at(-1) ?? 'empty'}, in ${seconds} s`);
      } catch (error) {
        if (error instanceof BackupError || error instanceof DataDirBusyError || error instanceof UsageError) return refuse(error.message);
        throw error;
      } finally {
        await rm(partial, { force: true });
      }
    });

  const restore = new Command('restore')
    .description('restore a backup FILE into an empty DATA_DIR (the server must be stopped); the next start applies newer migrations')
    .argument('<file>', 'a file written by `herald backup`')
    .action(async (file: string) => {
      const cfg = config();
      if (cfg.databaseUrl) return refuse(POSTGRES_BACKUP);
      const started = performance.now();
      try {
        const { restoreDataDir } = await import('../db/backup.js');
        const { manifest, counts } = await restoreDataDir(cfg.dataDir, file);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`restored ${file} (taken ${manifest.createdAt} by Herald ${manifest.heraldVersion}) into ${cfg.dataDir} in ${seconds} s`);
        console.log(`  ${counts.messages} messages, ${counts.apiKeys} API keys, ${counts.templates} templates, ${counts.settings} settings`);
        console.log('start Herald on this DATA_DIR; it applies any newer migrations at start');
      } catch (error) {
        if (error instanceof BackupError) return refuse(`restore refused (${error.code}): ${error.message}; ${cfg.dataDir} was not changed`);
        if (error instanceof DataDirBusyError) return refuse(`restore refused: ${error.message}`);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return refuse(`cannot read ${file}: ${code}; ${cfg.dataDir} was not changed`);
        throw error;
      }
    });

  return [backup, restore];
}

type Taken = { manifest: BackupManifest; via: string };

async function takeBackup(dataDir: string, target: string, opts: { url: string; key?: string }): Promise<Taken> {
  const { backupDataDir } = await import('../db/backup.js');
  try {
    return { manifest: await backupDataDir(dataDir, target), via: 'directly (no server was running on it)' };
  } catch (error) {
    if (!(error instanceof DataDirBusyError)) throw error;
    if (!opts.key) {
      throw new UsageError(
        `${error.message}. To back it up while it runs, give an ADMIN key of that server: --key hk_… (or HERALD_API_KEY), and --url if it does not listen on ${DEFAULT_URL}`,
      );
    }
    return { manifest: await askServer(dataDir, target, opts.url, opts.key), via: `through the running server at ${opts.url}` };
  }
}

/** GET /admin/backup from the server holding DATA_DIR (http/backup-route.ts), into `target`. */
async function askServer(dataDir: string, target: string, url: string, key: string): Promise<BackupManifest> {
  const address = new URL(endpoint(url));
  address.pathname = '/admin/backup';
  let response: Response;
  try {
    response = await fetch(address, { headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    throw new BackupError('SERVER_UNREACHABLE', `${dataDir} is held by a running server, but it could not be asked for a backup: ${describeFailure(error, url)}; pass its address with --url`);
  }
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => ({}))) as { error?: string; code?: string };
    throw new BackupError('SERVER_UNREACHABLE', `the server at ${address.origin} refused the backup (HTTP ${response.status}${body.code ? ` ${body.code}` : ''}): ${body.error ?? response.statusText}`);
  }
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(target));
  // Checked before it is renamed into place: a connection cut mid-answer must not leave a FILE
  // that looks like a backup.
  const { verifyBackupFile } = await import('../db/backup.js');
  try {
    return (await verifyBackupFile(target)).manifest;
  } catch (error) {
    if (error instanceof BackupError) throw new BackupError(error.code, `the server's answer is not a whole backup: ${error.message}`);
    throw error;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function refuse(message: string): void {
  console.error(`herald: ${message}`);
  process.exitCode = REFUSED;
}
