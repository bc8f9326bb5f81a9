// The dispatcher's wake-up channel (LISTEN/NOTIFY) after PostgreSQL drops its connections, as a
// restart does (pg_terminate_backend sends the same 57P01): both connections come back by
// themselves, and a NOTIFY from another instance wakes this one again. (The chaos suite's
// database-restart scenario covers a real restart, where reconnects fail until it is up.)
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWakeSignal, type WakeSignal } from '../../src/dispatch/wake.js';
import { createLogger } from '../../src/logging/logger.js';
import { loadConfig } from '../../src/config/config.js';
import { createFreshDatabase, waitUntil } from '../support/services.js';

let database: { url: string; drop(): Promise<void> };
let admin: pg.Client;
let wake: WakeSignal;

beforeAll(async () => {
  database = await createFreshDatabase('wake');
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  wake = await createWakeSignal({ databaseUrl: database.url, logger: createLogger({ ...loadConfig({}), logLevel: 'silent' }) });
});
afterAll(async () => {
  await wake?.close();
  await admin?.end();
  await database?.drop();
});

const backends = async () =>
  (await admin.query<{ pid: number; query: string }>(`SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows;

describe('wake signal', () => {
  it('hears other instances again after its connections were terminated', { timeout: 30_000 }, async () => {
    const before = await backends();
    expect(before.some((b) => b.query.startsWith('LISTEN'))).toBe(true);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    await waitUntil(async () => (await backends()).some((b) => b.query.startsWith('LISTEN') && !before.some((o) => o.pid === b.pid)), {
      timeoutMs: 10_000,
      describe: async () => `backends: ${JSON.stringify(await backends())}`,
    });
    let woken = 0;
    const off = wake.onWake(() => woken++);
    await admin.query(`NOTIFY herald_dispatch`); // as another instance accepting a message
    await waitUntil(async () => woken > 0, { timeoutMs: 5_000, describe: () => 'no wake-up after the reconnect' });
    // Its own NOTIFY connection is back too: another instance would hear this one.
    await waitUntil(async () => (await backends()).length >= 2, { timeoutMs: 10_000, describe: async () => `backends: ${JSON.stringify(await backends())}` });
    off();
  });
});
