// Fan-out: 10 000 graphql-ws subscribers (quick: 1 000) on one Herald process, each following
// its own message with `messageStatusChanged(id)` (a page waiting for its OTP's delivery),
// spread over 100 accounts, while status changes are published at 1 000 events/s for 10 s
// (quick: 3 s) through Redis, as another Herald instance would. Measured: latency from publish
// to receipt in the subscriber process (p50/p99), events delivered per second, and the server's
// peak RSS. Baseline in the same run, with the same subscriber workers, publisher and inputs:
// a bare `ws` server (bench/fanout/bare-server.ts) forwarding each Redis payload to the sockets
// following that message. Herald runs as its own process (PostgreSQL made fresh for the run,
// REDIS_URL, DISPATCH=off); subscribers live in two worker processes and the events come from
// a third, so the load generator does not share the measured process's CPU.
// Profile Herald during the run: BENCH_FANOUT_CPU_PROF=<dir> (node --cpu-prof).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../src/services/api-keys.js';
import { percentile, ratioOf, type BenchOptions, type BenchRow, type Scenario } from '../harness.js';
import { STEPS, type PublisherReply, type Subscriber, type WorkerCommand, type WorkerReply } from '../fanout/protocol.js';
import { heraldBundle } from '../lib/processes.js';
import { cpuSecondsOf } from '../lib/proc-cpu.js';
import { pingRedis } from '../lib/redis.js';
import { NO_LIMITS, openBenchDatabase, type BenchDatabase } from '../support.js';

const NAME = 'fanout';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fanoutDir = path.join(repoRoot, 'bench', 'fanout');

const ACCOUNTS = 100;
const RATE = 1_000;
const WORKERS = 2;
/** Handshakes in flight per worker while subscribers connect. */
const CONNECT_CONCURRENCY = 50;
const P99_TARGET_MS = 100;
const RSS_TARGET_MB = 1024;
const RATE_TARGET_RATIO = 0.5;

interface PhaseResult {
  connected: number;
  connectFailed: number;
  connectSeconds: number;
  expected: number;
  delivered: number;
  latencies: number[];
  rate: number | null;
  peakRssMb: number | null;
  rssAfterConnectMb: number | null;
  /** Server CPU while the events flowed, in cores (1.0 = one core busy). */
  serverCpuCores: number | null;
  publisherLagMs: number;
  errors: string | undefined;
}

export const scenario: Scenario = {
  name: NAME,
  async run(options) {
    const subscriberCount = options.quick ? 1_000 : 10_000;
    const seconds = options.quick ? 3 : 10;
    const skipped = (note: string): BenchRow[] =>
      ['p50 latency ms', 'p99 latency ms', 'delivered events/s', 'peak server RSS MB'].map((metric) => ({
        scenario: NAME,
        metric,
        herald: null,
        baseline: null,
        target: targetOf(metric),
        met: null,
        note,
      }));

    const redisProblem = await pingRedis(options.redisUrl);
    if (redisProblem) return skipped(`skipped: Redis unreachable at ${options.redisUrl} (${redisProblem})`);
    let bench: BenchDatabase;
    try {
      bench = await openBenchDatabase('postgres', options.postgresAdminUrl);
    } catch (error) {
      return skipped(`skipped: PostgreSQL unavailable (${(error as Error).message.split('\n')[0]})`);
    }

    const children = new Set<ChildProcess>();
    // If the suite itself is torn down mid-run, take the servers and workers with it.
    const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
    process.once('exit', killAll);
    try {
      options.log(`seeding ${ACCOUNTS} accounts, ${subscriberCount} messages`);
      const subscribers = await seed(bench, subscriberCount);
      const common = { options, bench, subscribers, seconds, children };

      options.log('baseline: bare ws server');
      const bare = await startBareServer(options.redisUrl, children);
      const baseline = await runPhase({ ...common, mode: 'bare', url: bare.url, serverPid: bare.child.pid! });
      await stopChild(bare.child);

      await bench.database.prisma.$executeRawUnsafe(`UPDATE "Message" SET status = 'SCHEDULED'`);
      await bench.database.prisma.$executeRawUnsafe(`DELETE FROM "MessageEvent"`);

      options.log('Herald');
      const herald = await startHerald(bench.databaseUrl!, options.redisUrl, children);
      const measured = await runPhase({ ...common, mode: 'herald', url: herald.url, serverPid: herald.child.pid! });
      await stopChild(herald.child);

      return rowsOf(measured, baseline, { subscriberCount, seconds });
    } finally {
      await Promise.all([...children].map(stopChild));
      process.off('exit', killAll);
      await bench.dispose().catch((error: Error) => options.log(`dropping the bench database failed: ${error.message}`));
    }
  },
};

