// The package as a consumer gets it: `npm pack`, then `npm install --omit=dev` of the tarball in
// a fresh project (no devDependencies, none of this repository's generators), then
// `herald-gateway/client` imported by plain Node and type-checked by TypeScript from the built
// files that package.json's exports point at. Slow (the install takes ~35 s on a warm npm cache,
// ~50 s on a cold one), hence e2e.
// Then the browser build, dist/client/browser.js, in headless Chromium: a page served from
// another origin than Herald (CORS_ORIGINS grants it) loads it as an ES module and, with an
// access token, watches a message turn DELIVERED.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import packagedChromium from '@sparticuz/chromium';
import { chromium } from 'playwright-core';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { FAST_DISPATCHER } from '../support/delivery.js';
import { repoRoot } from '../support/process.js';
import { SMSClient } from '../../src/client/index.js';

const run = promisify(execFile);
// Without these, Chromium on a machine with no internet stalls on network features (as in dashboard.test.ts).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Under `npm test` npm passes this project's own settings (its prefix, its package fields) down
// through the environment; the consumer's npm must see only the user's configuration.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(name)));

let consumerDir: string;
let herald: TestHerald;
let pageServer: Server;
let pageOrigin: string;

async function packAndInstall(): Promise<void> {
  // Rebuilt from src/client so the tarball holds what the sources say now, not the last `npm ci`.
  await run(process.execPath, ['scripts/build-client.mjs'], { cwd: repoRoot });
  // --ignore-scripts: `prepare` (every generator) already ran at `npm ci`; running it here would
  // rewrite the generated files other tests are reading.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', consumerDir], { cwd: repoRoot, env: npmEnv, maxBuffer: 16 << 20 });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  await writeFile(path.join(consumerDir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', path.join(consumerDir, filename)], {
    cwd: consumerDir,
    env: npmEnv,
    timeout: 240_000,
    maxBuffer: 16 << 20,
  });
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>consumer page</title>
<script type="module">
import { SMSClient } from '/sdk/browser.js';
const q = new URLSearchParams(location.search);
const client = new SMSClient({ url: q.get('url'), token: q.get('token') });
try {
  const fetched = await client.getMessage(q.get('id'));
  const statuses = [];
  for await (const m of client.watch(q.get('id'))) statuses.push(m.status);
  window.result = { fetched: fetched.id, statuses };
} catch (error) {
  window.result = { error: String(error.code ?? error) + ': ' + error.message };
}
</script>`;

/** The consumer's page and the installed package's browser build, on an origin of their own. */
async function servePage(): Promise<void> {
  pageServer = createServer(async (req, res) => {
    if (req.url?.startsWith('/sdk/browser.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(await readFile(path.join(consumerDir, 'node_modules/herald-gateway/dist/client/browser.js')));
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}`;
}

beforeAll(async () => {
  consumerDir = await mkdtemp(path.join(tmpdir(), 'herald-sdk-consumer-'));
  await servePage();
  // Dispatching, so that watched messages reach DELIVERED; the page's origin is granted CORS.
  [herald] = await Promise.all([
    startTestHerald({ dispatch: true, dispatcher: FAST_DISPATCHER, cors: { origins: [pageOrigin], anyOrigin: false } }),
    packAndInstall(),
  ]);
}, 300_000);

afterAll(async () => {
  await herald?.stop();
  await new Promise((resolve) => pageServer?.close(resolve));
  await rm(consumerDir, { recursive: true, force: true });
});

const CONSUMER_SCRIPT = `
import { HeraldApiError, MAX_BULK_RECIPIENTS, SMSClient } from 'herald-gateway/client';

const client = new SMSClient({ url: process.env.HERALD_URL, apiKey: process.env.HERALD_API_KEY });
const sent = await client.sendSMS({ to: '+1 415 555 0100', message: 'from a consumer' });
const refused = await client.sendSMS({ to: '12345', message: 'x' }).catch((error) => error);
const watched = [];
for await (const m of client.watch(sent.id)) watched.push(m.status);
console.log(JSON.stringify({
  watched: watched.at(-1),
  resolved: import.meta.resolve('herald-gateway/client'),
  exports: { SMSClient: typeof SMSClient, HeraldApiError: typeof HeraldApiError, MAX_BULK_RECIPIENTS },
  operations: ['sendSMS', 'sendBulk', 'getMessage', 'listMessages'].filter((name) => typeof SMSClient.prototype[name] === 'function'),
  sent: { to: sent.to, body: sent.body, status: sent.status },
  refused: { isApiError: refused instanceof HeraldApiError, code: refused.code, details: refused.details },
}));
`;

