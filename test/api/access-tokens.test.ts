// Browser access tokens: minted by a key, held to their scope over HTTP, SSE and graphql-ws,
// refused with a reason when expired, tampered with or made for another Herald, and ended with
// their key.
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signingKeySetting, signingKid } from '../../src/domain/access-token.js';
import { expectNoErrors, graphqlCaller, startTestHerald, type SeededAccount, type TestHerald } from '../support/herald.js';
import { approvedTemplate, createDraft, send, setSettings } from '../support/templates.js';
import { SMSClient } from '../../src/client/index.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const MINT = /* GraphQL */ `
  mutation Mint($input: CreateAccessTokenInput!) {
    createAccessToken(input: $input) {
      __typename
      ... on CreateAccessTokenSuccess { data { token expiresAt scope { messages batch inbound sendTemplates sendPerMinute } } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
    }
  }
`;

const SEND_TEMPLATE = /* GraphQL */ `
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) {
      __typename
      ... on SendMessageSuccess { data { id status } }
      ... on Error { code message }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
`;

async function mint(account: SeededAccount, input: Record<string, unknown>): Promise<string> {
  const result = expectNoErrors(await account.sender(MINT, { input })).createAccessToken;
  expect(result.__typename, JSON.stringify(result)).toBe('CreateAccessTokenSuccess');
  return result.data.token;
}

async function sendBody(account: SeededAccount): Promise<string> {
  const result = await send(account.sender, { to: '+14155550123', body: 'hello' });
  expect(result.__typename).toBe('SendMessageSuccess');
  return result.data.id;
}

/** A token signed with this Herald's real key, with claims the test chooses. */
async function forge(claims: Record<string, unknown>, options: { exp: number; iat: number; aud?: string }): Promise<string> {
  const kid = signingKid(new Date());
  const row = await t.database.prisma.setting.findUniqueOrThrow({ where: { key: signingKeySetting(kid) } });
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
    .setIssuer('herald')
    .setAudience(options.aud ?? 'herald')
    .setIssuedAt(options.iat)
    .setExpirationTime(options.exp)
    .sign(Buffer.from(row.value, 'hex'));
}

/** Opens a graphql-ws socket with `authorization`; resolves with the ack or the close. */
function connect(authorization: string) {
  const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const messages: any[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()));
    waiters.splice(0).forEach((w) => w());
  });
  const opened = new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)).then(() =>
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })),
  );
  /** The next message matching `match` (already received or to come). */
  async function next(match: (m: any) => boolean): Promise<any> {
    for (;;) {
      const found = messages.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }
  return { socket, closed, opened, next };
}

/** A subscription over SSE: the first event's payload (the stream is then dropped). */
async function firstSseEvent(bearer: string, query: string): Promise<any> {
  const abort = new AbortController();
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query }),
    signal: abort.signal,
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
      const data = /^data: (.+)$/m.exec(text);
      if (data) return JSON.parse(data[1]!);
    }
    throw new Error(`the stream ended without an event: ${text}`);
  } finally {
    abort.abort();
  }
}

describe('minting access tokens', () => {
  it('gives a SENDER key a short-lived token naming exactly the scope asked for', async () => {
    const account = await t.seedAccount();
    const messageId = await sendBody(account);
    const templateId = await approvedTemplate(account, 'Your code is {{code}}');
    const result = expectNoErrors(
      await account.sender(MINT, { input: { messages: [messageId], inbound: true, sendTemplates: [templateId], sendPerMinute: 3, ttlSeconds: 120 } }),
    ).createAccessToken;
    expect(result.data.scope).toEqual({ messages: [messageId], batch: null, inbound: true, sendTemplates: [templateId], sendPerMinute: 3 });
    const lifetime = new Date(result.data.expiresAt).getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(110_000);
    expect(lifetime).toBeLessThanOrEqual(120_000);
    // A JWT naming its key (sub), this Herald (aud) and a rotating signing key (kid).
    const keyId = expectNoErrors(await account.sender(`{ viewer { apiKey { id } } }`)).viewer.apiKey.id;
    const claims = decodeJwt(result.data.token);
    expect(claims).toMatchObject({ iss: 'herald', aud: 'herald' });
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(String(claims.sub)).toBe(Buffer.from(keyId, 'base64').toString('utf8').split(':')[1]);
    expect(decodeProtectedHeader(result.data.token)).toMatchObject({ alg: 'HS256', kid: signingKid(new Date()) });
  });

  it('defaults to ten minutes', async () => {
    const account = await t.seedAccount();
    const result = expectNoErrors(await account.admin(MINT, { input: { inbound: true } })).createAccessToken;
    const claims = decodeJwt(result.data.token);
    expect(claims.exp! - claims.iat!).toBe(600);
  });

  it('refuses a lifetime over an hour, an empty scope, and sendTemplates without a rate', async () => {
    const account = await t.seedAccount();
    const templateId = await approvedTemplate(account, 'Hi');
    for (const [input, path] of [
      [{ inbound: true, ttlSeconds: 3601 }, 'input.ttlSeconds'],
      [{ messages: [] }, 'input'],
      [{ sendTemplates: [templateId] }, 'input.sendPerMinute'],
      [{ inbound: true, sendPerMinute: 5 }, 'input.sendTemplates'],
    ] as const) {
      const result = expectNoErrors(await account.sender(MINT, { input })).createAccessToken;
      expect(result.__typename, JSON.stringify(input)).toBe('ValidationError');
      expect(result.issues.map((i: any) => i.path.join('.'))).toContain(path);
    }
  });

  it("refuses another account's message or batch, an unknown id, and a template that is not APPROVED", async () => {
    const account = await t.seedAccount();
    const other = await t.seedAccount();
    const othersMessage = await sendBody(other);
    const draft = await createDraft(account.admin, 'Not yet reviewed');
    const cases: [Record<string, unknown>, string][] = [
      [{ messages: [othersMessage] }, 'NOT_FOUND'],
      [{ messages: ['not-an-id'] }, 'NOT_FOUND'],
      [{ batch: '00000000-0000-0000-0000-000000000001' }, 'NOT_FOUND'],
      [{ sendTemplates: [draft.id], sendPerMinute: 1 }, 'TEMPLATE_NOT_APPROVED'],
    ];
    for (const [input, code] of cases) {
      const result = expectNoErrors(await account.sender(MINT, { input })).createAccessToken;
      expect(result.code, JSON.stringify(input)).toBe(code);
    }
  });

  it('cannot be done with a token', async () => {
    const account = await t.seedAccount();
    const token = await mint(account, { inbound: true });
    const response = await graphqlCaller(t.url, token)(MINT, { input: { inbound: true } });
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toEqual([expect.objectContaining({ message: 'an access token cannot use createAccessToken', extensions: { code: 'FORBIDDEN' } })]);
  });
});

describe('a token scoped to message A', () => {
  let account: SeededAccount;
  let messageA: string;
  let messageB: string;
  let token: string;
  beforeAll(async () => {
    account = await t.seedAccount();
    messageA = await sendBody(account);
    messageB = await sendBody(account);
    token = await mint(account, { messages: [messageA] });
  });

  it('reads A over HTTP and gets nothing of B', async () => {
    const caller = graphqlCaller(t.url, token);
    expect(expectNoErrors(await caller(`query($id: ID!) { message(id: $id) { id status events { status } } }`, { id: messageA })).message.id).toBe(messageA);
    const refused = await caller(`query($id: ID!) { message(id: $id) { id body } }`, { id: messageB });
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })]);
    expect(JSON.stringify(refused)).not.toContain('hello');
    // Asking for both in one operation gets neither.
    const both = await caller(`query($a: ID!, $b: ID!) { a: message(id: $a) { id } b: message(id: $b) { id } }`, { a: messageA, b: messageB });
    expect(both.data ?? null).toBeNull();
    expect(both.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('watches A over SSE and gets nothing of B', async () => {
    const first = await firstSseEvent(token, `subscription { messageStatusChanged(id: "${messageA}") { id status } }`);
    expect(first.data.messageStatusChanged).toEqual({ id: messageA, status: 'QUEUED' });
    const refused = await firstSseEvent(token, `subscription { messageStatusChanged(id: "${messageB}") { id status body } }`);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('watches A over graphql-ws and gets nothing of B', async () => {
    const ws = connect(`Bearer ${token}`);
    await ws.opened;
    await ws.next((m) => m.type === 'connection_ack');
    ws.socket.send(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: `subscription { messageStatusChanged(id: "${messageA}") { id status } }` } }));
    ws.socket.send(JSON.stringify({ id: 'b', type: 'subscribe', payload: { query: `subscription { messageStatusChanged(id: "${messageB}") { id status body } }` } }));
    const a = await ws.next((m) => m.id === 'a');
    expect(a.payload.data.messageStatusChanged).toEqual({ id: messageA, status: 'QUEUED' });
    const b = await ws.next((m) => m.id === 'b' && m.type !== 'complete');
    expect(b.payload.data ?? null).toBeNull();
    expect((b.payload.errors ?? b.payload)[0].extensions.code).toBe('FORBIDDEN');
    ws.socket.close();
  });

  it('cannot list messages, create keys, read prices, the viewer or introspect', async () => {
    const caller = graphqlCaller(t.url, token);
    for (const [query, field] of [
      ['{ messages(first: 5) { edges { node { id } } } }', 'messages'],
      ['mutation { createApiKey(name: "x", role: ADMIN) { __typename } }', 'createApiKey'],
      ['{ prices { id } }', 'prices'],
      ['{ viewer { account { name } } }', 'viewer'],
      ['{ __schema { types { name } } }', '__schema'],
      ['{ node(id: "x") { id } }', 'node'],
      ['subscription { messageEvents { id } }', 'messageEvents'],
    ] as const) {
      const response = await caller(query);
      expect(response.data ?? null, query).toBeNull();
      expect(response.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      if (field !== 'messageEvents' && field !== 'messages') expect(response.errors?.[0]?.message).toBe(`an access token cannot use ${field}`);
    }
  });

  it('cannot select what leads out of its scope below an allowed field', async () => {
    const response = await graphqlCaller(t.url, token)(`query($id: ID!) { message(id: $id) { id template { id body versions { body } } } }`, { id: messageA });
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]).toMatchObject({ message: 'an access token cannot select Template.id', extensions: { code: 'FORBIDDEN' } });
  });

  it('cannot send', async () => {
    const result = await graphqlCaller(t.url, token)(SEND_TEMPLATE, { input: { to: '+14155550123', body: 'hi' } });
    expect(result.errors?.[0]).toMatchObject({ message: 'this access token does not grant sending', extensions: { code: 'FORBIDDEN' } });
  });
});

describe('a token scoped to a batch or to inbound messages', () => {
  it('reads its batch, its messages and their events, and no other batch', async () => {
    const account = await t.seedAccount();
    const sent = async () =>
      expectNoErrors(
        await account.sender(`mutation { sendMessages(input: { body: "hi", recipients: [{ to: "+14155550123" }, { to: "+14155550124" }] }) {
          ... on SendMessagesSuccess { batchId accepted { id } } } }`),
      ).sendMessages;
    const batch = await sent();
    const otherBatch = await sent();
    const caller = graphqlCaller(t.url, await mint(account, { batch: batch.batchId }));
    const read = expectNoErrors(await caller(`query($id: ID!) { batch(id: $id) { id total statusCounts { status count } } }`, { id: batch.batchId }));
    expect(read.batch.statusCounts).toEqual([{ status: 'QUEUED', count: 2 }]);
    expect(expectNoErrors(await caller(`query($id: ID!) { message(id: $id) { id } }`, { id: batch.accepted[0].id })).message.id).toBe(batch.accepted[0].id);
    expect((await caller(`query($id: ID!) { batch(id: $id) { id } }`, { id: otherBatch.batchId })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await caller(`query($id: ID!) { message(id: $id) { id } }`, { id: otherBatch.accepted[0].id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Lists messages only with its batch as the filter (the SDK's events() catching up).
    const list = (filter: Record<string, unknown>) => caller(`query($filter: MessageFilter) { messages(first: 5, filter: $filter) { edges { node { id status } } } }`, { filter });
    const listed = expectNoErrors(await list({ batchId: batch.batchId, changedAfter: new Date(Date.now() - 60_000).toISOString() })).messages.edges;
    expect(listed.map((e: any) => e.node.id).sort()).toEqual(batch.accepted.map((m: any) => m.id).sort());
    expect(expectNoErrors(await list({ batchId: batch.batchId, changedAfter: new Date(Date.now() + 60_000).toISOString() })).messages.edges).toEqual([]);
    for (const filter of [{ batchId: otherBatch.batchId }, {}]) expect((await list(filter)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // messageEvents only with its batch as the filter.
    const events = await firstSseEvent(await mint(account, { batch: otherBatch.batchId }), `subscription { messageEvents(filter: { batchId: "${batch.batchId}" }) { id } }`);
    expect(events.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('lists inbound messages with the inbound scope but not the message each replies to (its id only)', async () => {
    const account = await t.seedAccount();
    const inbound = graphqlCaller(t.url, await mint(account, { inbound: true }));
    expect(expectNoErrors(await inbound(`{ inboundMessages(first: 5) { edges { node { id from body } } } }`)).inboundMessages.edges).toEqual([]);
    for (const selection of ['inReplyTo { body }', 'inReplyTo { id to }', 'inReplyTo { ... on Message { body } }']) {
      expect((await inbound(`{ inboundMessages(first: 5) { edges { node { ${selection} } } } }`)).errors?.[0]?.message, selection).toBe(
        'an access token cannot select InboundMessage.inReplyTo',
      );
    }
    // The id alone (the SDK's reply fragment asks for it) says nothing of the message.
    expect(expectNoErrors(await inbound(`{ inboundMessages(first: 5) { edges { node { id inReplyTo { id __typename } } } } }`)).inboundMessages.edges).toEqual([]);
    const sdk = new SMSClient({ url: t.url, token: await mint(account, { inbound: true }) });
    expect((await sdk.inboundMessages()).items).toEqual([]);
    const messagesOnly = graphqlCaller(t.url, await mint(account, { messages: [await sendBody(account)] }));
    expect((await messagesOnly(`{ inboundMessages(first: 5) { edges { node { id } } } }`)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('sending with a token', () => {
  it('sends with a granted template only, never another template or a plain body, within its rate', async () => {
    const account = await t.seedAccount();
    const granted = await approvedTemplate(account, 'Your code is {{code}}');
    const other = await approvedTemplate(account, 'Other {{code}}');
    const caller = graphqlCaller(t.url, await mint(account, { sendTemplates: [granted], sendPerMinute: 2 }));
    const sendWith = async (input: Record<string, unknown>) => expectNoErrors(await caller(SEND_TEMPLATE, { input: { to: '+14155550123', ...input } })).sendMessage;

    const sent = await sendWith({ templateId: granted, variables: { code: '1234' } });
    expect(sent.__typename).toBe('SendMessageSuccess');
    expect(sent.data.status).toBe('QUEUED');

    const otherTemplate = await sendWith({ templateId: other, variables: { code: '1' } });
    expect(otherTemplate).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const body = await sendWith({ body: 'free text' });
    expect(body).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: 'an access token sends with a template only, never a plain body' });
    expect(await sendWith({ body: 'free text', templateId: granted })).toMatchObject({ __typename: 'ForbiddenError' });

    expect((await sendWith({ templateId: granted, variables: { code: '2' } })).__typename).toBe('SendMessageSuccess');
    const third = await sendWith({ templateId: granted, variables: { code: '3' } });
    expect(third).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
    expect(third.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(third.retryAfterSeconds).toBeLessThanOrEqual(60);
    // A send form may preview the template it may send with, and nothing else.
    const preview = (input: Record<string, unknown>) => caller(`query($input: PreviewInput!) { previewMessage(input: $input) { body segments encoding } }`, { input });
    expect(expectNoErrors(await preview({ templateId: granted, variables: { code: '42' } })).previewMessage).toEqual({ body: 'Your code is 42', segments: 1, encoding: 'GSM7' });
    for (const input of [{ templateId: other, variables: { code: '1' } }, { body: 'free text' }]) expect((await preview(input)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await caller(`query($id: ID!) { previewMessage(input: { templateId: $id, to: "+14155550123" }) { costs { provider } } }`, { id: granted })).errors?.[0]?.message).toBe(
      'an access token cannot select MessagePreview.costs',
    );
    // Two messages sent in all: refusals sent nothing.
    expect(await t.database.prisma.message.count({ where: { accountId: account.accountId } })).toBe(2);
  });
});

describe('a token that sends', () => {
  let account: SeededAccount;
  let tokenA: string;
  let sentByA: string[];
  let sentByKey: string;
  let sentByB: string;
  beforeAll(async () => {
    account = await t.seedAccount();
    const templateId = await approvedTemplate(account, 'Your code is {{code}}');
    const minted = () => mint(account, { sendTemplates: [templateId], sendPerMinute: 10 });
    tokenA = await minted();
    const tokenB = await minted();
    const sendAs = async (bearer: string, extra: Record<string, unknown> = {}) => {
      const result = expectNoErrors(await graphqlCaller(t.url, bearer)(SEND_TEMPLATE, { input: { to: '+14155550123', templateId, variables: { code: '1' }, ...extra } })).sendMessage;
      expect(result.__typename, JSON.stringify(result)).toBe('SendMessageSuccess');
      return result.data.id as string;
    };
    // The grouped write, and the transaction an idempotency key takes (services/messages.ts).
    sentByA = [await sendAs(tokenA), await sendAs(tokenA, { idempotencyKey: 'token-a-1' })];
    sentByKey = await sendAs(account.senderKey);
    sentByB = await sendAs(tokenB);
  });

  it('records its jti on what it sent, and nothing on what its key sent', async () => {
    const rows = await t.database.prisma.message.findMany({ where: { accountId: account.accountId }, select: { id: true, accessTokenId: true } });
    const raw = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1];
    const recorded = new Map(rows.map((r) => [r.id, r.accessTokenId]));
    const jti = decodeJwt(tokenA).jti;
    expect(sentByA.map((id) => recorded.get(raw(id)!))).toEqual([jti, jti]);
    expect(recorded.get(raw(sentByKey)!)).toBeNull();
    expect(recorded.get(raw(sentByB)!)).toMatch(/^[0-9a-f-]{36}$/);
    expect(recorded.get(raw(sentByB)!)).not.toBe(jti);
  });

  it('reads what it sent over HTTP, and nothing its key or another token sent', async () => {
    const caller = graphqlCaller(t.url, tokenA);
    for (const id of sentByA) expect(expectNoErrors(await caller(`query($id: ID!) { message(id: $id) { id status } }`, { id })).message.id).toBe(id);
    for (const id of [sentByKey, sentByB]) {
      const refused = await caller(`query($id: ID!) { message(id: $id) { id body } }`, { id });
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('watches what it sent over SSE, and nothing its key or another token sent', async () => {
    const watch = (id: string) => firstSseEvent(tokenA, `subscription { messageStatusChanged(id: "${id}") { id } }`);
    expect((await watch(sentByA[0]!)).data.messageStatusChanged).toEqual({ id: sentByA[0] });
    for (const id of [sentByKey, sentByB]) expect((await watch(id)).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('watches what it sent over graphql-ws, and nothing its key or another token sent', async () => {
    const ws = connect(`Bearer ${tokenA}`);
    await ws.opened;
    await ws.next((m) => m.type === 'connection_ack');
    const ids = { mine: sentByA[1]!, key: sentByKey, other: sentByB };
    for (const [name, id] of Object.entries(ids)) ws.socket.send(JSON.stringify({ id: name, type: 'subscribe', payload: { query: `subscription { messageStatusChanged(id: "${id}") { id } }` } }));
    expect((await ws.next((m) => m.id === 'mine')).payload.data.messageStatusChanged).toEqual({ id: ids.mine });
    for (const name of ['key', 'other']) {
      const refused = await ws.next((m) => m.id === name && m.type !== 'complete');
      expect(refused.payload.data ?? null).toBeNull();
      expect((refused.payload.errors ?? refused.payload)[0].extensions.code).toBe('FORBIDDEN');
    }
    ws.socket.close();
  });

  it("costs no query more than a key's send: the jti is one more value in the same insert", async () => {
    const templateId = await approvedTemplate(account, 'Counted {{code}}');
    const token = await mint(account, { sendTemplates: [templateId], sendPerMinute: 10 });
    const queriesOf = async (bearer: string) => {
      const before = t.queries.length;
      const result = expectNoErrors(await graphqlCaller(t.url, bearer)(SEND_TEMPLATE, { input: { to: '+14155550123', templateId, variables: { code: '1' } } })).sendMessage;
      expect(result.__typename).toBe('SendMessageSuccess');
      // Watches left open by earlier tests re-read their message's event log now and then
      // (src/schema/follow-message.ts): those reads land at random moments, so they are not counted.
      return t.queries.slice(before).filter((sql) => !(/^\s*SELECT/i.test(sql) && sql.includes('"MessageEvent"')));
    };
    // Each caller once before counting: key and template reads are cached after a first use.
    await queriesOf(account.senderKey);
    await queriesOf(token);
    const byKey = await queriesOf(account.senderKey);
    const byToken = await queriesOf(token);
    expect(byToken.length, byToken.join('\n')).toBe(byKey.length);
    expect(byToken.filter((sql) => sql.includes('INSERT INTO "Message"') && sql.includes('"accessTokenId"'))).toHaveLength(1);
  });

  it('still cannot list messages', async () => {
    expect((await graphqlCaller(t.url, tokenA)('{ messages(first: 5) { edges { node { id } } } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe("a token's request rate", () => {
  it("is the key's policy but a budget of its own: a page cannot use up its backend's key", async () => {
    const account = await t.seedAccount();
    const message = await sendBody(account);
    const token = await mint(account, { messages: [message] });
    const updated = await setSettings(account.admin, { limits: { requests: { max: 3, perSeconds: 60 } } });
    expect(updated.data.effectiveLimits.requests).toMatchObject({ max: 3, perSeconds: 60 });
    const page = graphqlCaller(t.url, token);
    const read = () => page(`query($id: ID!) { message(id: $id) { id } }`, { id: message });
    for (let i = 0; i < 3; i++) expect((await read()).status).toBe(200);
    const refused = await read();
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // The key that minted it still has its own three.
    expect((await account.sender(`{ viewer { apiKey { id } } }`)).status).toBe(200);
  });
});

describe('tokens that are refused', () => {
  let account: SeededAccount;
  let claims: Record<string, unknown>;
  beforeAll(async () => {
    account = await t.seedAccount();
    const token = await mint(account, { messages: [await sendBody(account)] });
    const { iss: _iss, aud: _aud, iat: _iat, exp: _exp, ...rest } = decodeJwt(token);
    claims = rest;
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases = async (): Promise<[string, string, RegExp][]> => {
    const valid = await forge(claims, { iat: now(), exp: now() + 60 });
    const [header, payload, signature] = valid.split('.');
    const widened = Buffer.from(JSON.stringify({ ...decodeJwt(valid), scope: { messages: [], batch: null, inbound: true, send: null } })).toString('base64url');
    return [
      ['expired', await forge(claims, { iat: now() - 120, exp: now() - 60 }), /expired/],
      ['tampered', `${header}.${widened}.${signature}`, /signature is invalid/],
      ['for another audience', await forge(claims, { iat: now(), exp: now() + 60, aud: 'https://other-herald.example' }), /another audience/],
      ['living longer than an hour', await forge(claims, { iat: now(), exp: now() + 7200 }), /longer than 3600/],
      ['with an unknown kid', `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'atk-1' })).toString('base64url')}.${payload}.${signature}`, /unknown or retired/],
    ];
  };

  it('answers 401 UNAUTHENTICATED with the reason and no data over HTTP', async () => {
    for (const [what, token, reason] of await cases()) {
      const response = await graphqlCaller(t.url, token)(`{ inboundMessages(first: 1) { edges { node { id } } } }`);
      expect(response.status, what).toBe(401);
      expect(response.data ?? null, what).toBeNull();
      expect(response.errors?.[0]?.extensions?.code, what).toBe('UNAUTHENTICATED');
      expect(response.errors?.[0]?.message, what).toMatch(reason);
    }
  });

  it('closes the WebSocket with 4401 and the reason', async () => {
    for (const [what, token, reason] of await cases()) {
      const ws = connect(`Bearer ${token}`);
      const closed = await ws.closed;
      expect(closed.code, what).toBe(4401);
      expect(closed.reason, what).toMatch(reason);
    }
  });
});

describe('a token that expires while in use', () => {
  it('has its socket closed with 4401 and its SSE stream ended', async () => {
    const account = await t.seedAccount();
    const message = await sendBody(account);
    // Two seconds: iat and exp are whole seconds, so it lives between one and two.
    const token = await mint(account, { messages: [message], ttlSeconds: 2 });
    const ws = connect(`Bearer ${token}`);
    await ws.opened;
    await ws.next((m) => m.type === 'connection_ack');
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `subscription { messageStatusChanged(id: "${message}") { id status } }` }),
    });
    const closed = await ws.closed;
    expect(closed).toEqual({ code: 4401, reason: 'the access token has expired: get a new one' });
    expect(await response.text()).toContain('event: complete');
    // And it is refused from then on.
    expect((await graphqlCaller(t.url, token)(`query($id: ID!) { message(id: $id) { id } }`, { id: message })).status).toBe(401);
  });
});

describe('revoking the parent key', () => {
  it("closes the token's open socket with 4403 and refuses its next HTTP request", async () => {
    const account = await t.seedAccount();
    const message = await sendBody(account);
    const token = await mint(account, { messages: [message] });
    const ws = connect(`Bearer ${token}`);
    await ws.opened;
    await ws.next((m) => m.type === 'connection_ack');
    ws.socket.send(JSON.stringify({ id: 'w', type: 'subscribe', payload: { query: `subscription { messageStatusChanged(id: "${message}") { id status } }` } }));
    await ws.next((m) => m.id === 'w' && m.type === 'next');
    const caller = graphqlCaller(t.url, token);
    expect(expectNoErrors(await caller(`query($id: ID!) { message(id: $id) { id } }`, { id: message })).message.id).toBe(message);

    const keyId = expectNoErrors(await account.sender(`{ viewer { apiKey { id } } }`)).viewer.apiKey.id;
    expectNoErrors(await account.admin(`mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: keyId }));

    expect((await ws.closed).code).toBe(4403);
    const refused = await caller(`query($id: ID!) { message(id: $id) { id } }`, { id: message });
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.message).toMatch(/revoked/);
  });

  it('ends its SSE stream', async () => {
    const account = await t.seedAccount();
    const message = await sendBody(account);
    const token = await mint(account, { messages: [message] });
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `subscription { messageStatusChanged(id: "${message}") { id status } }` }),
    });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('QUEUED')) text += Buffer.from((await reader.read()).value!).toString('utf8');
    const keyId = expectNoErrors(await account.sender(`{ viewer { apiKey { id } } }`)).viewer.apiKey.id;
    expectNoErrors(await account.admin(`mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: keyId }));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    expect(text).toContain('event: complete');
  });
});

describe('the SDK with tokens', () => {
  it('mints a token with a key, and works with the token within its scope only', async () => {
    const account = await t.seedAccount();
    const [a, b] = [await sendBody(account), await sendBody(account)];
    const server = new SMSClient({ url: t.url, apiKey: account.senderKey });
    const minted = await server.createAccessToken({ messages: [a], ttlSeconds: 60 });
    expect(minted.scope.messages).toEqual([a]);
    expect(new Date(minted.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const page = new SMSClient({ url: t.url, token: minted.token });
    expect((await page.getMessage(a))?.id).toBe(a);
    await expect(page.getMessage(b)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(page.sendSMS({ to: '+14155550123', message: 'hi' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(page.createAccessToken({ inbound: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(server.createAccessToken({ messages: [a], ttlSeconds: 7200 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('takes a key or a token, not both or neither', () => {
    expect(() => new SMSClient({ url: t.url })).toThrow(/apiKey or token/);
    expect(() => new SMSClient({ url: t.url, apiKey: 'k', token: 't' })).toThrow(/apiKey or token/);
  });
});
