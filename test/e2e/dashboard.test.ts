// The console in real headless Chromium (the one shipped inside the @sparticuz/chromium npm
// package, which `npm ci` installs like any package: no download, no root) against a real
// `herald server` process, through its main journeys: sign in, watch a message sent through the
// API turn DELIVERED live, its detail, send from the page with a live preview, filter and export
// the log, the stats charts, review a template (with the difference between versions), create
// and revoke a key, switch to Chinese, and the page at 375 px. Screenshots in both languages go
// to test-results/ (docs/dashboard-en.png and docs/dashboard-zh.png are copies).
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import packagedChromium from '@sparticuz/chromium';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from '../support/chromium.js';
import { expectNoErrors, graphqlCaller, type GraphQLCaller } from '../support/herald.js';
import { repoRoot, spawnHerald, type HeraldProcess } from '../support/process.js';
import { CREATE_TEMPLATE, REVIEW_TEMPLATE, SUBMIT_TEMPLATE, UPDATE_TEMPLATE } from '../support/templates.js';

const SHOTS = path.join(repoRoot, 'test-results');
await mkdir(SHOTS, { recursive: true });

let dataDir: string;
let profileDir: string;
let herald: HeraldProcess | undefined;
let browser: BrowserContext | undefined;
let base: string;
let adminKey: string;
let api: GraphQLCaller;

beforeAll(async () => {
  // Fails (never skips) when the browser cannot be had: the package unpacks its binary into the
  // system's temporary folder on first use and throws if it cannot.
  const chromiumPath = await packagedChromium.executablePath();
  if (!existsSync(path.join(repoRoot, 'dashboard', 'dist', 'main.js'))) {
    throw new Error('dashboard/dist is not built: run `npm run generate` (npm ci runs it)');
  }
  dataDir = await mkdtemp(path.join(tmpdir(), 'herald-dashboard-'));
  profileDir = await mkdtemp(path.join(tmpdir(), 'herald-chromium-'));
  // One webhook attempt only (the retry is the console's button), to a receiver on 127.0.0.1.
  herald = spawnHerald(['server'], {
    DATA_DIR: dataDir, PORT: '0', SIMULATOR_DELAY_MS: '400', DISPATCH_POLL_MS: '50', WEBHOOK_RETRY_SCHEDULE: 'none', WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  });
  [, adminKey] = await herald.waitFor(/^\s+(hk_\S+)$/m);
  const [, graphqlUrl] = await herald.waitFor(/listening on (http:\/\/\S+\/graphql)/);
  base = graphqlUrl.replace(/\/graphql$/, '');
  api = graphqlCaller(`${base}/graphql`, adminKey);
  // A fresh profile directory each run (playwright passes it as --user-data-dir); English
  // first, as a browser set to English would (the switch to Chinese is a journey below).
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 }, locale: 'en-US', acceptDownloads: true,
  });
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

