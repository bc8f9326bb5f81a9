import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printSchemaSDL } from '../../src/schema/index.js';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

describe('server', () => {
  it('serves /healthz and a /readyz that really queries the database', async () => {
    const base = t.herald.url;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('serves GraphiQL with every asset inlined, so it works offline', async () => {
    const response = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('renderYogaGraphiQL');
    // No <script src> or stylesheet <link> pointing anywhere: nothing to fetch from a CDN.
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+rel="stylesheet"/i);
    expect(html).not.toContain('unpkg.com');
  });

  it('answers queries over SSE with the same authentication', async () => {
    const account = await t.seedAccount('sse-account');
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${account.senderKey}` },
      body: JSON.stringify({ query: '{ viewer { account { name } } }' }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    expect(text).toContain('"sse-account"');
  });

  it('never leaks stack traces or SQL for unexpected errors in production mode', async () => {
    const account = await t.seedAccount();
    // A cursor that decodes to no valid id makes Prisma fail inside the resolver.
    const response = await account.sender(`{ messages(first: 1, after: "bm90LWEtdXVpZA==") { edges { node { id } } } }`);
    const text = JSON.stringify(response);
    expect(response.errors?.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/prisma|SELECT|at .*\.ts:\d+|stack/i);
  });

  it('previews encoding, segments, characters and the characters that force UCS-2', async () => {
    const account = await t.seedAccount();
    const data = expectNoErrors(
      await account.sender(`query($body: String!) { previewMessage(input: { body: $body }) {
        body encoding segments characters nonGsmCharacters sensitiveWords warnings } }`, { body: 'Prix: 5€ ✓ “ok”' }),
    );
    expect(data.previewMessage).toMatchObject({ encoding: 'UCS2', segments: 1, characters: 15, sensitiveWords: [] });
    expect(data.previewMessage.nonGsmCharacters.sort()).toEqual(['✓', '“', '”'].sort());
    expect(data.previewMessage.warnings.join(' ')).toContain('UCS-2');

    const long = expectNoErrors(await account.sender(`{ previewMessage(input: { body: "${'a'.repeat(161)}" }) { segments warnings } }`));
    expect(long.previewMessage.segments).toBe(2);
    expect(long.previewMessage.warnings[0]).toMatch(/^2 segments/);
  });
});

describe('schema.graphql', () => {
  it('is current: printed from the code it matches the committed file (run `npm run schema:print`)', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(printSchemaSDL()).toBe(committed);
  });
});