function targetOf(metric: string): string {
  if (metric.startsWith('p50')) return `≤ ${P99_TARGET_MS} ms (as p99)`;
  if (metric.startsWith('p99')) return `≤ ${P99_TARGET_MS} ms`;
  if (metric.startsWith('delivered')) return `≥ ${RATE_TARGET_RATIO}× baseline`;
  return `≤ ${RSS_TARGET_MB} MB`;
}

function rowsOf(herald: PhaseResult, baseline: PhaseResult, run: { subscriberCount: number; seconds: number }): BenchRow[] {
  const p = (r: PhaseResult, q: number) => percentile(r.latencies, q);
  const round = (v: number | null, digits = 1) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);
  const complete = herald.delivered === herald.expected && herald.connected === run.subscriberCount;
  const setup =
    `${run.subscriberCount.toLocaleString('en-US')} subscribers over ${ACCOUNTS} accounts, ${RATE}/s × ${run.seconds} s; ` +
    `Herald delivered ${herald.delivered}/${herald.expected} (baseline ${baseline.delivered}/${baseline.expected}), ` +
    `connected ${herald.connected}/${run.subscriberCount} in ${herald.connectSeconds.toFixed(1)} s` +
    (herald.errors ? `; first error: ${herald.errors}` : '');
  const cpu = (r: PhaseResult) => (r.serverCpuCores === null ? '?' : r.serverCpuCores.toFixed(2));
  const [h50, b50, h99, b99] = [p(herald, 0.5), p(baseline, 0.5), p(herald, 0.99), p(baseline, 0.99)].map((v) => round(v));
  return [
    {
      scenario: NAME,
      metric: 'p50 latency ms',
      herald: h50!,
      baseline: b50!,
      baselineName: 'bare ws',
      ratio: ratioOf(h50!, b50!, 'less'),
      target: targetOf('p50'),
      met: h50 === null ? null : complete && h50 <= P99_TARGET_MS,
      note: setup,
    },
    {
      scenario: NAME,
      metric: 'p99 latency ms',
      herald: h99!,
      baseline: b99!,
      baselineName: 'bare ws',
      ratio: ratioOf(h99!, b99!, 'less'),
      target: targetOf('p99'),
      met: h99 === null ? null : complete && h99 <= P99_TARGET_MS,
      note: `latency = receipt in the subscriber process − publish to Redis; publisher max lag behind schedule ${herald.publisherLagMs.toFixed(0)} ms`,
    },
    {
      scenario: NAME,
      metric: 'delivered events/s',
      herald: round(herald.rate, 0),
      baseline: round(baseline.rate, 0),
      baselineName: 'bare ws',
      ratio: ratioOf(herald.rate, baseline.rate, 'more'),
      target: targetOf('delivered'),
      met: herald.rate === null || baseline.rate === null ? null : herald.rate / baseline.rate >= RATE_TARGET_RATIO,
      note: `server CPU while events flowed: Herald ${cpu(herald)} cores, baseline ${cpu(baseline)} cores (2-core machine shared with PostgreSQL, Redis, workers, publisher)`,
    },
    {
      scenario: NAME,
      metric: 'peak server RSS MB',
      herald: round(herald.peakRssMb, 0),
      baseline: round(baseline.peakRssMb, 0),
      baselineName: 'bare ws',
      ratio: ratioOf(herald.peakRssMb, baseline.peakRssMb, 'less'),
      target: targetOf('rss'),
      met: herald.peakRssMb === null ? null : herald.peakRssMb <= RSS_TARGET_MB,
      note: `VmRSS of the server process; Herald ${herald.rssAfterConnectMb?.toFixed(0) ?? '?'} MB once all subscribers were live`,
    },
  ];
}

