// `npm run soak -- --minutes N [--rate R] [--calibrate-seconds S]`: Herald as `npm start` runs it on
// PostgreSQL + Redis (a fresh database, Redis database 6), driven for N minutes with mixed traffic
// (soak/traffic.ts) at half of the maximum measured at the start of the same run (a closed loop of
// single sends, like the end-to-end benchmark), or at R messages/s. Prints, per minute: messages
// accepted, answer p99 of single and bulk sends (from the scheduled time), send→DELIVERED p99,
// codes approved, replies and watches seen, event-loop delay, RSS of each process, errors and lost
// messages; then RSS slopes and p99 in the first and the last third. Writes
// soak/results/latest.md. Exits 1 when anything was lost or failed, 2 when it cannot run.
import http from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareDatabase, type PreparedDatabase } from '../bench/lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../bench/lib/processes.js';
import { pingRedis, withRedisDb } from '../bench/lib/redis.js';
import { DEFAULT_POSTGRES_ADMIN_URL } from '../bench/support.js';
import { graphql } from '../chaos/lib/graphql.js';
import { openSealed } from '../src/domain/sealing.js';
import { createApiKey } from '../src/services/api-keys.js';
import { getMessageSealKey, getSimulatorSecret } from '../src/services/secrets.js';
import { createSecretStore } from '../src/store/secrets.js';
import { eventLoopDelay, heraldProcesses, rssMbOf } from './probes.js';
import { formatMinutes, MinuteLog, rssSlopes, thirds } from './stats.js';
import { Traffic, type TrafficTarget } from './traffic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIS_DB = 6;
const DRAIN_MS = 120_000;
const REPLY_TO = '+14155550199';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string' },
    'calibrate-seconds': { type: 'string', default: '30' },
    postgres: { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? DEFAULT_POSTGRES_ADMIN_URL },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const minutes = Number(values.minutes);
const fixedRate = values.rate === undefined ? undefined : Number(values.rate);
const calibrateSeconds = Number(values['calibrate-seconds']);
if (!(Number.isInteger(minutes) && minutes >= 1) || (fixedRate !== undefined && !(fixedRate > 0)) || !(calibrateSeconds >= 5)) {
  console.error('usage: npm run soak -- --minutes N (a whole number ≥ 1) [--rate MSG_PER_S (> 0)] [--calibrate-seconds S (≥ 5)]');
  process.exit(2);
}
const say = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const redisUrl = withRedisDb(values.redis, REDIS_DB);
const redisProblem = await pingRedis(redisUrl);
if (redisProblem) {
  console.error(`The soak runs on PostgreSQL + Redis; Redis is unavailable at ${redisUrl} (${redisProblem}).`);
  process.exit(2);
}
let db: PreparedDatabase;
try {
  db = await prepareDatabase('postgres', values.postgres, 'soak');
} catch (error) {
  console.error(`The soak runs on PostgreSQL + Redis; PostgreSQL is unavailable at ${values.postgres} (${(error as Error).message.split('\n')[0]}).`);
  process.exit(2);
}

const prisma = db.database.prisma;
const adminKey = (await createApiKey(prisma, { accountId: db.accountId, name: 'soak admin', role: 'ADMIN' })).secret;
// Codes go to thousands of numbers in one range (+1 415 555): lift the anti-pumping velocity limit.
await prisma.accountSettings.update({ where: { accountId: db.accountId }, data: { otpPrefixVelocity: { prefixDigits: 7, max: 1_000_000, perSeconds: 60 } } });
const secrets = createSecretStore(prisma);
const simulatorSecret = await getSimulatorSecret(secrets);
const sealKey = await getMessageSealKey(secrets);

let herald: ServerProcess | undefined;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let exitCode = 2;
try {
  herald = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, REDIS_URL: redisUrl, DISPATCH: 'on' });
  const baseUrl = herald.url;
  say(`Herald on ${baseUrl} (database ${new URL(db.databaseUrl!).pathname.slice(1)}, ${redisUrl}); processes: ${[...heraldProcesses(herald.pid).keys()].join(', ')}`);
  const identity = await graphql(baseUrl, adminKey, 'mutation($v: String!) { addSenderIdentity(value: $v) { __typename } }', { v: REPLY_TO });
  if (identity.json?.data?.addSenderIdentity?.__typename !== 'AddSenderIdentitySuccess') throw new Error(`addSenderIdentity: ${identity.body.slice(0, 300)}`);

  const rate = fixedRate ?? (await calibrate(baseUrl)) / 2;
  say(`offering ${rate.toFixed(0)} msg/s for ${minutes} min (single ${rate * 0.5 | 0}/s, bulk ${rate * 0.3 | 0}/s, codes ${rate * 0.1 | 0}/s, replies ${rate * 0.1 | 0}/s)`);
  exitCode = await soak(baseUrl, herald.pid, rate);
} catch (error) {
  console.error(`The soak failed: ${(error as Error).stack}`);
  if (herald) console.error(`Herald's last output:\n${herald.output().slice(-3000)}`);
} finally {
  agent.destroy();
  await herald?.stop();
  if (process.env.SOAK_KEEP_DATABASE) console.error(`kept the database: ${db.databaseUrl}\n${herald?.output().slice(-5000)}`);
  else await db.dispose().catch((error: Error) => console.error(`dropping the soak database failed: ${error.message}`));
}
process.exit(exitCode);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the traffic needs of this run: where, with which key and secrets; its minutes and its errors. */
function trafficTarget(baseUrl: string, log: MinuteLog, error: TrafficTarget['error']): TrafficTarget {
  return {
    baseUrl,
    key: db.key,
    agent,
    simulatorSecret,
    replyTo: REPLY_TO,
    log,
    codeOf: async (verificationId) => {
      const id = Buffer.from(verificationId, 'base64').toString().split(':')[1];
      const row = await prisma.verification.findUnique({ where: { id }, select: { message: { select: { sealedBody: true } } } });
      const sealed = row?.message?.sealedBody;
      return sealed ? /\d{4,10}/.exec(openSealed(sealKey, sealed))?.[0] : undefined;
    },
    error,
  };
}

