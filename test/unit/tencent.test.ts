import { Agent, createServer } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import sdkSignExport from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-sms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReport } from '../../src/domain/status-machine.js';
import { TencentProvider, type TencentOptions } from '../../src/providers/tencent/tencent.js';
import { signTc3 } from '../../src/providers/tencent/tencent-signature.js';
import { classifyTencentCode, tencentErrorCodes } from '../../src/providers/tencent/tencent-status.js';
import { providerErrorCodes, WebhookPayloadError, type OutboundMessage, type SmsProvider, type WebhookRequest } from '../../src/providers/types.js';
import { startTencentFake, type TencentFake } from '../fakes/tencent-fake.js';
import { providerContract } from './provider-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

// CommonJS interop: Node hands over module.exports ({ default: Sign }), vitest may hand over Sign.
type SdkSignClass = typeof sdkSignExport.default;
const SdkSign: SdkSignClass = 'sign3' in sdkSignExport ? (sdkSignExport as unknown as SdkSignClass) : sdkSignExport.default;

const TOKEN = 'tencent-callback-token-0123456789';
let sequence = 0;

function outbound(to: string, patch: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    id: `msg_${++sequence}`,
    to,
    body: 'Your code is 1234, valid for 5 minutes',
    segments: 1,
    encoding: 'GSM7',
    template: { name: 'otp', variables: { minutes: '5', code: '1234' }, providerTemplate: { code: '1110', params: ['code', 'minutes'] } },
    ...patch,
  };
}

function tencentFor(fake: TencentFake, patch: Partial<TencentOptions> = {}): TencentProvider {
  return new TencentProvider({
    secretId: fake.secretId,
    secretKey: fake.secretKey,
    smsSdkAppId: fake.smsSdkAppId,
    signName: 'Herald',
    region: 'ap-guangzhou',
    endpoint: fake.url,
    callbackToken: TOKEN,
    timeoutMs: 2000,
    ...patch,
  });
}

const webhook = (body: unknown, url = `https://herald.example/webhooks/tencent/status?token=${TOKEN}`): WebhookRequest => ({
  path: url.includes('/inbound') ? '/webhooks/tencent/inbound' : '/webhooks/tencent/status',
  headers: { 'content-type': 'application/json' },
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  url,
  receivedAt: new Date(),
});

providerContract('tencent', async () => {
  const receiver = await startWebhookReceiver();
  const fake = await startTencentFake({ statusCallbackUrl: `${receiver.url}/webhooks/tencent/status?token=${TOKEN}`, reportDelayMs: 1 });
  return {
    provider: tencentFor(fake),
    acceptedMessage: outbound('+8613800138000'),
    statusWebhookFor: () => receiver.next(),
    webhookAuth: 'url-token',
    dispose: async () => {
      await fake.close();
      await receiver.close();
    },
  };
});

