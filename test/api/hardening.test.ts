// Hardening of the public surface (docs/security.md, "Query limits"): GraphQL document limits on HTTP
// and graphql-ws, request body limits (HTTP 413, ws maxPayload), CSRF prevention, revocation
// closing open WebSockets, masked errors in production and key lookup by prefix. Every test
// here fails when the protection it is about is turned off.
import { request as httpRequest } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';
import { openSubscribedSocket } from '../support/ws.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const wsUrl = () => t.url.replace(/^http/, 'ws');

async function post(body: string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const response = await fetch(t.url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const json = (key: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${key}` });

/** `depth` nested inline fragments on Viewer around `inner`: each one counts as a level. */
const nested = (depth: number, inner: string) => `{ viewer { ${'... on Viewer { '.repeat(depth)}${inner}${' }'.repeat(depth)} } }`;

const statusFilter = (n: number) => `{ messages(first: 1, filter: { status: [${'QUEUED '.repeat(n)}] }) { edges { node { id } } } }`;

/** One document past each default limit, and one at or just under it. */
const LIMIT_CASES = {
  // viewer + 12 fragments + account + name = 15 (GRAPHQL_MAX_DEPTH=15).
  depth: { over: nested(13, 'account { name }'), within: nested(12, 'account { name }'), message: /depth limit of 15/ },
  // (Aliases of __typename are free: graphql-armor allows them.)
  aliases: {
    over: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: viewer { account { name } }`).join(' ')} }`,
    within: `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: viewer { account { name } }`).join(' ')} }`,
    message: /aliases limit of 30/i,
  },
  // (A long enum list: thousands of repeats of one field trip graphql-js's own overlap budget.)
  tokens: { over: statusFilter(5_000), within: statusFilter(4_900), message: /token limit of 5000/i },
  directives: {
    over: `{ viewer { account { ${'name @include(if: true) '.repeat(51)}} } }`,
    within: `{ viewer { account { ${'name @include(if: true) '.repeat(50)}} } }`,
    message: /directives limit of 50/i,
  },
  // 200 scalars at depth 15 cost ~59 500, 150 cost ~45 000 (GRAPHQL_MAX_COST=50 000).
  cost: { over: nested(12, `account { ${'name '.repeat(200)}}`), within: nested(12, `account { ${'name '.repeat(150)}}`), message: /cost limit of 50000/i },
};