/**
 * The most this Herald does of the soak's own mix, in messages (and replies) per second seen by
 * the subscriber: 50 clients in a closed loop for --calibrate-seconds, then up to 30 s for the
 * last reports, the rate being what was seen over the time until the last one was.
 */
async function calibrate(baseUrl: string): Promise<number> {
  say(`measuring the maximum of this mix: 50 clients in a closed loop for ${calibrateSeconds} s`);
  const log = new MinuteLog(performance.now());
  let errors = 0;
  let firstError: string | undefined;
  const traffic = new Traffic(
    trafficTarget(baseUrl, log, (_at, kind, detail) => {
      errors++;
      firstError ??= `${kind}: ${detail}`;
    }),
  );
  traffic.follow();
  await sleep(2_000);
  const started = performance.now();
  await traffic.closedLoop(50, calibrateSeconds * 1000);
  const stoppedAt = performance.now();
  while ((traffic.pending.size || traffic.repliesPending.size) && performance.now() < stoppedAt + 30_000) await sleep(200);
  await traffic.close();
  if (errors) throw new Error(`calibration: ${errors} errors (first: ${firstError})`);
  const seen = log.minutes.reduce((sum, m) => sum + m.delivered.length + m.repliesSeen, 0);
  const seconds = (Math.max(traffic.lastSeenAt, stoppedAt) - started) / 1000;
  say(`maximum ${(seen / seconds).toFixed(0)} msg/s (${seen} messages and replies seen in ${seconds.toFixed(0)} s; ${traffic.pending.size + traffic.repliesPending.size} not seen within 30 s of the end)`);
  await sleep(5_000); // the last reports, before the soak's first minute
  return seen / seconds;
}

