// Bulk intake: one sendMessages of N recipients over HTTP (accepted durably when it answers),
// beside a raw multi-row INSERT of the same rows (messages and their first events) with `pg`
// in the same run. Usage: node --import tsx bench/bulk-intake.ts [--db postgres|pglite] [--count 10000]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { makeConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startHerald } from '../src/server.js';
import { createApiKey, ensureAccount } from '../src/services/api-keys.js';
import { DEFAULT_POSTGRES_ADMIN_URL, NO_LIMITS, openBenchDatabase } from './support.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'postgres' },
    count: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    postgres: { type: 'string', default: DEFAULT_POSTGRES_ADMIN_URL },
  },
});
const count = Number(values.count);
const runs = Number(values.runs);

const { database, databaseUrl, dispose } = await openBenchDatabase(values.db!, values.postgres);
const config = makeConfig({ port: 0, databaseUrl, bootstrapAdminKey: false, logLevel: 'warn', dispatch: false });
const herald = await startHerald({ config, logger: createLogger(config), database });
const account = await ensureAccount(database.prisma, 'bench');
await database.prisma.accountSettings.create({
  data: { accountId: account.id, limits: NO_LIMITS },
});
const key = (await createApiKey(database.prisma, { accountId: account.id, name: 'bench', role: 'SENDER' })).secret;
const recipients = Array.from({ length: count }, (_, i) => ({ to: `+1415${String(2000000 + i).padStart(7, '0')}` }));
const body = 'Your parcel is out for delivery today between 9:00 and 12:00. Reply STOP to opt out.';

async function heraldRun(): Promise<number> {
  const t0 = performance.now();
  const response = await fetch(`${herald.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: 'mutation($input: SendMessagesInput!) { sendMessages(input: $input) { ... on SendMessagesSuccess { batchId rejected { index } } ... on Error { code message } } }',
      variables: { input: { recipients, body } },
    }),
  });
  const json = (await response.json()) as { data: { sendMessages: { batchId?: string; rejected?: unknown[]; message?: string } } };
  const ms = performance.now() - t0;
  if (!json.data.sendMessages.batchId || json.data.sendMessages.rejected?.length) throw new Error(JSON.stringify(json).slice(0, 500));
  return ms;
}

// The baseline: the same rows, already validated, in two multi-row INSERTs in one transaction.
async function baselineRun(): Promise<number> {
  const rows = recipients.map((r) => ({ id: uuidv7(), to: r.to }));
  const exec = async (sql: string, params: unknown[]) => {
    if (database.pglite) await database.pglite.query(sql, params);
    else await client!.query(sql, params);
  };
  const t0 = performance.now();
  await exec('BEGIN', []);
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => {
      params.push(row.id, account.id, row.to, body);
      const n = params.length;
      return `($${n - 3}::uuid, $${n - 2}::uuid, $${n - 1}, $${n}, 'GSM7', 1, 'QUEUED', now(), now(), now())`;
    });
    await exec(`INSERT INTO "Message" (id, "accountId", "to", body, encoding, segments, status, "dueAt", "createdAt", "updatedAt") VALUES ${tuples.join(',')}`, params);
    const eventParams = chunk.map((row) => row.id);
    await exec(`INSERT INTO "MessageEvent" ("messageId", status, source) SELECT unnest($1::uuid[]), 'QUEUED', 'API'`, [eventParams]);
  }
  await exec('COMMIT', []);
  return performance.now() - t0;
}

let client: pg.Client | undefined;
if (databaseUrl) {
  client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
}

const herald_ms: number[] = [];
const base_ms: number[] = [];
for (let i = 0; i < runs; i++) {
  base_ms.push(await baselineRun());
  herald_ms.push(await heraldRun());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const h = median(herald_ms);
const b = median(base_ms);
console.log(
  `${values.db}: sendMessages of ${count} recipients: ${h.toFixed(0)} ms (median of ${runs}); raw multi-row INSERT of the same rows: ${b.toFixed(0)} ms; ` +
    `Herald runs at ${(b / h).toFixed(2)}x the baseline's speed (target: <= 1000 ms and >= 0.3x)`,
);
await client?.end();
await herald.stop();
await dispose();
