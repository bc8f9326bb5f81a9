// messageStats at scale: 1 000 000 messages of one account over 365 days (plus 200 000 of another
// account, so the account filter has work to do), written with one INSERT … SELECT generate_series
// on a fresh PostgreSQL database; then each groupBy over the whole year, through HTTP to a Herald
// process (DISPATCH=off). Baseline, same run, same database: the plainest aggregate of that range
// with `pg` (count(*) GROUP BY status), what a bare "counts by status" query costs.
// Full: median of 3 runs per groupBy after one warm-up; quick: 100 000 messages, 1 run.
// Every row checks that the totals Herald returns are the seeded count (a wrong answer is not met).
import pg from 'pg';
import type { BenchOptions, BenchRow, Scenario } from '../harness.js';
import { ratioOf } from '../harness.js';
import { prepareDatabase, type PreparedDatabase } from '../lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../lib/processes.js';

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
      options.log(`seeded ${count} + ${others} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

      herald = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, DISPATCH: 'off' });
      const url = `${herald.url}/graphql`;
      const range = { from: from.toISOString(), to: to.toISOString() };

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

      const rows: BenchRow[] = [];
      for (const groupBy of GROUP_BYS) {
        const times: number[] = [];
        let answer: { total: number; groups: number } | undefined;
        for (let run = 0; run <= runs; run++) {
          t0 = performance.now();
          answer = await query(url, db.key, { ...range, groupBy });
          if (run > 0) times.push(performance.now() - t0);
        }
        const ms = median(times);
        const right = answer!.total === count;
        options.log(`${groupBy}: ${times.map((x) => x.toFixed(0)).join(', ')} ms; ${answer!.groups} groups, total ${answer!.total}`);
        rows.push({
          scenario: NAME,
          metric: metric(groupBy),
          herald: Math.round(ms),
          baseline: Math.round(baseline),
          baselineName: BASELINE_NAME,
          ratio: ratioOf(ms, baseline, 'less'),
          target: `≤ ${TARGET_MS} ms`,
          met: right ? ms <= TARGET_MS : false,
          note:
            `${runs === 1 ? '1 run' : `median of ${runs} runs`} after a warm-up, over ${DAYS} days, HTTP to a Herald process on PostgreSQL; ` +
            `${answer!.groups} groups; totals.total ${answer!.total}${right ? '' : ` ≠ ${count} seeded: not met`}`,
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
 * 1–60 s after creation, half of them from one of the templates.
 */
async function seed(client: pg.Client, accountId: string, n: number, from: Date, templateIds: string[]): Promise<void> {
  await client.query(
    `INSERT INTO "Message" ("id", "accountId", "to", "body", "encoding", "segments", "status", "provider", "templateId", "createdAt", "updatedAt", "deliveredAt")
     SELECT gen_random_uuid(), $1::uuid,
       (ARRAY['+1415555', '+1613555', '+49151', '+86138', '+336', '+447400', '+7916', '+9198'])[1 + i % 8]
         || lpad((i % (ARRAY[10000, 10000, 100000000, 100000000, 100000000, 1000000, 10000000, 100000000])[1 + i % 8])::text,
                 (ARRAY[4, 4, 8, 8, 8, 6, 7, 8])[1 + i % 8], '0'),
       'bench', 'GSM7', 1 + i % 3, s.status::"MessageStatus",
       CASE WHEN s.status IN ('CANCELED', 'QUEUED') THEN NULL ELSE (ARRAY['twilio', 'aliyun', 'smpp'])[1 + i % 3] END,
       CASE WHEN cardinality($4::uuid[]) > 0 AND i % 10 < 5 THEN ($4::uuid[])[1 + i % cardinality($4::uuid[])] END,
       c.created, c.created,
       CASE WHEN s.status = 'DELIVERED' THEN c.created + make_interval(secs => 1 + (i * 7) % 60) END
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

async function query(url: string, key: string, variables: Record<string, string>): Promise<{ total: number; groups: number }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: `query($from: DateTime!, $to: DateTime!, $groupBy: StatsGroupBy!) { messageStats(from: $from, to: $to, groupBy: $groupBy) {
        groups { key total deliveryRate medianSecondsToDelivery } totals { total } } }`,
      variables,
    }),
  });
  const text = await response.text();
  const result = (JSON.parse(text) as { data?: { messageStats?: { groups: unknown[]; totals: { total: number } } } }).data?.messageStats;
  if (!response.ok || !result) throw new Error(`messageStats failed (HTTP ${response.status}): ${text.slice(0, 300)}`);
  return { total: result.totals.total, groups: result.groups.length };
}
