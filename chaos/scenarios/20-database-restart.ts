// database-restart: the machine's PostgreSQL is restarted under load (senders posting
// sendMessage, the server dispatching). Herald must come back by itself: /readyz 200 again,
// sends accepted again, every accepted message stored and final, clean errors meanwhile (no
// crash, no stack or SQL in answers), and a graphql-ws client that reconnects sees the current
// state. Restarts a shared service: never in the fast subset.
import { prepareDatabase, type PreparedDatabase } from '../../bench/lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../../bench/lib/processes.js';
import type { ChaosOptions, ChaosRow, ChaosScenario } from '../harness.js';
import { graphql, leaksInternals, rawId, subscribe, wsClient } from '../lib/graphql.js';
import { startSendLoad, type SendLoad } from '../lib/load.js';
import { alive } from '../lib/processes.js';
import { FINAL_STATUSES, restartPostgres, sleep, Truth, waitUntil } from '../lib/services.js';

const NAME = 'database-restart';

async function readyz(base: string): Promise<number> {
  return fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
}

export const scenario: ChaosScenario = {
  name: NAME,
  fast: false,
  async run(options: ChaosOptions): Promise<ChaosRow[]> {
    let db: PreparedDatabase | undefined;
    let server: ServerProcess | undefined;
    let truth: Truth | undefined;
    let load: SendLoad | undefined;
    const clients: { dispose(): unknown }[] = [];
    try {
      db = await prepareDatabase('postgres', options.postgresAdminUrl, 'chaos-dbrestart');
      truth = new Truth(db.databaseUrl!);
      server = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, DISPATCH_POLL_MS: '200', DISPATCH_LEASE_MS: '5000', SIMULATOR_DELAY_MS: '100' });
      const base = server.url;
      const key = db.key;

      // A subscriber from before the restart: does its subscription live through it?
      const before = wsClient(base, key);
      clients.push(before);
      let eventsBefore = 0;
      let eventsAfterRestart = 0;
      let restarted = false;
      let subscriptionError = '';
      subscribe(before, `subscription { messageEvents { id status } }`, {}, () => (restarted ? eventsAfterRestart++ : eventsBefore++)).done.catch(
        (error: unknown) => (subscriptionError = JSON.stringify(error).slice(0, 200)),
      );
      await sleep(500);

      load = startSendLoad(base, key, { senders: 8, tag: 'chaos db-restart' });
      await sleep(3_000);
      const restartAt = Date.now();
      await restartPostgres();
      const restartS = (Date.now() - restartAt) / 1000;
      restarted = true;
      options.log(`PostgreSQL restarted in ${restartS.toFixed(1)} s`);
      // Sends accepted again: the first accepted answer to a request started after the restart.
      const recovered = await waitUntil(() => load!.outcomes.find((o) => o.kind === 'accepted' && o.startedAt >= restartAt + restartS * 1000) ?? (!alive(server!.pid) && 'dead'), 60_000, () => 'no send accepted after the restart').catch(() => undefined);
      const recoveredS = recovered && recovered !== 'dead' ? (recovered.answeredAt - restartAt) / 1000 : NaN;
      await sleep(3_000);
      await load.stop();
      const heraldAlive = alive(server.pid);
      const ready = heraldAlive && (await waitUntil(async () => (await readyz(base)) === 200, 30_000).catch(() => false));
      // How it died, when it did: the lines that are not its JSON log (an uncaught error's trace).
      const death = heraldAlive ? undefined : server.output().split('\n').filter((l) => !l.startsWith('{"level":') || /"level":60/.test(l)).slice(-45).join(" | ").slice(0, 5000);

      const outcomes = load.outcomes;
      const duringOutage = outcomes.filter((o) => o.answeredAt >= restartAt && o.kind !== 'accepted');
      const leaky = outcomes.filter((o) => o.kind === 'leaky-error');
      const unavailable = duringOutage.filter((o) => o.status === 503 && o.detail?.includes('"SERVICE_UNAVAILABLE"'));
      const noAnswer = outcomes.filter((o) => o.kind === 'no-answer');
      const ids = load.accepted().map(rawId);
      const final = () => truth!.count(`SELECT count(*)::int AS n FROM "Message" WHERE id = ANY($1::uuid[]) AND status::text = ANY($2)`, [ids, FINAL_STATUSES]);
      if (heraldAlive) await waitUntil(async () => (await final()) === ids.length, 90_000).catch(() => {});
      const present = await truth.count(`SELECT count(*)::int AS n FROM "Message" WHERE id = ANY($1::uuid[])`, [ids]);
      const notFinal = ids.length - (await final());

      // A client that connects again after the outage reads the current state over graphql-ws.
      const last = load.accepted().at(-1)!;
      if (!heraldAlive) throw new Error(`Herald died: ${death}`);
      // The dispatcher's LISTEN connection (how other instances' accepted messages wake it) is back.
      const listening = await waitUntil(
        () => truth!.count(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`),
        15_000,
      ).catch(() => 0);
      const after = wsClient(base, key);
      clients.push(after);
      let wsStatus = '';
      await subscribe(after, `query($id: ID!) { message(id: $id) { status } }`, { id: last }, (d) => (wsStatus = d?.message?.status ?? '')).done.catch(() => {});
      const dbStatus = (await truth.query<{ status: string }>(`SELECT status::text FROM "Message" WHERE id = $1::uuid`, [rawId(last)]))[0]?.status ?? '(missing)';
      // And the subscription from before the restart: still receiving events?
      const countBefore = eventsAfterRestart;
      const probe = await graphql(base, key, `mutation { sendMessage(input: { to: "+14152999997", body: "after restart" }) { __typename } }`);
      await waitUntil(() => eventsAfterRestart > countBefore, 10_000).catch(() => {});
      const oldSubscriptionAlive = eventsAfterRestart > countBefore;

      const setup =
        `8 senders for ${((Date.now() - restartAt) / 1000 + 3).toFixed(0)} s; PostgreSQL restart took ${restartS.toFixed(1)} s; ${outcomes.length} sends, ${ids.length} accepted, ` +
        `${duringOutage.length} refused during the outage (HTTP ${[...new Set(duringOutage.map((o) => o.status))].join('/') || '—'})` +
        (duringOutage[0] ? `, e.g. ${duringOutage[0].detail?.slice(0, 120)}` : '');
      return [
        { scenario: NAME, figure: 'accepted messages lost', value: ids.length - present, expected: '0', ok: present === ids.length && ids.length > 0, note: setup },
        { scenario: NAME, figure: 'accepted messages not final', value: notFinal, expected: '0', ok: notFinal === 0 },
        { scenario: NAME, figure: 'seconds until sends succeed again', value: Number(recoveredS.toFixed(1)), expected: '≤ 15 s after restart began', ok: recoveredS <= 15 },
        { scenario: NAME, figure: '/readyz 200 again', value: ready ? 'yes' : 'no', expected: 'yes', ok: Boolean(ready) },
        { scenario: NAME, figure: 'Herald process still alive', value: heraldAlive ? 'yes' : 'no', expected: 'yes', ok: heraldAlive, note: death },
        { scenario: NAME, figure: 'LISTEN connection (wake-ups) back', value: listening, expected: '≥ 1', ok: listening >= 1 },
        { scenario: NAME, figure: 'answers leaking stack/SQL', value: leaky.length, expected: '0', ok: leaky.length === 0, note: leaky[0]?.detail },
        {
          // A client must be able to tell "retry, nothing was done" from a bug: every refusal
          // while PostgreSQL is away says SERVICE_UNAVAILABLE with HTTP 503.
          scenario: NAME,
          figure: 'refusals saying SERVICE_UNAVAILABLE (503)',
          value: `${unavailable.length} / ${duringOutage.length}`,
          expected: 'all',
          ok: unavailable.length === duringOutage.length,
          note: duringOutage.find((o) => !unavailable.includes(o))?.detail,
        },
        { scenario: NAME, figure: 'requests with no HTTP answer', value: noAnswer.length, expected: '0', ok: noAnswer.length === 0, note: noAnswer[0]?.detail },
        { scenario: NAME, figure: 'reconnected ws client reads current state', value: `${wsStatus || '(none)'} = ${dbStatus}`, expected: 'equal', ok: wsStatus !== '' && wsStatus === dbStatus },
        {
          // Ending with a clean error is allowed (the client subscribes again and, as above,
          // reads the current state); ending with internals in it, or silently, is not.
          scenario: NAME,
          figure: 'subscription from before the restart',
          value: oldSubscriptionAlive ? 'receives' : subscriptionError ? 'ended, clean error' : 'silent',
          expected: 'receives, or ends with a clean error',
          ok: oldSubscriptionAlive || (subscriptionError !== '' && !leaksInternals(subscriptionError)),
          note: `${eventsBefore} events before the restart, ${eventsAfterRestart} after; probe ${probe.json?.data?.sendMessage?.__typename ?? probe.status}${subscriptionError ? `; subscription ended: ${subscriptionError}` : ''}`,
        },
      ];
    } finally {
      await load?.stop();
      for (const client of clients) await client.dispose();
      await server?.stop();
      await truth?.close();
      // PostgreSQL may still be starting when a row failed early.
      await waitUntil(async () => db?.dispose().then(() => true, () => false) ?? true, 30_000, () => 'could not drop the database', 1_000).catch(() => {});
    }
  },
};