async function soak(baseUrl: string, primaryPid: number, rate: number): Promise<number> {
  const startedAt = performance.now();
  const log = new MinuteLog(startedAt);
  const errorKinds = new Map<string, { count: number; first: string }>();
  const noteError = (at: number, kind: string, detail: string) => {
    log.at(at).errors++;
    const seen = errorKinds.get(kind);
    if (seen) seen.count++;
    else errorKinds.set(kind, { count: 1, first: detail });
  };
  const traffic = new Traffic(trafficTarget(baseUrl, log, noteError));
  traffic.follow();
  await new Promise((r) => setTimeout(r, 2_000));
  const driverLoop = monitorEventLoopDelay({ resolution: 10 });
  driverLoop.enable();

  let stop = false;
  process.once('SIGINT', () => {
    say('SIGINT: stopping the traffic, then reporting');
    stop = true;
  });
  const pids = heraldProcesses(primaryPid);
  const sampleMinute = async (index: number) => {
    const minute = log.byIndex(index);
    for (const [label, pid] of heraldProcesses(primaryPid)) {
      if (pids.has(label) && pids.get(label) !== pid) noteError(performance.now(), 'process replaced', `${label}: pid ${pids.get(label)} → ${pid}`);
      pids.set(label, pid);
      const rss = rssMbOf(pid);
      if (rss !== undefined) minute.rssMb[label] = rss;
    }
    minute.rssMb.soak = process.memoryUsage().rss / 2 ** 20;
    const loop = await eventLoopDelay(baseUrl);
    minute.eventLoopP99Ms = loop.p99Ms;
    minute.eventLoopMaxMs = loop.maxMs;
    traffic.rotateWatchConnection();
    say(
      `minute ${index + 1}: ${minute.accepted} accepted, ${minute.errors} errors, loop p99 ${loop.p99Ms?.toFixed(0)} ms, ` +
        `RSS ${Object.entries(minute.rssMb).map(([l, mb]) => `${l} ${mb.toFixed(0)}`).join(', ')} MB; pending ${traffic.pending.size}`,
    );
  };

  await eventLoopDelay(baseUrl); // resets Herald's event-loop histograms: minute 1 starts now
  const endAt = startedAt + minutes * 60_000;
  let nextSample = 0;
  while (!stop && performance.now() < endAt) {
    const now = performance.now();
    traffic.tick(now, startedAt, rate);
    if (now >= startedAt + (nextSample + 1) * 60_000) await sampleMinute(nextSample++);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (nextSample < log.minutes.length) await sampleMinute(nextSample);
  driverLoop.disable();

  say(`traffic stopped; waiting up to ${DRAIN_MS / 1000} s for ${traffic.pending.size} DELIVERED and ${traffic.repliesPending.size} replies still unseen`);
  const drainUntil = performance.now() + DRAIN_MS;
  while ((traffic.pending.size || traffic.repliesPending.size) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 500));
  await traffic.close();
  const missed = await countLost(traffic, log);

  const rows = log.minutes.slice(0, nextSample + 1).filter((m) => m.accepted || m.errors || Object.keys(m.rssMb).length);
  const total = (pick: (m: (typeof rows)[number]) => number) => rows.reduce((s, m) => s + pick(m), 0);
  const report = [
    `Herald soak: ${rows.length} min at ${rate.toFixed(0)} msg/s offered (PostgreSQL + Redis, HTTP workers + dispatcher), ${new Date().toISOString()}`,
    '',
    formatMinutes(rows),
    '',
    `accepted ${total((m) => m.accepted)}; delivered seen ${total((m) => m.delivered.length)}; codes approved ${total((m) => m.otpApproved)}/${total((m) => m.otpStarted)}; ` +
      `replies seen ${total((m) => m.repliesSeen)}/${total((m) => m.repliesPosted)}; watches ${total((m) => m.watchesCompleted)}/${total((m) => m.watches)}`,
    `errors ${total((m) => m.errors)}${[...errorKinds].map(([kind, e]) => `\n  ${kind}: ${e.count} (first: ${e.first})`).join('')}`,
    `lost ${total((m) => m.lost)} (accepted, never DELIVERED in the database); DELIVERED the subscriber missed but the database has: ${missed.events}, replies likewise: ${missed.replies}`,
    'RSS, MB (first minute → last; least-squares slope over the run and over its second half, MB/h):',
    ...rssSlopes(rows).map((s) => `  ${s.label.padEnd(10)} ${s.first.toFixed(0)} → ${s.last.toFixed(0)}; ${fmt(s.perHour)} MB/h; second half ${fmt(s.secondHalfPerHour)} MB/h`),
    `p99, first third → last third: send ${p99s(thirds(rows, (m) => m.send))}; bulk ${p99s(thirds(rows, (m) => m.bulk))}; send→DELIVERED ${p99s(thirds(rows, (m) => m.delivered))}`,
    `driver: event-loop delay p99 ${(driverLoop.percentile(99) / 1e6).toFixed(0)} ms, most requests in flight ${traffic.maxInFlight}`,
  ].join('\n');
  console.log(report);
  await mkdir(path.join(here, 'results'), { recursive: true });
  await writeFile(path.join(here, 'results', 'latest.md'), `\`\`\`\n${report}\n\`\`\`\n`);
  console.log('written: soak/results/latest.md');
  return total((m) => m.errors) || total((m) => m.lost) ? 1 : 0;
}

/** Messages and replies the subscriber never saw, looked up in the database: lost when not there (as DELIVERED). */
async function countLost(traffic: Traffic, log: MinuteLog): Promise<{ events: number; replies: number }> {
  const missed = { events: 0, replies: 0 };
  const pending = [...traffic.pending];
  for (let i = 0; i < pending.length; i += 1_000) {
    const chunk = pending.slice(i, i + 1_000);
    const ids = chunk.map(([id]) => Buffer.from(id, 'base64').toString().split(':')[1]!);
    const delivered = new Set((await prisma.message.findMany({ where: { id: { in: ids }, status: 'DELIVERED' }, select: { id: true } })).map((m) => m.id));
    chunk.forEach(([, sent], k) => {
      if (delivered.has(ids[k]!)) missed.events++;
      else log.byIndex(sent.minute).lost++;
    });
  }
  const replies = [...traffic.repliesPending];
  const stored = new Set(
    (await prisma.inboundMessage.findMany({ where: { providerMessageId: { in: replies.map(([n]) => traffic.replyIds.get(n)!) } }, select: { providerMessageId: true } })).map((r) => r.providerMessageId),
  );
  for (const [n, minute] of replies) {
    if (stored.has(traffic.replyIds.get(n)!)) missed.replies++;
    else log.byIndex(minute).lost++;
  }
  return missed;
}

function fmt(v: number | null): string {
  return v === null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;
}

function p99s({ first, last }: { first: number | null; last: number | null }): string {
  return `${first === null ? '—' : Math.round(first)} → ${last === null ? '—' : Math.round(last)} ms`;
}
