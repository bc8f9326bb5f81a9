// End to end: send → simulator → delivery report through Herald's own webhook → DELIVERED
// stored → seen by a graphql-ws subscriber. Herald on a fresh PostgreSQL database with the
// default simulator provider (SIMULATOR_DELAY_MS=10) and DISPATCH on; 50 concurrent senders
// (sendMessage over HTTP, keep-alive) and one subscriber (`messageEvents(filter: {status:
// [DELIVERED]}) { id }`) live in this bench process, so neither shares Herald's process.
// Measured, each after an unmeasured warm-up of one message per sender:
// - closed loop, one Herald instance as `npm start` runs it (on PostgreSQL a dispatching primary
//   and HTTP_WORKERS processes, one per core by default; no Redis): sustained msg/s from the
//   first send until the subscriber saw the last DELIVERED, send→DELIVERED p50/p99, and per
//   message: SQL, CPU of Herald / PostgreSQL / this bench process, WAL (bench/lib/usage.ts);
// - open loop at 50 % and 90 % of that maximum (a restarted Herald on the same database):
//   latency from each message's scheduled send time, and whether it kept up;
// - instances: the closed loop again with REDIS_URL, on one Herald instance and on two (senders
//   round-robin over both, the subscriber on the first: DELIVERED for messages the second
//   delivered reach it through Redis pub/sub), each on a fresh database.
// N = 20 000 per closed loop (quick: 2 000); bounded: if not everything is seen within 240 s
// (quick: 60 s), sending stops and the rate is what was delivered over the budget.
// Profile Herald during the run: BENCH_E2E_CPU_PROF=<dir> (node --cpu-prof into that directory).
import http from 'node:http';
import { percentile, ratioOf, type BenchOptions, type BenchRow, type Scenario } from '../harness.js';
import { prepareServerDatabase } from '../lib/accounts.js';
import { closedLoop, openLoop, warmUp, type ClosedLoopResult, type LoadTarget, type OpenLoopResult } from '../lib/e2e-load.js';
import { subscribeDelivered } from '../lib/graphql-client.js';
import { adminQuery, databaseName, openSqlCounter, waitForNoSessions, type SqlCounter } from '../lib/postgres-usage.js';
import { startHeraldProcess, type ServerProcess } from '../lib/processes.js';
import { pingRedis, withRedisDb } from '../lib/redis.js';
import { startUsage, type Usage } from '../lib/usage.js';

const NAME = 'end-to-end';
const SENDERS = 50;
const TARGET_RATE = 2_000;
const SIMULATOR_DELAY_MS = 10;
const WARM_UP_TIMEOUT_MS = 30_000;
const OPEN_LOOP_SHARES = [0.5, 0.9];
/** Redis database for the instances rows: keys apart from other users of a shared Redis (pub/sub channels are per account, fresh each run). */
const REDIS_DB = 5;

interface Setup {
  label: string;
  instances: number;
  redisUrl?: string;
}

interface ClosedRun {
  setup: Setup;
  result: ClosedLoopResult;
  usage: Usage;
  /** Counted over Herald's whole life on its database; statements null without pg_stat_statements. */
  sql: { counter: SqlCounter; transactions: number; statements: number | null; messages: number; settled: boolean };
  statuses: string;
  rssMb: (number | null)[];
  subscriptionError: string | undefined;
}

const round = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v));
const fixed = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '?' : v.toFixed(digits));
const int = (v: number) => Math.round(v).toLocaleString('en-US');

export const scenario: Scenario = {
  name: NAME,
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const count = Number(process.env.BENCH_E2E_COUNT) || (options.quick ? 2_000 : 20_000);
    const budgetMs = options.quick ? 60_000 : 240_000;
    const openLoopMs = options.quick ? 10_000 : 30_000;

    // 1. Closed loop as `npm start` runs, then the open loop on the same database.
    let headline: ClosedRun;
    let openLoops: OpenLoopResult[] | string;
    const db = await prepareServerDatabase(options.postgresAdminUrl).catch((error: Error) => error);
    if (db instanceof Error) return headlineRows(null, `skipped: PostgreSQL unavailable at ${options.postgresAdminUrl} (${db.message.split('\n')[0]})`);
    try {
      const run = await measureClosedLoop(options, db, { label: 'instances=1', instances: 1 }, count, budgetMs);
      if (typeof run === 'string') return headlineRows(null, run);
      headline = run;
      openLoops = await measureOpenLoops(options, db, headline.result.rate, openLoopMs).catch((error: Error) => `failed: ${error.message.split('\n')[0]}`);
    } finally {
      await db.dispose().catch((error: Error) => options.log(`dropping the bench database failed: ${error.message}`));
    }

    // 2. One instance and two, both with Redis, each on a fresh database.
    const redisUrl = withRedisDb(options.redisUrl, REDIS_DB);
    let instances: [ClosedRun, ClosedRun] | string;
    const redisProblem = await pingRedis(redisUrl);
    if (redisProblem) {
      instances = `skipped: Redis unavailable at ${redisUrl} (${redisProblem})`;
    } else {
      const one = await measureOnFreshDatabase(options, { label: 'instances=1 + Redis', instances: 1, redisUrl }, count, budgetMs);
      const two = typeof one === 'string' ? one : await measureOnFreshDatabase(options, { label: 'instances=2 + Redis', instances: 2, redisUrl }, count, budgetMs);
      instances = typeof one === 'string' ? one : typeof two === 'string' ? two : [one, two];
    }
    return [...headlineRows(headline, ''), ...openLoopRows(openLoops), ...instanceRows(instances)];
  },
};

