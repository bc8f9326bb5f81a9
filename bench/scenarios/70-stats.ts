// messageStats at scale: 1 000 000 messages of one account over 365 days (plus 200 000 of another
// account, so the account filter has work to do), written with one INSERT … SELECT generate_series
// on a fresh PostgreSQL database. A Herald process (DISPATCH=off; its rollup loop on, as in every
// deployment) then rolls up the days that are over (src/store/message-stats-rollup.ts): the first
// row is how long that first rollup took. Once it has caught up, each groupBy over the whole year,
// through HTTP as users ask (the default, fast path: rollup + live rest), and STATUS with
// `exact: true` (one pass over every message, the path of ranges under 50 000 messages) for
// reference. Baseline, same run, same database: the plainest aggregate of that range with `pg`
// (count(*) GROUP BY status), what a bare "counts by status" query costs.
// Full: median of 3 runs per groupBy after one warm-up; quick: 100 000 messages, 1 run.
// Every row checks that the totals Herald returns are the seeded count and the seeded cost per
// currency (a wrong answer is not met); every group carries its cost totals.
import pg from 'pg';
import type { BenchOptions, BenchRow, Scenario } from '../harness.js';
import { ratioOf } from '../harness.js';
import { prepareDatabase, type PreparedDatabase } from '../lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../lib/processes.js';
import { GRACE_MS, MARGIN_MS } from '../../src/store/message-stats-rollup.js';
import { formatMicros } from '../../src/domain/money.js';

