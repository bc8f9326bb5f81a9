// Each HTTP provider end to end, as a user runs it: Herald configured with the provider's
// variables pointed at its local fake; a message sent through GraphQL reaches the fake in the
// vendor's format, the vendor's callback (signed or token-bearing) comes back through
// /webhooks/<provider>/status and makes it DELIVERED; a reply comes in through /inbound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawId, send, startDeliveryHerald, waitFor, waitForStatus } from '../support/delivery.js';
import type { SeededAccount, TestHerald } from '../support/herald.js';
import { mutate, approvedTemplate } from '../support/templates.js';
import { startAliyunFake, type AliyunFake } from '../fakes/aliyun-fake.js';
import { startTencentFake, type TencentFake } from '../fakes/tencent-fake.js';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.js';
import { addIdentity, inboundMessages } from './inbound-support.js';
import { check, started } from './verification-helpers.js';

const ALIYUN_TOKEN = 'aliyun-callback-token-0123456789';
const TENCENT_TOKEN = 'tencent-callback-token-0123456789';
const MAP = /* GraphQL */ `
  mutation Map($id: ID!, $provider: String!, $code: String, $params: [String!]) {
    setTemplateProviderMapping(id: $id, provider: $provider, code: $code, params: $params) { __typename }
  }
`;

let t: TestHerald;
let twilio: TwilioFake;
let aliyun: AliyunFake;
let tencent: TencentFake;

beforeAll(async () => {
  [twilio, aliyun, tencent] = await Promise.all([startTwilioFake({ reportDelayMs: 5 }), startAliyunFake({ reportDelayMs: 5 }), startTencentFake({ reportDelayMs: 5 })]);
  t = await startDeliveryHerald({
    providers: ['aliyun', 'tencent', 'twilio'],
    // China goes to Aliyun then Tencent; everything else to Twilio.
    routes: JSON.stringify({ routes: [{ match: { countries: ['CN'] }, providers: ['aliyun', 'tencent'] }, { providers: ['twilio'] }] }),
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+15005550006', messagingServiceSid: undefined, apiBaseUrl: twilio.url },
    aliyun: { accessKeyId: aliyun.accessKeyId, accessKeySecret: aliyun.accessKeySecret, signName: 'HERALD', endpoint: aliyun.url, callbackToken: ALIYUN_TOKEN },
    tencent: {
      secretId: tencent.secretId,
      secretKey: tencent.secretKey,
      smsSdkAppId: tencent.smsSdkAppId,
      signName: 'HERALD',
      region: 'ap-guangzhou',
      endpoint: tencent.url,
      callbackToken: TENCENT_TOKEN,
    },
  });
  const base = t.herald.url;
  aliyun.setReportUrl(`${base}/webhooks/aliyun/status?token=${ALIYUN_TOKEN}`);
  aliyun.setUpUrl(`${base}/webhooks/aliyun/inbound?token=${ALIYUN_TOKEN}`);
  tencent.setCallbackUrls({ status: `${base}/webhooks/tencent/status?token=${TENCENT_TOKEN}`, inbound: `${base}/webhooks/tencent/inbound?token=${TENCENT_TOKEN}` });
});
afterAll(async () => {
  await t.stop();
  await Promise.all([twilio.close(), aliyun.close(), tencent.close()]);
});

async function otpTemplate(account: SeededAccount, mappings: { provider: string; code: string; params?: string[] }[]): Promise<string> {
  const id = await approvedTemplate(account, 'Your code is {{code}}, valid {{minutes}} minutes', 'OTP');
  for (const m of mappings) expect((await mutate(account.admin, MAP, { id, ...m })).__typename).toBe('SetTemplateProviderMappingSuccess');
  return id;
}

describe('Aliyun through Herald', () => {
  it('sends a mapped template with its variables, and its SmsReport push makes it DELIVERED', async () => {
    const account = await t.seedAccount();
    const templateId = await otpTemplate(account, [{ provider: 'aliyun', code: 'SMS_154950909' }]);
    const message = await send(account.sender, { to: '+8613800138000', templateId, variables: { code: '482913', minutes: '5' }, body: undefined });
    const done = await waitForStatus(account.sender, message.id, 'DELIVERED', 10_000);
    expect(done).toMatchObject({ provider: 'aliyun' });
    const submitted = aliyun.sent.find((m) => m.outId === rawId(message.id))!;
    expect(submitted).toMatchObject({ phoneNumber: '13800138000', signName: 'HERALD', templateCode: 'SMS_154950909', templateParam: { code: '482913', minutes: '5' } });
    expect(done.providerMessageId).toBe(submitted.bizId);
    expect(done.events.at(-1)).toMatchObject({ source: 'PROVIDER', provider: 'aliyun', status: 'DELIVERED' });
    // Aliyun wants its own acknowledgement body.
    expect(aliyun.pushes.find((p) => p.kind === 'SmsReport' && p.body.includes(submitted.bizId))).toMatchObject({ httpStatus: 200 });
  });

  it('receives a reply for the account whose sender identity is the sign name; refuses a wrong token', async () => {
    const account = await t.seedAccount();
    await addIdentity(account.admin, 'HERALD', { provider: 'aliyun' });
    const push = await aliyun.sendInbound({ phoneNumber: '13800138001', content: '收到，谢谢', signName: 'HERALD' });
    expect(push.httpStatus).toBe(200);
    expect(JSON.parse(push.responseBody!)).toMatchObject({ code: 0 });
    const [reply] = await waitFor(async () => {
      const list = await inboundMessages(account.sender);
      return list.length ? list : undefined;
    });
    expect(reply).toMatchObject({ from: '+8613800138001', to: 'HERALD', body: '收到，谢谢', provider: 'aliyun' });

    const forged = await fetch(`${t.herald.url}/webhooks/aliyun/inbound?token=not-the-token-0123456789`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ phone_number: '13800138001', content: 'forged', sign_name: 'HERALD', send_time: '2026-11-25 10:00:00', dest_code: '1', sequence_id: 9 }]),
    });
    expect(forged.status).toBe(401);
    expect(await inboundMessages(account.sender)).toHaveLength(1);
  });
});