async function measureOnFreshDatabase(options: BenchOptions, setup: Setup, count: number, budgetMs: number): Promise<ClosedRun | string> {
  const db = await prepareServerDatabase(options.postgresAdminUrl);
  try {
    return await measureClosedLoop(options, db, setup, count, budgetMs);
  } catch (error) {
    options.log(`${setup.label} failed: ${(error as Error).stack}`);
    return `${setup.label} failed: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await db.dispose().catch((error: Error) => options.log(`dropping the bench database failed: ${error.message}`));
  }
}

/** Herald's instances on `databaseUrl`, started one after the other, each on its own port; each sends its simulator's reports to itself. */
async function startInstances(databaseUrl: string, setup: Setup): Promise<ServerProcess[]> {
  const env: Record<string, string> = { DATABASE_URL: databaseUrl, DISPATCH: 'on', SIMULATOR_DELAY_MS: String(SIMULATOR_DELAY_MS), ...(setup.redisUrl ? { REDIS_URL: setup.redisUrl } : {}) };
  const heralds: ServerProcess[] = [];
  try {
    // PORT=0 (startHeraldProcess): each listens on a port of its own and, without PUBLIC_URL,
    // gives its simulator its own URL for the reports; the simulator's signing secret is in
    // the database, so either instance would accept the other's reports.
    for (let i = 0; i < setup.instances; i++) heralds.push(await startHeraldProcess(env, process.env.BENCH_E2E_CPU_PROF));
  } catch (error) {
    await Promise.all(heralds.map((h) => h.stop()));
    throw error;
  }
  return heralds;
}

/** Herald's life on `db`: start, warm-up, the closed loop measured, stop; the SQL is counted over the whole life. */
async function measureClosedLoop(options: BenchOptions, db: { databaseUrl: string; key: string }, setup: Setup, count: number, budgetMs: number): Promise<ClosedRun | string> {
  const admin = options.postgresAdminUrl;
  const database = databaseName(db.databaseUrl);
  const counter = await openSqlCounter(admin, database);
  const settledBefore = await waitForNoSessions(admin, database);
  const sqlBefore = await counter.read();
  const heralds = await startInstances(db.databaseUrl, setup);
  const agent = new http.Agent({ keepAlive: true, maxSockets: SENDERS });
  const subscriber = subscribeDelivered(`${heralds[0]!.url}/graphql`, db.key);
  try {
    const target: LoadTarget = { agent, graphqlUrls: heralds.map((h) => `${h.url}/graphql`), key: db.key, subscriber, log: options.log };
    options.log(`${setup.label}: warm-up, ${SENDERS} messages`);
    const warm = await warmUp(target, SENDERS, WARM_UP_TIMEOUT_MS);
    if (warm.failure) return `${warm.failure}: not measured`;

    options.log(`${setup.label}: sending ${count} messages with ${SENDERS} concurrent senders (budget ${budgetMs / 1000} s)`);
    const usage = await startUsage({ adminUrl: admin, database, herald: heralds.map((h, i) => ({ label: `instance ${i + 1}`, pid: h.pid })) });
    const result = await closedLoop(target, { count, senders: SENDERS, budgetMs, progressEveryMs: options.quick ? 5_000 : 15_000 });
    const used = await usage.stop();
    const rssMb = await Promise.all(heralds.map((h) => h.rssMb().catch(() => null)));

    await subscriber.dispose();
    agent.destroy();
    await Promise.all(heralds.map((h) => h.stop()));
    // Every backend has exited, so every statistic of the database is in (postgres-usage.ts).
    const settledAfter = await waitForNoSessions(admin, database);
    const sqlAfter = await counter.read();
    const statusRows = await adminQuery<{ status: string; n: number }>(admin, 'SELECT status, count(*)::int AS n FROM "Message" GROUP BY status ORDER BY status', [], database);
    const run: ClosedRun = {
      setup,
      result,
      usage: used,
      sql: {
        counter,
        transactions: sqlAfter.transactions - sqlBefore.transactions,
        statements: sqlAfter.statements === null || sqlBefore.statements === null ? null : sqlAfter.statements - sqlBefore.statements,
        messages: warm.accepted + result.accepted,
        settled: settledBefore && settledAfter,
      },
      statuses: statusRows.map((s) => `${s.status} ${s.n}`).join(', '),
      rssMb,
      subscriptionError: subscriber.error(),
    };
    options.log(`${setup.label}: ${summary(run)}`);
    return run;
  } finally {
    await subscriber.dispose();
    agent.destroy();
    await Promise.all(heralds.map((h) => h.stop()));
  }
}

/** A new Herald on the closed loop's database: warm-up, then each open-loop share of `maxRate` in turn. */
async function measureOpenLoops(options: BenchOptions, db: { databaseUrl: string; key: string }, maxRate: number, durationMs: number): Promise<OpenLoopResult[] | string> {
  if (!(maxRate > 0)) return 'skipped: nothing was delivered in the closed loop, so there is no maximum to take shares of';
  const [herald] = await startInstances(db.databaseUrl, { label: 'open loop', instances: 1 });
  // Open loop: requests pile up when Herald slows down, so the pool is not what limits them.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const subscriber = subscribeDelivered(`${herald!.url}/graphql`, db.key);
  try {
    const target: LoadTarget = { agent, graphqlUrls: [`${herald!.url}/graphql`], key: db.key, subscriber, log: options.log };
    const warm = await warmUp(target, SENDERS, WARM_UP_TIMEOUT_MS);
    if (warm.failure) return `${warm.failure}: not measured`;
    const results: OpenLoopResult[] = [];
    for (const [n, share] of OPEN_LOOP_SHARES.entries()) {
      const rate = share * maxRate;
      options.log(`open loop: ${rate.toFixed(0)} msg/s (${share * 100} % of ${maxRate.toFixed(0)}) for ${durationMs / 1000} s`);
      const result = await openLoop(target, { rate, durationMs, drainMs: options.quick ? 20_000 : 60_000, firstIndex: 1_000_000 * (n + 1) });
      options.log(
        `  offered ${result.offeredRate.toFixed(0)} msg/s, delivered ${fixed(result.deliveredRate, 0)} msg/s, ${result.delivered}/${result.count} seen; ` +
          `p50 ${fixed(result.p50, 0)} ms, p99 ${fixed(result.p99, 0)} ms; drain ${fixed(result.drainMs, 0)} ms; kept up: ${result.keptUp}`,
      );
      results.push(result);
    }
    return results;
  } finally {
    await subscriber.dispose();
    agent.destroy();
    await herald!.stop();
  }
}

function summary(run: ClosedRun): string {
  const r = run.result;
  return (
    `${r.delivered}/${r.accepted} seen DELIVERED in ${r.seconds.toFixed(1)} s: ${r.rate.toFixed(0)} msg/s; intake ${(r.accepted / r.intakeSeconds).toFixed(0)} msg/s; ` +
    `p50 ${fixed(percentile(r.latencies, 0.5), 0)} ms, p99 ${fixed(percentile(r.latencies, 0.99), 0)} ms` +
    (r.latenciesByInstance.length > 1
      ? ` (${r.latenciesByInstance.map((l, i) => `sent to instance ${i + 1}: p50 ${fixed(percentile(l, 0.5), 0)} ms, p99 ${fixed(percentile(l, 0.99), 0)} ms`).join('; ')})`
      : '') +
    `; ${resources(run)}; stored: ${run.statuses}`
  );
}

/** Per delivered message over the measured window, ms of CPU; the SQL over Herald's life. */
function perMessage(run: ClosedRun) {
  const n = run.result.delivered || Number.NaN;
  const u = run.usage;
  return {
    herald: (u.heraldTotal * 1000) / n,
    postgres: u.postgres ? ((u.postgres.backends + u.postgres.server) * 1000) / n : null,
    bench: (u.bench * 1000) / n,
    wal: u.walBytes / n,
    sql: (run.sql.statements ?? run.sql.transactions) / (run.sql.messages || Number.NaN),
    transactions: run.sql.transactions / (run.sql.messages || Number.NaN),
  };
}

function resources(run: ClosedRun): string {
  const p = perMessage(run);
  const u = run.usage;
  const processes = [...u.herald].map(([label, s]) => `${label} ${s.toFixed(2)} s`).join(', ');
  return (
    `per message: ${run.sql.statements === null ? '' : `${fixed(p.sql)} SQL statements, `}${fixed(p.transactions)} SQL transactions, Herald ${fixed(p.herald)} CPU ms (${processes}; ${(u.heraldTotal / u.seconds).toFixed(2)} cores), ` +
    (u.postgres
      ? `PostgreSQL ${fixed(p.postgres)} CPU ms (backends ${u.postgres.backends.toFixed(2)} s, server processes ${u.postgres.server.toFixed(2)} s; other databases' backends ${u.postgres.otherDatabases.toFixed(2)} s, not counted), `
      : 'PostgreSQL CPU not measured (server not on this machine), ') +
    `bench ${fixed(p.bench)} CPU ms, WAL ${fixed(p.wal, 0)} bytes`
  );
}

