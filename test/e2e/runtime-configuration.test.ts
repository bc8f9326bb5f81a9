// Run-time configuration across instances: two Herald servers (each a primary with HTTP workers
// and a dispatcher) on one PostgreSQL, no Redis. A provider added and a routing set through one
// are in force in every process of the other within a second (PostgreSQL NOTIFY), and carry its
// next message; a restart keeps them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, graphqlCaller, NO_LIMITS } from '../support/herald.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';
import { createFreshDatabase, waitUntil } from '../support/services.js';

const processes: HeraldProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startServer(env: Record<string, string>): Promise<{ url: string; proc: HeraldProcess }> {
  const proc = spawnHerald(['server'], { PORT: '0', BOOTSTRAP_ADMIN_KEY: 'false', HTTP_WORKERS: '2', ...env });
  processes.push(proc);
  const [, url] = await proc.waitFor(/listening on (http:\/\/\S+\/graphql)/);
  return { url, proc };
}

describe('run-time configuration across instances', { timeout: 240_000 }, () => {
  let env: Record<string, string>;
  let key: string;

  beforeAll(async () => {
    const database = await createFreshDatabase('runtimeconfig');
    cleanups.push(() => database.drop());
    env = {
      DATABASE_URL: database.url,
      DISPATCH_POLL_MS: '200',
      LOG_LEVEL: 'warn',
      SMS_ROUTES: JSON.stringify({ routes: [{ name: 'env-route', providers: ['simulator'] }] }),
    };
    const created = await runCli(['keys', 'create', '--name', 'operator', '--account', 'default', '--role', 'ADMIN'], env);
    if (created.code !== 0) throw new Error(created.output);
    key = created.stdout.trim().split('\n').at(-1)!;
  });

  it('a change through instance A is in force in every process of instance B within a second, and routes its next message', async () => {
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    const onA = graphqlCaller(a.url, key);
    const onB = graphqlCaller(b.url, key);
    expectNoErrors(await onA(`mutation($limits: JSON!) { updateAccountSettings(input: { limits: $limits }) { __typename } }`, { limits: NO_LIMITS }));
    const seenOnB = async () => expectNoErrors(await onB(`{ configuration { version dispatchingVersion routing { source } providers { name } } }`)).configuration;
    expect((await seenOnB()).routing.source).toBe('ENVIRONMENT');

    const added = expectNoErrors(await onA(`mutation { addProvider(input: { name: "sim-b", kind: SIMULATOR }) { ... on AddProviderSuccess { data { version } } } }`));
    const set = expectNoErrors(
      await onA(`mutation($d: JSON!) { setRouting(document: $d) { __typename ... on SetRoutingSuccess { data { version } } ... on Error { message } } }`, {
        d: { routes: [{ name: 'to-b', providers: ['sim-b', 'simulator'] }] },
      }),
    );
    const changedAt = Date.now();
    const version: number = set.setRouting.data.version;
    expect(version).toBe(added.addProvider.data.version + 1);

    // Every HTTP worker of B answers (requests spread over them): 12 answers in a row with the
    // new version mean both have it; each answer also carries the version in force in B's
    // dispatching process, which routes the messages of both instances (as A's does).
    let inARow = 0;
    let firstSeenMs: number | undefined;
    const allSeenMs = await waitUntil(
      async () => {
        const seen = await seenOnB();
        if (seen.version === version && seen.dispatchingVersion === version) {
          firstSeenMs ??= Date.now() - changedAt;
          if (++inARow >= 12) return Date.now() - changedAt;
        } else inARow = 0;
        return undefined;
      },
      { timeoutMs: 10_000, intervalMs: 5, describe: () => `B still answers an older version than ${version}` },
    );
    console.log(`run-time configuration: version ${version} first seen on B after ${firstSeenMs} ms, on every B process after ${allSeenMs} ms (12 answers in a row)`);
    expect(allSeenMs).toBeLessThan(1_000);
    // A's dispatcher claims from the same queue: it must have the change too before the send.
    await waitUntil(
      async () => (expectNoErrors(await onA(`{ configuration { dispatchingVersion } }`)).configuration.dispatchingVersion === version ? true : undefined),
      { timeoutMs: 1_000, intervalMs: 5, describe: () => `A's dispatcher still has an older version than ${version}` },
    );

    // B's dispatcher routes by it: a message sent through B goes to sim-b.
    const sent = expectNoErrors(await onB(`mutation { sendMessage(input: { to: "+14155550100", body: "via B" }) { ... on SendMessageSuccess { data { id } } ... on Error { message } } }`));
    const id = sent.sendMessage.data.id;
    const delivered = await waitUntil(
      async () => {
        const m = expectNoErrors(await onB(`query($id: ID!) { message(id: $id) { status provider routing { route summary candidates { provider eligible } } events { status source provider errorCode rawStatus } } }`, { id })).message;
        return m.status === 'DELIVERED' ? m : undefined;
      },
      { timeoutMs: 30_000, describe: () => `message ${id} not DELIVERED` },
    );
    // On a mismatch the message's routing and events say why (printed by the assertion).
    expect(delivered, JSON.stringify(delivered)).toMatchObject({ provider: 'sim-b', routing: { route: 'to-b' } });

    // A restart keeps the run-time configuration (SMS_ROUTES still set in the environment).
    b.proc.child.kill('SIGTERM');
    await b.proc.exited;
    const again = await startServer(env);
    const afterRestart = expectNoErrors(await graphqlCaller(again.url, key)(`{ configuration { version routing { source document } providers { name source } } }`)).configuration;
    expect(afterRestart).toMatchObject({ version, routing: { source: 'RUNTIME', document: { routes: [{ name: 'to-b' }] } } });
    expect(afterRestart.providers).toEqual([
      { name: 'simulator', source: 'ENVIRONMENT' },
      { name: 'sim-b', source: 'RUNTIME' },
    ]);
    a.proc.child.kill('SIGTERM');
    again.proc.child.kill('SIGTERM');
  });
});