describe('verification codes through a template-only provider', () => {
  it('sends the real code to Aliyun as a template variable while Herald stores it masked', async () => {
    const account = await t.seedAccount();
    const templateId = await otpTemplate(account, [{ provider: 'aliyun', code: 'SMS_OTP_1' }]);
    const verification = await started(account.sender, { to: '+8613800138004', templateId });
    const submitted = await waitFor(() => aliyun.sent.find((m) => m.outId === rawId(verification.message.id)));
    const code = submitted.templateParam.code!;
    expect(code).toMatch(/^\d{6}$/);
    expect(submitted).toMatchObject({ templateCode: 'SMS_OTP_1', templateParam: { minutes: expect.any(String) } });
    const row = await t.database.prisma.message.findUniqueOrThrow({ where: { id: rawId(verification.message.id) } });
    expect(JSON.stringify(row.variables)).not.toContain(code);
    expect(row.body).not.toContain(code);
    expect((await check(account.sender, '+8613800138004', code)).data.status).toBe('APPROVED');
  });
});

describe('Tencent through Herald', () => {
  it('fails over from Aliyun to Tencent for a template only Tencent has, with positional parameters', async () => {
    const account = await t.seedAccount();
    const templateId = await otpTemplate(account, [{ provider: 'tencent', code: '1110', params: ['minutes', 'code'] }]);
    const message = await send(account.sender, { to: '+8613800138002', templateId, variables: { code: '775511', minutes: '10' }, body: undefined });
    const done = await waitForStatus(account.sender, message.id, 'DELIVERED', 10_000);
    expect(done.provider).toBe('tencent');
    const submitted = tencent.sent.find((m) => m.sessionContext === rawId(message.id))!;
    expect(submitted).toMatchObject({ phoneNumber: '+8613800138002', templateId: '1110', templateParams: ['10', '775511'], signName: 'HERALD' });
    expect(done.providerMessageId).toBe(submitted.serialNo);
    expect(aliyun.sent.some((m) => m.outId === rawId(message.id))).toBe(false);
  });

  it('a template with no mapping at either Chinese provider is refused with a reason, not sent', async () => {
    const account = await t.seedAccount();
    const templateId = await otpTemplate(account, []);
    const message = await send(account.sender, { to: '+8613800138003', templateId, variables: { code: '1', minutes: '1' }, body: undefined });
    const done = await waitForStatus(account.sender, message.id, 'REJECTED');
    expect(done.errorMessage).toMatch(/setTemplateProviderMapping/);
    expect(done.events.at(-1)).toMatchObject({ rawStatus: 'NO_ROUTE' });
  });
});

describe('Twilio through Herald', () => {
  it('sends a plain message, verifies the signed StatusCallback, and receives a signed reply', async () => {
    const account = await t.seedAccount();
    await addIdentity(account.admin, '+15005550006', { provider: 'twilio' });
    const message = await send(account.sender, { to: '+14155550123', body: 'Your table is ready' });
    const done = await waitForStatus(account.sender, message.id, 'DELIVERED', 10_000);
    expect(done).toMatchObject({ provider: 'twilio' });
    expect(twilio.messages.find((m) => m.body === 'Your table is ready')).toMatchObject({ to: '+14155550123', from: '+15005550006' });

    const reply = await twilio.sendInbound(`${t.herald.url}/webhooks/twilio/inbound`, { From: '+14155550123', To: '+15005550006', Body: 'On my way' });
    expect(reply).toMatchObject({ status: 200, contentType: expect.stringContaining('text/xml') });
    const [stored] = await waitFor(async () => {
      const list = await inboundMessages(account.sender);
      return list.length ? list : undefined;
    });
    expect(stored).toMatchObject({ from: '+14155550123', to: '+15005550006', body: 'On my way', provider: 'twilio', inReplyTo: { body: 'Your table is ready' } });
  });
});
