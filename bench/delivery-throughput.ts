// End-to-end delivery throughput: send N messages over HTTP, wait until a graphql-ws
// subscriber (messageEvents, DELIVERED) has seen every one. The simulator reports through the
// real webhook path. Usage:
//   node --import tsx bench/delivery-throughput.ts [--db pglite|postgres] [--count N] [--concurrency C]
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { makeConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startHerald } from '../src/server.js';
import { createApiKey, ensureAccount } from '../src/services/api-keys.js';
import { DEFAULT_POSTGRES_ADMIN_URL, NO_LIMITS, openBenchDatabase } from './support.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite' },
    count: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '50' },
    postgres: { type: 'string', default: DEFAULT_POSTGRES_ADMIN_URL },
  },
});
const count = Number(values.count);
const concurrency = Number(values.concurrency);

const { database, databaseUrl, dispose } = await openBenchDatabase(values.db!, values.postgres);
const config = makeConfig({ port: 0, databaseUrl, bootstrapAdminKey: false, logLevel: 'warn', dispatch: process.env.BENCH_DISPATCH !== 'off', dispatcher: { ...makeConfig().dispatcher, pollMs: 200 } });
const herald = await startHerald({ config, logger: createLogger(config), database });
const account = await ensureAccount(database.prisma, 'bench');
// One number, thousands of messages: lift the frequency limits for this account.
await database.prisma.accountSettings.create({
  data: { accountId: account.id, limits: NO_LIMITS },
});
const key = (await createApiKey(database.prisma, { accountId: account.id, name: 'bench', role: 'SENDER' })).secret;
const url = `${herald.url}/graphql`;

const ws = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` } });
const sentAt = new Map<string, number>();
const latencies: number[] = [];
let resolveAll: () => void;
const allDelivered = new Promise<void>((r) => (resolveAll = r));
ws.subscribe(
  { query: 'subscription { messageEvents(filter: { status: [DELIVERED] }) { id } }' },
  {
    next: ({ data }) => {
      const id = (data as { messageEvents: { id: string } }).messageEvents.id;
      const start = sentAt.get(id);
      if (start !== undefined) latencies.push(performance.now() - start);
      if (latencies.length === count) resolveAll();
    },
    error: (e) => console.error(e),
    complete: () => {},
  },
);
await new Promise((r) => setTimeout(r, 300));

const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          query: 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { ... on SendMessageSuccess { data { id } } } }',
          variables: { input: { to: '+14155550100', body: `bench ${i}` } },
        }),
      });
      const json = (await response.json()) as { data: { sendMessage: { data: { id: string } } } };
      sentAt.set(json.data.sendMessage.data.id, t0);
    }
  }),
);
const intakeSeconds = (performance.now() - started) / 1000;
await allDelivered;
const totalSeconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(0);
console.log(
  `${values.db}: ${count} messages, concurrency ${concurrency}: intake ${(count / intakeSeconds).toFixed(0)} msg/s; ` +
    `send→DELIVERED seen by a subscriber: ${(count / totalSeconds).toFixed(0)} msg/s, latency p50 ${pct(50)} ms, p99 ${pct(99)} ms`,
);
await ws.dispose();
await herald.stop();
await dispose();