describe('GraphQL document limits', () => {
  it('refuses a document past each limit with HTTP 400 and QUERY_TOO_COMPLEX (no stack), and runs the one within it', async () => {
    const account = await t.seedAccount();
    for (const [name, { over, within, message }] of Object.entries(LIMIT_CASES)) {
      const refused = await post(JSON.stringify({ query: over }), json(account.senderKey));
      expect({ name, status: refused.status, code: refused.json.errors?.[0]?.extensions?.code, data: refused.json.data }).toEqual({
        name,
        status: 400,
        code: 'QUERY_TOO_COMPLEX',
        data: undefined,
      });
      expect(refused.json.errors[0].message).toMatch(message);
      expect(JSON.stringify(refused.json)).not.toMatch(/stack|\.ts:\d+|at .*\(/);

      const accepted = await post(JSON.stringify({ query: within }), json(account.senderKey));
      expect({ name, status: accepted.status, errors: accepted.json.errors }).toEqual({ name, status: 200, errors: undefined });
    }
  });

  it('refuses a selection left open thousands of levels deep (under the token limit) as QUERY_TOO_COMPLEX, not a 500 from a parser stack overflow', async () => {
    const account = await t.seedAccount();
    const refused = await post(JSON.stringify({ query: `{ ${'viewer { '.repeat(2_400)}` }), json(account.senderKey));
    expect({ status: refused.status, code: refused.json.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'QUERY_TOO_COMPLEX' });
    expect(refused.json.errors[0].message).toMatch(/nests too deeply/);
  });

  it("still answers GraphiQL's introspection query (exempt from depth and cost)", async () => {
    const account = await t.seedAccount();
    const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    const data = expectNoErrors(await account.sender(query));
    expect(data.__schema.types.length).toBeGreaterThan(50);
  });

  it('applies over graphql-ws too: parse (tokens) and validation (depth, cost) limits answer with an error message, the socket stays usable', async () => {
    const account = await t.seedAccount('ws-limits');
    const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${account.senderKey}` }, retryAttempts: 0 });
    try {
      for (const name of ['depth', 'tokens', 'cost', 'aliases'] as const) {
        const outcome = await runOverWs(client, LIMIT_CASES[name].over);
        expect({ name, outcome: outcome.kind }).toEqual({ name, outcome: 'error' });
        const errors = (outcome as { errors: unknown }).errors as { message: string; extensions?: { code?: string } }[];
        expect(errors[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
        expect(errors[0].message).toMatch(LIMIT_CASES[name].message);
      }
      const ok = await runOverWs(client, '{ viewer { account { name } } }');
      expect(ok).toMatchObject({ kind: 'next', value: { data: { viewer: { account: { name: 'ws-limits' } } } } });
    } finally {
      await client.dispose();
    }
  });
});

function runOverWs(client: Client, query: string): Promise<{ kind: 'next'; value: any } | { kind: 'error'; errors: unknown }> {
  return new Promise((resolve) => {
    client.subscribe({ query }, { next: (value) => resolve({ kind: 'next', value }), error: (errors) => resolve({ kind: 'error', errors }), complete: () => {} });
  });
}

describe('request body limits', () => {
  const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename } }';
  /** A send of exactly `size` bytes (padded with JSON whitespace). */
  const sendOfSize = (size: number) => {
    const body = JSON.stringify({ query: SEND, variables: { input: { to: '+14155550100', body: 'padded' } } });
    return body.slice(0, -1) + ' '.repeat(size - body.length) + '}';
  };
  const messages = (accountId: string) => t.database.prisma.message.count({ where: { accountId } });

  it('answers 413 with a JSON error for a POST /graphql over MAX_REQUEST_BYTES (1 MiB) and runs nothing; exactly the limit is served', async () => {
    const account = await t.seedAccount();
    const over = await post(sendOfSize(1024 * 1024 + 1), json(account.senderKey));
    expect(over.status).toBe(413);
    expect(over.json.errors[0].extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE', limit: 1024 * 1024 });
    expect(await messages(account.accountId)).toBe(0);

    const atLimit = await post(sendOfSize(1024 * 1024), json(account.senderKey));
    expect(atLimit.status).toBe(200);
    expect(atLimit.json.data.sendMessage.__typename).toBe('SendMessageSuccess');
    expect(await messages(account.accountId)).toBe(1);
  });

  it('counts a chunked body (no Content-Length) as it arrives: 413 past the limit, served below it', async () => {
    const account = await t.seedAccount();
    const over = await postChunked(Buffer.from(sendOfSize(3 * 1024 * 1024)), json(account.senderKey));
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await messages(account.accountId)).toBe(0);

    const small = await postChunked(Buffer.from(sendOfSize(200_000)), json(account.senderKey));
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body).data.sendMessage.__typename).toBe('SendMessageSuccess');
    expect(await messages(account.accountId)).toBe(1);
  });

  it('answers a body that is not a JSON object with 400 and a GraphQL error, and runs nothing', async () => {
    const account = await t.seedAccount();
    for (const body of ['{"query": ', '5', 'null', '"mutation { x }"']) {
      const answer = await post(body, json(account.senderKey));
      expect(answer.status, body).toBe(400);
      expect(answer.json.errors[0].message, body).toEqual(expect.any(String));
    }
    // The same request as text/plain is not JSON either: CSRF prevention refuses it first.
    const plain = await post(JSON.stringify({ query: SEND, variables: { input: { to: '+14155550100', body: 'x' } } }), { 'content-type': 'text/plain', authorization: `Bearer ${account.senderKey}` });
    expect(plain.status).toBeGreaterThanOrEqual(400);
    expect(await messages(account.accountId)).toBe(0);
  });

  it('closes a graphql-ws socket that sends a message over the limit (1009) before running it', async () => {
    const account = await t.seedAccount();
    const socket = new WebSocket(wsUrl(), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${account.senderKey}` } }));
    await new Promise((resolve) => socket.once('message', resolve)); // connection_ack
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SEND, variables: { input: { to: '+14155550100', body: 'x'.repeat(1024 * 1024) } } } }));
    expect(await closed).toBe(1009);
    expect(await messages(account.accountId)).toBe(0);
  });
});

