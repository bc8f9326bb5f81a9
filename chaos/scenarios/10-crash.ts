// crash: the dispatcher (`herald worker`, its own process) is SIGKILLed at random points while it
// dispatches N accepted messages, and restarted each time. Nothing accepted may be lost, every
// message must end at a final status, and none may reach the provider twice: a message whose
// lease a dead worker held is looked up at the simulator by reference before any resubmission.
import { prepareDatabase, type PreparedDatabase } from '../../bench/lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../../bench/lib/processes.js';
import type { ChaosOptions, ChaosRow, ChaosScenario } from '../harness.js';
import { rawId } from '../lib/graphql.js';
import { acceptMessages } from '../lib/herald.js';
import { startWorker, type WorkerProcess } from '../lib/processes.js';
import { FINAL_STATUSES, Truth, waitUntil } from '../lib/services.js';

const NAME = 'crash';

export const scenario: ChaosScenario = {
  name: NAME,
  fast: true,
  async run(options: ChaosOptions): Promise<ChaosRow[]> {
    const count = options.quick ? 1_000 : 10_000;
    const kills = options.quick ? 2 : 5;
    const drainLimitS = options.quick ? 60 : 180;
    let db: PreparedDatabase | undefined;
    let server: ServerProcess | undefined;
    let worker: WorkerProcess | undefined;
    let truth: Truth | undefined;
    try {
      db = await prepareDatabase('postgres', options.postgresAdminUrl, 'chaos-crash');
      truth = new Truth(db.databaseUrl!);
      // The server only accepts (and receives the simulator's reports); the worker dispatches.
      server = await startHeraldProcess({ DATABASE_URL: db.databaseUrl!, DISPATCH: 'off' });
      const ids = await acceptMessages(server.url, db.key, count, 'Chaos crash: your code is ready.');
      options.log(`${ids.length} messages accepted`);

      const workerEnv = {
        DATABASE_URL: db.databaseUrl!,
        PUBLIC_URL: server.url,
        DISPATCH_BATCH_SIZE: '100',
        // Short leases: a dead worker's claims are taken over within seconds.
        DISPATCH_LEASE_MS: '2000',
        DISPATCH_POLL_MS: '200',
        SIMULATOR_DELAY_MS: '200',
      };
      const started = (): Promise<number> => truth!.count(`SELECT count(*)::int AS n FROM "Message" WHERE status <> 'QUEUED'`);
      const final = (): Promise<number> => truth!.count(`SELECT count(*)::int AS n FROM "Message" WHERE status::text = ANY($1)`, [FINAL_STATUSES]);
      // Kill points: random fractions of the messages claimed so far, spread over the run.
      const points = Array.from({ length: kills }, (_, i) => Math.floor(count * (0.05 + (0.8 * (i + Math.random())) / kills)));
      let inFlightAtKills = 0;
      for (const point of points) {
        worker = await startWorker(workerEnv);
        await waitUntil(async () => (await started()) >= point, 120_000, async () => `${await started()} of ${count} claimed, waiting for ${point}`);
        await worker.kill();
        const inFlight = await truth.count(`SELECT count(*)::int AS n FROM "Message" WHERE status = 'SENDING'`);
        inFlightAtKills += inFlight;
        options.log(`SIGKILL at ${point} claimed: ${inFlight} SENDING (leases held by the dead worker)`);
      }
      worker = await startWorker(workerEnv);
      const restartedAt = Date.now();
      let drained = true;
      await waitUntil(async () => (await final()) >= count, drainLimitS * 1000, async () => `${await final()} of ${count} final`).catch(() => (drained = false));
      const drainS = (Date.now() - restartedAt) / 1000;
      await worker.stop();
      worker = undefined;

      const rows = await truth.query<{ present: number; notFinal: number; delivered: number; submissions: number; notSubmitted: number; multiSent: number; retried: number }>(
        `SELECT (SELECT count(*)::int FROM "Message" WHERE id = ANY($1::uuid[])) AS present,
                (SELECT count(*)::int FROM "Message" WHERE NOT (status::text = ANY($2))) AS "notFinal",
                (SELECT count(*)::int FROM "Message" WHERE status = 'DELIVERED') AS delivered,
                (SELECT count(*)::int FROM "SimulatorSubmission") AS submissions,
                (SELECT count(*)::int FROM "Message" m WHERE NOT EXISTS (SELECT 1 FROM "SimulatorSubmission" s WHERE s.reference = m.id::text)) AS "notSubmitted",
                (SELECT count(*)::int FROM (SELECT "messageId" FROM "MessageEvent" WHERE status = 'SENT' AND source = 'DISPATCHER' GROUP BY "messageId" HAVING count(*) > 1) d) AS "multiSent",
                (SELECT count(*)::int FROM "Message" WHERE attempts > 1) AS retried`,
        [ids.map(rawId), FINAL_STATUSES],
      );
      const r = rows[0]!;
      const setup = `${count} messages via sendMessages, herald worker SIGKILLed ${kills}× (${inFlightAtKills} SENDING at the kills in all; ${r.retried} messages claimed more than once)`;
      return [
        { scenario: NAME, figure: 'accepted messages lost', value: ids.length - r.present, expected: '0', ok: ids.length === count && r.present === ids.length, note: setup },
        { scenario: NAME, figure: 'messages not at a final status', value: r.notFinal, expected: '0', ok: r.notFinal === 0 && drained },
        { scenario: NAME, figure: 'messages DELIVERED', value: r.delivered, expected: String(count), ok: r.delivered === count },
        { scenario: NAME, figure: 'provider submissions (rows) vs messages', value: `${r.submissions} / ${count}`, expected: 'equal, none missing', ok: r.submissions === count && r.notSubmitted === 0 },
        { scenario: NAME, figure: 'messages SENT by the dispatcher > 1×', value: r.multiSent, expected: '0', ok: r.multiSent === 0 },
        { scenario: NAME, figure: 'drain after last restart (s)', value: Number(drainS.toFixed(1)), expected: `≤ ${drainLimitS} s`, ok: drained && drainS <= drainLimitS },
      ];
    } finally {
      await worker?.kill();
      await server?.stop();
      await truth?.close();
      await db?.dispose();
    }
  },
};