/** A page that records script errors and any request leaving Herald (there must be none). */
async function watchedPage(): Promise<{ page: Page; pageErrors: string[]; foreign: string[]; loads: string[] }> {
  const page = await browser!.newPage();
  // A failed promise nobody handled is a page error too (rethrown where pageerror sees it).
  await page.addInitScript(() => addEventListener('unhandledrejection', (event) => setTimeout(() => { throw event.reason; })));
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // Console errors count too (a Content-Security-Policy refusal is only logged), except the
  // browser's own line for an HTTP error answer (the wrong key's 401, a refused request).
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${message.text()}`);
  });
  const loads: string[] = [];
  page.on('load', () => loads.push(page.url()));
  const foreign: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith(base.replace('http', 'ws')) && !request.url().startsWith('blob:')) foreign.push(request.url());
  });
  return { page, pageErrors, foreign, loads };
}

async function signIn(page: Page, key = adminKey): Promise<void> {
  await page.goto(`${base}/dashboard`);
  await page.fill('#sign-in input[name=key]', key);
  await page.click('#sign-in button[type=submit]');
  await expect.poll(() => page.textContent('#account').catch(() => ''), { timeout: 10_000 }).toMatch(/\((ADMIN|SENDER)\)/);
}

const go = (page: Page, name: string) => page.click(`nav a[data-page=${name}]`);

describe('the console in headless Chromium', () => {
  it('signs in, shows a message sent through the API live until DELIVERED, its detail, sends with a preview, filters and exports, draws stats', async () => {
    const { page, pageErrors, foreign, loads } = await watchedPage();

    // A wrong key is refused with a reason, and not kept.
    await page.goto(`${base}/dashboard`);
    await page.fill('#sign-in input[name=key]', 'hk_not_a_real_key');
    await page.click('#sign-in button[type=submit]');
    await expect.poll(() => page.textContent('#sign-in-error'), { timeout: 10_000 }).toMatch(/^Sign-in refused: /);
    expect(await page.evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBeNull();

    await page.fill('#sign-in input[name=key]', adminKey);
    await page.click('#sign-in button[type=submit]');
    await expect.poll(() => page.textContent('#account').catch(() => ''), { timeout: 10_000 }).toMatch(/\(ADMIN\)/);
    await page.waitForSelector('#live[data-state=on]', { timeout: 10_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBe(adminKey);

    // A price for the simulator in the US, so the detail has a cost to show.
    const priced = expectNoErrors(await api(`mutation { setPrice(input: { provider: "simulator", country: "US", currency: "USD", pricePerSegment: "0.0079" }) { __typename } }`));
    expect(priced.setPrice.__typename).toBe('SetPriceSuccess');

    // Sent through the API, not the page: the row can only arrive over the subscription.
    const sent = expectNoErrors(await api(SEND, { input: { to: '+14155550123', body: 'Seen live on the console' } })).sendMessage;
    expect(sent.__typename).toBe('SendMessageSuccess');
    const row = page.locator(`#messages tr[data-id="${sent.data.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => row.locator('[data-testid=status]').textContent(), { timeout: 15_000 }).toBe('DELIVERED');
    expect(await row.textContent()).toContain('+14155550123');

    // Its detail: the timeline oldest first ends with the provider's report; routing is shown.
    await row.locator('button').click(); // a real button: reachable by keyboard
    const timeline = page.locator('[data-testid=timeline] li');
    await expect.poll(async () => (await timeline.allTextContents()).at(-1) ?? '', { timeout: 10_000 }).toMatch(/^DELIVERED .*PROVIDER/);
    expect((await timeline.allTextContents())[0]).toMatch(/^QUEUED/);
    expect(await page.textContent('[data-testid=routing]')).toMatch(/simulator/i);
    expect(await page.textContent('[data-testid=estimated-cost]')).toBe('$0.0079');

    // Send from the page, with the live preview: 161 GSM characters are two segments; an emoji
    // switches to UCS-2; a bad number shows its code; a good one is accepted and goes live.
    await go(page, 'send');
    await page.fill('#send input[name=to]', '+14155550124');
    await page.fill('#send textarea[name=body]', 'a'.repeat(161));
    await expect.poll(() => page.textContent('[data-testid=segments]').catch(() => ''), { timeout: 10_000 }).toBe('2 segments');
    await page.fill('#send textarea[name=body]', 'Hello 👋');
    await expect.poll(() => page.textContent('[data-testid=preview]'), { timeout: 10_000 }).toMatch(/1 segment · \d+ characters · UCS2/);
    await page.fill('#send input[name=to]', 'not a number');
    await page.click('#send button[type=submit]');
    await expect.poll(() => page.textContent('#send-result'), { timeout: 10_000 }).toMatch(/^INVALID_PHONE_NUMBER: /);
    await page.fill('#send input[name=to]', '+14155550124');
    await page.click('#send button[type=submit]');
    await expect.poll(() => page.textContent('#send-result'), { timeout: 10_000 }).toMatch(/^Accepted: /);

    // Back to the log: both messages; the recipient filter keeps only the one sent from the page.
    await go(page, 'messages');
    await expect.poll(() => page.locator('#messages tbody tr').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.locator('#messages tbody tr').first().locator('[data-testid=status]').textContent(), { timeout: 15_000 }).toBe('DELIVERED');
    await page.fill('#message-filters input[name=to]', '+1 415 555 0124');
    await page.click('#message-filters button[type=submit]');
    await expect.poll(() => page.locator('#messages tbody tr').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.textContent('#messages tbody')).toContain('Hello 👋');
    await page.fill('#message-filters input[name=provider]', 'twilio');
    await page.click('#message-filters button[type=submit]');
    await expect.poll(() => page.locator('#messages tbody tr').count(), { timeout: 10_000 }).toBe(0);
    await page.fill('#message-filters input[name=provider]', 'simulator');
    await page.click('#message-filters button[type=submit]');
    await expect.poll(() => page.textContent('#messages tbody'), { timeout: 10_000 }).toContain('Hello 👋');
    expect(await page.locator('#messages tbody tr').count()).toBe(1);
    await page.fill('#message-filters input[name=provider]', '');
    await page.selectOption('#message-filters select[name=status]', 'FAILED');
    await page.click('#message-filters button[type=submit]');
    await expect.poll(() => page.locator('#messages tbody tr').count(), { timeout: 10_000 }).toBe(0);
    await page.selectOption('#message-filters select[name=status]', '');
    await page.click('#message-filters button[type=submit]');

    // CSV export of the current filter (the recipient): one row, quoted, with a header.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('#export-csv')]);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('"id","created_at","to","status","provider","segments","template","batch_id","body"');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"+14155550124","DELIVERED"');

    // Stats: totals and the uPlot charts over time.
    await go(page, 'stats');
    await expect.poll(() => page.textContent('[data-testid=stats-totals]').catch(() => ''), { timeout: 10_000 }).toMatch(/^2 messages · 2 delivered · 100% delivery rate/);
    expect(await page.locator('[data-testid=chart-volume] canvas').count()).toBe(1);
    expect(await page.locator('[data-testid=chart-rate] canvas').count()).toBe(1);
    // Per provider: one series each (the legend names it); 30 days take two requests of aliases.
    expect(await page.textContent('[data-testid=chart-provider-volume]')).toContain('simulator');
    expect(await page.locator('[data-testid=chart-provider-rate] canvas').count()).toBe(1);
    await page.selectOption('#stats-range', '30');
    await expect.poll(() => page.getAttribute('.charts', 'data-days'), { timeout: 10_000 }).toBe('30');
    expect(await page.locator('[data-testid=chart-provider-volume] .u-legend').textContent()).toContain('simulator');
    expect(await page.locator('#stats-page [role=alert]').count()).toBe(0);
    expect(await page.textContent('#by-provider')).toContain('simulator');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-stats.png'), fullPage: true });

    // A reload keeps the page (Herald serves the console for its routes) and the sign-in.
    await page.reload();
    await expect.poll(() => page.textContent('[data-testid=stats-totals]').catch(() => ''), { timeout: 10_000 }).toMatch(/^2 messages/);

    expect(loads).toHaveLength(2); // the one reload above, never another
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('reviews templates (with the change since the approved version), creates a key shown once and revokes it', async () => {
    // One new template and one second version of an approved template wait for review.
    const create = async (name: string, body: string) => {
      const created = expectNoErrors(await api(CREATE_TEMPLATE, { input: { name, category: 'NOTIFICATION', body } })).createTemplate;
      expect(expectNoErrors(await api(SUBMIT_TEMPLATE, { id: created.data.id })).submitTemplate.data.status).toBe('PENDING_REVIEW');
      return created.data.id as string;
    };
    const fresh = await create('order-shipped', 'Hi {{name}}, your order shipped.');
    const edited = await create('appointment-reminder', 'Hi {{name}}, see you tomorrow.');
    expect(expectNoErrors(await api(REVIEW_TEMPLATE, { id: edited, approve: true })).reviewTemplate.data.status).toBe('APPROVED');
    expect(expectNoErrors(await api(UPDATE_TEMPLATE, { id: edited, input: { body: 'Hi {{name}}, see you on Monday.' } })).updateTemplate.__typename).toBe('UpdateTemplateSuccess');
    expect(expectNoErrors(await api(SUBMIT_TEMPLATE, { id: edited })).submitTemplate.data.status).toBe('PENDING_REVIEW');

    const { page, pageErrors, foreign } = await watchedPage();
    await signIn(page);
    await go(page, 'templates');
    const item = (id: string) => page.locator(`#templates .template[data-id="${id}"]`);
    await item(edited).waitFor({ timeout: 10_000 });
    expect(await item(fresh).locator('.muted').allTextContents()).toContain('First version.');
    expect(await item(edited).locator('[data-testid=diff] del').allTextContents()).toEqual(['tomorrow.']);
    expect(await item(edited).locator('[data-testid=diff] ins').allTextContents()).toEqual(['on Monday.']);

    // Rejecting needs a reason; with one, the API sees it REJECTED with that reason.
    await item(edited).locator('button:text("Reject")').click();
    await expect.poll(() => item(edited).locator('[role=alert]').textContent(), { timeout: 5_000 }).toBe('Give a reason to reject.');
    await item(edited).locator('input').fill('Say which Monday');
    await item(edited).locator('button:text("Reject")').click();
    await item(edited).waitFor({ state: 'detached', timeout: 10_000 });
    const rejected = expectNoErrors(await api(`query($id: ID!) { template(id: $id) { status rejectionReason } }`, { id: edited })).template;
    expect(rejected).toEqual({ status: 'REJECTED', rejectionReason: 'Say which Monday' });

    await item(fresh).locator('button:text("Approve")').click();
    await item(fresh).waitFor({ state: 'detached', timeout: 10_000 });
    expect(expectNoErrors(await api(`query($id: ID!) { template(id: $id) { status } }`, { id: fresh })).template.status).toBe('APPROVED');
    expect(await page.textContent('#templates')).toContain('No template waits for review.');

    // The editor previews as one types (a sensitive word is named), saves a DRAFT and submits it.
    await page.fill('#template-editor input[name=name]', 'promo');
    await page.fill('#template-editor textarea[name=body]', 'Hi {{name}}, 1 segment of news');
    await expect.poll(() => page.textContent('#template-editor [data-testid=segments]').catch(() => ''), { timeout: 10_000 }).toBe('1 segment');
    expect(await page.textContent('#template-editor')).toContain('Variables: name');
    await page.click('#template-editor button:text("Submit for review")');
    await expect.poll(() => page.textContent('#template-editor [data-testid=editor-result]'), { timeout: 10_000 }).toBe('Submitted: PENDING_REVIEW');
    await expect.poll(() => page.locator('#templates .template').count(), { timeout: 10_000 }).toBe(1);

    // A new key is shown once; revoking it (after confirming) stops it at once.
    await go(page, 'keys');
    await page.fill('#create-key input[name=name]', 'ci-robot');
    await page.click('#create-key button[type=submit]');
    const secret = (await page.locator('[data-testid=new-secret]').textContent({ timeout: 10_000 }))!;
    expect(secret).toMatch(/^hk_/);
    expect(expectNoErrors(await graphqlCaller(`${base}/graphql`, secret)('{ viewer { apiKey { name } } }')).viewer.apiKey.name).toBe('ci-robot');
    const keyRow = page.locator('#keys tr', { hasText: 'ci-robot' });
    await keyRow.locator('button:text("Revoke")').click();
    await keyRow.locator('button:text("Confirm revoke")').click();
    await expect.poll(() => keyRow.locator('[data-testid=key-state]').textContent(), { timeout: 10_000 }).toMatch(/^revoked /);
    const refused = await graphqlCaller(`${base}/graphql`, secret)('{ viewer { apiKey { name } } }');
    expect(refused.errors?.length).toBeGreaterThan(0);
    // The key this tab uses offers no revoke button.
    expect(await page.locator('#keys tr', { hasText: 'this tab’s key' }).locator('button').count()).toBe(0);

    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('shows replies as threads with their opt-out state, replies from the page; providers; opt-outs added and removed; sender ids, a failed webhook delivery retried, verifications', async () => {
    const added = expectNoErrors(await api(`mutation { addSenderIdentity(value: "+14155550100", isDefault: true) { __typename ... on Error { code message } } }`));
    expect(added.addSenderIdentity.__typename).toBe('AddSenderIdentitySuccess');
    const reply = async (from: string, body: string) => {
      const r = expectNoErrors(await api(`mutation($from: String!, $body: String!) { simulateInboundMessage(from: $from, to: "+14155550100", body: $body) { __typename ... on Error { code message } } }`, { from, body }));
      expect(r.simulateInboundMessage.__typename).toBe('SimulateInboundMessageSuccess');
    };
    await reply('+14155550177', 'Is my order ready?');
    await reply('+14155550178', 'STOP');

    const { page, pageErrors, foreign } = await watchedPage();
    await signIn(page);
    await go(page, 'inbox');
    await page.locator('#threads button[data-phone="+14155550178"]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#threads button[data-phone="+14155550178"]')).toContain('opted out');
    expect(await page.textContent('#threads button[data-phone="+14155550177"]')).not.toContain('opted out');

    // A reply arriving while the page is open appears in the list without a reload.
    await reply('+14155550179', 'Hello from a new number');
    await page.locator('#threads button[data-phone="+14155550179"]').waitFor({ timeout: 10_000 });

    await page.click('#threads button[data-phone="+14155550177"]');
    await expect.poll(() => page.locator('[data-testid=conversation] li.them').allTextContents(), { timeout: 10_000 }).toEqual([expect.stringContaining('Is my order ready?')]);
    await page.fill('#reply textarea[name=body]', 'Yes, it ships today.');
    await page.click('#reply button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=reply-result]'), { timeout: 10_000 }).toMatch(/^Sent: /);
    await expect.poll(() => page.locator('[data-testid=conversation] li.us').allTextContents(), { timeout: 10_000 }).toEqual([expect.stringContaining('Yes, it ships today.')]);
    await expect.poll(() => page.textContent('[data-testid=conversation] li.us'), { timeout: 15_000 }).toContain('DELIVERED');
    const sentReply = expectNoErrors(await api(`{ conversation(phone: "+14155550177") { edges { direction node { ... on Message { body from } } } } }`)).conversation.edges;
    expect(sentReply[0]).toEqual({ direction: 'OUTBOUND', node: { body: 'Yes, it ships today.', from: '+14155550100' } });

    // The opted-out number: the page says so, and a reply is refused with its code.
    await page.click('#threads button[data-phone="+14155550178"]');
    await page.locator('[data-testid=opted-out]').waitFor({ timeout: 10_000 });
    await page.fill('#reply textarea[name=body]', 'Are you sure?');
    await page.click('#reply button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=reply-result]'), { timeout: 10_000 }).toMatch(/^[A-Z_]+: /);

    await go(page, 'providers');
    await page.locator('#providers tr[data-name=simulator]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#providers tr[data-name=simulator] [data-testid=circuit]')).toBe('CLOSED');

    // Opt-outs: the STOP reply is listed; one added by hand is refused a message, then removed.
    await go(page, 'optOuts');
    await page.locator('#opt-outs tr[data-phone="+14155550178"]').waitFor({ timeout: 10_000 });
    await page.fill('#add-opt-out input[name=phone]', '+1 415 555 0190');
    await page.click('#add-opt-out button[type=submit]');
    await page.locator('#opt-outs tr[data-phone="+14155550190"]').waitFor({ timeout: 10_000 });
    const refusedSend = expectNoErrors(await api(`mutation { sendMessage(input: { to: "+14155550190", body: "hi" }) { __typename ... on Error { code } } }`)).sendMessage;
    expect(refusedSend.__typename).not.toBe('SendMessageSuccess');
    await page.locator('#opt-outs tr[data-phone="+14155550190"] button').click();
    await page.locator('#opt-outs tr[data-phone="+14155550190"]').waitFor({ state: 'detached', timeout: 10_000 });
    await page.fill('#add-opt-out input[name=phone]', 'not a number');
    await page.click('#add-opt-out button[type=submit]');
    await expect.poll(() => page.textContent('section [role=alert]').catch(() => ''), { timeout: 10_000 }).toMatch(/^INVALID_PHONE_NUMBER: /);

    // Sender identities, webhooks and verifications list what the API has.
    await go(page, 'senders');
    await expect.poll(() => page.textContent('#senders tbody').catch(() => ''), { timeout: 10_000 }).toContain('+14155550100');

    // Webhooks: a delivery that failed (the receiver answered 500) is retried from its log.
    let receiverUp = false;
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => ((res.statusCode = receiverUp ? 204 : 500), res.end()));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = expectNoErrors(await api(`mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [MESSAGE_DELIVERED] }) {
      __typename ... on CreateWebhookEndpointSuccess { data { endpoint { id } } } ... on Error { code message } } }`,
    { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` })).createWebhookEndpoint;
    expect(hook.__typename).toBe('CreateWebhookEndpointSuccess');
    const hooked = expectNoErrors(await api(SEND, { input: { to: '+14155550181', body: 'Webhook me' } })).sendMessage;
    const deliveryStatus = async () => expectNoErrors(await api(`query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { node { status } } } }`, { id: hook.data.endpoint.id }))
      .webhookDeliveries.edges.map((e: { node: { status: string } }) => e.node.status);
    await expect.poll(deliveryStatus, { timeout: 15_000 }).toEqual(['FAILED']);
    expect(hooked.__typename).toBe('SendMessageSuccess');
    await go(page, 'webhooks');
    await page.locator(`#webhooks tr[data-id="${hook.data.endpoint.id}"] button[data-action=deliveries]`).click();
    const deliveryRow = page.locator('#deliveries tbody tr').first();
    await expect.poll(() => deliveryRow.locator('[data-testid=delivery-status]').textContent().catch(() => ''), { timeout: 10_000 }).toBe('FAILED');
    receiverUp = true;
    await deliveryRow.locator('button:text("Retry")').click();
    await expect.poll(() => deliveryRow.locator('[data-testid=delivery-status]').textContent(), { timeout: 10_000 }).toBe('SUCCEEDED');
    expect(await deliveryRow.locator('button').count()).toBe(0);
    expect(await deliveryStatus()).toEqual(['SUCCEEDED']);
    expect(expectNoErrors(await api(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { __typename } }`, { id: hook.data.endpoint.id })).deleteWebhookEndpoint.__typename).toBe('DeleteWebhookEndpointSuccess');
    await new Promise((resolve) => receiver.close(resolve));

    await go(page, 'verifications');
    await page.locator('#verifications').waitFor({ timeout: 10_000 });

    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('switches to Chinese (labels, numbers and dates per locale), remembers it, and fits 375 px; screenshots in both languages', async () => {
    const { page, pageErrors } = await watchedPage();
    await signIn(page);
    await page.locator('#messages tbody tr').first().waitFor({ timeout: 10_000 });
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-en.png'), fullPage: true });
    expect(await page.textContent('nav')).toContain('Send');

    await page.selectOption('#lang', 'zh');
    await expect.poll(() => page.textContent('nav a[data-page=send]'), { timeout: 5_000 }).toBe('发送');
    expect(await page.textContent('nav')).toContain('消息记录');
    expect(await page.textContent('#messages thead')).toContain('接收号码');
    expect(await page.locator('#messages tbody tr [data-status=DELIVERED]').first().textContent()).toBe('已送达');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    // The rows stayed (no reload, no remount losing the log) and their dates are in zh-CN form.
    expect(await page.locator('#messages tbody tr').first().locator('td').first().textContent()).toMatch(/^\d{4}\/\d{1,2}\/\d{1,2} /);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-zh.png'), fullPage: true });

    await go(page, 'stats');
    await expect.poll(() => page.textContent('[data-testid=stats-totals]').catch(() => ''), { timeout: 10_000 }).toMatch(/^\d+ 条消息 · 已送达 \d+ 条/);

    // Remembered across a reload.
    await page.reload();
    await expect.poll(() => page.textContent('nav a[data-page=send]').catch(() => ''), { timeout: 10_000 }).toBe('发送');

    // 375 px: nothing wider than the screen but the tables' own scroll areas; every nav link shows.
    await page.setViewportSize({ width: 375, height: 800 });
    await go(page, 'messages');
    await page.locator('#messages tbody tr').first().waitFor({ timeout: 10_000 });
    await page.waitForSelector('#live[data-state=on]', { timeout: 10_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    for (const link of await page.locator('nav a').all()) expect(await link.isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-zh-375.png'), fullPage: true });

    // Keyboard: Tab from the top reaches the navigation's links.
    await page.keyboard.press('Tab');
    const tags: string[] = [];
    for (let i = 0; i < 6; i++) {
      tags.push(await page.evaluate(() => `${document.activeElement?.tagName}:${document.activeElement?.textContent?.trim()}`));
      await page.keyboard.press('Tab');
    }
    expect(tags.some((x) => x === 'A:发送')).toBe(true);

    await page.selectOption('#lang', 'en');
    await expect.poll(() => page.textContent('nav a[data-page=send]'), { timeout: 5_000 }).toBe('Send');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('opens in Chinese for a browser set to Chinese', async () => {
    const { page, pageErrors } = await watchedPage();
    await page.addInitScript(() => {
      localStorage.removeItem('herald.lang');
      Object.defineProperty(navigator, 'language', { get: () => 'zh-CN' });
    });
    await page.goto(`${base}/dashboard`);
    await expect.poll(() => page.textContent('#sign-in h2').catch(() => ''), { timeout: 10_000 }).toBe('登录');
    expect(await page.textContent('#sign-in label')).toContain('API 密钥');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('pages through the log 25 at a time, filtered by batch, and signs out', async () => {
    const recipients = Array.from({ length: 30 }, (_, i) => ({ to: `+1415555${String(1000 + i)}` }));
    const bulk = expectNoErrors(await api(`mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename ... on SendMessagesSuccess { batchId accepted { id } } } }`,
      { input: { body: 'Batch for paging', recipients } })).sendMessages;
    expect(bulk.accepted).toHaveLength(30);

    const { page, pageErrors } = await watchedPage();
    await signIn(page);
    // Typed while the batch's deliveries re-render the log live: the field must keep its text.
    await page.locator('#message-filters input[name=batchId]').pressSequentially(bulk.batchId, { delay: 5 });
    expect(await page.inputValue('#message-filters input[name=batchId]')).toBe(bulk.batchId);
    await page.click('#message-filters button[type=submit]');
    const rows = page.locator('#messages tbody tr');
    // The unfiltered log has 25 rows on its first page too: wait for the batch's own.
    await expect.poll(async () => (await rows.allTextContents()).filter((text) => text.includes('Batch for paging')).length, { timeout: 10_000 }).toBe(25);
    expect(await rows.count()).toBe(25);
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    await page.click('.pager button:nth-of-type(2)'); // older
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(5);
    const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(new Set([...firstPage, ...secondPage]).size).toBe(30);
    expect(new Set([...firstPage, ...secondPage])).toEqual(new Set(bulk.accepted.map((m: { id: string }) => m.id)));
    expect(await page.isDisabled('.pager button:nth-of-type(2)')).toBe(true);
    await page.click('.pager button:nth-of-type(1)'); // newer
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id'))), { timeout: 10_000 }).toEqual(firstPage);
    expect(await page.isDisabled('.pager button:nth-of-type(1)')).toBe(true);

    await page.click('#sign-out');
    await page.locator('#sign-in').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBeNull();
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('charts by country over time; creates, edits, rotates and deletes a webhook endpoint (a bad URL refused beside its field); sets a budget that refuses a send, then removes it; imports prices (a broken line shown); shows the configuration', async () => {
    // Messages to three countries, delivered, so the country charts have (at least) three lines.
    for (const to of ['+442071838750', '+442071838751', '+61412345678', '+14155550140']) {
      expect(expectNoErrors(await api(SEND, { input: { to, body: 'Country chart' } })).sendMessage.__typename).toBe('SendMessageSuccess');
    }
    const countries = async () => expectNoErrors(await api(`{ messageStats(groupBy: COUNTRY) { groups { key delivered } } }`)).messageStats.groups
      .filter((g: { delivered: number }) => g.delivered > 0).map((g: { key: string }) => g.key).sort();
    await expect.poll(countries, { timeout: 15_000 }).toEqual(expect.arrayContaining(['AU', 'GB', 'US']));

    const { page, pageErrors, foreign } = await watchedPage();
    await signIn(page);
    // English, whatever an earlier journey left remembered (the Chinese browser's test stores zh).
    await page.selectOption('#lang', 'en');
    await go(page, 'stats');
    const countryVolume = page.locator('[data-testid=chart-country-volume]');
    await countryVolume.locator('canvas').waitFor({ timeout: 10_000 });
    // One line per country, named in the page's language, after the day; the UK (2) before Australia (1).
    const legend = await countryVolume.locator('.u-legend .u-series .u-label').allTextContents();
    expect(legend[0]).toBe('Day');
    expect(legend).toEqual(expect.arrayContaining(['United States', 'United Kingdom', 'Australia']));
    expect(legend.indexOf('United Kingdom')).toBeLessThan(legend.indexOf('Australia'));
    for (const chart of ['country-rate', 'country-median', 'provider-median']) expect(await page.locator(`[data-testid=chart-${chart}] canvas`).count(), chart).toBe(1);
    // The UK's delivery rate today is 100 %: the legend's value with the cursor on the last day
    // (hovered again on each look: a live redraw makes a new chart without the cursor).
    const ukRate = async () => {
      const over = page.locator('[data-testid=chart-country-rate] .u-over');
      const box = (await over.boundingBox())!;
      await over.hover({ position: { x: box.width - 1, y: box.height / 2 } });
      return page.locator('[data-testid=chart-country-rate] .u-legend .u-series', { hasText: 'United Kingdom' }).locator('.u-value').textContent();
    };
    await expect.poll(ukRate, { timeout: 10_000 }).toBe('100');
    expect(await page.textContent('#by-country')).toContain('United Kingdom');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-stats-countries.png'), fullPage: true });

    // Webhook endpoints: a URL the server refuses shows its code beside the URL field.
    await go(page, 'webhooks');
    await page.locator('#create-webhook').waitFor({ timeout: 10_000 });
    await page.fill('#create-webhook input[name=url]', 'ftp://example.com/hook');
    await page.click('#create-webhook button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=create-webhook-url-error]').catch(() => ''), { timeout: 10_000 }).toMatch(/^VALIDATION_FAILED: must be an http/);
    expect(await page.getAttribute('#create-webhook input[name=url]', 'aria-describedby')).toBe('create-webhook-url-error');
    // No event type chosen: the error is beside the event types.
    await page.fill('#create-webhook input[name=url]', 'http://127.0.0.1:9/console-hook');
    await page.uncheck('#create-webhook input[value=MESSAGE_STATUS_CHANGED]');
    await page.click('#create-webhook button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=create-webhook-eventTypes-error]').catch(() => ''), { timeout: 10_000 }).toMatch(/^VALIDATION_FAILED: /);
    expect(await page.locator('[data-testid=create-webhook-url-error]').count()).toBe(0);
    await page.check('#create-webhook input[value=MESSAGE_DELIVERED]');
    await page.fill('#create-webhook input[name=description]', 'from the console');
    await page.click('#create-webhook button[type=submit]');
    const firstSecret = (await page.locator('[data-testid=webhook-secret]').textContent({ timeout: 10_000 }))!;
    expect(firstSecret).toMatch(/^whsec_/);
    const endpoints = async () => expectNoErrors(await api('{ webhookEndpoints { id url eventTypes enabled description } }')).webhookEndpoints;
    const [created] = (await endpoints()).filter((e: { url: string }) => e.url === 'http://127.0.0.1:9/console-hook');
    expect(created).toMatchObject({ eventTypes: ['MESSAGE_DELIVERED'], enabled: true, description: 'from the console' });
    const row = page.locator(`#webhooks tr[data-id="${created.id}"]`);
    await row.waitFor({ timeout: 10_000 });

    // Edit: another URL and event, disabled; a bad URL is refused beside the field first.
    await row.locator('button[data-action=edit]').click();
    await page.fill('#edit-webhook input[name=url]', 'http://user:pw@127.0.0.1:9/x');
    await page.click('#edit-webhook button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=edit-webhook-url-error]').catch(() => ''), { timeout: 10_000 }).toMatch(/^VALIDATION_FAILED: must not contain a user name/);
    await page.fill('#edit-webhook input[name=url]', 'http://127.0.0.1:9/edited');
    await page.check('#edit-webhook input[value=MESSAGE_FAILED]');
    await page.uncheck('#edit-webhook input[name=enabled]');
    await page.click('#edit-webhook button[type=submit]');
    await page.locator('#edit-webhook').waitFor({ state: 'detached', timeout: 10_000 });
    await expect.poll(() => row.locator('[data-testid=endpoint-state]').textContent(), { timeout: 10_000 }).toBe('disabled');
    expect((await endpoints()).find((e: { id: string }) => e.id === created.id)).toMatchObject({
      url: 'http://127.0.0.1:9/edited', eventTypes: expect.arrayContaining(['MESSAGE_DELIVERED', 'MESSAGE_FAILED']), enabled: false,
    });

    // Rotate (after confirming): a new secret, shown once.
    await row.locator('button[data-action=rotate]').click();
    await row.locator('button:text("Confirm")').click();
    await expect.poll(() => page.textContent('[data-testid=webhook-secret]'), { timeout: 10_000 }).not.toBe(firstSecret);
    expect(await page.textContent('[data-testid=webhook-secret]')).toMatch(/^whsec_/);

    // Delete (after confirming; Cancel first keeps it).
    await row.locator('button[data-action=delete]').click();
    // The question takes the button's place and the keyboard's focus lands on Cancel.
    // (Preact runs the effect that moves it after the paint: wait for it, as a person would.)
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent), { timeout: 5_000 }).toBe('Cancel');
    await page.keyboard.press('Enter');
    expect(await row.locator('button[data-action=delete]').count()).toBe(1);
    await row.locator('button[data-action=delete]').click();
    await row.locator('button:text("Confirm")').click();
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    expect((await endpoints()).some((e: { id: string }) => e.id === created.id)).toBe(false);

    // Budgets: a bad limit is refused beside the field; a daily limit of 0 refuses a priced send.
    expect(expectNoErrors(await api(`mutation { setPrice(input: { provider: "simulator", country: "US", currency: "USD", pricePerSegment: "0.0079" }) { __typename } }`)).setPrice.__typename).toBe('SetPriceSuccess');
    await go(page, 'budgets');
    await page.locator('#set-budget').waitFor({ timeout: 10_000 });
    await page.fill('#set-budget input[name=limit]', '-5');
    await page.click('#set-budget button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=set-budget-limit-error]').catch(() => ''), { timeout: 10_000 }).toMatch(/^VALIDATION_FAILED: /);
    // By keyboard: Tab from the period to the limit, type, Enter submits.
    await page.fill('#set-budget input[name=limit]', '');
    await page.focus('#set-budget select[name=period]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('limit');
    await page.keyboard.type('0');
    await page.keyboard.press('Enter');
    const daily = page.locator('#budgets tr[data-period=DAILY]');
    await daily.waitFor({ timeout: 10_000 });
    expect(await daily.locator('[data-testid=budget-spent]').textContent()).toMatch(/\$0\.00 of \$0\.00/);
    expect(await page.locator('[data-testid=set-budget-limit-error]').count()).toBe(0);
    const budgets = expectNoErrors(await api('{ budgets { period limit { amount currency } resetsAt } }')).budgets;
    expect(budgets).toEqual([{ period: 'DAILY', limit: { amount: '0', currency: 'USD' }, resetsAt: expect.any(String) }]);

    await go(page, 'send');
    await page.fill('#send input[name=to]', '+14155550126');
    await page.fill('#send textarea[name=body]', 'Over budget');
    await page.click('#send button[type=submit]');
    await page.locator('#budget-exceeded').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#budget-exceeded')).toMatch(/^BUDGET_EXCEEDED: refused by the daily budget/);
    expect(await page.textContent('[data-testid=refusal-requested]')).toBe('$0.0079');
    expect(await page.textContent('[data-testid=refusal-spent]')).toMatch(/of \$0\.00$/);

    // Removed (after confirming), the same send is accepted.
    await page.click('#budget-exceeded a');
    await daily.waitFor({ timeout: 10_000 });
    await daily.locator('button:text("Remove")').click();
    await daily.locator('button:text("Confirm remove")').click();
    await daily.waitFor({ state: 'detached', timeout: 10_000 });
    expect(expectNoErrors(await api('{ budgets { period } }')).budgets).toEqual([]);
    await go(page, 'send');
    await page.fill('#send input[name=to]', '+14155550126');
    await page.fill('#send textarea[name=body]', 'Within budget');
    await page.click('#send button[type=submit]');
    await expect.poll(() => page.textContent('#send-result'), { timeout: 10_000 }).toMatch(/^Accepted: /);
    expect(await page.locator('#budget-exceeded').count()).toBe(0);

    // Prices: a broken CSV names its line and shows it, and imports nothing; a good one imports.
    await go(page, 'providers');
    const header = 'provider,country,prefix,currency,price,effective_from';
    await page.fill('#import-prices textarea[name=csv]', `${header}\nsimulator,GB,,USD,0.03,\nsimulator,AU,,USD,cheap,\n`);
    await page.click('#import-prices button[type=submit]');
    await expect.poll(() => page.textContent('#import-result').catch(() => ''), { timeout: 10_000 }).toBe('VALIDATION_FAILED: nothing was imported.');
    const issue = page.locator('#import-issues li[data-line="3"]');
    expect(await issue.textContent()).toMatch(/^Line 3, column price: /);
    expect(await issue.locator('[data-testid=issue-line]').textContent()).toBe('simulator,AU,,USD,cheap,');
    const gbPrices = async () => expectNoErrors(await api('{ prices(country: "GB") { pricePerSegment } }')).prices;
    expect(await gbPrices()).toEqual([]);
    await page.fill('#import-prices textarea[name=csv]', `${header}\nsimulator,GB,,USD,0.03,\nsimulator,AU,,USD,0.05,\n`);
    await page.click('#import-prices button[type=submit]');
    await expect.poll(() => page.textContent('#import-result'), { timeout: 10_000 }).toBe('Imported: 2 new, 0 replaced, 0 removed.');
    expect(await gbPrices()).toEqual([{ pricePerSegment: '0.03' }]);
    await expect.poll(() => page.textContent('#prices'), { timeout: 10_000 }).toContain('0.05 USD');
    // The run-time configuration, read-only: the simulator's definition and the routing document.
    await page.locator('#definitions tr[data-name=simulator]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('[data-testid=config-version]')).toMatch(/^Version \d+/);
    expect(JSON.parse((await page.textContent('#routing-document'))!)).toEqual(expect.any(Object));

    // The new pages in Chinese and at 375 px: their words, and nothing wider than the screen.
    await page.selectOption('#lang', 'zh');
    await page.setViewportSize({ width: 375, height: 800 });
    for (const [name, selector, word] of [['budgets', '#set-budget', '设置预算'], ['webhooks', '#create-webhook', '添加端点'], ['providers', '#routing-document', '路由文档'],
      ['stats', '[data-testid=chart-country-volume] canvas', '按国家/地区的趋势']] as const) {
      await go(page, name);
      await page.locator(selector).first().waitFor({ state: 'attached', timeout: 10_000 });
      expect(await page.textContent('main'), name).toContain(word);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), name).toBeLessThanOrEqual(375);
    }
    expect(await page.locator('[data-testid=chart-country-volume] .u-legend').textContent()).toContain('英国');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-zh-375-stats.png'), fullPage: true });
    await page.selectOption('#lang', 'en');

    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('serves only the built files, with their content types, and the page for its routes', async () => {
    const get = (p: string) => fetch(`${base}${p}`);
    const html = await get('/dashboard');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
    const page = await get('/dashboard/templates');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect((await get('/dashboard/main.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('/dashboard/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    for (const probe of ['/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/..%2fpackage.json', '/dashboard/nope.js', '/dashboard//etc/passwd', '/dashboard/Templates', '/dashboard/a/b']) {
      expect((await get(probe)).status, probe).toBe(404);
    }
    expect((await fetch(`${base}/dashboard`, { method: 'POST' })).status).toBe(405);
  });
});
