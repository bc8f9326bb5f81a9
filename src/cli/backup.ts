// `herald backup FILE` and `herald restore FILE`: the embedded database (DATA_DIR) to a file and
// back. The file format is domain/backup-file.ts's; taking and restoring it is db/backup.ts's.
//
// backup: when no process holds DATA_DIR the CLI opens the database itself; while a server runs
// on it (it holds DATA_DIR's lock) the CLI asks that server for the snapshot over HTTP
// (GET /admin/backup, an ADMIN key), because only the process holding PGlite can read it
// consistently. Either way the file is written aside and renamed into place once whole.
// restore: into an empty DATA_DIR only, never beside a running server.
// On PostgreSQL both print the pg_dump / pg_restore commands and do nothing.
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import type { Config } from '../config/config.js';
import { DataDirBusyError } from '../db/data-dir-lock.js';
import { BackupError, decodeBackup, type BackupManifest } from '../domain/backup-file.js';
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
      try {
        const { file: bytes, manifest, via } = await takeBackup(cfg.dataDir, opts);
        // Written aside and renamed: FILE is never half a backup, and an older FILE stays whole
        // until the new one is.
        const partial = `${file}.partial-${process.pid}`;
        try {
          await writeFile(partial, bytes);
          await rename(partial, file);
        } finally {
          await rm(partial, { force: true });
        }
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`backed up ${cfg.dataDir} ${via} to ${file}: ${megabytes(bytes.length)}, schema ${manifest.migrations.at(-1) ?? 'empty'}, in ${seconds} s`);
      } catch (error) {
        if (error instanceof BackupError || error instanceof DataDirBusyError || error instanceof UsageError) return refuse(error.message);
        throw error;
      }
    });

  const restore = new Command('restore')
    .description('restore a backup FILE into an empty DATA_DIR (the server must be stopped); the next start applies newer migrations')
    .argument('<file>', 'a file written by `herald backup`')
    .action(async (file: string) => {
      const cfg = config();
      if (cfg.databaseUrl) return refuse(POSTGRES_BACKUP);
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (error) {
        return refuse(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const started = performance.now();
      try {
        const { restoreDataDir } = await import('../db/backup.js');
        const { manifest, counts } = await restoreDataDir(cfg.dataDir, bytes);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`restored ${file} (taken ${manifest.createdAt} by Herald ${manifest.heraldVersion}) into ${cfg.dataDir} in ${seconds} s`);
        console.log(`  ${counts.messages} messages, ${counts.apiKeys} API keys, ${counts.templates} templates, ${counts.settings} settings`);
        console.log('start Herald on this DATA_DIR; it applies any newer migrations at start');
      } catch (error) {
        if (error instanceof BackupError) return refuse(`restore refused (${error.code}): ${error.message}; ${cfg.dataDir} was not changed`);
        if (error instanceof DataDirBusyError) return refuse(`restore refused: ${error.message}`);
        throw error;
      }
    });

  return [backup, restore];
}

type Taken = { file: Buffer; manifest: BackupManifest; via: string };

async function takeBackup(dataDir: string, opts: { url: string; key?: string }): Promise<Taken> {
  const { backupDataDir } = await import('../db/backup.js');
  try {
    return { ...(await backupDataDir(dataDir)), via: 'directly (no server was running on it)' };
  } catch (error) {
    if (!(error instanceof DataDirBusyError)) throw error;
    if (!opts.key) {
      throw new UsageError(
        `${error.message}. To back it up while it runs, give an ADMIN key of that server: --key hk_… (or HERALD_API_KEY), and --url if it does not listen on ${DEFAULT_URL}`,
      );
    }
    return { ...(await askServer(dataDir, opts.url, opts.key)), via: `through the running server at ${opts.url}` };
  }
}

/** GET /admin/backup from the server holding DATA_DIR (http/backup-route.ts). */
async function askServer(dataDir: string, url: string, key: string): Promise<{ file: Buffer; manifest: BackupManifest }> {
  const target = new URL(endpoint(url));
  target.pathname = '/admin/backup';
  let response: Response;
  try {
    response = await fetch(target, { headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    throw new BackupError('SERVER_UNREACHABLE', `${dataDir} is held by a running server, but it could not be asked for a backup: ${describeFailure(error, url)}; pass its address with --url`);
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: string; code?: string };
    throw new BackupError('SERVER_UNREACHABLE', `the server at ${target.origin} refused the backup (HTTP ${response.status}${body.code ? ` ${body.code}` : ''}): ${body.error ?? response.statusText}`);
  }
  // Checked before it is written: a connection cut mid-answer must not leave a FILE that looks
  // like a backup.
  const file = Buffer.from(await response.arrayBuffer());
  const decoded = decodeBackup(file);
  if (decoded instanceof BackupError) throw new BackupError(decoded.code, `the server's answer is not a whole backup: ${decoded.message}`);
  return { file, manifest: decoded.manifest };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function refuse(message: string): void {
  console.error(`herald: ${message}`);
  process.exitCode = REFUSED;
}
