// Commands that work on the database directly (keys, simulator-secret) open it for the command's
// run only. With the embedded database the server holds DATA_DIR's lock, so they run while it is
// stopped; with PostgreSQL beside running servers.
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';

// The database module is imported when a command needs it: loading Prisma and PGlite takes
// seconds, which `herald send` (an HTTP client) and `--help` should not pay.
export async function withDatabase<T>(config: Config, run: (db: Database) => Promise<T>): Promise<T> {
  const { openDatabase } = await import('../db/database.js');
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder: 'herald cli' });
  try {
    return await run(db);
  } finally {
    await db.close();
  }
}
