import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

/**
 * An exclusive claim on DATA_DIR. PGlite is a single-process database: two processes opening
 * the same directory corrupt it, so whoever opens it first writes its pid here and everyone
 * else is refused until that process is gone. A lock left by a dead process is taken over.
 *
 * Synchronous (a few small file operations): a start takes the lock and sets the copy of a new
 * database going before it yields to anything else (src/db/database.ts, openDatabaseEarly).
 */
export function lockDataDir(dataDir: string, holder: string): () => Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'herald.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, holder }));
      } finally {
        closeSync(fd);
      }
      return async () => {
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(lockPath);
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
        throw new DataDirBusyError(
          `the embedded database in ${dataDir} is in use by ${owner.holder} (pid ${owner.pid}); ` +
            'stop it first, or use PostgreSQL (DATABASE_URL) to run several processes',
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirBusyError(`could not lock ${dataDir}`);
}

function readOwner(lockPath: string): { pid: number; holder: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: unknown; holder?: unknown };
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, holder: String(parsed.holder ?? 'another process') } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
