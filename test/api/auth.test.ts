import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { expectNoErrors, graphqlCaller, startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

describe('authentication', () => {
  it('answers 401 UNAUTHENTICATED without a key, with a malformed key and with an unknown key', async () => {
    for (const key of [undefined, 'garbage', 'hk_aaaaaaaaaa_' + 'A'.repeat(43)]) {
      const response = await graphqlCaller(t.url, key)(`{ viewer { account { name } } }`);
      expect(response.status).toBe(401);
      expect(response.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(response.data ?? null).toBeNull();
    }
  });

  it('shows the calling key and its account in viewer', async () => {
    const account = await t.seedAccount('viewer-test-account');
    const data = expectNoErrors(await account.sender(`{ viewer { apiKey { role name } account { name } } }`));
    expect(data.viewer).toEqual({ apiKey: { role: 'SENDER', name: 'sender' }, account: { name: 'viewer-test-account' } });
  });

  it('lets an ADMIN create a key whose secret works once shown, and revoke it with immediate effect', async () => {
    const account = await t.seedAccount();
    const created = expectNoErrors(
      await account.admin(`mutation { createApiKey(name: "ci", role: SENDER) {
        __typename ... on CreateApiKeySuccess { data { secret apiKey { id name role prefix } } } } }`),
    ).createApiKey.data;
    expect(created.secret).toMatch(/^hk_[a-z2-7]{10}_/);
    expect(created.secret).toContain(created.apiKey.prefix);

    const newKey = graphqlCaller(t.url, created.secret);
    expect(expectNoErrors(await newKey(`{ viewer { apiKey { name } } }`)).viewer.apiKey.name).toBe('ci');

    const listed = expectNoErrors(await account.admin(`{ apiKeys { id name revokedAt } }`)).apiKeys;
    expect(listed.map((k: any) => k.name).sort()).toEqual(['admin', 'ci', 'sender']);

    const revoked = expectNoErrors(
      await account.admin(`mutation($id: ID!) { revokeApiKey(id: $id) { ... on RevokeApiKeySuccess { data { revokedAt } } } }`, {
        id: created.apiKey.id,
      }),
    );
    expect(revoked.revokeApiKey.data.revokedAt).toBeTruthy();
    expect((await newKey(`{ viewer { apiKey { name } } }`)).status).toBe(401);
  });

  it('stores only a hash of each key', async () => {
    const account = await t.seedAccount();
    const rows = await t.database.prisma.apiKey.findMany({ where: { accountId: account.accountId } });
    for (const row of rows) {
      expect(Buffer.from(row.secretHash).toString('utf8')).not.toContain(row.prefix);
      expect(row.secretHash.length).toBe(32);
    }
  });

  it('forbids a SENDER key from managing keys', async () => {
    const account = await t.seedAccount();
    const data = expectNoErrors(
      await account.sender(`mutation { createApiKey(name: "x", role: ADMIN) { __typename ... on Error { code } } }`),
    );
    expect(data.createApiKey).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    // A query has no result union: the same refusal comes as an error with its code.
    const list = await account.sender(`{ apiKeys { id } }`);
    expect(list.errors).toEqual([expect.objectContaining({ message: 'only an ADMIN key can use apiKeys', extensions: { code: 'FORBIDDEN' } })]);
  });

  it("cannot revoke another account's key", async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const bKeys = expectNoErrors(await b.admin(`{ apiKeys { id } }`)).apiKeys;
    const data = expectNoErrors(
      await a.admin(`mutation($id: ID!) { revokeApiKey(id: $id) { __typename ... on Error { code } } }`, { id: bKeys[0].id }),
    );
    expect(data.revokeApiKey).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(expectNoErrors(await b.admin(`{ viewer { apiKey { revokedAt } } }`)).viewer.apiKey.revokedAt).toBeNull();
  });
});

describe('graphql-ws authentication', () => {
  const wsUrl = () => t.url.replace('http://', 'ws://');

  function closeCode(connectionParams: Record<string, unknown>): Promise<number> {
    return new Promise((resolve) => {
      const client = createClient({
        url: wsUrl(),
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
        lazy: false,
        on: { closed: (event) => resolve((event as { code: number }).code) },
        onNonLazyError: () => {},
      });
      setTimeout(() => void client.dispose(), 5_000);
    });
  }

  it('closes a socket without a key with 4401 and one with a wrong key with 4403', async () => {
    expect(await closeCode({})).toBe(4401);
    expect(await closeCode({ authorization: 'Bearer hk_aaaaaaaaaa_' + 'B'.repeat(43) })).toBe(4403);
  });

  it('runs operations for a socket authenticated with connectionParams.authorization', async () => {
    const account = await t.seedAccount('ws-account');
    const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${account.senderKey}` } });
    const result = await new Promise<any>((resolve, reject) => {
      client.subscribe({ query: '{ viewer { account { name } } }' }, { next: resolve, error: reject, complete: () => {} });
    });
    await client.dispose();
    expect(result.data.viewer.account.name).toBe('ws-account');
  });
});
