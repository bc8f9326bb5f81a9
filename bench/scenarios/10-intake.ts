// Single-send intake: sendMessage over HTTP at 50 concurrent connections on PostgreSQL
// (durable when it answers), against a bare node:http handler doing one equivalent INSERT with
// `pg`. Both servers run as their own processes; autocannon runs here.
// Herald runs twice: as the README starts it (the dispatcher on, delivering what is accepted
// while the load goes on: the headline row) and with DISPATCH=off (intake alone). The baseline
// runs twice too: into a narrow table of its own, and into Herald's real Message and
// MessageEvent tables with their indexes (what Herald's INSERT costs the database).
// Profile Herald during the run: BENCH_INTAKE_CPU_PROF=<dir> (node --cpu-prof into that directory).
import autocannon from 'autocannon';
import { ratioOf, type BenchOptions, type BenchRow, type Scenario } from '../harness.js';
import { prepareDatabase } from '../lib/accounts.js';
import { startHeraldProcess, startNodeProcess, type ServerProcess } from '../lib/processes.js';

const CONNECTIONS = 50;

export const scenario: Scenario = {
  name: 'intake',
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const seconds = options.quick ? 5 : 15;
    const db = await prepareDatabase('postgres', options.postgresAdminUrl);
    let herald: ServerProcess | undefined;
    let baseline: ServerProcess | undefined;
    try {
      herald = await startHeraldProcess({ DATABASE_URL: db.databaseUrl! }, process.env.BENCH_INTAKE_CPU_PROF);
      const heraldResult = await load(`${herald.url}/graphql`, db.key, seconds, options);
      await herald.stop();
      herald = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, DISPATCH: 'off' });
      const intakeOnly = await load(`${herald.url}/graphql`, db.key, seconds, options);
      await herald.stop();
      const stored = await db.database.prisma.message.count();
      options.log(`Herald stored ${stored} messages for ${heraldResult.ok + intakeOnly.ok} 200 answers`);
      baseline = await startNodeProcess('bench/baselines/pg-insert-server.ts', { DATABASE_URL: db.databaseUrl! }, /baseline listening on (http:\/\/\S+)/);
      const baselineResult = await load(baseline.url, db.key, seconds, options);
      await baseline.stop();
      baseline = await startNodeProcess(
        'bench/baselines/pg-insert-server.ts',
        { DATABASE_URL: db.databaseUrl!, HERALD_ACCOUNT_ID: db.accountId },
        /baseline listening on (http:\/\/\S+)/,
      );
      const realTables = await load(baseline.url, db.key, seconds, options);
      return [
        {
          scenario: 'intake',
          metric: 'sendMessage req/s',
          herald: heraldResult.rps,
          baseline: baselineResult.rps,
          baselineName: 'node:http + pg INSERT',
          ratio: ratioOf(heraldResult.rps, baselineResult.rps, 'more'),
          target: '≥ 2 500 req/s',
          met: heraldResult.rps >= 2500,
          note: `as npm start runs it (dispatcher on); ${CONNECTIONS} connections, ${seconds} s each; ${heraldResult.errors} errors/non-2xx`,
        },
        {
          scenario: 'intake',
          metric: 'p50 ms',
          herald: heraldResult.p50,
          baseline: baselineResult.p50,
          baselineName: 'node:http + pg INSERT',
          ratio: ratioOf(heraldResult.p50, baselineResult.p50, 'less'),
          target: '—',
          met: null,
        },
        {
          scenario: 'intake',
          metric: 'p99 ms',
          herald: heraldResult.p99,
          baseline: baselineResult.p99,
          baselineName: 'node:http + pg INSERT',
          ratio: ratioOf(heraldResult.p99, baselineResult.p99, 'less'),
          target: '≤ 50 ms',
          met: heraldResult.p99 <= 50,
        },
        {
          scenario: 'intake',
          metric: 'sendMessage req/s, vs INSERT into Herald tables',
          herald: heraldResult.rps,
          baseline: realTables.rps,
          baselineName: "node:http + pg INSERT into Message and MessageEvent",
          ratio: ratioOf(heraldResult.rps, realTables.rps, 'more'),
          target: 'reference',
          met: null,
          note: `baseline p99 ${realTables.p99} ms`,
        },
        {
          scenario: 'intake',
          metric: 'sendMessage req/s, DISPATCH=off',
          herald: intakeOnly.rps,
          baseline: baselineResult.rps,
          baselineName: 'node:http + pg INSERT',
          ratio: ratioOf(intakeOnly.rps, baselineResult.rps, 'more'),
          target: 'reference',
          met: null,
          note: `intake alone (no dispatcher in the process); p99 ${intakeOnly.p99} ms`,
        },
      ];
    } finally {
      await herald?.stop();
      await baseline?.stop();
      await db.dispose();
    }
  },
};

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
}

async function load(url: string, key: string, seconds: number, options: BenchOptions): Promise<LoadResult> {
  const body = JSON.stringify({
    query: 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id status } } } }',
    variables: { input: { to: '+14155550100', body: 'Your parcel is out for delivery today between 9:00 and 12:00.' } },
  });
  const request = { method: 'POST' as const, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body };
  // A short warm-up (JIT, connection pools), then the measured run.
  await autocannon({ url, connections: CONNECTIONS, duration: 1, ...request });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, ...request });
  const rps = result.requests.total / seconds;
  options.log(`${url}: ${rps.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps, p50: result.latency.p50, p99: result.latency.p99, ok: result['2xx'], errors: result.non2xx + result.errors + result.timeouts };
}
