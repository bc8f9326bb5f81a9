// The dashboard in real headless Chromium (the one shipped inside the @sparticuz/chromium npm
// package, which `npm ci` installs like any package: no download, no root) against a real
// `herald server` process: a message sent through the API appears in the page and turns
// DELIVERED without a reload; the send form previews segments as the user types.
import { existsSync } from 'node:fs';
import packagedChromium from '@sparticuz/chromium';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from '../support/chromium.js';
import { expectNoErrors, graphqlCaller } from '../support/herald.js';
import { repoRoot, spawnHerald, type HeraldProcess } from '../support/process.js';
import { CREATE_TEMPLATE, SUBMIT_TEMPLATE } from '../support/templates.js';

const SCREENSHOT = path.join(repoRoot, 'test-results', 'dashboard.png');

let dataDir: string;
let profileDir: string;
let herald: HeraldProcess | undefined;
let browser: BrowserContext | undefined;
let base: string;
let adminKey: string;

beforeAll(async () => {
  // Fails (never skips) when the browser cannot be had: the package unpacks its binary into the
  // system's temporary folder on first use and throws if it cannot.
  const chromiumPath = await packagedChromium.executablePath();
  if (!existsSync(path.join(repoRoot, 'dashboard', 'dist', 'main.js'))) {
    throw new Error('dashboard/dist is not built: run `npm run generate` (npm ci runs it)');
  }
  dataDir = await mkdtemp(path.join(tmpdir(), 'herald-dashboard-'));
  profileDir = await mkdtemp(path.join(tmpdir(), 'herald-chromium-'));
  herald = spawnHerald(['server'], { DATA_DIR: dataDir, PORT: '0', SIMULATOR_DELAY_MS: '400', DISPATCH_POLL_MS: '50' });
  [, adminKey] = await herald.waitFor(/^\s+(hk_\S+)$/m);
  const [, graphqlUrl] = await herald.waitFor(/listening on (http:\/\/\S+\/graphql)/);
  base = graphqlUrl.replace(/\/graphql$/, '');
  // A fresh profile directory each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profileDir, { executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (herald) {
    herald.child.kill('SIGTERM');
    await herald.exited;
  }
  await rm(dataDir, { recursive: true, force: true });
  await rm(profileDir, { recursive: true, force: true });
});

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id status } } } }`;

describe('the dashboard in headless Chromium', () => {
  it('shows a message sent through the API live, then DELIVERED, without a reload; timeline; preview; template review; stats; screenshot', async () => {
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    // Nothing may come from outside Herald (no CDN).
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith(base.replace('http', 'ws'))) foreign.push(request.url());
    });

    // Two templates wait for review: one is approved in the page, the other stays in the queue.
    const api = graphqlCaller(`${base}/graphql`, adminKey);
    const pending: string[] = [];
    for (const name of ['order-shipped', 'appointment-reminder']) {
      const created = expectNoErrors(await api(CREATE_TEMPLATE, { input: { name, category: 'NOTIFICATION', body: `Hi {{name}}, ${name.replace('-', ' ')}.` } })).createTemplate;
      expect(expectNoErrors(await api(SUBMIT_TEMPLATE, { id: created.data.id })).submitTemplate.data.status).toBe('PENDING_REVIEW');
      pending.push(created.data.id);
    }

    await page.goto(`${base}/dashboard`);
    await page.fill('#sign-in input[name=key]', adminKey);
    await page.click('#sign-in button[type=submit]');
    await expect.poll(() => page.textContent('#account'), { timeout: 10_000 }).toMatch(/\(ADMIN\)/);
    await page.waitForSelector('#live[data-state=on]', { timeout: 10_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBe(adminKey);

    // Sent through the API, not the page: the row can only arrive over the subscription.
    const sent = expectNoErrors(await api(SEND, { input: { to: '+14155550123', body: 'Seen live on the dashboard' } })).sendMessage;
    expect(sent.__typename).toBe('SendMessageSuccess');
    const row = page.locator(`#messages tr[data-id="${sent.data.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => row.locator('[data-testid=status]').textContent(), { timeout: 15_000 }).toBe('DELIVERED');
    expect(await row.textContent()).toContain('+14155550123');

    // Its timeline, oldest first, ends with the provider's delivery report.
    await row.click();
    const timeline = page.locator('[data-testid=timeline] li');
    await expect.poll(async () => (await timeline.allTextContents()).at(-1) ?? '', { timeout: 10_000 }).toMatch(/^DELIVERED .*PROVIDER/);
    expect((await timeline.allTextContents())[0]).toMatch(/^QUEUED/);

    // Live preview: 161 GSM characters are two segments; an emoji switches to UCS-2.
    await page.fill('#send input[name=to]', '+14155550124');
    await page.fill('#send textarea[name=body]', 'a'.repeat(161));
    await expect.poll(() => page.textContent('[data-testid=segments]'), { timeout: 10_000 }).toBe('2 segments');
    await page.fill('#send textarea[name=body]', 'Hello 👋');
    await expect.poll(() => page.textContent('[data-testid=preview]'), { timeout: 10_000 }).toMatch(/1 segment · \d+ characters · UCS2/);

    // A typed error from the form shows its code.
    await page.fill('#send input[name=to]', 'not a number');
    await page.click('#send button[type=submit]');
    await expect.poll(() => page.textContent('#send-result'), { timeout: 10_000 }).toMatch(/^INVALID_PHONE_NUMBER: /);

    // Template review: approving removes it from the queue and the API sees it APPROVED.
    await page.click(`#templates .template[data-id="${pending[0]}"] button:text("Approve")`);
    await page.locator(`#templates .template[data-id="${pending[0]}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    const reviewed = expectNoErrors(await api(`query($id: ID!) { template(id: $id) { status } }`, { id: pending[0] }));
    expect(reviewed.template.status).toBe('APPROVED');
    expect(await page.locator('#templates .template').count()).toBe(1);

    // The charts were redrawn from messageStats after the live changes.
    await expect.poll(() => page.textContent('#stats'), { timeout: 10_000 }).toMatch(/^1 message · 1 delivered · 100% delivery rate/);
    expect(await page.locator('#stats svg rect').count()).toBeGreaterThan(0);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`dashboard screenshot: ${SCREENSHOT}`);

    expect(loads).toHaveLength(1); // never reloaded
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('serves only the built files, with their content types', async () => {
    const get = (p: string) => fetch(`${base}${p}`);
    const html = await get('/dashboard');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await get('/dashboard/main.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('/dashboard/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    for (const probe of ['/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/..%2fpackage.json', '/dashboard/nope.js', '/dashboard//etc/passwd']) {
      expect((await get(probe)).status, probe).toBe(404);
    }
    expect((await fetch(`${base}/dashboard`, { method: 'POST' })).status).toBe(405);
  });
});