const NAME = 'stats';
const GROUP_BYS = ['DAY', 'PROVIDER', 'STATUS', 'COUNTRY', 'TEMPLATE'] as const;
const TARGET_MS = 1_000;
const BASELINE_NAME = 'pg count(*) by status';
const DAYS = 365;

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const scenario: Scenario = {
  name: NAME,
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const count = options.quick ? 100_000 : 1_000_000;
    const others = count / 5;
    const runs = options.quick ? 1 : 3;
    const metric = (g: string) => `messageStats(${g}) ms, ${count.toLocaleString('en-US')} msgs`;

    let db: PreparedDatabase;
    try {
      db = await prepareDatabase('postgres', options.postgresAdminUrl);
    } catch (error) {
      const note = `skipped: PostgreSQL unavailable at ${options.postgresAdminUrl} (${(error as Error).message.split('\n')[0]})`;
      return GROUP_BYS.map((g) => ({ scenario: NAME, metric: metric(g), herald: null, baseline: null, target: `≤ ${TARGET_MS} ms`, met: null, note }));
    }
    let herald: ServerProcess | undefined;
    const client = new pg.Client({ connectionString: db.databaseUrl! });
    try {
      await client.connect();
      const to = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
      const from = new Date(to.getTime() - DAYS * 86_400_000);
      const other = (await db.database.prisma.account.create({ data: { name: 'bench-other' } })).id;
      const templateIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        templateIds.push((await db.database.prisma.template.create({ data: { accountId: db.accountId, name: `Template ${i}`, category: 'NOTIFICATION' } })).id);
      }
      let t0 = performance.now();
      await seed(client, db.accountId, count, from, templateIds);
      await seed(client, other, others, from, []);
      await client.query('ANALYZE "Message"');
      const { rows: costRows } = await client.query<{ currency: string; micros: string }>(
        'SELECT "costCurrency" AS currency, sum("estimatedCostMicros")::text AS micros FROM "Message" WHERE "accountId" = $1 AND "costCurrency" IS NOT NULL GROUP BY 1 ORDER BY 1',
        [db.accountId],
      );
      const expectedCost = costRows.map((r) => `${formatMicros(BigInt(r.micros))} ${r.currency}`).join(', ');
      options.log(`seeded ${count} + ${others} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

      herald = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, DISPATCH: 'off' });
      const url = `${herald.url}/graphql`;
      const range = { from: from.toISOString(), to: to.toISOString() };
      const rollupSeconds = await waitForRollup(client, [db.accountId, other], to);
      options.log(`rollup of ${count + others} messages caught up in ${rollupSeconds.toFixed(1)} s`);

      const baselineMs: number[] = [];
      for (let run = 0; run <= runs; run++) {
        t0 = performance.now();
        await client.query(
          'SELECT status, count(*) FROM "Message" WHERE "accountId" = $1 AND "createdAt" >= $2 AND "createdAt" < $3 GROUP BY status',
          [db.accountId, from, to],
        );
        if (run > 0) baselineMs.push(performance.now() - t0); // run 0 warms the cache
      }
      const baseline = median(baselineMs);

      const rows: BenchRow[] = [
        {
          scenario: NAME,
          metric: `initial rollup s, ${(count + others).toLocaleString('en-US')} msgs`,
          herald: Math.round(rollupSeconds * 10) / 10,
          baseline: null,
          target: 'reported',
          met: null,
          note: 'first roll transaction to caught up, by the database clock, while nothing else runs; once, at the first start on existing data',
        },
      ];
      for (const [groupBy, exact] of [...GROUP_BYS.map((g) => [g, false] as const), ['STATUS', true] as const]) {
        const times: number[] = [];
        let answer: { total: number; groups: number; cost: string } | undefined;
        for (let run = 0; run <= runs; run++) {
          t0 = performance.now();
          answer = await query(url, db.key, { ...range, groupBy }, exact);
          if (run > 0) times.push(performance.now() - t0);
        }
        const ms = median(times);
        const right = answer!.total === count && answer!.cost === expectedCost;
        options.log(`${groupBy}${exact ? ' exact' : ''}: ${times.map((x) => x.toFixed(0)).join(', ')} ms; ${answer!.groups} groups, total ${answer!.total}`);
        rows.push({
          scenario: NAME,
          metric: exact ? `messageStats(${groupBy}, exact) ms, ${count.toLocaleString('en-US')} msgs` : metric(groupBy),
          herald: Math.round(ms),
          baseline: Math.round(baseline),
          baselineName: BASELINE_NAME,
          ratio: ratioOf(ms, baseline, 'less'),
          target: exact ? 'reference' : `≤ ${TARGET_MS} ms`,
          met: exact ? null : right ? ms <= TARGET_MS : false,
          note:
            `${runs === 1 ? '1 run' : `median of ${runs} runs`} after a warm-up, over ${DAYS} days, HTTP to a Herald process on PostgreSQL; ` +
            `${exact ? 'exact medians, every message read; ' : ''}${answer!.groups} groups; totals.total ${answer!.total}, cost ${answer!.cost}` +
            `${right ? '' : ` ≠ ${count} seeded, ${expectedCost}: not met`}`,
        });
      }
      return rows;
    } finally {
      await client.end().catch(() => {});
      await herald?.stop();
      await db.dispose().catch((error: Error) => options.log(`dropping the bench database failed: ${error.message}`));
    }
  },
};

/**
 * `n` messages spread evenly over the range: 8 countries (valid numbers, so the country names
 * resolve), 3 providers, statuses mostly DELIVERED with every other outcome present, delivered
 * 1–60 s after creation, half of them from one of the templates; a cost recorded on nine in ten of
 * those a provider took (segments × a price per provider; the +86 numbers in CNY, the rest USD).
 */
async function seed(client: pg.Client, accountId: string, n: number, from: Date, templateIds: string[]): Promise<void> {
  await client.query(
    `INSERT INTO "Message" ("id", "accountId", "to", "body", "encoding", "segments", "status", "provider", "templateId", "createdAt", "updatedAt", "deliveredAt",
                            "estimatedCostMicros", "costCurrency")
     SELECT gen_random_uuid(), $1::uuid,
       (ARRAY['+1415555', '+1613555', '+49151', '+86138', '+336', '+447400', '+7916', '+9198'])[1 + i % 8]
         || lpad((i % (ARRAY[10000, 10000, 100000000, 100000000, 100000000, 1000000, 10000000, 100000000])[1 + i % 8])::text,
                 (ARRAY[4, 4, 8, 8, 8, 6, 7, 8])[1 + i % 8], '0'),
       'bench', 'GSM7', 1 + i % 3, s.status::"MessageStatus",
       CASE WHEN s.status IN ('CANCELED', 'QUEUED') THEN NULL ELSE (ARRAY['twilio', 'aliyun', 'smpp'])[1 + i % 3] END,
       CASE WHEN cardinality($4::uuid[]) > 0 AND i % 10 < 5 THEN ($4::uuid[])[1 + i % cardinality($4::uuid[])] END,
       c.created, c.created,
       CASE WHEN s.status = 'DELIVERED' THEN c.created + make_interval(secs => 1 + (i * 7) % 60) END,
       CASE WHEN s.status NOT IN ('CANCELED', 'QUEUED') AND i % 10 <> 9 THEN (1 + i % 3) * (ARRAY[7900, 5000, 9100])[1 + i % 3] END,
       CASE WHEN s.status NOT IN ('CANCELED', 'QUEUED') AND i % 10 <> 9 THEN CASE WHEN i % 8 = 3 THEN 'CNY' ELSE 'USD' END END
     FROM generate_series(0, $2::int - 1) AS i,
       LATERAL (SELECT $3::timestamptz + (i::float8 / $2::int) * interval '${DAYS} days' AS created) c,
       LATERAL (SELECT CASE
         WHEN (i * 37) % 100 < 80 THEN 'DELIVERED' WHEN (i * 37) % 100 < 86 THEN 'UNDELIVERED'
         WHEN (i * 37) % 100 < 89 THEN 'FAILED' WHEN (i * 37) % 100 < 91 THEN 'REJECTED'
         WHEN (i * 37) % 100 < 94 THEN 'EXPIRED' WHEN (i * 37) % 100 < 96 THEN 'CANCELED'
         WHEN (i * 37) % 100 < 98 THEN 'SENT' ELSE 'QUEUED' END AS status) s`,
    [accountId, n, from, templateIds],
  );
}

/**
 * Waits until Herald's rollup loop has rolled up every day of these accounts that it may (days over
 * for GRACE_MS; the seeded ones end the day before `to`) and left none dirty; returns how long that
 * took from its first roll transaction (coveredUntil is that transaction's start less MARGIN_MS).
 */
async function waitForRollup(client: pg.Client, accountIds: string[], to: Date): Promise<number> {
  const lastDay = new Date(Math.min(to.getTime() - 86_400_000, Math.floor((Date.now() - GRACE_MS) / 86_400_000) * 86_400_000 - 86_400_000));
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const { rows } = await client.query<{ done: boolean; seconds: number | null }>(
      `SELECT bool_and(d.last >= $2::date) AND count(d.last) = cardinality($1::uuid[])
                AND NOT EXISTS (SELECT 1 FROM "MessageStatsDay" WHERE dirty) AS done,
              extract(epoch FROM now() - (SELECT min("coveredUntil") FROM "MessageStatsDay") - make_interval(secs => $3))::float8 AS seconds
       FROM unnest($1::uuid[]) AS a(id) LEFT JOIN LATERAL (SELECT max(day) AS last FROM "MessageStatsDay" WHERE "accountId" = a.id) d ON true`,
      [accountIds, lastDay.toISOString().slice(0, 10), MARGIN_MS / 1000],
    );
    if (rows[0]?.done) return rows[0].seconds ?? 0;
    if (Date.now() > deadline) throw new Error('the stats rollup did not catch up within 30 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function query(url: string, key: string, variables: Record<string, string>, exact: boolean): Promise<{ total: number; groups: number; cost: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: `query($from: DateTime!, $to: DateTime!, $groupBy: StatsGroupBy!, $exact: Boolean) { messageStats(from: $from, to: $to, groupBy: $groupBy, exact: $exact) {
        groups { key total deliveryRate medianSecondsToDelivery cost { amount currency } } totals { total cost { amount currency } } } }`,
      variables: { ...variables, exact },
    }),
  });
  const text = await response.text();
  type Money = { amount: string; currency: string };
  const result = (JSON.parse(text) as { data?: { messageStats?: { groups: unknown[]; totals: { total: number; cost: Money[] } } } }).data?.messageStats;
  if (!response.ok || !result) throw new Error(`messageStats failed (HTTP ${response.status}): ${text.slice(0, 300)}`);
  return { total: result.totals.total, groups: result.groups.length, cost: result.totals.cost.map((m) => `${m.amount} ${m.currency}`).join(', ') };
}
