// redis-restart: two Herald instances on one PostgreSQL and one Redis, a graphql-ws subscriber on
// A, sends through B; Redis is shut down (nosave) and started again. Herald must come back by
// itself: A's subscription hears B's events again, nothing accepted is lost, and the shared rate
// limits count across instances again. Redis is started again whatever happens (finally).
import { prepareDatabase, type PreparedDatabase } from '../../bench/lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../../bench/lib/processes.js';
import { NO_LIMITS } from '../../bench/support.js';
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';
import type { ChaosOptions, ChaosRow, ChaosScenario } from '../harness.js';
import { graphql, rawId, SEND, sentId, subscribe, wsClient } from '../lib/graphql.js';
import { recipient } from '../lib/herald.js';
import { startSendLoad, type SendLoad } from '../lib/load.js';
import { alive } from '../lib/processes.js';
import { FINAL_STATUSES, sleep, startRedis, stopRedis, Truth, waitUntil } from '../lib/services.js';

const NAME = 'redis-restart';
const LIMIT = 5;

export const scenario: ChaosScenario = {
  name: NAME,
  fast: false,
  async run(options: ChaosOptions): Promise<ChaosRow[]> {
    let db: PreparedDatabase | undefined;
    const servers: ServerProcess[] = [];
    let truth: Truth | undefined;
    let load: SendLoad | undefined;
    const clients: { dispose(): unknown }[] = [];
    try {
      await startRedis(options.redisUrl); // fails clearly when Redis cannot run here
      db = await prepareDatabase('postgres', options.postgresAdminUrl, 'chaos-redis');
      truth = new Truth(db.databaseUrl!);
      // A second account whose request rate is limited, to see the shared limit after the restart.
      const limited = await ensureAccount(db.database.prisma, 'chaos-redis-limited');
      await db.database.prisma.accountSettings.create({ data: { accountId: limited.id, limits: { ...NO_LIMITS, requests: { max: LIMIT, perSeconds: 300 } } } });
      const limitedKey = (await createApiKey(db.database.prisma, { accountId: limited.id, name: 'limited', role: 'SENDER' })).secret;
      const env = { DATABASE_URL: db.databaseUrl!, REDIS_URL: options.redisUrl, DISPATCH_POLL_MS: '200', SIMULATOR_DELAY_MS: '100' };
      const [a, b] = await Promise.all([startHeraldProcess(env), startHeraldProcess(env)]);
      servers.push(a!, b!);
      const key = db.key;

      const delivered = new Map<string, number>();
      const ws = wsClient(a!.url, key);
      clients.push(ws);
      let subscriptionError = '';
      subscribe(ws, `subscription { messageEvents(filter: { status: [DELIVERED] }) { id status } }`, {}, (d) => delivered.set(d.messageEvents.id, Date.now())).done.catch(
        (error: unknown) => (subscriptionError = JSON.stringify(error).slice(0, 200)),
      );
      await sleep(500);
      const sendViaB = async (tag: string) => sentId(await graphql(b!.url, key, SEND, { input: { to: recipient(50_000 + delivered.size), body: tag } }));
      const first = await sendViaB('before the restart');
      const sawBefore = await waitUntil(() => first !== undefined && delivered.has(first), 20_000).catch(() => false);

      load = startSendLoad(b!.url, key, { senders: 4, pauseMs: 20, tag: 'chaos redis' });
      await sleep(2_000);
      const downAt = Date.now();
      let upAt = downAt;
      try {
        await stopRedis();
        await sleep(3_000);
      } finally {
        await startRedis(options.redisUrl);
        upAt = Date.now();
      }
      options.log(`Redis down for ${((upAt - downAt) / 1000).toFixed(1)} s`);
      // A's subscription hears B's events again: a message sent via B after Redis is back.
      let seenAgainS = NaN;
      await waitUntil(
        async () => {
          const id = await sendViaB('after the restart');
          const seen = id && (await waitUntil(() => delivered.has(id), 3_000).catch(() => false));
          if (seen) seenAgainS = (delivered.get(id)! - upAt) / 1000;
          return seen;
        },
        30_000,
      ).catch(() => {});
      await sleep(1_000);
      await load.stop();

      const ids = load.accepted().map(rawId);
      const final = () => truth!.count(`SELECT count(*)::int AS n FROM "Message" WHERE id = ANY($1::uuid[]) AND status::text = ANY($2)`, [ids, FINAL_STATUSES]);
      await waitUntil(async () => (await final()) === ids.length, 60_000).catch(() => {});
      const present = await truth.count(`SELECT count(*)::int AS n FROM "Message" WHERE id = ANY($1::uuid[])`, [ids]);
      const notFinal = ids.length - (await final());
      const bad = load.outcomes.filter((o) => o.kind === 'leaky-error' || o.kind === 'no-answer');
      const refused = load.outcomes.filter((o) => o.kind === 'clean-error');

      // The limited key, alternating between A and B: the count is shared only through Redis.
      const limitedAnswers = await Promise.all(
        Array.from({ length: LIMIT * 2 }, (_, i) => graphql(servers[i % 2]!.url, limitedKey, SEND, { input: { to: recipient(70_000 + i), body: `limited ${i}` } })),
      );
      const limitedAccepted = limitedAnswers.filter((x) => sentId(x)).length;
      const rateLimited = limitedAnswers.filter((x) => x.body.includes('RATE_LIMITED')).length;
      const bothAlive = servers.every((s) => alive(s.pid));

      const setup =
        `A + B on PostgreSQL and Redis; 4 senders via B; Redis down ${((upAt - downAt) / 1000).toFixed(1)} s; ${load.outcomes.length} sends, ${ids.length} accepted, ${refused.length} refused cleanly` +
        (refused[0] ? ` (e.g. ${refused[0].detail?.slice(0, 120)})` : '');
      return [
        { scenario: NAME, figure: 'accepted messages lost', value: ids.length - present, expected: '0', ok: present === ids.length && ids.length > 0, note: setup },
        { scenario: NAME, figure: 'accepted messages not final', value: notFinal, expected: '0', ok: notFinal === 0 },
        { scenario: NAME, figure: 'answers leaking internals or none', value: bad.length, expected: '0', ok: bad.length === 0, note: bad[0]?.detail },
        { scenario: NAME, figure: 'both Herald processes alive', value: bothAlive ? 'yes' : 'no', expected: 'yes', ok: bothAlive },
        {
          scenario: NAME,
          figure: "A's subscription sees B's events again (s)",
          value: Number.isNaN(seenAgainS) ? 'never' : Number(seenAgainS.toFixed(1)),
          expected: '≤ 30 s after Redis is back',
          ok: sawBefore === true && !Number.isNaN(seenAgainS),
          note: `seen before the restart: ${sawBefore ? 'yes' : 'no'}${subscriptionError ? `; subscription ended: ${subscriptionError}` : ''}`,
        },
        {
          scenario: NAME,
          figure: `rate limit shared again (accepted of ${LIMIT * 2}, limit ${LIMIT})`,
          value: limitedAccepted,
          expected: String(LIMIT),
          ok: limitedAccepted === LIMIT && rateLimited === LIMIT,
          note: `${rateLimited} answered RATE_LIMITED`,
        },
      ];
    } finally {
      await startRedis(options.redisUrl).catch((error: unknown) => options.log(`could not start Redis again: ${(error as Error).message}`));
      await load?.stop();
      for (const client of clients) await client.dispose();
      await Promise.all(servers.map((s) => s.stop()));
      await truth?.close();
      await db?.dispose();
    }
  },
};
