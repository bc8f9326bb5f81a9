import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

/**
 * An exclusive claim on DATA_DIR. PGlite is a single-process database: two processes opening
 * the same directory corrupt it, so whoever opens it first writes its pid here and everyone
 * else is refused until that process is gone. A lock left by a dead process is taken over.
 */
export async function lockDataDir(dataDir: string, holder: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'herald.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, holder }));
      await handle.close();
      return async () => {
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await readOwner(lockPath);
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
        throw new DataDirBusyError(
          `the embedded database in ${dataDir} is in use by ${owner.holder} (pid ${owner.pid}); ` +
            'stop it first, or use PostgreSQL (DATABASE_URL) to run several processes',
        );
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new DataDirBusyError(`could not lock ${dataDir}`);
}

async function readOwner(lockPath: string): Promise<{ pid: number; holder: string } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as { pid?: unknown; holder?: unknown };
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
