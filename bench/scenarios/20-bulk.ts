// Bulk intake: one `sendMessages` of 10 000 recipients over HTTP to a Herald process on
// PostgreSQL (DISPATCH=off: intake only; durable when it answers), beside a raw multi-row INSERT
// of the same rows (the batch row, the messages under its id and their first events, into
// Herald's own tables with their indexes) with `pg`, in the same run, on the same database. Full: median of 3 runs of each (alternating); quick: 1 run. Both sides get one small
// warm-up (100 rows) first, so JIT and connection set-up are not what is timed. The request body
// and the baseline's ids are built before the clock starts; the client only waits. The bench
// account's frequency limits are lifted, as in every scenario; one more Herald run on an account
// with the default limits is reported beside (a reference row, no target).
// Profile Herald during the run: BENCH_BULK_CPU_PROF=<dir> (node --cpu-prof into that directory).
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ratioOf, type BenchOptions, type BenchRow, type Scenario } from '../harness.js';
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';
import { prepareDatabase, type PreparedDatabase } from '../lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../lib/processes.js';

const NAME = 'bulk';
const COUNT = 10_000;
const WARM_UP = 100;
const TARGET_MS = 1_000;
// Issue 16, target 3: a bulk send at least 0.8× as fast as the raw insert of its rows.
const TARGET_RATIO = 0.8;
const BODY = 'Your parcel is out for delivery today between 9:00 and 12:00. Reply STOP to opt out.';
const BASELINE_NAME = 'pg multi-row INSERT';

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const recipientsOf = (count: number, offset: number) =>
  Array.from({ length: count }, (_, i) => `+1415${String(2_000_000 + offset + i).padStart(7, '0')}`);

export const scenario: Scenario = {
  name: NAME,
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const runs = options.quick ? 1 : 3;
    const skipped = (note: string): BenchRow[] => [
      { scenario: NAME, metric: `sendMessages(${COUNT}) ms`, herald: null, baseline: null, baselineName: BASELINE_NAME, target: `≤ ${TARGET_MS} ms`, met: null, note },
      { scenario: NAME, metric: 'speed vs baseline', herald: null, baseline: null, ratio: null, target: `≥ ${TARGET_RATIO}× baseline`, met: null, note },
    ];

    let db: PreparedDatabase;
    try {
      db = await prepareDatabase('postgres', options.postgresAdminUrl);
    } catch (error) {
      return skipped(`skipped: PostgreSQL unavailable at ${options.postgresAdminUrl} (${(error as Error).message.split('\n')[0]})`);
    }
    let herald: ServerProcess | undefined;
    let client: pg.Client | undefined;
    try {
      herald = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, DISPATCH: 'off' }, process.env.BENCH_BULK_CPU_PROF);
      client = new pg.Client({ connectionString: db.databaseUrl! });
      await client.connect();
      const graphqlUrl = `${herald.url}/graphql`;

      // Warm-up, not timed: the first request pays for JIT, the first connections, caches.
      await heraldRun(graphqlUrl, db.key, requestBody(recipientsOf(WARM_UP, 900_000)));
      await baselineRun(client, db.accountId, recipientsOf(WARM_UP, 900_000));

      const heraldMs: number[] = [];
      const baselineMs: number[] = [];
      for (let run = 0; run < runs; run++) {
        // Different numbers per run (as separate campaigns would be); the same ones for both sides.
        const recipients = recipientsOf(COUNT, run * COUNT);
        const body = requestBody(recipients);
        const b = await baselineRun(client, db.accountId, recipients);
        const h = await heraldRun(graphqlUrl, db.key, body);
        baselineMs.push(b);
        heraldMs.push(h);
        options.log(`run ${run + 1}/${runs}: Herald sendMessages(${COUNT}) ${h.toFixed(0)} ms; baseline INSERT ${b.toFixed(0)} ms`);
      }
      // The bench account's frequency limits are lifted (as in every scenario); a real account
      // has the defaults: per-recipient windows, each a counter to add to for every recipient
      // (four for a plain body). Measured once, on another account, so the cost is in view.
      const defaults = await defaultLimitsAccount(db);
      await heraldRun(graphqlUrl, defaults.key, requestBody(recipientsOf(WARM_UP, 800_000)));
      const withLimits = await heraldRun(graphqlUrl, defaults.key, requestBody(recipientsOf(COUNT, runs * COUNT)));
      options.log(`Herald sendMessages(${COUNT}) on an account with the default limits: ${withLimits.toFixed(0)} ms`);

      const rss = await herald.rssMb();
      // Both sides store every message under a batch, one batch per call.
      const stored = await db.database.prisma.message.count({ where: { batchId: { not: null } } });
      const batches = await db.database.prisma.batch.count();
      const expected = (runs * COUNT + WARM_UP) * 2 + COUNT + WARM_UP;
      const expectedBatches = (runs + 1) * 2 + 2;
      const complete = stored === expected && batches === expectedBatches;
      const h = median(heraldMs);
      const b = median(baselineMs);
      const ratio = ratioOf(h, b, 'less');
      const setup =
        `${runs === 1 ? '1 run' : `median of ${runs} runs`} of ${COUNT.toLocaleString('en-US')} recipients over HTTP to a Herald process on PostgreSQL (DISPATCH=off), after a ${WARM_UP}-row warm-up; ` +
        `Herald runs: ${heraldMs.map((x) => x.toFixed(0)).join(', ')} ms; baseline: ${baselineMs.map((x) => x.toFixed(0)).join(', ')} ms; ` +
        `Herald RSS after ${rss.toFixed(0)} MB; ${stored}/${expected} messages and ${batches}/${expectedBatches} batches stored`;
      return [
        {
          scenario: NAME,
          metric: `sendMessages(${COUNT}) ms`,
          herald: Math.round(h),
          baseline: Math.round(b),
          baselineName: BASELINE_NAME,
          ratio,
          target: `≤ ${TARGET_MS} ms`,
          met: complete ? h <= TARGET_MS : false,
          note: setup + (complete ? '' : ' (row count mismatch: not met)'),
        },
        {
          scenario: NAME,
          metric: 'speed vs baseline',
          herald: ratio,
          baseline: null,
          ratio,
          target: `≥ ${TARGET_RATIO}× baseline`,
          met: ratio === null ? null : ratio >= TARGET_RATIO,
          note: 'ratio = baseline ms / Herald ms (the baseline writes the same Batch, Message and MessageEvent rows, already validated, in one transaction)',
        },
        {
          scenario: NAME,
          metric: `sendMessages(${COUNT}) ms, default limits`,
          herald: Math.round(withLimits),
          baseline: Math.round(b),
          baselineName: BASELINE_NAME,
          ratio: ratioOf(withLimits, b, 'less'),
          target: 'reference',
          met: null,
          note: `1 run on an account with the default frequency limits (nothing refused: every recipient is new), against the median baseline above`,
        },
      ];
    } finally {
      await client?.end().catch(() => {});
      await herald?.stop();
      await db.dispose().catch((error: Error) => options.log(`dropping the bench database failed: ${error.message}`));
    }
  },
};

