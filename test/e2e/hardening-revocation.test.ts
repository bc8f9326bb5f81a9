// Two Herald processes on one PostgreSQL and one Redis: revoking a key through one instance, or
// with `herald keys revoke` on the command line, closes that key's WebSockets on the others at
// once (code 4403); another key's socket stays.
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
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
  let adminKey: string;
  let urlA: string;
  let urlB: string;

  beforeAll(async () => {
    await requireRedis();
    const database = await createFreshDatabase('revocation');
    cleanups.push(() => database.drop());
    env = { DATABASE_URL: database.url, REDIS_URL, LOG_LEVEL: 'warn' };
    const created = await runCli(['keys', 'create', '--name', 'e2e', '--account', 'revocation', '--role', 'ADMIN'], env);
    expect(created.code, created.output).toBe(0);
    adminKey = created.stdout.trim().split('\n').at(-1)!;
    [urlA, urlB] = await Promise.all([startServer(env), startServer(env)]);
  });

  beforeEach(() => {
    onTestFailed(() => {
      for (const [i, p] of processes.entries()) console.error(`--- instance ${i} output ---\n${p.output().slice(-4000)}`);
    });
  });

  async function createSenderKey(): Promise<{ secret: string; apiKey: { id: string; prefix: string } }> {
    return expectNoErrors(
      await graphqlCaller(urlA, adminKey)(`mutation { createApiKey(name: "sender", role: SENDER) { ... on CreateApiKeySuccess { data { secret apiKey { id prefix } } } } }`),
    ).createApiKey.data;
  }

  it("closes the revoked key's socket on the other instance with 4403 within a second or two", async () => {
    const adminA = graphqlCaller(urlA, adminKey);
    const sender = await createSenderKey();

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

  it("`herald keys revoke` on the command line closes the key's sockets on every instance with 4403 (through Redis)", async () => {
    const sender = await createSenderKey();
    const onA = await openSubscribedSocket(urlA, sender.secret);
    const onB = await openSubscribedSocket(urlB, sender.secret);
    const adminOnA = await openSubscribedSocket(urlA, adminKey);

    // By the prefix `keys list` shows (the CLI takes a database id or a prefix, not a global id).
    const revoked = await runCli(['keys', 'revoke', sender.apiKey.prefix], env);
    expect(revoked.code, revoked.output).toBe(0);
    expect(revoked.stdout).toContain('announced on Redis');
    // The CLI exits once Redis took the announcement: the servers close the sockets right after.
    const within = (ms: number) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`socket still open ${ms} ms after the CLI exited`)), ms));
    const [closedA, closedB] = await Promise.race([Promise.all([onA.closed, onB.closed]), within(2_000)]);
    expect([closedA.code, closedB.code]).toEqual([4403, 4403]);
    // Refused from its next request too; another key's socket stays open.
    expect((await graphqlCaller(urlB, sender.secret)('{ __typename }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(adminOnA.socket.readyState).toBe(WebSocket.OPEN);
    adminOnA.socket.close();
  });
});
