// examples/send-and-watch in real headless Chromium: the example's backend (holding a SENDER key)
// on one origin, a real `herald server` on another (CORS_ORIGINS names the example's origin). The
// page sends through the backend and watches the message turn DELIVERED live with urql over
// graphql-ws, using only the access token the backend minted; the key never reaches the page, and
// the token opens nothing but its own message.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import packagedChromium from '@sparticuz/chromium';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from '../support/chromium.js';
import { expectNoErrors, graphqlCaller } from '../support/herald.js';
import { closedPort } from '../support/ports.js';
import { repoRoot, runCli, spawnHerald, spawnNode, type HeraldProcess } from '../support/process.js';
import { startExample } from '../../examples/send-and-watch/server.js';

const EXAMPLE = path.join('examples', 'send-and-watch', 'server.ts');

let dataDir: string;
let profileDir: string;
let herald: HeraldProcess | undefined;
let example: HeraldProcess | undefined;
let browser: BrowserContext | undefined;
let heraldBase: string;
let exampleUrl: string;
let senderKey: string;

beforeAll(async () => {
  const chromiumPath = await packagedChromium.executablePath();
  expect(existsSync(path.join(repoRoot, EXAMPLE))).toBe(true);
  dataDir = await mkdtemp(path.join(tmpdir(), 'herald-example-'));
  profileDir = await mkdtemp(path.join(tmpdir(), 'herald-chromium-'));

  // The embedded database takes one process at a time: the key is made before the server starts.
  const created = await runCli(['keys', 'create', '--name', 'example-backend', '--role', 'SENDER', '--account', 'shop'], { DATA_DIR: dataDir });
  expect(created.code, created.output).toBe(0);
  senderKey = created.stdout.trim().split('\n').at(-1)!;
  expect(senderKey).toMatch(/^hk_/);

  // The page's origin must be known before Herald starts, for CORS_ORIGINS.
  const port = await closedPort();
  const exampleOrigin = `http://127.0.0.1:${port}`;
  // A slow simulated delivery report (2 s), so the page surely shows SENT before DELIVERED, even on a busy machine.
  herald = spawnHerald(['server'], { DATA_DIR: dataDir, PORT: '0', SIMULATOR_DELAY_MS: '2000', DISPATCH_POLL_MS: '50', CORS_ORIGINS: exampleOrigin });
  const [, graphqlUrl] = await herald.waitFor(/listening on (http:\/\/\S+\/graphql)/);
  heraldBase = graphqlUrl.replace(/\/graphql$/, '');

  example = spawnNode(['--import', 'tsx', EXAMPLE], { HERALD_URL: heraldBase, HERALD_KEY: senderKey, PORT: String(port) });
  [, exampleUrl] = await example.waitFor(/listening on (http:\/\/\S+)/);
  expect(exampleUrl).toBe(exampleOrigin);
  expect(new URL(exampleUrl).origin).not.toBe(new URL(heraldBase).origin);

  browser = await chromium.launchPersistentContext(profileDir, { executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const proc of [example, herald]) {
    if (!proc) continue;
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  await rm(dataDir, { recursive: true, force: true });
  await rm(profileDir, { recursive: true, force: true });
});

/** Everything the page received or sent: HTTP response bodies, request headers and bodies, WebSocket frames. */
function recordTraffic(page: Page): { all(): Promise<string[]>; urls: string[] } {
  const pending: Promise<string>[] = [];
  const urls: string[] = [];
  page.on('request', (request) => {
    urls.push(request.url());
    pending.push(request.allHeaders().then((headers) => `${request.url()} ${JSON.stringify(headers)} ${request.postData() ?? ''}`));
  });
  page.on('response', (response) => {
    pending.push(Promise.all([response.allHeaders(), response.text().catch(() => '')]).then(([headers, body]) => `${JSON.stringify(headers)} ${body}`));
  });
  page.on('websocket', (ws) => {
    urls.push(ws.url());
    ws.on('framereceived', (frame) => pending.push(Promise.resolve(String(frame.payload))));
    ws.on('framesent', (frame) => pending.push(Promise.resolve(String(frame.payload))));
  });
  return { all: () => Promise.all(pending), urls };
}

type Outcome = { data: unknown; codes: unknown[] };
declare global {
  interface Window {
    sendAndWatch: { messageId: string; client: import('@urql/core').Client };
  }
}

describe('the send-and-watch example in headless Chromium', () => {
  it('sends through its backend, shows DELIVERED live from another origin, never sees the key, and its token opens no other message', async () => {
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    let loads = 0;
    page.on('load', () => loads++);
    const traffic = recordTraffic(page);

    await page.goto(exampleUrl);
    await page.fill('#send input[name=to]', '+14155550123');
    await page.fill('#send textarea[name=text]', 'Watched from another origin');
    await page.click('#send button[type=submit]');

    const status = page.locator('[data-testid=status]');
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('DELIVERED');
    // Live, without a reload: QUEUED (the send's answer), then SENT and DELIVERED as they happened.
    const history = (await page.textContent('[data-testid=history]'))!.split(' → ');
    expect(history[0]).toBe('QUEUED');
    expect(history).toContain('SENT');
    expect(history.at(-1)).toBe('DELIVERED');
    expect(loads).toBe(1);
    const timeline = await page.locator('[data-testid=timeline] li').allTextContents();
    expect(timeline[0]).toMatch(/^QUEUED /);
    expect(timeline.at(-1)).toMatch(/^DELIVERED .*PROVIDER/);
    // Every state shown is one of the message's recorded events, in their order.
    const positions = history.map((status) => timeline.findIndex((line) => line.startsWith(`${status} `)));
    expect(positions).not.toContain(-1);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(await page.locator('#error').isHidden()).toBe(true);
    // graphql-ws closed the socket itself after the final status.
    await expect.poll(() => page.textContent('[data-testid=connection]'), { timeout: 5_000 }).toBe('done');

    // The status came from Herald's origin over graphql-ws, not through the example's backend.
    const heraldWs = heraldBase.replace(/^http/, 'ws');
    expect(traffic.urls.some((url) => url.startsWith(`${heraldWs}/graphql`))).toBe(true);

    // The page's own urql client, holding only the token: its message yes, another one never.
    const own = await page.evaluate(async () => {
      const { client, messageId } = window.sendAndWatch;
      const result = await client.query(`query($id: ID!) { message(id: $id) { status } }`, { id: messageId }).toPromise();
      return { data: result.data, codes: result.error?.graphQLErrors.map((e) => e.extensions.code) ?? [] } as Outcome;
    });
    expect(own).toEqual({ data: { message: { status: 'DELIVERED' } }, codes: [] });

    const other = expectNoErrors(await graphqlCaller(`${heraldBase}/graphql`, senderKey)(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ... on SendMessageSuccess { data { id } } } }`,
      { input: { to: '+14155550124', body: 'not for that page' } },
    )).sendMessage.data.id as string;
    const overHttp = await page.evaluate(async (id) => {
      const result = await window.sendAndWatch.client.query(`query($id: ID!) { message(id: $id) { body status } }`, { id }).toPromise();
      return { data: result.data?.message ?? null, codes: result.error?.graphQLErrors.map((e) => e.extensions.code) ?? [] } as Outcome;
    }, other);
    expect(overHttp).toEqual({ data: null, codes: ['FORBIDDEN'] });
    const overWs = await page.evaluate(async (id) => {
      const result = await window.sendAndWatch.client.subscription(`subscription($id: ID!) { messageStatusChanged(id: $id) { body status } }`, { id }).toPromise();
      return { data: result.data ?? null, codes: result.error?.graphQLErrors.map((e) => e.extensions.code) ?? [] } as Outcome;
    }, other);
    expect(overWs).toEqual({ data: null, codes: ['FORBIDDEN'] });

    // The key is in nothing the page loaded, sent or received; the recording itself works (it
    // holds the token the backend minted).
    const recorded = await traffic.all();
    expect(recorded.some((entry) => entry.includes('"token":"ey'))).toBe(true);
    // Only the start of an offending entry is shown: a whole bundle would bury the failure.
    const containing = (needle: string) => recorded.filter((entry) => entry.includes(needle)).map((entry) => entry.slice(0, 200));
    expect(containing(senderKey)).toEqual([]);
    expect(containing(senderKey.split('_')[2])).toEqual([]); // nor its secret part alone
    expect(containing('not for that page')).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows a refusal from Herald in the page, and its backend refuses bad requests', async () => {
    const page = await browser!.newPage();
    await page.goto(exampleUrl);
    await page.fill('#send input[name=to]', 'not a number');
    await page.fill('#send textarea[name=text]', 'hello');
    await page.click('#send button[type=submit]');
    await expect.poll(() => page.textContent('#error'), { timeout: 10_000 }).toMatch(/^INVALID_PHONE_NUMBER: /);
    expect(await page.locator('#watch').isHidden()).toBe(true);

    const post = (body: string) => fetch(`${exampleUrl}/api/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const missing = await post(JSON.stringify({ to: '+14155550123' }));
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: { code: 'VALIDATION', message: 'give "to" and "text"' } });
    expect((await post('{not json')).status).toBe(400);
    expect((await fetch(`${exampleUrl}/server.ts`)).status).toBe(404);
    expect((await fetch(`${exampleUrl}/api/send`)).status).toBe(404);
  });

  it("served from an origin missing from Herald's CORS_ORIGINS, the page cannot watch: the WebSocket upgrade is refused and the page says so", async () => {
    const elsewhere = await startExample({ heraldUrl: heraldBase, heraldKey: senderKey, port: 0 });
    const page = await browser!.newPage();
    try {
      await page.goto(elsewhere.url);
      await page.fill('#send input[name=to]', '+14155550126');
      await page.fill('#send textarea[name=text]', 'sent, but not watchable from here');
      await page.click('#send button[type=submit]');
      // The backend sent it (a server has no Origin); the page's socket to Herald was refused.
      await expect.poll(() => page.getAttribute('[data-testid=connection]', 'data-code'), { timeout: 10_000 }).toBe('1006');
      expect(await page.getAttribute('[data-testid=connection]', 'data-state')).toBe('closed');
      expect(await page.textContent('[data-testid=history]')).toBe('QUEUED');
    } finally {
      await page.close();
      await elsewhere.close();
    }
  });

  it('renews its token before expiry: with 5 s tokens, the status still arrives after the first token expired', async () => {
    // A Herald of its own whose delivery report comes 9 s after the send, and a backend minting 5 s tokens.
    const slowDir = await mkdtemp(path.join(tmpdir(), 'herald-example-slow-'));
    const created = await runCli(['keys', 'create', '--name', 'example-backend', '--role', 'SENDER', '--account', 'shop'], { DATA_DIR: slowDir });
    expect(created.code, created.output).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1)!;
    const port = await closedPort();
    const slow = spawnHerald(['server'], { DATA_DIR: slowDir, PORT: '0', SIMULATOR_DELAY_MS: '9000', DISPATCH_POLL_MS: '50', CORS_ORIGINS: `http://127.0.0.1:${port}` });
    let backend: Awaited<ReturnType<typeof startExample>> | undefined;
    const page = await browser!.newPage();
    try {
      const [, graphqlUrl] = await slow.waitFor(/listening on (http:\/\/\S+\/graphql)/);
      backend = await startExample({ heraldUrl: graphqlUrl.replace(/\/graphql$/, ''), heraldKey: key, port, tokenTtlSeconds: 5 });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const renewals: string[] = [];
      page.on('request', (request) => void (request.url().endsWith('/api/token') && renewals.push(request.url())));
      await page.goto(backend.url);
      await page.fill('#send input[name=to]', '+14155550123');
      await page.fill('#send textarea[name=text]', 'Outlives its first token');
      const answered = page.waitForResponse((response) => response.url().endsWith('/api/send'));
      await page.click('#send button[type=submit]');
      const first = (await (await answered).json()) as { messageId: string; token: string; expiresAt: string };
      expect(Date.parse(first.expiresAt) - Date.now()).toBeLessThanOrEqual(5_000);

      const status = page.locator('[data-testid=status]');
      await expect.poll(() => status.getAttribute('data-status'), { timeout: 30_000 }).toBe('DELIVERED');
      // Delivered after the first token had expired: the page was watching with a renewed one.
      const message = expectNoErrors(await graphqlCaller(graphqlUrl, key)(`query($id: ID!) { message(id: $id) { deliveredAt } }`, { id: first.messageId })).message;
      expect(Date.parse(message.deliveredAt)).toBeGreaterThan(Date.parse(first.expiresAt));
      expect(renewals.length).toBeGreaterThanOrEqual(1);
      expect(Number(await page.textContent('[data-testid=renewals]'))).toBe(renewals.length);
      const expired = await graphqlCaller(graphqlUrl, first.token)(`query($id: ID!) { message(id: $id) { status } }`, { id: first.messageId });
      expect(expired.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const history = (await page.textContent('[data-testid=history]'))!.split(' → ');
      expect(history[0]).toBe('QUEUED');
      expect(history).toContain('SENT');
      expect(await page.locator('#error').isHidden()).toBe(true);
      await expect.poll(() => page.textContent('[data-testid=connection]'), { timeout: 5_000 }).toBe('done');
      // No renewal once the status is final.
      const after = renewals.length;
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      expect(renewals.length).toBe(after);
      // A renewal ticket names its message: another id gets no token.
      const refused = await fetch(`${backend.url}/api/token`, { method: 'POST', body: JSON.stringify({ messageId: 'another', renewal: 'forged' }) });
      expect(refused.status).toBe(403);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await backend?.close();
      slow.child.kill('SIGTERM');
      await slow.exited;
      await rm(slowDir, { recursive: true, force: true });
    }
  }, 90_000);

  it("answers 502 with Herald's reason when its key is refused or Herald is down, and sends nothing", async () => {
    const cases = [
      { heraldUrl: heraldBase, heraldKey: 'hk_aaaaaaaaaa_not-a-real-key', code: 'UNAUTHENTICATED' },
      { heraldUrl: `http://127.0.0.1:${await closedPort()}`, heraldKey: senderKey, code: 'HERALD_UNREACHABLE' },
    ];
    for (const { code, ...options } of cases) {
      const backend = await startExample({ ...options, port: 0 });
      try {
        const answer = await fetch(`${backend.url}/api/send`, { method: 'POST', body: JSON.stringify({ to: '+14155550125', text: 'never sent' }) });
        expect(answer.status, code).toBe(502);
        const body = (await answer.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe(code);
        expect(JSON.stringify(body)).not.toContain(senderKey);
      } finally {
        await backend.close();
      }
    }
    const listed = expectNoErrors(await graphqlCaller(`${heraldBase}/graphql`, senderKey)(`{ messages(first: 50) { edges { node { body } } } }`));
    expect(listed.messages.edges.map((e: { node: { body: string } }) => e.node.body)).not.toContain('never sent');
  });
});
