// Two Herald processes on one PostgreSQL and one Redis: revoking a key through one instance, or
// with `herald keys revoke` on the command line, closes that key's WebSockets on the others at
// once (code 4403); another key's socket stays.
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import WebSocket from 'ws';
import { expectNoErrors, graphqlCaller } from '../support/herald.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';
import { createFreshDatabase, REDIS_URL, requireRedis, waitUntil } from '../support/services.js';
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

// Another instance hears a change through PostgreSQL NOTIFY, which arrives a few milliseconds
// after the change's request returned (more on a loaded machine): `seen` is polled until it holds,
// at most `withinMs`, and how long it took is printed. A change whose announcement is lost stays
// unseen up to the cache's time limit (10 s), longer than this allows.
async function seenWithin(what: string, seen: () => Promise<boolean>, withinMs = 2_000): Promise<void> {
  const started = Date.now();
  let attempts = 0;
  await waitUntil(async () => (attempts++, seen()), { timeoutMs: withinMs, intervalMs: 10, describe: () => `${what}: not seen` });
  console.log(`${what}: seen after ${Date.now() - started} ms, on attempt ${attempts}`);
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

  it("closes an access token's socket on the other instance with 4403 when its key is revoked, and refuses the token there", async () => {
    const sender = await createSenderKey();
    // Minted on A, used on B: both sign and verify with the same key from the shared database.
    const minted = expectNoErrors(
      await graphqlCaller(urlA, sender.secret)(`mutation { createAccessToken(input: { inbound: true }) { ... on CreateAccessTokenSuccess { data { token } } } }`),
    ).createAccessToken.data;
    const tokenOnB = graphqlCaller(urlB, minted.token);
    expectNoErrors(await tokenOnB('{ inboundMessages(first: 1) { edges { node { id } } } }'));
    const socketOnB = await openSubscribedSocket(urlB, minted.token);

    expectNoErrors(await graphqlCaller(urlA, adminKey)(`mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: sender.apiKey.id }));
    expect((await socketOnB.closed).code).toBe(4403);
    await seenWithin("token of a revoked key refused on B", async () => (await tokenOnB('{ __typename }')).status === 401);
    const refused = await tokenOnB('{ inboundMessages(first: 1) { edges { node { id } } } }');
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.message).toMatch(/revoked/);
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
    // Refused from then on too; another key's socket stays open.
    await seenWithin('revoked key refused on B', async () => (await graphqlCaller(urlB, sender.secret)('{ __typename }')).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED');
    expect(adminOnA.socket.readyState).toBe(WebSocket.OPEN);
    adminOnA.socket.close();
  });
});

// Keys and sender identities are read from memory (store/cached-reads.ts); a change made on one
// instance, or by the CLI on the database, reaches the others' caches through PostgreSQL NOTIFY
// even without Redis.
describe('cached keys and sender identities across instances (PostgreSQL, no Redis)', { timeout: 120_000 }, () => {
  let env: Record<string, string>;
  let adminKey: string;
  let urlA: string;
  let urlB: string;

  beforeAll(async () => {
    const database = await createFreshDatabase('key_cache');
    cleanups.push(() => database.drop());
    env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn', HTTP_WORKERS: '0' };
    const created = await runCli(['keys', 'create', '--name', 'e2e', '--account', 'key_cache', '--role', 'ADMIN'], env);
    expect(created.code, created.output).toBe(0);
    adminKey = created.stdout.trim().split('\n').at(-1)!;
    [urlA, urlB] = await Promise.all([startServer(env), startServer(env)]);
  });

  it('a key revoked with `herald keys revoke` is refused on every instance within milliseconds, though each had it in memory', async () => {
    const created = expectNoErrors(
      await graphqlCaller(urlA, adminKey)(`mutation { createApiKey(name: "cached", role: SENDER) { ... on CreateApiKeySuccess { data { secret apiKey { prefix } } } } }`),
    ).createApiKey.data;
    for (const url of [urlA, urlB]) expectNoErrors(await graphqlCaller(url, created.secret)('{ __typename }'));
    const revoked = await runCli(['keys', 'revoke', created.apiKey.prefix], env);
    expect(revoked.code, revoked.output).toBe(0);
    for (const [name, url] of [['A', urlA], ['B', urlB]] as const)
      await seenWithin(`key revoked by the CLI refused on ${name}`, async () => (await graphqlCaller(url, created.secret)('{ __typename }')).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED');
    // Another key is still accepted (the caches were emptied, not poisoned).
    for (const url of [urlA, urlB]) expectNoErrors(await graphqlCaller(url, adminKey)('{ __typename }'));
  });

  it('a sender identity added or removed on one instance applies to sends on the other within milliseconds', async () => {
    // Each send to another number: the polls below may send several, and a number's rate limit is low.
    let sent = 0;
    const sendOnB = async (from?: string) =>
      expectNoErrors(
        await graphqlCaller(urlB, adminKey)(
          `mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { from } } ... on ValidationError { issues { path } } } }`,
          { input: { to: `+1415555${String(1000 + sent++)}`, body: 'cache test', ...(from && { from }) } },
        ),
      ).sendMessage;
    // B reads "no identities" into memory: any sender id goes.
    expect(await sendOnB('ANYTHING')).toMatchObject({ __typename: 'SendMessageSuccess', data: { from: 'ANYTHING' } });
    const added = expectNoErrors(
      await graphqlCaller(urlA, adminKey)(`mutation { addSenderIdentity(value: "+1 415 555 0177", isDefault: true) { __typename ... on AddSenderIdentitySuccess { data { id } } } }`),
    ).addSenderIdentity;
    expect(added.__typename).toBe('AddSenderIdentitySuccess');
    // Until B hears of it, B's sends still go with any sender id (as before the change).
    await seenWithin('identity added on A applies on B', async () => (await sendOnB('ANYTHING')).__typename !== 'SendMessageSuccess');
    expect(await sendOnB('ANYTHING')).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'from'] }] });
    expect(await sendOnB()).toMatchObject({ data: { from: '+14155550177' } });
    const removed = expectNoErrors(
      await graphqlCaller(urlA, adminKey)(`mutation($id: ID!) { removeSenderIdentity(id: $id) { __typename } }`, { id: added.data.id }),
    ).removeSenderIdentity;
    expect(removed.__typename).toBe('RemoveSenderIdentitySuccess');
    await seenWithin('identity removed on A applies on B', async () => (await sendOnB('ANYTHING')).__typename === 'SendMessageSuccess');
    expect(await sendOnB('ANYTHING')).toMatchObject({ __typename: 'SendMessageSuccess', data: { from: 'ANYTHING' } });
  });
});