function headlineRows(run: ClosedRun | null, skipped: string): BenchRow[] {
  const row = (metric: string, herald: number | null, note?: string, target = '—', met: boolean | null = null): BenchRow => ({ scenario: NAME, metric, herald, baseline: null, target, met, note: run ? note : skipped });
  if (!run) {
    return [row('msg/s', null, undefined, `≥ ${TARGET_RATE.toLocaleString('en-US')} msg/s`), row('p50 send→DELIVERED ms', null), row('p99 send→DELIVERED ms', null)];
  }
  const r = run.result;
  const u = run.usage;
  const p = perMessage(run);
  const setup =
    `${r.count.toLocaleString('en-US')} sendMessage over HTTP, ${SENDERS} concurrent senders, simulator report delay ${SIMULATOR_DELAY_MS} ms, PostgreSQL, one Herald instance as npm start runs it (${[...u.herald.keys()].join(', ')}), one graphql-ws subscriber; ` +
    (r.complete
      ? `all ${r.delivered} accepted messages seen DELIVERED after ${r.seconds.toFixed(1)} s`
      : `NOT COMPLETE within the budget: ${r.delivered}/${r.accepted} accepted seen DELIVERED (${r.accepted < r.count ? `sending stopped after ${r.accepted} of ${r.count}` : 'all sent'}); rate = delivered / budget`) +
    `; intake during the run ${(r.accepted / r.intakeSeconds).toFixed(0)} msg/s; Herald ${(u.heraldTotal / u.seconds).toFixed(2)} cores, RSS ${fixed(run.rssMb[0], 0)} MB; stored: ${run.statuses}` +
    (r.sendErrors ? `; ${r.sendErrors} sends failed (first: ${r.firstSendError})` : '') +
    (run.subscriptionError ? `; subscription error: ${run.subscriptionError}` : '');
  const window = `over the measured window (first send → last DELIVERED, ${u.seconds.toFixed(1)} s), per message seen DELIVERED`;
  return [
    row('msg/s', round(r.rate), setup, `≥ ${TARGET_RATE.toLocaleString('en-US')} msg/s`, r.complete && r.sendErrors === 0 ? r.rate >= TARGET_RATE : false),
    row('p50 send→DELIVERED ms', round(percentile(r.latencies, 0.5)), `latency = request start in the sender → DELIVERED event received by the subscriber (same process clock), over ${r.latencies.length} messages`),
    row('p99 send→DELIVERED ms', round(percentile(r.latencies, 0.99))),
    row(
      `SQL ${run.sql.counter.unit}/msg`,
      p.sql,
      `${run.sql.counter.describe}; over Herald's whole life on its database (start, warm-up, the measured messages, stop), read once no session was connected: ` +
        `${run.sql.statements === null ? '' : `${int(run.sql.statements)} statements, `}${int(run.sql.transactions)} transactions for ${int(run.sql.messages)} messages` +
        (run.sql.settled ? '' : '; WARNING: sessions were still connected when it was read, some may be missing'),
    ),
    row('Herald CPU ms/msg', p.herald, `user + system CPU of every Herald process (the started process's tree, /proc) ${window}: ${[...u.herald].map(([l, s]) => `${l} ${s.toFixed(2)} s`).join(', ')}`),
    row(
      'PostgreSQL CPU ms/msg',
      p.postgres,
      u.postgres
        ? `CPU ${window} of the postmaster's children: the bench database's backends ${u.postgres.backends.toFixed(2)} s (those alive at the start from their CPU then, new ones from 0) + the server's own processes (checkpointer, WAL writer, background writer: shared with any other database) ${u.postgres.server.toFixed(2)} s; ` +
          `other databases' backends used ${u.postgres.otherDatabases.toFixed(2)} s meanwhile (not counted)`
        : 'not measured: the PostgreSQL server is not on this machine',
    ),
    row('bench client CPU ms/msg', p.bench, `this bench process (50 senders, the subscriber, the /proc sampler) ${window}`),
    row(
      'WAL bytes/msg',
      round(p.wal),
      (u.postgres && u.postgres.otherDatabases > 0.1 * u.postgres.backends
        ? `NOT HERALD'S ALONE: other databases' backends were busy during the window (${u.postgres.otherDatabases.toFixed(2)} CPU s against ${u.postgres.backends.toFixed(2)} s for Herald's), their WAL is in this figure; `
        : '') +
        `pg_wal_lsn_diff of pg_current_wal_lsn() ${window}; the WAL is the whole server's: other databases' writes in the window are in it (their backends used ${u.postgres ? u.postgres.otherDatabases.toFixed(2) : '?'} CPU s)`,
    ),
  ];
}

