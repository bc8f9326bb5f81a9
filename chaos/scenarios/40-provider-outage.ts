// provider-outage: the primary provider (Twilio, here its local fake) answers 503 while the
// simulator stands by as secondary. Everything must be delivered through the secondary, nothing
// twice, and once the primary is back its circuit must close and take the traffic again.
import { prepareDatabase, type PreparedDatabase } from '../../bench/lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../../bench/lib/processes.js';
import { startTwilioFake, type TwilioFake } from '../../test/fakes/twilio-fake.js';
import type { ChaosOptions, ChaosRow, ChaosScenario } from '../harness.js';
import { graphql, rawId, SEND, sentId } from '../lib/graphql.js';
import { acceptMessages, recipient } from '../lib/herald.js';
import { FINAL_STATUSES, sleep, Truth, waitUntil } from '../lib/services.js';

const NAME = 'provider-outage';
const OPEN_MS = 3_000;

export const scenario: ChaosScenario = {
  name: NAME,
  fast: true,
  async run(options: ChaosOptions): Promise<ChaosRow[]> {
    const count = options.quick ? 100 : 1_000;
    const after = options.quick ? 20 : 100;
    let db: PreparedDatabase | undefined;
    let server: ServerProcess | undefined;
    let twilio: TwilioFake | undefined;
    let truth: Truth | undefined;
    try {
      twilio = await startTwilioFake({ reportDelayMs: 5 });
      db = await prepareDatabase('postgres', options.postgresAdminUrl, 'chaos-outage');
      truth = new Truth(db.databaseUrl!);
      server = await startHeraldProcess({
        DATABASE_URL: db.databaseUrl!,
        SMS_PROVIDERS: 'twilio,simulator',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE_URL: twilio.url,
        // The outage is 503 answers; a timeout would pin a message to the primary (it may have
        // taken it) until its lookup answers, which is another scenario. Generous on a busy machine.
        PROVIDER_TIMEOUT_MS: '5000',
        SMS_ROUTES: JSON.stringify({ circuit: { failureThreshold: 3, openMs: OPEN_MS } }),
        DISPATCH_BATCH_SIZE: '50',
        DISPATCH_MAX_ATTEMPTS: '20',
        DISPATCH_RETRY_BASE_MS: '100',
        DISPATCH_RETRY_MAX_MS: '1000',
        DISPATCH_POLL_MS: '100',
        SIMULATOR_DELAY_MS: '20',
      });
      const base = server.url;
      const key = db.key;
      const circuit = async () => {
        const answer = await graphql(base, key, `{ providers { name state circuit } }`);
        const list = (answer.json?.data?.providers ?? []) as { name: string; state: string; circuit: string }[];
        return list.find((p) => p.name === 'twilio')?.circuit ?? `unknown (HTTP ${answer.status})`;
      };
      const final = (ids: string[]) => truth!.count(`SELECT count(*)::int AS n FROM "Message" WHERE id = ANY($1::uuid[]) AND status::text = ANY($2)`, [ids, FINAL_STATUSES]);

      // The outage.
      twilio.setMode('unavailable');
      const ids = (await acceptMessages(base, key, count, 'Chaos outage: your code is ready.')).map(rawId);
      // The circuit as seen while the outage lasts (it turns HALF_OPEN every openMs to probe).
      const seen = new Set<string>();
      await waitUntil(async () => (seen.add(await circuit()), (await final(ids)) === count), 60_000, async () => `${await final(ids)} of ${count} final during the outage`, 200);
      const circuitDuring = seen.has('OPEN') ? 'OPEN' : [...seen].join('/');
      const outage = (
        await truth.query<{ viaSecondary: number; submissions: number; multiSent: number }>(
          `SELECT (SELECT count(*)::int FROM "Message" WHERE id = ANY($1::uuid[]) AND status = 'DELIVERED' AND provider = 'simulator') AS "viaSecondary",
                  (SELECT count(*)::int FROM "SimulatorSubmission" WHERE reference = ANY($2)) AS submissions,
                  (SELECT count(*)::int FROM (SELECT "messageId" FROM "MessageEvent" WHERE "messageId" = ANY($1::uuid[]) AND status = 'SENT' AND source = 'DISPATCHER' GROUP BY "messageId" HAVING count(*) > 1) d) AS "multiSent"`,
          [ids, ids],
        )
      )[0]!;
      const breakdown = (
        await truth.query<{ status: string; provider: string | null; error: string | null; n: number }>(
          `SELECT status::text, provider, "errorCode" AS error, count(*)::int AS n FROM "Message" WHERE id = ANY($1::uuid[]) GROUP BY 1, 2, 3 ORDER BY 4 DESC`,
          [ids],
        )
      ).map((r) => `${r.n} ${r.status} via ${r.provider ?? '—'}${r.error ? ` (${r.error})` : ''}`);
      const tookAtPrimary = twilio.messages.length;
      const triedAtPrimary = twilio.requests.filter((r) => r.method === 'POST').length;

      // Recovery: after openMs the half-open probe succeeds and the circuit closes.
      twilio.setMode('ok');
      const recoveredAt = Date.now();
      await sleep(OPEN_MS);
      let probes = 0;
      await waitUntil(
        async () => {
          probes++;
          const id = sentId(await graphql(base, key, SEND, { input: { to: recipient(90_000 + probes), body: `probe ${probes}` } }));
          if (!id) return false;
          const done = await waitUntil(async () => (await final([rawId(id)])) === 1, 15_000).catch(() => false);
          const row = done ? (await truth!.query<{ provider: string | null }>(`SELECT provider FROM "Message" WHERE id = $1::uuid`, [rawId(id)]))[0] : undefined;
          return row?.provider === 'twilio';
        },
        30_000,
        () => `no probe went through Twilio after ${probes} tries`,
        500,
      );
      const closedAfterS = (Date.now() - recoveredAt) / 1000;
      const circuitAfter = await circuit();
      const afterIds = (await acceptMessages(base, key, after, 'Chaos outage: after recovery.')).map(rawId);
      await waitUntil(async () => (await final(afterIds)) === after, 60_000, async () => `${await final(afterIds)} of ${after} final after recovery`);
      const viaPrimary = await truth.count(`SELECT count(*)::int AS n FROM "Message" WHERE id = ANY($1::uuid[]) AND status = 'DELIVERED' AND provider = 'twilio'`, [afterIds]);
      const setup = `${count} messages with Twilio (fake) answering 503, simulator secondary; circuit failureThreshold 3, openMs ${OPEN_MS}; ${triedAtPrimary} requests reached the primary during the outage; outcome: ${breakdown.join(', ')}`;
      return [
        { scenario: NAME, figure: 'delivered via secondary during outage', value: outage.viaSecondary, expected: String(count), ok: outage.viaSecondary === count, note: setup },
        { scenario: NAME, figure: 'sent twice (either provider)', value: outage.multiSent + tookAtPrimary, expected: '0', ok: outage.multiSent === 0 && tookAtPrimary === 0, note: `${outage.submissions} simulator submissions for ${count} messages; ${tookAtPrimary} taken by the down primary` },
        { scenario: NAME, figure: 'primary circuit seen during outage', value: circuitDuring, expected: 'OPEN', ok: circuitDuring === 'OPEN' },
        { scenario: NAME, figure: 'primary circuit after recovery', value: circuitAfter, expected: 'CLOSED', ok: circuitAfter === 'CLOSED', note: `first message through Twilio ${closedAfterS.toFixed(1)} s after it recovered (openMs ${OPEN_MS / 1000} s), ${probes} probe send(s)` },
        { scenario: NAME, figure: 'delivered via primary after recovery', value: `${viaPrimary} / ${after}`, expected: `${after} / ${after}`, ok: viaPrimary === after },
      ];
    } finally {
      await server?.stop();
      await twilio?.close();
      await truth?.close();
      await db?.dispose();
    }
  },
};
