// webhook-outbox: statuses change under load while the processes that change them are SIGKILLed
// again and again: the dispatching worker (claims, SENT, REJECTED; it also relays and sends the
// webhooks) and the server (DELIVERED from the simulator's reports). Every status change that
// committed must reach the endpoint at least once, with the webhook-id of its event row, so a
// receiver deduplicating on it sees each change exactly once: 0 lost.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prepareDatabase, type PreparedDatabase } from '../../bench/lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../../bench/lib/processes.js';
import type { ChaosOptions, ChaosRow, ChaosScenario } from '../harness.js';
import { acceptMessages } from '../lib/herald.js';
import { startWorker, type WorkerProcess } from '../lib/processes.js';
import { FINAL_STATUSES, sleep, Truth, waitUntil } from '../lib/services.js';

const NAME = 'webhook-outbox';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export const scenario: ChaosScenario = {
  name: NAME,
  fast: true,
  async run(options: ChaosOptions): Promise<ChaosRow[]> {
    const count = options.quick ? 400 : 5_000;
    const kills = options.quick ? 4 : 10;
    let db: PreparedDatabase | undefined;
    let server: ServerProcess | undefined;
    let worker: WorkerProcess | undefined;
    let truth: Truth | undefined;
    let receiver: Server | undefined;
    // webhook-id → how many times it arrived.
    const received = new Map<string, number>();
    try {
      receiver = createServer((req, res) => {
        const id = String(req.headers['webhook-id'] ?? '');
        req.resume();
        req.on('end', () => {
          received.set(id, (received.get(id) ?? 0) + 1);
          res.statusCode = 204;
          res.end();
        });
      });
      await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
      const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

      db = await prepareDatabase('postgres', options.postgresAdminUrl, 'chaos-outbox');
      truth = new Truth(db.databaseUrl!);
      await db.database.prisma.webhookEndpoint.create({
        data: { accountId: db.accountId, url: receiverUrl, eventTypes: ['message.status_changed'], secret: `whsec_${randomBytes(32).toString('base64')}` },
      });
      // One process each, on a fixed port, so a restarted server is where the worker's simulator
      // sends its reports (PUBLIC_URL).
      const port = String(await freePort());
      const serverEnv = { DATABASE_URL: db.databaseUrl!, DISPATCH: 'off', HTTP_WORKERS: '0', PORT: port, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };
      server = await startHeraldProcess(serverEnv);
      const ids = await acceptMessages(server.url, db.key, count, 'Chaos outbox: your code is ready.');
      options.log(`${ids.length} messages accepted`);

      const workerEnv = {
        DATABASE_URL: db.databaseUrl!,
        PUBLIC_URL: server.url,
        DISPATCH_BATCH_SIZE: '50',
        DISPATCH_LEASE_MS: '2000',
        DISPATCH_POLL_MS: '200',
        SIMULATOR_DELAY_MS: '100',
        WEBHOOK_POLL_MS: '100',
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      };
      const final = (): Promise<number> => truth!.count(`SELECT count(*)::int AS n FROM "Message" WHERE status::text = ANY($1)`, [FINAL_STATUSES]);
      worker = await startWorker(workerEnv);
      // Kill points spread over the run: alternately the worker and the server, each restarted.
      for (let i = 0; i < kills; i++) {
        const point = Math.floor(count * (0.05 + (0.85 * (i + Math.random())) / kills));
        await waitUntil(async () => (await final()) >= point, 120_000, async () => `${await final()} of ${count} final, waiting for ${point}`);
        if (i % 2 === 0) {
          await worker.kill();
          options.log(`SIGKILL worker at ${point} final`);
          worker = await startWorker(workerEnv);
        } else {
          process.kill(server.pid, 'SIGKILL');
          options.log(`SIGKILL server at ${point} final`);
          await sleep(200);
          server = await startHeraldProcess(serverEnv);
        }
      }
      await waitUntil(async () => (await final()) >= count, 180_000, async () => `${await final()} of ${count} final`);
      // Every committed change of this run (txid > 0: written under the outbox) is an event row.
      const expectedIds = async () =>
        (await truth!.query<{ id: string }>(`SELECT e.id::text AS id FROM "MessageEvent" e WHERE e.applied AND e.txid > 0`)).map((r) => `msg_${r.id}`);
      let drained = true;
      await waitUntil(async () => (await expectedIds()).every((id) => received.has(id)), 120_000, async () => {
        const expected = await expectedIds();
        return `${expected.filter((id) => !received.has(id)).length} of ${expected.length} status changes not received yet`;
      }).catch(() => (drained = false));
      const expected = await expectedIds();
      const lost = expected.filter((id) => !received.has(id)).length;
      if (lost > 0) {
        // Where the missing ones are: not relayed (behind the cursor or the frontier), or relayed and not sent.
        const state = await truth.query(`SELECT (SELECT json_agg(r) FROM "OutboxRelay" r) AS relay, pg_current_snapshot()::text AS snapshot,
          (SELECT max(txid)::text FROM "MessageEvent") AS "maxTxid", (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM "WebhookDelivery" GROUP BY 1) d) AS deliveries,
          (SELECT json_agg(json_build_object('enabled', enabled, 'reason', "disabledReason")) FROM "WebhookEndpoint") AS endpoints`);
        options.log(`lost ${lost}: ${JSON.stringify(state[0])}`);
      }
      const duplicates = [...received.values()].reduce((n, c) => n + (c - 1), 0);
      const unknown = [...received.keys()].filter((id) => !expected.includes(id)).length;
      const setup = `${count} messages, worker and server SIGKILLed ${kills}× in turn, ${expected.length} committed status changes`;
      return [
        { scenario: NAME, figure: 'committed status changes not delivered to the endpoint', value: lost, expected: '0', ok: lost === 0 && drained, note: setup },
        { scenario: NAME, figure: 'webhooks for changes that never committed', value: unknown, expected: '0', ok: unknown === 0 },
        { scenario: NAME, figure: 'repeated deliveries (same webhook-id; receivers deduplicate)', value: duplicates, expected: 'any (at least once)', ok: true },
      ];
    } finally {
      await worker?.kill();
      await server?.stop().catch(() => undefined);
      await truth?.close();
      await db?.dispose();
      await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
    }
  },
};