function openLoopRows(results: OpenLoopResult[] | string): BenchRow[] {
  return OPEN_LOOP_SHARES.flatMap((share, i) => {
    const r = typeof results === 'string' ? undefined : results[i];
    const name = `open loop ${share * 100} %${r ? ` (${r.offeredRate.toFixed(0)} msg/s)` : ''}`;
    const note = !r
      ? typeof results === 'string'
        ? results
        : 'not run'
      : `${r.count} messages on a fixed schedule at ${share * 100} % of the closed-loop msg/s above (a new Herald instance on the same database, after a warm-up), whatever the answers; ` +
        `latency = scheduled send time → DELIVERED seen, over ${r.latencies.length} messages; ${r.delivered}/${r.accepted} accepted seen DELIVERED, the last ${fixed(r.drainMs, 0)} ms after the last send; ` +
        `the bench fired sends up to ${r.maxSendLagMs.toFixed(0)} ms late` +
        (r.sendErrors ? `; ${r.sendErrors} sends failed (first: ${r.firstSendError})` : '');
    return [
      { scenario: NAME, metric: `${name}: p50 send→DELIVERED ms`, herald: round(r?.p50), baseline: null, target: '—', met: null, note },
      { scenario: NAME, metric: `${name}: p99 send→DELIVERED ms`, herald: round(r?.p99), baseline: null, target: '—', met: null },
      {
        scenario: NAME,
        metric: `${name}: delivered msg/s`,
        herald: round(r?.deliveredRate),
        baseline: null,
        target: '≥ 95 % of offered',
        met: r ? r.keptUp : null,
        note: r ? `(delivered − 1) ÷ (last DELIVERED − first DELIVERED): the rate at which reports came out; kept up = every message delivered at ≥ 95 % of the offered rate` : undefined,
      },
    ];
  });
}