describe('tencent provider', () => {
  let fake: TencentFake;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
    fake = await startTencentFake({ reportDelayMs: 1 });
  });
  afterEach(async () => {
    await fake.close();
    await receiver.close();
  });

  it('is template-only and has no lookup (the pull API lists only messages with a receipt)', () => {
    const tencent = tencentFor(fake);
    expect(tencent.templateOnly).toBe(true);
    expect((tencent as SmsProvider).lookup).toBeUndefined();
  });

  describe('send', () => {
    it('posts a signed SendSms with the template, its parameters in Tencent order and our id as SessionContext', async () => {
      const message = outbound('+8613800138000');
      const result = await tencentFor(fake).send(message);
      expect(result).toEqual({ kind: 'accepted', providerMessageId: fake.sent[0].serialNo, rawStatus: 'Ok' });
      expect(fake.calls).toHaveLength(1);
      const [call] = fake.calls;
      expect(call.errorCode).toBeUndefined();
      expect(call.body).toEqual({
        PhoneNumberSet: ['+8613800138000'],
        SmsSdkAppId: fake.smsSdkAppId,
        SignName: 'Herald',
        TemplateId: '1110',
        TemplateParamSet: ['1234', '5'],
        SessionContext: message.id,
      });
      expect(call.headers).toMatchObject({
        'x-tc-action': 'SendSms',
        'x-tc-version': '2021-01-11',
        'x-tc-region': 'ap-guangzhou',
        'x-tc-timestamp': expect.stringMatching(/^\d{10}$/),
        'content-type': 'application/json; charset=utf-8',
        host: new URL(fake.url).host,
      });
      expect(call.headers.authorization).toMatch(
        new RegExp(`^TC3-HMAC-SHA256 Credential=${fake.secretId}/\\d{4}-\\d\\d-\\d\\d/sms/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$`),
      );
    });

    it('sends under message.from as the signature name when given', async () => {
      await tencentFor(fake).send(outbound('+8613800138000', { from: '腾讯云' }));
      expect(fake.sent[0].signName).toBe('腾讯云');
    });

    it('refuses, without calling Tencent, a message with no Tencent template or a missing parameter', async () => {
      const tencent = tencentFor(fake);
      expect(await tencent.send(outbound('+8613800138000', { template: undefined }))).toMatchObject({ kind: 'rejected', errorCode: 'CONTENT_REJECTED' });
      const unmapped = outbound('+8613800138000');
      unmapped.template = { name: 'otp', variables: { code: '1' } };
      expect(await tencent.send(unmapped)).toMatchObject({ kind: 'rejected', errorCode: 'CONTENT_REJECTED' });
      const missing = outbound('+8613800138000');
      missing.template = { name: 'otp', variables: { code: '1' }, providerTemplate: { code: '1110', params: ['code', 'minutes'] } };
      expect(await tencent.send(missing)).toMatchObject({ kind: 'rejected', errorCode: 'CONTENT_REJECTED', message: expect.stringContaining('minutes') });
      expect(fake.calls).toHaveLength(0);
    });

    it('sends an empty parameter set for a template without parameters', async () => {
      const message = outbound('+8613800138000');
      message.template = { name: 'hello', variables: {}, providerTemplate: { code: '2220' } };
      expect(await tencentFor(fake).send(message)).toMatchObject({ kind: 'accepted' });
      expect(fake.sent[0]).toMatchObject({ templateId: '2220', templateParams: [] });
    });
  });

  describe('error mapping', () => {
    it.each([
      ['+8613800130001', 'rejected', 'INVALID_NUMBER', 'InvalidParameterValue.IncorrectPhoneNumber'],
      ['+8613800130002', 'rejected', 'BLOCKED', 'FailedOperation.PhoneNumberInBlacklist'],
      ['+8613800130003', 'retryable', 'THROTTLED', 'LimitExceeded.PhoneNumberThirtySecondLimit'],
      ['+8613800130004', 'retryable', 'ACCOUNT_ERROR', 'FailedOperation.InsufficientBalanceInSmsPackage'],
      ['+8613800130005', 'rejected', 'CONTENT_REJECTED', 'FailedOperation.ContainSensitiveWord'],
      ['+8613800130006', 'rejected', 'CONTENT_REJECTED', 'FailedOperation.TemplateIncorrectOrUnapproved'],
      ['8613800138000', 'rejected', 'INVALID_NUMBER', 'InvalidParameterValue.IncorrectPhoneNumber'],
    ])('per-number answer for %s → %s %s (%s)', async (to, kind, errorCode, rawCode) => {
      const result = await tencentFor(fake).send(outbound(to));
      expect(result).toMatchObject({ kind, errorCode, rawCode });
      expect(result).not.toHaveProperty('maybeAccepted');
    });

    it('says how long to wait after the thirty-second per-number limit', async () => {
      expect(await tencentFor(fake).send(outbound('+8613800130003'))).toMatchObject({ retryAfterMs: 30_000 });
    });

    it.each([
      ['FailedOperation.SignatureIncorrectOrUnapproved', 'rejected', 'CONTENT_REJECTED'],
      ['UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber', 'rejected', 'INVALID_NUMBER'],
      ['LimitExceeded.PhoneNumberDailyLimit', 'retryable', 'THROTTLED'],
      ['UnauthorizedOperation.SerivceSuspendDueToArrears', 'retryable', 'ACCOUNT_ERROR'],
      ['UnsupportedOperation.UnsuportedRegion', 'retryable', 'BLOCKED'],
      ['FailedOperation.SomethingNew', 'retryable', 'UNKNOWN'],
    ])('per-number code %s → %s %s', async (code, kind, errorCode) => {
      fake.failNumber('+8613800138000', code);
      expect(await tencentFor(fake).send(outbound('+8613800138000'))).toMatchObject({ kind, errorCode, rawCode: code, message: expect.stringContaining(code) });
    });

    it.each([
      ['RequestLimitExceeded', 'THROTTLED'],
      ['InternalError.Timeout', 'PROVIDER_ERROR'],
      ['InternalError.BrandNew', 'PROVIDER_ERROR'],
      ['AuthFailure.UnauthorizedOperation', 'ACCOUNT_ERROR'],
      ['UnauthorizedOperation.SmsSdkAppIdVerifyFail', 'ACCOUNT_ERROR'],
    ])('top-level Response.Error %s → retryable %s, certainly not accepted', async (code, errorCode) => {
      fake.setApiError({ code, message: 'from the fake' });
      const result = await tencentFor(fake).send(outbound('+8613800138000'));
      expect(result).toEqual({ kind: 'retryable', errorCode, rawCode: code, message: `${code}: from the fake` });
    });

    it('maps a wrong SmsSdkAppId, as the fake checks it, to ACCOUNT_ERROR', async () => {
      expect(await tencentFor(fake, { smsSdkAppId: '1400000000' }).send(outbound('+8613800138000'))).toMatchObject({
        kind: 'retryable',
        errorCode: 'ACCOUNT_ERROR',
        rawCode: 'UnauthorizedOperation.SmsSdkAppIdVerifyFail',
      });
    });

    it('has one table with Herald codes only, and family fallbacks for unlisted codes', () => {
      for (const [code, meaning] of Object.entries(tencentErrorCodes)) {
        expect(providerErrorCodes, code).toContain(meaning.errorCode);
        expect(classifyTencentCode(code)).toBe(meaning);
      }
      expect(classifyTencentCode('AuthFailure.Whatever')).toMatchObject({ kind: 'retryable', errorCode: 'ACCOUNT_ERROR' });
      expect(classifyTencentCode('LimitExceeded.Whatever')).toMatchObject({ kind: 'retryable', errorCode: 'THROTTLED' });
      expect(classifyTencentCode('Nonsense')).toEqual({ kind: 'retryable', errorCode: 'UNKNOWN' });
    });
  });

  describe('transport failures', () => {
    it('answers a hanging Tencent with a retryable TIMEOUT that may have been accepted', async () => {
      fake.setMode('hang');
      const started = Date.now();
      const result = await tencentFor(fake, { timeoutMs: 150 }).send(outbound('+8613800138000'));
      expect(result).toMatchObject({ kind: 'retryable', errorCode: 'TIMEOUT', maybeAccepted: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(fake.calls).toHaveLength(1);
    });

    it('treats a connection reset after the request as possibly accepted', async () => {
      fake.setMode('reset');
      expect(await tencentFor(fake).send(outbound('+8613800138000'))).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', maybeAccepted: true });
    });

    it('treats an unreadable 200 answer as possibly accepted', async () => {
      fake.setMode('malformed');
      expect(await tencentFor(fake).send(outbound('+8613800138000'))).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', maybeAccepted: true });
    });

    it('answers 503 with a retryable PROVIDER_ERROR that was certainly not accepted', async () => {
      fake.setMode('503');
      const result = await tencentFor(fake).send(outbound('+8613800138000'));
      expect(result).toEqual({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'HTTP 503', message: 'Tencent answered HTTP 503' });
    });

    it('answers a refused connection with a retryable PROVIDER_ERROR that was certainly not accepted', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const result = await tencentFor(fake, { endpoint: `http://127.0.0.1:${port}` }).send(outbound('+8613800138000'));
      expect(result).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'ECONNREFUSED' });
      expect(result).not.toHaveProperty('maybeAccepted');
    });

    it('takes Retry-After from a 429 answer', async () => {
      const fetch429: typeof fetch = async () => new Response('slow down', { status: 429, headers: { 'retry-after': '3' } });
      expect(await tencentFor(fake, { fetch: fetch429 }).send(outbound('+8613800138000'))).toMatchObject({
        kind: 'retryable',
        errorCode: 'THROTTLED',
        retryAfterMs: 3000,
      });
    });
  });

  describe('TC3-HMAC-SHA256 signature', () => {
    it('reproduces the published example (Signature v3, CVM DescribeInstances, timestamp 1551113065)', () => {
      // https://cloud.tencent.com/document/api/306/57449 and every product's "Signature v3" page
      // (e.g. https://www.tencentcloud.com/document/product/1154/48911): payload hash 35e9c5b0…,
      // canonical request hash 5ffe6a04…, signature 72e494ea….
      const signed = signTc3({
        secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
        secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
        service: 'cvm',
        host: 'cvm.tencentcloudapi.com',
        contentType: 'application/json; charset=utf-8',
        payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
        timestamp: 1551113065,
      });
      expect(signed.canonicalRequest).toBe(
        'POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
      );
      expect(signed.stringToSign).toBe('TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
      expect(signed.authorization).toBe(
        'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
      );
    });

    it('signs exactly as the official SDK signer does (tencentcloud-sdk-nodejs-common sign3)', () => {
      const payload = Buffer.from(JSON.stringify({ PhoneNumberSet: ['+8613800138000'], SignName: '腾讯云', TemplateParamSet: ['1234'] }));
      const ours = signTc3({ secretId: 'AKIDexample', secretKey: 'secret', service: 'sms', host: 'sms.tencentcloudapi.com', contentType: 'application/json; charset=utf-8', payload, timestamp: 1_700_000_000 });
      const sdk = SdkSign.sign3({
        method: 'POST',
        url: 'https://sms.tencentcloudapi.com/',
        payload,
        timestamp: 1_700_000_000,
        service: 'sms',
        secretId: 'AKIDexample',
        secretKey: 'secret',
        multipart: false,
        boundary: '', // multipart only
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
      });
      expect(ours.authorization).toBe(sdk);
    });

    describe('the official SDK client against the fake', () => {
      // The SDK derives the service from the endpoint's first label and signs its hostname, so it
      // talks to "sms.tencentcloudapi.com:<port>", which this agent resolves to the fake.
      const localLookup: LookupFunction = (_hostname, options, callback) => {
        if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      };
      const sdkClient = (secretKey: string) =>
        new tencentcloud.sms.v20210111.Client({
          credential: { secretId: fake.secretId, secretKey },
          region: 'ap-guangzhou',
          profile: { httpProfile: { endpoint: `sms.tencentcloudapi.com:${new URL(fake.url).port}`, protocol: 'http://', agent: new Agent({ lookup: localLookup }) } },
        });

      it('passes the fake verification, as Herald does, and sends', async () => {
        const answer = await sdkClient(fake.secretKey).SendSms({
          PhoneNumberSet: ['+8613800138000'],
          SmsSdkAppId: fake.smsSdkAppId,
          SignName: 'Herald',
          TemplateId: '1110',
          TemplateParamSet: ['1234'],
          SessionContext: 'sdk',
        });
        expect(fake.calls[0].errorCode).toBeUndefined();
        expect(answer.SendStatusSet?.[0]).toMatchObject({ Code: 'Ok', SessionContext: 'sdk', SerialNo: fake.sent[0].serialNo });
      });

      it('is refused by the fake with AuthFailure.SignatureFailure when its key is wrong', async () => {
        await expect(
          sdkClient('wrong-key').SendSms({ PhoneNumberSet: ['+8613800138000'], SmsSdkAppId: fake.smsSdkAppId, TemplateId: '1110' }),
        ).rejects.toMatchObject({ code: 'AuthFailure.SignatureFailure' });
      });
    });

    it('is refused by the fake when the key, the SecretId or the clock is wrong', async () => {
      const send = (patch: Partial<TencentOptions>) => tencentFor(fake, patch).send(outbound('+8613800138000'));
      expect(await send({ secretKey: 'not-the-key' })).toMatchObject({ kind: 'retryable', errorCode: 'ACCOUNT_ERROR', rawCode: 'AuthFailure.SignatureFailure' });
      expect(await send({ secretId: 'AKIDunknown' })).toMatchObject({ kind: 'retryable', errorCode: 'ACCOUNT_ERROR', rawCode: 'AuthFailure.SecretIdNotFound' });
      const tenMinutesAgo = () => new Date(Date.now() - 600_000);
      expect(await send({ now: tenMinutesAgo })).toMatchObject({ kind: 'retryable', errorCode: 'ACCOUNT_ERROR', rawCode: 'AuthFailure.SignatureExpire' });
      const fourMinutesAgo = () => new Date(Date.now() - 240_000);
      expect(await send({ now: fourMinutesAgo })).toMatchObject({ kind: 'accepted' });
      expect(fake.sent).toHaveLength(1);
    });

    it('makes the fake refuse a tampered body and a missing or forged Authorization', async () => {
      await tencentFor(fake).send(outbound('+8613800138000'));
      const { headers, rawBody } = fake.calls[0];
      const replay = (patch: Record<string, string | undefined>, body: Buffer = rawBody) =>
        fetch(fake.url, {
          method: 'POST',
          headers: Object.fromEntries(
            Object.entries({ ...pick(headers, 'authorization', 'content-type', 'x-tc-action', 'x-tc-version', 'x-tc-region', 'x-tc-timestamp'), ...patch }).filter(
              (entry): entry is [string, string] => entry[1] !== undefined,
            ),
          ),
          body: new Uint8Array(body),
        }).then((r) => r.json() as Promise<{ Response: { Error?: { Code: string } } }>);

      const tampered = Buffer.from(rawBody.toString().replace('1234', '9999'));
      expect((await replay({}, tampered)).Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
      expect((await replay({ authorization: undefined })).Response.Error?.Code).toBe('AuthFailure.InvalidAuthorization');
      const forged = headers.authorization!.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === 'a' ? 'b' : 'a'}`);
      expect((await replay({ authorization: forged })).Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
      expect((await replay({ 'content-type': 'application/json' })).Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
      // The untouched replay still passes: the refusals above are about the changes.
      expect((await replay({})).Response.Error).toBeUndefined();
    });
  });

  describe('status callbacks', () => {
    it('parses the documented example', () => {
      const reports = tencentFor(fake).parseStatusReport(
        webhook([
          {
            user_receive_time: '2015-10-17 08:03:04',
            nationcode: '86',
            mobile: '13xxxxxxxxx',
            report_status: 'SUCCESS',
            errmsg: 'DELIVRD',
            description: '用户短信送达成功',
            sid: 'xxxxxxx',
          },
        ]),
      );
      expect(reports).toEqual([{ providerMessageId: 'xxxxxxx', status: 'DELIVERED', rawStatus: 'SUCCESS', occurredAt: new Date('2015-10-17T00:03:04Z') }]);
    });

    it.each([
      ['SUCCESS', 'DELIVRD', { status: 'DELIVERED' }],
      ['FAIL', '002', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE', rawErrorCode: '002' }],
      ['FAIL', '-106', { status: 'UNDELIVERED', errorCode: 'CONTENT_REJECTED', rawErrorCode: '-106' }],
      ['FAIL', 'EXPIRED', { status: 'EXPIRED', errorCode: 'EXPIRED', rawErrorCode: 'EXPIRED' }],
      ['FAIL', 'MK:0001', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE', rawErrorCode: 'MK:0001' }],
    ])('maps report_status %s with errmsg %s', (reportStatus, errmsg, expected) => {
      const [report] = tencentFor(fake).parseStatusReport(webhook([{ report_status: reportStatus, errmsg, sid: 's1', nationcode: '86', mobile: '13800138000' }]));
      expect(report).toEqual({ providerMessageId: 's1', rawStatus: reportStatus, ...expected });
      expect(applyReport('SENT', report).outcome).toBe('advanced');
    });

    it('takes our reference from ext (SessionContext echoed, where Tencent enabled it) and reads batches', () => {
      const reports = tencentFor(fake).parseStatusReport(
        webhook([
          { report_status: 'SUCCESS', errmsg: 'DELIVRD', sid: 's1', ext: 'msg_a' },
          { report_status: 'FAIL', errmsg: '002', sid: 's2', ext: '' },
        ]),
      );
      expect(reports.map((r) => [r.providerMessageId, r.reference, r.status])).toEqual([
        ['s1', 'msg_a', 'DELIVERED'],
        ['s2', undefined, 'UNDELIVERED'],
      ]);
    });

    it.each([
      ['not json', 'not json{'],
      ['an object', { report_status: 'SUCCESS', sid: 's1' }],
      ['an empty array', []],
      ['a report without sid', [{ report_status: 'SUCCESS', errmsg: 'DELIVRD' }]],
      ['an undocumented status word', [{ report_status: 'DELIVERED', sid: 's1' }]],
    ])('refuses %s with WebhookPayloadError', (_name, body) => {
      expect(() => tencentFor(fake).parseStatusReport(webhook(body))).toThrow(WebhookPayloadError);
    });

    it('receives the fake\'s pushed receipt for an undeliverable number, with SessionContext when enabled', async () => {
      await fake.close();
      fake = await startTencentFake({ statusCallbackUrl: `${receiver.url}/webhooks/tencent/status?token=${TOKEN}`, reportDelayMs: 1, echoSessionContext: true });
      const tencent = tencentFor(fake);
      const message = outbound('+8613800130000');
      const result = await tencent.send(message);
      const request = await receiver.next();
      expect(request.path).toBe('/webhooks/tencent/status');
      expect(tencent.verifyWebhook(request)).toBe(true);
      expect(tencent.parseStatusReport(request)).toEqual([
        {
          providerMessageId: result.kind === 'accepted' ? result.providerMessageId : 'none',
          reference: message.id,
          status: 'UNDELIVERED',
          rawStatus: 'FAIL',
          errorCode: 'UNDELIVERABLE',
          rawErrorCode: '002',
          occurredAt: expect.any(Date),
        },
      ]);
    });

    it('acknowledges with the body Tencent expects', () => {
      expect(tencentFor(fake).webhookAck()).toEqual({ contentType: 'application/json', body: '{"result":0,"errmsg":"OK"}' });
    });
  });

  describe('webhook token', () => {
    const tencent = () => tencentFor(fake);
    it.each([
      ['the right token', `https://h.example/webhooks/tencent/status?token=${TOKEN}`, true],
      ['the right token among other parameters', `https://h.example/webhooks/tencent/status?a=1&token=${TOKEN}`, true],
      ['a wrong token', `https://h.example/webhooks/tencent/status?token=${TOKEN.slice(0, -1)}y`, false],
      ['a longer token', `https://h.example/webhooks/tencent/status?token=${TOKEN}x`, false],
      ['no token', 'https://h.example/webhooks/tencent/status', false],
      ['an empty token', 'https://h.example/webhooks/tencent/status?token=', false],
      ['a URL that does not parse', 'not a url', false],
    ])('%s → %s', (_name, url, expected) => {
      expect(tencent().verifyWebhook(webhook([], url))).toBe(expected);
    });
  });

  describe('reply callbacks', () => {
    it('parses the documented example: from the handset, to the signature', () => {
      const replies = tencentFor(fake).parseInbound(
        webhook({ extend: '', mobile: '13800138000', nationcode: '86', sign: '腾讯云', text: '退订', time: 1457336869 }, `https://h.example/webhooks/tencent/inbound?token=${TOKEN}`),
      );
      expect(replies).toEqual([{ from: '+8613800138000', to: '腾讯云', body: '退订', receivedAt: new Date(1457336869 * 1000) }]);
    });

    it('receives a reply the fake sends, authenticated by the token', async () => {
      fake.setCallbackUrls({ inbound: `${receiver.url}/webhooks/tencent/inbound?token=${TOKEN}` });
      await fake.sendInbound({ mobile: '13800138000', text: 'STOP', sign: 'Herald' });
      const request = await receiver.next();
      const tencent = tencentFor(fake);
      expect(tencent.verifyWebhook(request)).toBe(true);
      expect(tencent.parseInbound(request)).toEqual([{ from: '+8613800138000', to: 'Herald', body: 'STOP', receivedAt: expect.any(Date) }]);
    });

    it.each([
      ['not json', 'nope'],
      ['an empty array', []],
      ['no mobile', { nationcode: '86', sign: 's', text: 't', time: 1 }],
      ['a time that is not a number', { mobile: '13800138000', nationcode: '86', sign: 's', text: 't', time: 'yesterday' }],
    ])('refuses %s with WebhookPayloadError', (_name, body) => {
      expect(() => tencentFor(fake).parseInbound(webhook(body))).toThrow(WebhookPayloadError);
    });
  });

  describe('queryStatus (PullSmsSendStatusByPhoneNumber)', () => {
    const sentRef = async (tencent: TencentProvider, to: string) => {
      const message = outbound(to);
      const sentAt = new Date();
      const result = await tencent.send(message);
      if (result.kind !== 'accepted') throw new Error(`not accepted: ${result.kind}`);
      return { id: message.id, to, providerMessageId: result.providerMessageId, sentAt };
    };

    it('returns the final status once Tencent has a receipt, asking with the documented fields', async () => {
      const tencent = tencentFor(fake);
      const ref = await sentRef(tencent, '+8613800138000');
      await fake.idle();
      expect(await tencent.queryStatus(ref)).toEqual({ providerMessageId: ref.providerMessageId, reference: ref.id, status: 'DELIVERED', rawStatus: 'SUCCESS', occurredAt: expect.any(Date) });
      const pull = fake.calls.find((c) => c.action === 'PullSmsSendStatusByPhoneNumber');
      expect(pull?.errorCode).toBeUndefined();
      expect(pull?.body).toEqual({
        BeginTime: Math.floor(ref.sentAt.getTime() / 1000) - 60,
        EndTime: expect.any(Number),
        Offset: 0,
        Limit: 100,
        PhoneNumber: '+8613800138000',
        SmsSdkAppId: fake.smsSdkAppId,
      });
    });

    it('reports an undeliverable message as UNDELIVERED', async () => {
      const tencent = tencentFor(fake);
      const ref = await sentRef(tencent, '+8613800130000');
      await fake.idle();
      expect(await tencent.queryStatus(ref)).toMatchObject({ status: 'UNDELIVERED', rawStatus: 'FAIL', errorCode: 'UNDELIVERABLE' });
    });

    it('returns undefined while there is no receipt', async () => {
      await fake.close();
      fake = await startTencentFake({ autoReport: false });
      const tencent = tencentFor(fake);
      const ref = await sentRef(tencent, '+8613800138000');
      expect(await tencent.queryStatus(ref)).toBeUndefined();
    });

    it('throws when Tencent cannot be asked', async () => {
      const tencent = tencentFor(fake);
      const ref = await sentRef(tencent, '+8613800138000');
      fake.setMode('503');
      await expect(tencent.queryStatus(ref)).rejects.toThrow(/HTTP 503/);
      fake.setMode('ok');
      fake.setApiError({ code: 'RequestLimitExceeded' });
      await expect(tencent.queryStatus(ref)).rejects.toThrow(/RequestLimitExceeded/);
    });
  });
});

function pick(record: Record<string, string | undefined>, ...names: string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((name) => [name, record[name]]));
}
