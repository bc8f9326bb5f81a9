// Providers' measured quality across processes: two Herald instances on one PostgreSQL, each
// running as a primary, an HTTP worker and a dispatcher (HTTP_WORKERS=1). Whichever process
// submitted a message or took its report, both instances show the same figures for every
// country, and /metrics (which adds up the processes of an instance) does not add them up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, graphqlCaller, NO_LIMITS } from '../support/herald.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';
import { createFreshDatabase, waitUntil } from '../support/services.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ... on SendMessageSuccess { data { id } } ... on Error { code message } } }`;
const QUALITY = /* GraphQL */ `
  {
    providers {
      name
      quality {
        country
        last5Minutes { submitted submitErrors delivered failed reportsMissing deliveryRate submitErrorRate deliveryP50Ms }
        last24Hours { submitted submitErrors delivered failed reportsMissing deliveryRate submitErrorRate deliveryP50Ms }
      }
    }
  }
`;

const processes: HeraldProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startServer(env: Record<string, string>): Promise<string> {
  const proc = spawnHerald(['server'], { PORT: '0', BOOTSTRAP_ADMIN_KEY: 'false', ...env });
  processes.push(proc);
  const [, url] = await proc.waitFor(/listening on (http:\/\/\S+\/graphql)/, 60_000);
  await proc.waitFor(/1 HTTP worker process/, 60_000);
  return url!;
}

describe('measured quality shared by every process and instance', { timeout: 240_000 }, () => {
  let env: Record<string, string>;
  let key: string;

  beforeAll(async () => {
    const database = await createFreshDatabase('quality');
    cleanups.push(() => database.drop());
    env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn', HTTP_WORKERS: '1', QUALITY_FLUSH_MS: '200', SIMULATOR_DELAY_MS: '10', DISPATCH_POLL_MS: '200' };
    const created = await runCli(['keys', 'create', '--name', 'e2e', '--account', 'quality', '--role', 'ADMIN'], env);
    expect(created.code, created.output).toBe(0);
    key = created.stdout.trim().split('\n').at(-1)!;
  });

  it('two instances show the same figures, whichever process counted what', async () => {
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    const apiA = graphqlCaller(a, key);
    const apiB = graphqlCaller(b, key);
    expect(expectNoErrors(await apiA(`mutation($limits: JSON!) { updateAccountSettings(input: { limits: $limits }) { __typename } }`, { limits: NO_LIMITS })).updateAccountSettings.__typename).toBe(
      'UpdateAccountSettingsSuccess',
    );
    // US through A: three delivered, one undelivered. DE through B: two delivered, one refused.
    const sends = [
      ...['+14155550100', '+14155550123', '+14155550124', '+14155550000'].map((to) => apiA(SEND, { input: { to, body: 'quality' } })),
      ...['+4915112345678', '+4915112345677', '+4915112340001'].map((to) => apiB(SEND, { input: { to, body: 'quality' } })),
    ];
    const ids = (await Promise.all(sends)).map((r) => expectNoErrors(r).sendMessage.data.id as string);
    await waitUntil(
      async () => {
        const statuses = await Promise.all(ids.map(async (id) => expectNoErrors(await apiA(`query($id: ID!) { message(id: $id) { status } }`, { id })).message.status));
        return statuses.every((s) => ['DELIVERED', 'UNDELIVERED', 'REJECTED'].includes(s));
      },
      { timeoutMs: 60_000, describe: () => 'every message final' },
    );

    const expected = [
      { country: 'DE', counts: { submitted: 2, submitErrors: 1, delivered: 2, failed: 0, reportsMissing: 0, deliveryRate: 1, submitErrorRate: 1 / 3 } },
      { country: 'US', counts: { submitted: 4, submitErrors: 0, delivered: 3, failed: 1, reportsMissing: 0, deliveryRate: 0.75, submitErrorRate: 0 } },
    ];
    const read = async (api: typeof apiA) => expectNoErrors(await api(QUALITY)).providers.find((p: { name: string }) => p.name === 'simulator').quality as any[];
    const matches = (quality: any[]) =>
      quality.length === 2 && expected.every((e, i) => quality[i].country === e.country && Object.entries(e.counts).every(([k, v]) => quality[i].last5Minutes[k] === v));
    let last: unknown;
    const [onA, onB] = (await waitUntil(
      async () => {
        const both = await Promise.all([read(apiA), read(apiB)]);
        last = both;
        return both.every(matches) ? both : undefined;
      },
      { timeoutMs: 30_000, describe: () => JSON.stringify(last) },
    ))!;
    expect(onA).toEqual(onB);
    for (const entry of onA) {
      expect(entry.last24Hours).toEqual(entry.last5Minutes);
      expect(entry.last5Minutes.deliveryP50Ms).toBeGreaterThan(0);
    }

    // Every process of an instance reads the same table: the cluster's /metrics takes one value.
    const metrics = await (await fetch(a.replace(/\/graphql$/, '/metrics'))).text();
    const rate = metrics.split('\n').find((line) => line.startsWith('herald_provider_delivery_rate{') && line.includes('country="US"') && line.includes('window="5m"'));
    expect(rate, metrics.split('\n').filter((l) => l.includes('herald_provider_')).join('\n')).toMatch(/ 0\.75$/);
  });
});