/** Accounts (limits lifted: 100 subscriptions per key arrive within a second), one key each, and the followed messages. */
async function seed(bench: BenchDatabase, count: number): Promise<Subscriber[]> {
  const { prisma } = bench.database;
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({ id: randomUUID(), name: `fanout-${i}` }));
  await prisma.account.createMany({ data: accounts });
  await prisma.accountSettings.createMany({ data: accounts.map((a) => ({ accountId: a.id, limits: NO_LIMITS })) });
  const keys: string[] = [];
  for (const account of accounts) keys.push((await createApiKey(prisma, { accountId: account.id, name: 'fanout', role: 'SENDER' })).secret);
  // Message i belongs to account i % ACCOUNTS, so consecutive events hit different accounts.
  const subscribers: Subscriber[] = Array.from({ length: count }, (_, index) => ({
    index,
    messageId: randomUUID(),
    accountId: accounts[index % ACCOUNTS]!.id,
    key: keys[index % ACCOUNTS]!,
  }));
  for (let i = 0; i < count; i += 5_000) {
    await prisma.message.createMany({
      data: subscribers.slice(i, i + 5_000).map((s) => ({
        id: s.messageId,
        accountId: s.accountId,
        to: '+14155550100',
        body: 'Your verification code is 123456',
        encoding: 'GSM7' as const,
        segments: 1,
        status: 'SCHEDULED' as const,
      })),
    });
  }
  return subscribers;
}

function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra };
}

/** Spawns a process and resolves with the first stdout match of `ready` (rejects if it exits first or takes 60 s). */
function spawnUntil(args: string[], env: Record<string, string>, ready: RegExp, children: Set<ChildProcess>): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.at(-1)} not ready after 60 s: ${output.slice(-500)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.at(-1)} exited (${code}) before it was ready: ${output.slice(-500)}`));
    });
  });
}

async function startBareServer(redisUrl: string, children: Set<ChildProcess>) {
  const { child, match } = await spawnUntil(['--import', 'tsx', path.join(fanoutDir, 'bare-server.ts'), redisUrl], {}, /listening on (\d+)/, children);
  return { child, url: `ws://127.0.0.1:${match[1]}` };
}

