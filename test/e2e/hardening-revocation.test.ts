// Two Herald processes on one PostgreSQL and one Redis: revoking a key through one instance
// closes that key's WebSocket on the other at once (code 4403); another key's socket stays.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import WebSocket from 'ws';
import { expectNoErrors, graphqlCaller } from '../support/herald.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';
import { createFreshDatabase, REDIS_URL, requireRedis } from '../support/services.js';
import { openSubscribedSocket } from '../support/ws.js';

const processes: HeraldProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startServer(env: Record<string, string>): Promise<string> {
  const proc = spawnHerald(['server'], { PORT: '0', BOOTSTRAP_ADMIN_KEY: 'false', DISPATCH: 'off', ...env });
  processes.push(proc);
  const [, url] = await proc.waitFor(/listening on (http:\/\/\S+\/graphql)/);
  return url;
}


describe('key revocation across instances (PostgreSQL + Redis)', { timeout: 120_000 }, () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    await requireRedis();
    const database = await createFreshDatabase('revocation');
    cleanups.push(() => database.drop());
    env = { DATABASE_URL: database.url, REDIS_URL, LOG_LEVEL: 'warn' };
  });

  it("closes the revoked key's socket on the other instance with 4403 within a second or two", async () => {
    onTestFailed(() => {
      for (const [i, p] of processes.entries()) console.error(`--- instance ${i} output ---\n${p.output().slice(-4000)}`);
    });
    const created = await runCli(['keys', 'create', '--name', 'e2e', '--account', 'revocation', '--role', 'ADMIN'], env);
    expect(created.code, created.output).toBe(0);
    const adminKey = created.stdout.trim().split('\n').at(-1)!;
    const [urlA, urlB] = await Promise.all([startServer(env), startServer(env)]);
    const adminA = graphqlCaller(urlA, adminKey);
    const sender = expectNoErrors(
      await adminA(`mutation { createApiKey(name: "sender", role: SENDER) { ... on CreateApiKeySuccess { data { secret apiKey { id } } } } }`),
    ).createApiKey.data;

    const revokedOnB = await openSubscribedSocket(urlB, sender.secret);
    const adminOnB = await openSubscribedSocket(urlB, adminKey);
    const started = Date.now();
    expect(expectNoErrors(await adminA(`mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: sender.apiKey.id })).revokeApiKey.__typename).toBe(
      'RevokeApiKeySuccess',
    );
    expect((await revokedOnB.closed).code).toBe(4403);
    const elapsedMs = Date.now() - started;
    console.log(`revocation through instance A closed the key's socket on instance B in ${elapsedMs} ms`);
    expect(elapsedMs).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(adminOnB.socket.readyState).toBe(WebSocket.OPEN);
    adminOnB.socket.close();
  });
});
