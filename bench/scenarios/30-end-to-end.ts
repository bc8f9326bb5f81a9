// End to end: send → simulator → delivery report through Herald's own webhook → DELIVERED
// stored → seen by a graphql-ws subscriber. A Herald process on a fresh PostgreSQL database with
// the default simulator provider (SIMULATOR_DELAY_MS=10) and DISPATCH on; 50 concurrent senders
// (sendMessage over HTTP, keep-alive) and one subscriber (`messageEvents(filter: {status:
// [DELIVERED]}) { id }`) live in this bench process, so neither shares Herald's process.
// Measured: sustained msg/s from the first send until the subscriber saw the last DELIVERED, and
// send→DELIVERED latency (request start → event received) p50/p99. N = 20 000 (quick: 2 000),
// after an unmeasured warm-up of one message per sender. Bounded: if not everything is seen
// within 240 s (quick: 60 s), sending stops and the rate is what was delivered over the budget.
// Profile Herald during the run: BENCH_E2E_CPU_PROF=<dir> (node --cpu-prof into that directory).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { percentile, type BenchOptions, type BenchRow, type Scenario } from '../harness.js';
import { prepareDatabase, type PreparedDatabase } from '../lib/accounts.js';
import { startHeraldProcess, type ServerProcess } from '../lib/processes.js';

const NAME = 'end-to-end';
const SENDERS = 50;
const TARGET_RATE = 2_000;
const SIMULATOR_DELAY_MS = 10;
const WARM_UP_TIMEOUT_MS = 30_000;
const SEND_QUERY = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id } } ... on Error { message } } }';