async function startHerald(databaseUrl: string, redisUrl: string, children: Set<ChildProcess>) {
  const profileDir = process.env.BENCH_FANOUT_CPU_PROF;
  const { child, match } = await spawnUntil(
    [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), await heraldBundle()],
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      DISPATCH: 'off',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      BOOTSTRAP_ADMIN_KEY: 'false',
      NODE_ENV: 'production',
    },
    /listening on (http:\/\/\S+)\/graphql/,
    children,
  );
  return { child, url: `${match[1]!.replace(/^http/, 'ws')}/graphql` };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function readRssMb(pid: number): number | null {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function forkChild(file: string, children: Set<ChildProcess>): ChildProcess {
  const child = fork(path.join(fanoutDir, file), [], { cwd: repoRoot, execArgv: ['--import', 'tsx'], env: childEnv({}), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The next IPC message of `type` from a child (rejects if it exits first or after `timeoutMs`). */
function nextReply<T extends { type: string }>(child: ChildProcess, type: T['type'], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no '${type}' from a child process after ${timeoutMs / 1000} s`)), timeoutMs);
    const onMessage = (message: T) => {
      if (message.type === type || message.type === 'error') done(undefined, message);
    };
    const onExit = (code: number | null) => done(new Error(`a child process exited (${code}) before answering '${type}'`));
    const done = (error?: Error, message?: T) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else if (message!.type === 'error') reject(new Error((message as unknown as { message: string }).message));
      else resolve(message!);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function runPhase(phase: {
  options: BenchOptions;
  bench: BenchDatabase;
  subscribers: Subscriber[];
  seconds: number;
  children: Set<ChildProcess>;
  mode: 'herald' | 'bare';
  url: string;
  serverPid: number;
}): Promise<PhaseResult> {
  const { options, subscribers, seconds, children, serverPid } = phase;
  const label = phase.mode === 'herald' ? 'Herald' : 'baseline';
  let peakRssMb: number | null = null;
  const sampleRss = () => {
    const rss = readRssMb(serverPid);
    if (rss !== null) peakRssMb = Math.max(peakRssMb ?? 0, rss);
  };
  sampleRss();
  const sampler = setInterval(sampleRss, 100);
  const workers = Array.from({ length: WORKERS }, () => forkChild('worker.ts', children));
  try {
    // Connect: each worker takes every WORKERS-th subscriber.
    const connected = workers.map((worker, w) => {
      const reply = nextReply<Extract<WorkerReply, { type: 'connected' }>>(worker, 'connected', 150_000);
      worker.send({ type: 'connect', mode: phase.mode, url: phase.url, subscribers: subscribers.filter((_, i) => i % WORKERS === w), concurrency: CONNECT_CONCURRENCY } satisfies WorkerCommand);
      return reply;
    });
    const connectReplies = await Promise.all(connected);
    const ok = connectReplies.reduce((n, r) => n + r.ok, 0);
    const failed = connectReplies.reduce((n, r) => n + r.failed, 0);
    const connectSeconds = Math.max(...connectReplies.map((r) => r.seconds));
    sampleRss();
    const rssAfterConnectMb = readRssMb(serverPid);
    options.log(`${label}: ${ok} subscribers live in ${connectSeconds.toFixed(1)} s${failed ? `, ${failed} failed (${connectReplies.find((r) => r.firstError)?.firstError})` : ''}; server RSS ${rssAfterConnectMb?.toFixed(0)} MB`);
    // Let each subscription's one-off catch-up read (250 ms after subscribing) pass.
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Publish.
    const publisher = forkChild('publisher.ts', children);
    const cpuBefore = cpuSecondsOf(serverPid);
    const publishing = nextReply<Extract<PublisherReply, { type: 'published' }>>(publisher, 'published', (seconds + 60) * 1000);
    publisher.send({
      type: 'publish',
      databaseUrl: phase.bench.databaseUrl!,
      redisUrl: options.redisUrl,
      messages: subscribers.map((s) => ({ id: s.messageId, accountId: s.accountId })),
      rate: RATE,
      seconds,
    });
    const published = await publishing;
    const publishedAt = new Map<number, number>();
    for (let i = 0; i < published.published.length; i += 3) publishedAt.set(published.published[i]! * STEPS.length + published.published[i + 1]!, published.published[i + 2]!);
    const expected = publishedAt.size;
    options.log(`${label}: published ${expected} events in ${published.seconds.toFixed(1)} s (publisher lag ≤ ${published.lagMs.toFixed(0)} ms)`);

    // Drain: wait until every event arrived, or give up after a while.
    const drainDeadline = Date.now() + (options.quick ? 5_000 : 15_000);
    let received = 0;
    for (;;) {
      const counts = await Promise.all(workers.map((w) => {
        const reply = nextReply<Extract<WorkerReply, { type: 'count' }>>(w, 'count', 10_000);
        w.send({ type: 'count' } satisfies WorkerCommand);
        return reply;
      }));
      received = counts.reduce((n, c) => n + c.received, 0);
      if (received >= expected || Date.now() > drainDeadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const cpuAfter = cpuSecondsOf(serverPid);

    const receiptReplies = await Promise.all(workers.map((w) => {
      const reply = nextReply<Extract<WorkerReply, { type: 'receipts' }>>(w, 'receipts', 30_000);
      w.send({ type: 'finish' } satisfies WorkerCommand);
      return reply;
    }));
    const latencies: number[] = [];
    let firstPublish = Infinity;
    let lastReceipt = -Infinity;
    for (const at of publishedAt.values()) firstPublish = Math.min(firstPublish, at);
    for (const reply of receiptReplies) {
      const r = reply.receipts;
      for (let i = 0; i < r.length; i += 3) {
        const sentAt = publishedAt.get(r[i]! * STEPS.length + r[i + 1]!);
        if (sentAt === undefined) continue;
        latencies.push(r[i + 2]! - sentAt);
        lastReceipt = Math.max(lastReceipt, r[i + 2]!);
      }
    }
    const spanSeconds = (lastReceipt - firstPublish) / 1000;
    const rate = latencies.length && spanSeconds > 0 ? latencies.length / spanSeconds : null;
    const serverCpuCores = cpuBefore !== null && cpuAfter !== null && spanSeconds > 0 ? (cpuAfter - cpuBefore) / spanSeconds : null;
    const errors = [...connectReplies, ...receiptReplies].find((r) => r.firstError)?.firstError;
    options.log(
      `${label}: delivered ${latencies.length}/${expected}, p50 ${percentile(latencies, 0.5)?.toFixed(1)} ms, p99 ${percentile(latencies, 0.99)?.toFixed(1)} ms, ` +
        `${rate?.toFixed(0)} events/s, peak RSS ${peakRssMb === null ? '?' : (peakRssMb as number).toFixed(0)} MB`,
    );
    return {
      connected: ok,
      connectFailed: failed,
      connectSeconds,
      expected,
      delivered: latencies.length,
      latencies,
      rate,
      peakRssMb,
      rssAfterConnectMb,
      serverCpuCores,
      publisherLagMs: published.lagMs,
      errors,
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(workers.map(stopChild));
  }
}
