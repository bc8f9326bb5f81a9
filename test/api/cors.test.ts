// CORS_ORIGINS: an allowed page gets the grant (never credentials) on answers and errors alike,
// and its preflight; any other origin gets nothing, and its WebSocket upgrade is refused. With
// no setting, no cross-origin grant at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/config.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

let t: TestHerald;
let plain: TestHerald;
beforeAll(async () => {
  [t, plain] = await Promise.all([
    startTestHerald({ cors: { origins: [APP], anyOrigin: false } }),
    // Behind a proxy: the public origin is not the Host the socket connects to.
    startTestHerald({ publicUrl: 'https://herald.example.org' }),
  ]);
});
afterAll(async () => {
  await t?.stop();
  await plain?.stop();
});

function post(url: string, headers: Record<string, string>) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ viewer { account { name } } }' }) });
}

/** The upgrade's outcome: 'open', or the HTTP status it was refused with. */
function upgrade(url: string, origin?: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', origin ? { origin } : {});
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
  });
}

describe('CORS with CORS_ORIGINS set', () => {
  it('grants an allowed origin on success, without credentials', async () => {
    const account = await t.seedAccount();
    const response = await post(t.url, { origin: APP, authorization: `Bearer ${account.senderKey}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('grants it on a 401 too, so the page can read why', async () => {
    const response = await post(t.url, { origin: APP, authorization: 'Bearer nope' });
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-expose-headers')).toContain('www-authenticate');
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('answers the preflight with the methods and headers a GraphQL client needs', async () => {
    const response = await fetch(t.url, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/content-type.*authorization/);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('gives another origin no grant, on answers and preflights', async () => {
    const account = await t.seedAccount();
    const answer = await post(t.url, { origin: EVIL, authorization: `Bearer ${account.senderKey}` });
    const preflight = await fetch(t.url, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
    for (const response of [answer, preflight]) {
      expect(response.headers.get('vary')).toContain('Origin');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-headers')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('refuses the WebSocket upgrade of another origin (403), and allows the listed one, the same origin and non-browser clients', async () => {
    expect(await upgrade(t.url, EVIL)).toBe(403);
    expect(await upgrade(t.url, 'null')).toBe(403);
    expect(await upgrade(t.url, APP)).toBe('open');
    expect(await upgrade(t.url, new URL(t.url).origin)).toBe('open');
    expect(await upgrade(t.url)).toBe('open');
  });
});

describe('CORS by default', () => {
  it('grants no other origin, and refuses its WebSocket upgrade', async () => {
    const account = await plain.seedAccount();
    const response = await post(plain.url, { origin: APP, authorization: `Bearer ${account.senderKey}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await upgrade(plain.url, APP)).toBe(403);
    expect(await upgrade(plain.url, new URL(plain.url).origin)).toBe('open');
    expect(await upgrade(plain.url, 'https://herald.example.org')).toBe('open');
  });
});

describe('CORS_ORIGINS configuration', () => {
  it('takes exact origins only', () => {
    expect(loadConfig({ CORS_ORIGINS: `${APP}, http://localhost:5173` }).cors).toEqual({ origins: [APP, 'http://localhost:5173'], anyOrigin: false });
    for (const bad of ['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://x.example', 'https://APP.example.com']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
  });

  it('takes * only with CORS_ALLOW_ANY_ORIGIN=true', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ALLOW_ANY_ORIGIN/);
    expect(loadConfig({ CORS_ORIGINS: '*', CORS_ALLOW_ANY_ORIGIN: 'true' }).cors).toEqual({ origins: [], anyOrigin: true });
    expect(() => loadConfig({ CORS_ORIGINS: `*,${APP}`, CORS_ALLOW_ANY_ORIGIN: 'true' })).toThrow(/stands alone/);
    expect(loadConfig({}).cors).toEqual({ origins: [], anyOrigin: false });
  });
});