export const scenario: Scenario = {
  name: NAME,
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const count = Number(process.env.BENCH_E2E_COUNT) || (options.quick ? 2_000 : 20_000);
    const budgetMs = options.quick ? 60_000 : 240_000;
    const skipped = (note: string): BenchRow[] => [
      { scenario: NAME, metric: 'msg/s', herald: null, baseline: null, target: `≥ ${TARGET_RATE.toLocaleString('en-US')} msg/s`, met: null, note },
      { scenario: NAME, metric: 'p50 send→DELIVERED ms', herald: null, baseline: null, target: '—', met: null, note },
      { scenario: NAME, metric: 'p99 send→DELIVERED ms', herald: null, baseline: null, target: '—', met: null, note },
    ];

    let db: PreparedDatabase;
    try {
      db = await prepareDatabase('postgres', options.postgresAdminUrl);
    } catch (error) {
      return skipped(`skipped: PostgreSQL unavailable at ${options.postgresAdminUrl} (${(error as Error).message.split('\n')[0]})`);
    }
    let herald: ServerProcess | undefined;
    let ws: Client | undefined;
    const agent = new http.Agent({ keepAlive: true, maxSockets: SENDERS });
    try {
      const env: Record<string, string> = { DATABASE_URL: db.databaseUrl!, DISPATCH: 'on', SIMULATOR_DELAY_MS: String(SIMULATOR_DELAY_MS) };
      herald = await startHeraldProcess(env, process.env.BENCH_E2E_CPU_PROF);
      const graphqlUrl = `${herald.url}/graphql`;

      // Every DELIVERED event by message id, and every send by message id: a report may reach the
      // subscriber before the sender has read its answer, so both sides are matched by id.
      const deliveredAt = new Map<string, number>();
      const sentAt = new Map<string, number>();
      let matched = 0;
      let lastMatchedAt = 0;
      let subscriptionError: string | undefined;
      let onProgress = () => {};
      const match = (id: string) => {
        matched++;
        lastMatchedAt = Math.max(lastMatchedAt, deliveredAt.get(id)!);
        onProgress();
      };
      ws = createClient({ url: graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${db.key}` }, retryAttempts: 0 });
      ws.subscribe<{ messageEvents: { id: string } }>(
        { query: 'subscription { messageEvents(filter: { status: [DELIVERED] }) { id } }' },
        {
          next: ({ data, errors }) => {
            if (errors?.length) subscriptionError ??= errors[0]!.message;
            const id = data?.messageEvents.id;
            if (!id || deliveredAt.has(id)) return;
            deliveredAt.set(id, performance.now());
            if (sentAt.has(id)) match(id);
            else onProgress();
          },
          error: (error) => {
            subscriptionError ??= error instanceof Error ? error.message : JSON.stringify(error);
          },
          complete: () => {
            subscriptionError ??= 'the server ended the subscription';
          },
        },
      );

      const post = (i: number) => sendOne(agent, graphqlUrl, db.key, `Your code is ${String(100_000 + (i % 900_000))}. Bench message ${i}.`);
      const waitFor = (predicate: () => boolean, timeoutMs: number) =>
        new Promise<boolean>((resolve) => {
          if (predicate()) return resolve(true);
          const timer = setTimeout(() => {
            onProgress = () => {};
            resolve(false);
          }, Math.max(0, timeoutMs));
          onProgress = () => {
            if (!predicate()) return;
            clearTimeout(timer);
            onProgress = () => {};
            resolve(true);
          };
        });

      // Warm-up (not measured): proves the subscription is live, warms JIT and pools.
      options.log(`warm-up: ${SENDERS} messages`);
      const warmIds = await Promise.all(Array.from({ length: SENDERS }, (_, i) => post(-1 - i)));
      const warmOk = warmIds.filter((r): r is { id: string } => 'id' in r);
      if (warmOk.length === 0) throw new Error(`warm-up sends failed: ${'error' in warmIds[0]! ? warmIds[0].error : '?'}`);
      const warmSeen = await waitFor(() => warmOk.every((r) => deliveredAt.has(r.id)), WARM_UP_TIMEOUT_MS);
      if (!warmSeen) {
        const seen = warmOk.filter((r) => deliveredAt.has(r.id)).length;
        return skipped(`warm-up: the subscriber saw ${seen}/${warmOk.length} DELIVERED within ${WARM_UP_TIMEOUT_MS / 1000} s${subscriptionError ? ` (${subscriptionError})` : ''}: not measured`);
      }

      options.log(`sending ${count} messages with ${SENDERS} concurrent senders (budget ${budgetMs / 1000} s)`);
      const cpuBefore = await cpuSeconds(herald.pid);
      const started = performance.now();
      const deadline = started + budgetMs;
      let next = 0;
      let sendErrors = 0;
      let firstSendError: string | undefined;
      let sendsDone = false;
      let progressTimer: NodeJS.Timeout | undefined = setInterval(() => {
        const s = (performance.now() - started) / 1000;
        options.log(`  ${s.toFixed(0)} s: sent ${sentAt.size}, delivered+seen ${matched}`);
      }, options.quick ? 5_000 : 15_000);
      const senders = Array.from({ length: SENDERS }, async () => {
        while (next < count && performance.now() < deadline) {
          const i = next++;
          const t0 = performance.now();
          const result = await post(i);
          if ('id' in result) {
            sentAt.set(result.id, t0);
            if (deliveredAt.has(result.id)) match(result.id);
          } else {
            sendErrors++;
            firstSendError ??= result.error;
          }
        }
      });
      await Promise.all(senders);
      sendsDone = true;
      const intakeSeconds = (performance.now() - started) / 1000;
      const accepted = sentAt.size;
      const complete = await waitFor(() => sendsDone && matched >= accepted, deadline - performance.now());
      const endedAt = complete ? lastMatchedAt : performance.now();
      const cpuAfter = await cpuSeconds(herald.pid);
      clearInterval(progressTimer);
      progressTimer = undefined;
      const seconds = (endedAt - started) / 1000;
      const rate = matched / seconds;
      const latencies: number[] = [];
      for (const [id, t0] of sentAt) {
        const t1 = deliveredAt.get(id);
        if (t1 !== undefined) latencies.push(t1 - t0);
      }
      const p50 = percentile(latencies, 0.5);
      const p99 = percentile(latencies, 0.99);
      const herald_cpu = cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / ((performance.now() - started) / 1000) : null;
      const rss = await herald.rssMb().catch(() => null);
      const statusCounts = await db.database.prisma.message.groupBy({ by: ['status'], _count: true });
      const statuses = statusCounts.map((s) => `${s.status} ${s._count}`).join(', ');
      options.log(
        `${matched}/${accepted} seen DELIVERED in ${seconds.toFixed(1)} s: ${rate.toFixed(0)} msg/s; intake ${(accepted / intakeSeconds).toFixed(0)} msg/s; ` +
          `p50 ${p50?.toFixed(0)} ms, p99 ${p99?.toFixed(0)} ms; Herald CPU ${herald_cpu?.toFixed(2)} cores; stored: ${statuses}`,
      );

      const round = (v: number | null) => (v === null ? null : Math.round(v));
      const setup =
        `${count.toLocaleString('en-US')} sendMessage over HTTP, ${SENDERS} concurrent senders, simulator report delay ${SIMULATOR_DELAY_MS} ms, PostgreSQL, one graphql-ws subscriber; ` +
        (complete
          ? `all ${matched} accepted messages seen DELIVERED after ${seconds.toFixed(1)} s`
          : `NOT COMPLETE within the ${budgetMs / 1000} s budget: ${matched}/${accepted} accepted seen DELIVERED (${sentAt.size < count ? `sending stopped after ${accepted} of ${count}` : 'all sent'}); rate = delivered / ${(budgetMs / 1000).toFixed(0)} s`) +
        `; intake during the run ${(accepted / intakeSeconds).toFixed(0)} msg/s; Herald CPU ${herald_cpu === null ? '?' : herald_cpu.toFixed(2)} cores, RSS ${rss === null ? '?' : rss.toFixed(0)} MB; stored: ${statuses}` +
        (sendErrors ? `; ${sendErrors} sends failed (first: ${firstSendError})` : '') +
        (subscriptionError ? `; subscription error: ${subscriptionError}` : '');
      return [
        {
          scenario: NAME,
          metric: 'msg/s',
          herald: round(rate),
          baseline: null,
          target: `≥ ${TARGET_RATE.toLocaleString('en-US')} msg/s`,
          met: complete && sendErrors === 0 ? rate >= TARGET_RATE : false,
          note: setup,
        },
        {
          scenario: NAME,
          metric: 'p50 send→DELIVERED ms',
          herald: round(p50),
          baseline: null,
          target: '—',
          met: null,
          note: `latency = request start in the sender → DELIVERED event received by the subscriber (same process clock), over ${latencies.length} messages`,
        },
        {
          scenario: NAME,
          metric: 'p99 send→DELIVERED ms',
          herald: round(p99),
          baseline: null,
          target: '—',
          met: null,
        },
      ];
    } finally {
      await Promise.resolve(ws?.dispose()).catch(() => {});
      agent.destroy();
      await herald?.stop();
      await db.dispose().catch((error: Error) => options.log(`dropping the bench database failed: ${error.message}`));
    }
  },
};

/** One sendMessage over keep-alive HTTP; the new message's id, or why not. */
function sendOne(agent: http.Agent, url: string, key: string, body: string): Promise<{ id: string } | { error: string }> {
  const payload = JSON.stringify({ query: SEND_QUERY, variables: { input: { to: '+14155550100', body } } });
  return new Promise((resolve) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${key}` } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            const result = (JSON.parse(text) as { data?: { sendMessage?: { __typename: string; data?: { id: string }; message?: string } } }).data?.sendMessage;
            if (result?.data?.id) return resolve({ id: result.data.id });
            resolve({ error: result ? `${result.__typename}: ${result.message ?? ''}` : `HTTP ${response.statusCode}: ${text.slice(0, 200)}` });
          } catch {
            resolve({ error: `HTTP ${response.statusCode}: ${text.slice(0, 200)}` });
          }
        });
        response.on('error', (error) => resolve({ error: error.message }));
      },
    );
    request.on('error', (error) => resolve({ error: error.message }));
    request.end(payload);
  });
}

/** CPU seconds (user + system) the process has used so far, from /proc; null where unavailable. */
async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12 (clock ticks, 100 Hz on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