const CONSUMER_TYPES = `
import { HeraldApiError, SMSClient, type Message } from 'herald-gateway/client';

const client = new SMSClient({ url: 'http://127.0.0.1:4000/graphql', apiKey: 'hk_x' });
export const sent: Promise<Message> = client.sendSMS({ to: '+14155550100', message: 'typed' });
export const status: Promise<Message['status'] | undefined> = client.getMessage('x').then((m) => m?.status);
export const isApiError = (error: unknown): string | undefined => (error instanceof HeraldApiError ? error.code : undefined);
// @ts-expect-error: a recipient is required
client.sendSMS({ message: 'to nobody' });
`;

describe('herald-gateway/client installed from the packed tarball', () => {
  it('installs without devDependencies and runs no install script of its own', async () => {
    const installed = JSON.parse(await readFile(path.join(consumerDir, 'node_modules/herald-gateway/package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(installed.scripts[hook]).toBeUndefined();
    expect(existsSync(path.join(consumerDir, 'node_modules/@graphql-codegen'))).toBe(false);
  });

  it('imports in plain Node from the built JavaScript and sends a message', async () => {
    const { senderKey } = await herald.seedAccount();
    await writeFile(path.join(consumerDir, 'send.mjs'), CONSUMER_SCRIPT);
    const { stdout } = await run(process.execPath, ['send.mjs'], { cwd: consumerDir, env: { ...process.env, HERALD_URL: herald.url, HERALD_API_KEY: senderKey } });
    expect(JSON.parse(stdout)).toEqual({
      // Node 20 has no global WebSocket: the package loads `ws` for the socket.
      watched: 'DELIVERED',
      resolved: expect.stringMatching(/\/node_modules\/herald-gateway\/dist\/client\/index\.js$/),
      exports: { SMSClient: 'function', HeraldApiError: 'function', MAX_BULK_RECIPIENTS: 10_000 },
      operations: ['sendSMS', 'sendBulk', 'getMessage', 'listMessages'],
      sent: { to: '+14155550100', body: 'from a consumer', status: 'QUEUED' },
      refused: { isApiError: true, code: 'INVALID_PHONE_NUMBER', details: { type: 'InvalidPhoneNumberError', input: '12345' } },
    });
  });

  it('type-checks against the shipped .d.ts files (strict, library checks on)', async () => {
    await writeFile(path.join(consumerDir, 'check.ts'), CONSUMER_TYPES);
    await writeFile(
      path.join(consumerDir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ['check.ts'] }),
    );
    // This repository's compiler: the check is about the package's types, not the consumer's tools.
    const tsc = run(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', consumerDir], { cwd: consumerDir });
    await expect(tsc.then(() => 'ok', (error: { stdout: string }) => error.stdout)).resolves.toBe('ok');
  });

  it('runs in Chromium from another origin: the browser build, a token, getMessage over CORS, watch() to DELIVERED', async () => {
    const { senderKey } = await herald.seedAccount();
    const backend = new SMSClient({ url: herald.url, apiKey: senderKey });
    const message = await backend.sendSMS({ to: '+14155550100', message: 'watched from a page' });
    const { token } = await backend.createAccessToken({ messages: [message.id], ttlSeconds: 120 });
    const profile = await mkdtemp(path.join(tmpdir(), 'herald-sdk-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, { executablePath: await packagedChromium.executablePath(), headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${pageOrigin}/?${new URLSearchParams({ url: herald.url, token, id: message.id })}`);
      await page.waitForFunction(() => (window as { result?: unknown }).result, undefined, { timeout: 20_000 });
      const result = await page.evaluate(() => (window as { result?: unknown }).result);
      expect(pageErrors).toEqual([]);
      expect(result).toEqual({ fetched: message.id, statuses: expect.arrayContaining(['DELIVERED']) });
      expect((result as { statuses: string[] }).statuses.at(-1)).toBe('DELIVERED');
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    }
  }, 60_000);
});
