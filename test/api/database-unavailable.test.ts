// While PostgreSQL cannot be reached, operations answer SERVICE_UNAVAILABLE with HTTP 503 and
// Retry-After (nothing was done: safe to retry), not the masked "Unexpected error.", and Herald
// serves again by itself once the database is back. The outage is real: Herald reaches its own
// database through a TCP relay on 127.0.0.1 that the test cuts (every connection reset, the port
// closed) and opens again, so the machine's shared PostgreSQL is never restarted here (the chaos
// suite's database-restart scenario does that).
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reportBody, sendWebhook, simulatorSecret } from '../support/delivery.js';
import { createOwnDatabase, startTestHerald, testDatabaseKind, type SeededAccount, type TestHerald } from '../support/herald.js';

/** Relays 127.0.0.1:<port> to PostgreSQL until cut; open() listens on the same port again. */
function relay(target: { host: string; port: number }) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    if (!server?.listening) return;
    const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const s of sockets) s.resetAndDestroy();
    await closed;
  };
  return { open, cut, port: () => port };
}

const SEND = /* GraphQL */ `
  mutation ($to: String!) {
    sendMessage(input: { to: $to, body: "while the database restarts" }) {
      __typename
      ... on SendMessageSuccess { data { id } }
    }
  }
`;

describe.runIf(testDatabaseKind() === 'postgres')('database unavailable', () => {
  let own: Awaited<ReturnType<typeof createOwnDatabase>>;
  let db: ReturnType<typeof relay>;
  let t: TestHerald;
  let account: SeededAccount;
  // Plain fetch: the answer's status and Retry-After header are what is checked.
  const send = (to: string) =>
    fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.senderKey}` },
      body: JSON.stringify({ query: SEND, variables: { to } }),
    });

  beforeAll(async () => {
    own = await createOwnDatabase(inject('postgresUrl'));
    const real = new URL(own.url);
    db = relay({ host: real.hostname, port: Number(real.port || 5432) });
    await db.open();
    const viaRelay = new URL(own.url);
    viaRelay.port = String(db.port());
    t = await startTestHerald({}, { databaseUrl: viaRelay.toString() });
    account = await t.seedAccount();
    // The set-up works before the cut.
    expect((await account.sender(SEND, { to: '+14155550100' })).data.sendMessage.__typename).toBe('SendMessageSuccess');
  });

  afterAll(async () => {
    await t?.stop();
    await db?.cut();
    await own?.drop();
  });

  it('answers SERVICE_UNAVAILABLE (503, Retry-After) to operations and provider callbacks while the database is away, stores nothing, and serves again after', async () => {
    // A genuine, signed simulator report (about a message Herald does not have: it is never applied).
    const secret = await simulatorSecret(t);
    await db.cut();
    // The first request may meet a pooled connection that is just being reset, later ones a
    // refused connection: both are "unavailable".
    for (const to of ['+14155550101', '+14155550102', '+14155550103']) {
      const response = await send(to);
      const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|SELECT|INSERT|at .*\.ts:\d+/);
    }
    // A provider's callback meanwhile gets 503 with Retry-After too, so that it retries.
    const callback = await sendWebhook(t, {
      body: reportBody({ reference: '01900000-0000-7000-8000-000000000000', providerMessageId: 'sim-x', status: 'delivered' }),
      secret,
    });
    expect(callback.status).toBe(503);
    expect(callback.headers.get('retry-after')).toBe('1');

    await db.open();
    let answer: { data?: { sendMessage?: { __typename: string } } } = {};
    for (let attempt = 0; attempt < 50 && answer.data?.sendMessage?.__typename !== 'SendMessageSuccess'; attempt++) {
      answer = (await (await send('+14155550104')).json()) as typeof answer;
      if (answer.data?.sendMessage?.__typename !== 'SendMessageSuccess') await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer.data?.sendMessage?.__typename).toBe('SendMessageSuccess');
    // Only the sends made while it was reachable exist: nothing half-done from the outage.
    const stored = await t.database.prisma.message.findMany({ where: { accountId: account.accountId }, select: { to: true }, orderBy: { createdAt: 'asc' } });
    expect(stored.map((m) => m.to)).toEqual(['+14155550100', '+14155550104']);
  });
});