/** POST with Transfer-Encoding: chunked, written in 64 KiB pieces; resolves with status and body. */
function postChunked(body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(t.url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    let offset = 0;
    const write = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, (offset += 64 * 1024));
        if (!req.write(piece)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

describe('CSRF prevention', () => {
  it("refuses a browser's cross-site simple requests (GET without a custom header, text/plain or form POST) with 403 before anything runs", async () => {
    const account = await t.seedAccount();
    const query = encodeURIComponent('{ __typename }');
    const get = await fetch(`${t.url}?query=${query}`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(403);
    expect(await get.text()).toContain('CSRF');

    const mutation = JSON.stringify({ query: 'mutation { sendMessage(input: { to: "+14155550100", body: "csrf" }) { __typename } }' });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': contentType }, body: mutation });
      expect({ contentType, status: response.status }).toEqual({ contentType, status: 403 });
    }
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it('serves GraphQL over GET with an Authorization header, and GraphiQL to a browser', async () => {
    const account = await t.seedAccount('csrf-get');
    const query = encodeURIComponent('{ viewer { account { name } } }');
    const get = await fetch(`${t.url}?query=${query}`, { headers: { accept: 'application/json', authorization: `Bearer ${account.senderKey}` } });
    expect(get.status).toBe(200);
    expect((await get.json()).data.viewer.account.name).toBe('csrf-get');

    const graphiql = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toContain('renderYogaGraphiQL');
  });
});

describe('key revocation', () => {
  it("closes the revoked key's open WebSockets at once with 4403, and no other key's", async () => {
    const account = await t.seedAccount();
    const revokedSocket = await openSubscribedSocket(t.url, account.senderKey);
    const otherSocket = await openSubscribedSocket(t.url, account.adminKey);

    const keys = expectNoErrors(await account.admin('{ apiKeys { id name } }')).apiKeys as { id: string; name: string }[];
    const senderId = keys.find((k) => k.name === 'sender')!.id;
    const started = Date.now();
    expectNoErrors(await account.admin('mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }', { id: senderId }));

    expect(await revokedSocket.closed).toEqual({ code: 4403, reason: 'API key revoked' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(otherSocket.socket.readyState).toBe(WebSocket.OPEN);
    otherSocket.socket.close();
  });
});


describe('errors in production', () => {
  it('answers "Unexpected error." with no stack and no SQL when the database fails inside a resolver', async () => {
    const account = await t.seedAccount();
    // The database fails for this one request, with the kind of text a driver error carries.
    const failure = new Error('relation "Account" does not exist: SELECT "id", "name" FROM "public"."Account" WHERE "id" = $1');
    const spy = vi.spyOn(t.database.prisma.account, 'findUniqueOrThrow').mockRejectedValueOnce(failure);
    try {
      const response = await account.sender('{ viewer { account { name } } }');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(response.errors).toEqual([{ message: 'Unexpected error.', locations: expect.any(Array), path: ['viewer', 'account'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      expect(JSON.stringify(response)).not.toMatch(/SELECT|relation|Account"|stack|\.ts:\d+/);
    } finally {
      spy.mockRestore();
    }
    // The next request is served normally.
    expect(expectNoErrors(await account.sender('{ viewer { account { name } } }')).viewer.account.name).toBeTruthy();
  });
});

describe('API key lookup', () => {
  it('finds the key by its prefix (an indexed equality, no scan) and refuses a key that differs in one character', async () => {
    const account = await t.seedAccount();
    const last = account.senderKey.at(-1)!;
    const altered = account.senderKey.slice(0, -1) + (last === 'A' ? 'B' : 'A');
    const prefix = account.senderKey.split('_')[1];
    t.queries.length = 0;
    const refused = await fetch(t.url, { method: 'POST', headers: json(altered), body: JSON.stringify({ query: '{ viewer { account { name } } }' }) });
    expect(refused.status).toBe(401);
    const keyQueries = t.queries.filter((sql) => /FROM "[^"]*"?\.?"?ApiKey"/.test(sql));
    expect(keyQueries.length).toBeGreaterThan(0);
    // Every read of ApiKey is filtered by prefix (the only column a presented key gives).
    for (const sql of keyQueries) expect(sql).toMatch(/WHERE .*"prefix"/s);
    expect(prefix).toMatch(/^[a-z2-7]{10}$/);
  });
});