function instanceRows(runs: [ClosedRun, ClosedRun] | string): BenchRow[] {
  const [one, two] = typeof runs === 'string' ? [undefined, undefined] : runs;
  const skipped = typeof runs === 'string' ? runs : undefined;
  const row = (metric: string, better: 'more' | 'less', value: (run: ClosedRun) => number | null, note?: string): BenchRow => {
    const herald = two ? value(two) : null;
    const baseline = one ? value(one) : null;
    return { scenario: NAME, metric, herald, baseline, baselineName: 'instances=1', ratio: ratioOf(herald, baseline, better), target: 'ratio reported', met: null, note: skipped ?? note };
  };
  const describe = (run: ClosedRun) => `${run.setup.label}: ${summary(run)}`;
  return [
    row(
      'msg/s, instances=2 + Redis',
      'more',
      (run) => round(run.result.rate),
      one && two
        ? `the closed loop again with REDIS_URL (db ${REDIS_DB}), two Herald instances (each as npm start runs it) on one database, senders round-robin over both, the subscriber on the first; baseline = the same with one instance. ${describe(two)}. ${describe(one)}`
        : undefined,
    ),
    row('p99 send→DELIVERED ms, instances=2', 'less', (run) => round(percentile(run.result.latencies, 0.99))),
    row('Herald CPU ms/msg, instances=2', 'less', (run) => perMessage(run).herald),
    row('PostgreSQL CPU ms/msg, instances=2', 'less', (run) => perMessage(run).postgres),
    row(`SQL ${one?.sql.counter.unit ?? 'transactions'}/msg, instances=2`, 'less', (run) => perMessage(run).sql),
  ];
}