/** A second account of the bench database, on the default limit policy, with a SENDER key. */
async function defaultLimitsAccount(db: PreparedDatabase): Promise<{ key: string }> {
  const account = await ensureAccount(db.database.prisma, 'bench-default-limits');
  return { key: (await createApiKey(db.database.prisma, { accountId: account.id, name: 'bench', role: 'SENDER' })).secret };
}

function requestBody(recipients: readonly string[]): string {
  return JSON.stringify({
    query:
      'mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename ... on SendMessagesSuccess { batchId rejected { index code } } ... on Error { message } } }',
    variables: { input: { recipients: recipients.map((to) => ({ to })), body: BODY } },
  });
}

/** One sendMessages request; ms from sending the request to having parsed the answer. */
async function heraldRun(url: string, key: string, body: string): Promise<number> {
  const t0 = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
  });
  const text = await response.text();
  const ms = performance.now() - t0;
  let result: { batchId?: string; rejected?: { index: number; code: string }[] } | undefined;
  try {
    result = (JSON.parse(text) as { data?: { sendMessages?: typeof result } }).data?.sendMessages;
  } catch {
    // reported below
  }
  if (!response.ok || !result?.batchId) throw new Error(`sendMessages failed (HTTP ${response.status}): ${text.slice(0, 300)}`);
  if (result.rejected?.length) throw new Error(`sendMessages rejected ${result.rejected.length} recipients, first: ${JSON.stringify(result.rejected[0])}`);
  return ms;
}

/**
 * The baseline: the same rows, already validated, written with multi-row INSERTs (2 000 rows a
 * statement) in one transaction: the batch row, then each chunk's messages (under the batch's
 * id, as Herald stores them: the ("accountId", "batchId") index gets the same keys) and their
 * first QUEUED events.
 */
async function baselineRun(client: pg.Client, accountId: string, recipients: readonly string[]): Promise<number> {
  const batchId = uuidv7();
  const rows = recipients.map((to) => ({ id: uuidv7(), to }));
  const t0 = performance.now();
  await client.query('BEGIN');
  try {
    await client.query(`INSERT INTO "Batch" (id, "accountId", total, accepted, rejected, rejections) VALUES ($1::uuid, $2::uuid, $3, $3, 0, '[]')`, [
      batchId,
      accountId,
      rows.length,
    ]);
    for (let i = 0; i < rows.length; i += 2000) {
      const chunk = rows.slice(i, i + 2000);
      const params: unknown[] = [accountId, batchId, BODY];
      const tuples = chunk.map((row) => {
        params.push(row.id, row.to);
        const n = params.length;
        return `($${n - 1}::uuid, $1::uuid, $2::uuid, $${n}, $3, 'GSM7', 1, 'QUEUED', now(), now(), now())`;
      });
      await client.query(
        `INSERT INTO "Message" (id, "accountId", "batchId", "to", body, encoding, segments, status, "dueAt", "createdAt", "updatedAt") VALUES ${tuples.join(',')}`,
        params,
      );
      await client.query(`INSERT INTO "MessageEvent" ("messageId", status, source) SELECT unnest($1::uuid[]), 'QUEUED', 'API'`, [chunk.map((row) => row.id)]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return performance.now() - t0;
}
