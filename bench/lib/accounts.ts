// A fresh database with Herald's schema, an account whose limits are lifted, and a SENDER key:
// what a benchmark needs before it starts Herald as a process on that database.
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';
import { NO_LIMITS, openBenchDatabase, type BenchDatabase } from '../support.js';

export interface PreparedDatabase extends BenchDatabase {
  accountId: string;
  key: string;
}

export async function prepareDatabase(kind: 'postgres' | 'pglite', adminUrl: string, accountName = 'bench'): Promise<PreparedDatabase> {
  const bench = await openBenchDatabase(kind, adminUrl);
  const account = await ensureAccount(bench.database.prisma, accountName);
  await bench.database.prisma.accountSettings.create({ data: { accountId: account.id, limits: NO_LIMITS } });
  const key = (await createApiKey(bench.database.prisma, { accountId: account.id, name: accountName, role: 'SENDER' })).secret;
  return { ...bench, accountId: account.id, key };
}

/**
 * A prepared PostgreSQL database that only the server under test will connect to: the bench's own
 * connection is closed once the account and key exist, so that what PostgreSQL counts for the
 * database (bench/lib/postgres-usage.ts) is the server's work alone.
 */
export async function prepareServerDatabase(adminUrl: string, accountName = 'bench'): Promise<{ databaseUrl: string; key: string; dispose(): Promise<void> }> {
  const db = await prepareDatabase('postgres', adminUrl, accountName);
  await db.database.close();
  return { databaseUrl: db.databaseUrl!, key: db.key, dispose: db.drop };
}
