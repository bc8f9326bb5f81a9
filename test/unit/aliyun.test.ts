import RPCClient from '@alicloud/pop-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AliyunProvider, ALIYUN_OUT_ID_PREFIX, type AliyunOptions } from '../../src/providers/aliyun/aliyun.js';
import { chinaDate, fromAliyunNumber, toAliyunNumber } from '../../src/providers/aliyun/aliyun-payload.js';
import { canonicalQuery, computeRpcSignature, percentEncode, signRpcRequest } from '../../src/providers/aliyun/aliyun-signature.js';
import { aliyunApiCodes } from '../../src/providers/aliyun/aliyun-status.js';
import { WebhookPayloadError, type OutboundMessage, type WebhookRequest } from '../../src/providers/types.js';
import { startAliyunFake, type AliyunFake, type AliyunFakeOptions } from '../fakes/aliyun-fake.js';
import { providerContract } from './provider-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const TOKEN = 'aliyun-callback-token-0123456789';
let sequence = 0;

function outbound(to: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    id: `0b5f8a3e-0000-4000-8000-${String(++sequence).padStart(12, '0')}`,
    to,
    body: 'Your code is 1234',
    segments: 1,
    encoding: 'GSM7',
    template: { name: 'otp', variables: { code: '1234' }, providerTemplate: { code: 'SMS_154950909' } },
    ...overrides,
  };
}

function providerFor(fake: AliyunFake, options: Partial<AliyunOptions> = {}): AliyunProvider {
  return new AliyunProvider({
    accessKeyId: fake.accessKeyId,
    accessKeySecret: fake.accessKeySecret,
    signName: '阿里云短信测试',
    endpoint: fake.url,
    callbackToken: TOKEN,
    timeoutMs: 2000,
    ...options,
  });
}

const webhook = (body: string | unknown[], url = `http://herald.test/webhooks/aliyun/status?token=${TOKEN}`): WebhookRequest => ({
  path: new URL(url).pathname,
  headers: { 'content-type': 'application/json' },
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  url,
  receivedAt: new Date(),
});

providerContract('aliyun', async () => {
  const receiver = await startWebhookReceiver();
  const fake = await startAliyunFake({ reportUrl: `${receiver.url}/webhooks/aliyun/status?token=${TOKEN}`, reportDelayMs: 1 });
  return {
    provider: providerFor(fake),
    acceptedMessage: outbound('+8613800138000'),
    statusWebhookFor: () => receiver.next(),
    webhookAuth: 'url-token',
    dispose: async () => {
      await fake.close();
      await receiver.close();
    },
  };
});

describe('aliyun provider', () => {
  let fake: AliyunFake;
  let receiver: WebhookReceiver;
  const start = async (options: AliyunFakeOptions = {}) => {
    fake = await startAliyunFake({ reportUrl: `${receiver.url}/webhooks/aliyun/status?token=${TOKEN}`, reportDelayMs: 1, ...options });
    return fake;
  };

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await fake?.close();
    await receiver.close();
  });

  describe('request signing', () => {
    // Aliyun's published SendSms example ("签名机制", https://www.alibabacloud.com/help/zh/sms/signature-method;
    // the same example with its intermediate strings: https://developer.aliyun.com/ask/278546).
    const docParams = {
      AccessKeyId: 'testId',
      Action: 'SendSms',
      Format: 'XML',
      OutId: '123',
      PhoneNumbers: '15300000001',
      RegionId: 'cn-hangzhou',
      SignName: '阿里云短信测试专用',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466',
      SignatureVersion: '1.0',
      TemplateCode: 'SMS_71390007',
      TemplateParam: '{"customer":"test"}',
      Timestamp: '2017-07-12T02:42:19Z',
      Version: '2017-05-25',
    };

    it("reproduces the signature of Aliyun's published SendSms example", () => {
      expect(canonicalQuery(docParams)).toBe(
        'AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou' +
          '&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1' +
          '&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0&TemplateCode=SMS_71390007' +
          '&TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25',
      );
      expect(computeRpcSignature('GET', docParams, 'testSecret')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
      expect(computeRpcSignature('POST', docParams, 'testSecret')).not.toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
      expect(computeRpcSignature('GET', { ...docParams, Signature: 'ignored' }, 'testSecret')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
    });

    it("percent-encodes by Aliyun's rules: space %20, * %2A, ~ kept, + and / escaped", () => {
      expect(percentEncode("a b*c~d+e/f!'()")).toBe('a%20b%2Ac~d%2Be%2Ff%21%27%28%29');
    });

    it('signs the common parameters in and a fresh nonce every time', () => {
      const credentials = { accessKeyId: 'id', accessKeySecret: 'secret' };
      const now = new Date('2024-05-01T10:20:30.456Z');
      const first = signRpcRequest(credentials, 'SendSms', { PhoneNumbers: '13800138000' }, { now });
      const second = signRpcRequest(credentials, 'SendSms', { PhoneNumbers: '13800138000' }, { now });
      expect(first.params).toMatchObject({ Format: 'JSON', Version: '2017-05-25', RegionId: 'cn-hangzhou', SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', Timestamp: '2024-05-01T10:20:30Z' });
      expect(first.params.SignatureNonce).not.toBe(second.params.SignatureNonce);
      const { Signature, ...unsigned } = first.params;
      expect(Signature).toBe(computeRpcSignature('POST', unsigned, 'secret'));
    });

    it("agrees with @alicloud/pop-core: the fake accepts the SDK's GET and POST requests, and the SDK's signature is ours", async () => {
      await start();
      const client = new RPCClient({ endpoint: fake.url, apiVersion: '2017-05-25', accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret });
      const params = { PhoneNumbers: '13800138000', SignName: '阿里云短信测试', TemplateCode: 'SMS_154950909', TemplateParam: '{"code":"12 34*~"}', OutId: 'sdk-1', RegionId: 'cn-hangzhou' };
      for (const method of ['GET', 'POST']) {
        await expect(client.request<{ Code: string }>('SendSms', params, { method })).resolves.toMatchObject({ Code: 'OK' });
        const request = fake.received.at(-1)!;
        expect(request).toMatchObject({ method, action: 'SendSms', code: 'OK' });
        expect(request.params.Signature).toBe(computeRpcSignature(method, request.params, fake.accessKeySecret));
      }
      const wrong = new RPCClient({ endpoint: fake.url, apiVersion: '2017-05-25', accessKeyId: fake.accessKeyId, accessKeySecret: 'not-the-secret' });
      await expect(wrong.request('SendSms', params, { method: 'POST' })).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    });
  });

  describe('send', () => {
    it('sends SendSms with the template, its variables as JSON, the sign name and our id as OutId', async () => {
      await start();
      const message = outbound('+8613800138000');
      const result = await providerFor(fake).send(message);
      expect(result).toMatchObject({ kind: 'accepted', rawStatus: 'OK', providerMessageId: fake.sent[0].bizId });
      const request = fake.received[0];
      expect(request.method).toBe('POST');
      expect(request.params).toMatchObject({
        Action: 'SendSms',
        Version: '2017-05-25',
        Format: 'JSON',
        RegionId: 'cn-hangzhou',
        PhoneNumbers: '13800138000',
        SignName: '阿里云短信测试',
        TemplateCode: 'SMS_154950909',
        TemplateParam: '{"code":"1234"}',
        OutId: message.id,
      });
      expect(request.params).not.toHaveProperty('Body');
      expect(JSON.stringify(request.params)).not.toContain('Your code is');
    });

    it('uses message.from as the sign name and writes international numbers as country code + number', async () => {
      await start();
      await providerFor(fake).send(outbound('+85291234567', { from: 'Herald' }));
      expect(fake.received[0].params).toMatchObject({ PhoneNumbers: '85291234567', SignName: 'Herald' });
      expect(toAliyunNumber('+8613800138000')).toBe('13800138000');
      expect(toAliyunNumber('+14155550100')).toBe('14155550100');
    });

    it('answers a resubmitted reference it saw accepted with the same BizId, without sending again', async () => {
      await start();
      const provider = providerFor(fake);
      const message = outbound('+8613800138000');
      const first = await provider.send(message);
      expect(await provider.send({ ...message })).toEqual(first);
      expect(fake.sent).toHaveLength(1);
    });

    it('rejects a message without an Aliyun template without calling Aliyun', async () => {
      await start();
      const provider = providerFor(fake);
      expect(provider.templateOnly).toBe(true);
      const plain = await provider.send(outbound('+8613800138000', { template: undefined }));
      expect(plain).toMatchObject({ kind: 'rejected', errorCode: 'CONTENT_REJECTED', rawCode: 'NO_PROVIDER_TEMPLATE' });
      const unmapped = await provider.send(outbound('+8613800138000', { template: { name: 'shipping', variables: {} } }));
      expect(unmapped).toMatchObject({ kind: 'rejected', errorCode: 'CONTENT_REJECTED', message: expect.stringContaining('shipping') });
      expect(fake.received).toHaveLength(0);
    });
  });

  describe('error mapping', () => {
    // Every Code in the table, through the whole path (the fake answers it as Aliyun would).
    const expected: Record<string, [kind: 'rejected' | 'retryable', errorCode: string]> = {
      'isv.MOBILE_NUMBER_ILLEGAL': ['rejected', 'INVALID_NUMBER'],
      'isv.SMS_TEMPLATE_ILLEGAL': ['rejected', 'CONTENT_REJECTED'],
      'isv.SMS_SIGNATURE_ILLEGAL': ['rejected', 'CONTENT_REJECTED'],
      'isv.SMS_SIGNATURE_SCENE_ILLEGAL': ['rejected', 'CONTENT_REJECTED'],
      'isv.SMS_SIGN_ILLEGAL': ['rejected', 'CONTENT_REJECTED'],
      'isv.SIGN_STATE_ILLEGAL': ['rejected', 'CONTENT_REJECTED'],
      'isv.SMS_CONTENT_ILLEGAL': ['rejected', 'CONTENT_REJECTED'],
      'isv.TEMPLATE_MISSING_PARAMETERS': ['rejected', 'CONTENT_REJECTED'],
      'isv.TEMPLATE_PARAMS_ILLEGAL': ['rejected', 'CONTENT_REJECTED'],
      'isv.INVALID_JSON_PARAM': ['rejected', 'CONTENT_REJECTED'],
      'isv.PARAM_LENGTH_LIMIT': ['rejected', 'CONTENT_REJECTED'],
      'isv.PARAM_NOT_SUPPORT_URL': ['rejected', 'CONTENT_REJECTED'],
      'isv.BLACK_KEY_CONTROL_LIMIT': ['rejected', 'CONTENT_REJECTED'],
      'isv.DOMESTIC_NUMBER_NOT_SUPPORTED': ['rejected', 'CONTENT_REJECTED'],
      'isv.INVALID_PARAMETERS': ['rejected', 'UNKNOWN'],
      'isv.MOBILE_COUNT_OVER_LIMIT': ['rejected', 'UNKNOWN'],
      'isv.BUSINESS_LIMIT_CONTROL': ['retryable', 'THROTTLED'],
      Throttling: ['retryable', 'THROTTLED'],
      'Throttling.User': ['retryable', 'THROTTLED'],
      'Throttling.Api': ['retryable', 'THROTTLED'],
      'isv.DAY_LIMIT_CONTROL': ['retryable', 'ACCOUNT_ERROR'],
      'isv.MONTH_LIMIT_CONTROL': ['retryable', 'ACCOUNT_ERROR'],
      'isv.AMOUNT_NOT_ENOUGH': ['retryable', 'ACCOUNT_ERROR'],
      'isv.OUT_OF_SERVICE': ['retryable', 'ACCOUNT_ERROR'],
      'isv.PRODUCT_UN_SUBSCRIPT': ['retryable', 'ACCOUNT_ERROR'],
      'isv.PRODUCT_UNSUBSCRIBE': ['retryable', 'ACCOUNT_ERROR'],
      'isv.ACCOUNT_NOT_EXISTS': ['retryable', 'ACCOUNT_ERROR'],
      'isv.ACCOUNT_ABNORMAL': ['retryable', 'ACCOUNT_ERROR'],
      'isv.DENY_IP_RANGE': ['retryable', 'ACCOUNT_ERROR'],
      'isv.EXTEND_CODE_ERROR': ['retryable', 'ACCOUNT_ERROR'],
      'isp.RAM_PERMISSION_DENY': ['retryable', 'ACCOUNT_ERROR'],
      'isv.RAM_PERMISSION_DENY': ['retryable', 'ACCOUNT_ERROR'],
      'Forbidden.RAM': ['retryable', 'ACCOUNT_ERROR'],
      'InvalidAccessKeyId.NotFound': ['retryable', 'ACCOUNT_ERROR'],
      'InvalidAccessKeyId.Inactive': ['retryable', 'ACCOUNT_ERROR'],
      SignatureDoesNotMatch: ['retryable', 'ACCOUNT_ERROR'],
      'InvalidTimeStamp.Expired': ['retryable', 'ACCOUNT_ERROR'],
      SignatureNonceUsed: ['retryable', 'PROVIDER_ERROR'],
      'isp.SYSTEM_ERROR': ['retryable', 'PROVIDER_ERROR'],
      'isv.SYSTEM_ERROR': ['retryable', 'PROVIDER_ERROR'],
      InternalError: ['retryable', 'PROVIDER_ERROR'],
      ServiceUnavailable: ['retryable', 'PROVIDER_ERROR'],
    };

    it('covers every code in the status table', () => {
      expect(Object.keys(expected).sort()).toEqual(Object.keys(aliyunApiCodes).sort());
    });

    it.each(Object.entries(expected))('maps %s to %j, keeping the code raw', async (code, [kind, errorCode]) => {
      await start({ errors: { '13800138000': code } });
      const result = await providerFor(fake).send(outbound('+8613800138000'));
      expect(result).toMatchObject({ kind, errorCode, rawCode: code, message: expect.stringContaining(code) });
      // An explicit refusal means Aliyun does not have the message: nothing to look up first.
      expect(result).not.toHaveProperty('maybeAccepted');
    });

    it('asks to wait a minute after isv.BUSINESS_LIMIT_CONTROL (per-number frequency limit)', async () => {
      await start();
      expect(await providerFor(fake).send(outbound('+8613800130002'))).toMatchObject({ kind: 'retryable', errorCode: 'THROTTLED', retryAfterMs: 60_000 });
    });

    it('treats a code it does not know as transient UNKNOWN', async () => {
      await start({ errors: { '13800138000': 'isv.SOMETHING_NEW' } });
      expect(await providerFor(fake).send(outbound('+8613800138000'))).toMatchObject({ kind: 'retryable', errorCode: 'UNKNOWN', rawCode: 'isv.SOMETHING_NEW' });
    });

    it('gets the documented refusals from the fake by recipient suffix', async () => {
      await start();
      const provider = providerFor(fake);
      const cases: Array<[string, string, string]> = [
        ['+8613800130001', 'rejected', 'isv.MOBILE_NUMBER_ILLEGAL'],
        ['+8613800130003', 'retryable', 'isv.DAY_LIMIT_CONTROL'],
        ['+8613800130004', 'retryable', 'isv.AMOUNT_NOT_ENOUGH'],
        ['+8613800130005', 'retryable', 'isv.OUT_OF_SERVICE'],
        ['+8613800130006', 'rejected', 'isv.BLACK_KEY_CONTROL_LIMIT'],
        ['+8613800130007', 'retryable', 'isp.SYSTEM_ERROR'],
        ['+8613800130008', 'retryable', 'isp.RAM_PERMISSION_DENY'],
        ['+8613800130009', 'rejected', 'isv.PARAM_LENGTH_LIMIT'],
      ];
      for (const [to, kind, rawCode] of cases) expect(await provider.send(outbound(to))).toMatchObject({ kind, rawCode });
      expect(fake.sent).toHaveLength(0);
    });

    it('gets template, variable and signature refusals when the fake knows the approved ones', async () => {
      await start({ templates: { SMS_154950909: '您的验证码为${code}' }, signNames: ['阿里云短信测试'] });
      const provider = providerFor(fake);
      expect(await provider.send(outbound('+8613800138000'))).toMatchObject({ kind: 'accepted' });
      expect(fake.sent[0].content).toBe('【阿里云短信测试】您的验证码为1234');
      const unknownTemplate = outbound('+8613800138000', { template: { name: 'x', variables: {}, providerTemplate: { code: 'SMS_0' } } });
      expect(await provider.send(unknownTemplate)).toMatchObject({ kind: 'rejected', errorCode: 'CONTENT_REJECTED', rawCode: 'isv.SMS_TEMPLATE_ILLEGAL' });
      const missing = outbound('+8613800138000', { template: { name: 'otp', variables: {}, providerTemplate: { code: 'SMS_154950909' } } });
      expect(await provider.send(missing)).toMatchObject({ kind: 'rejected', rawCode: 'isv.TEMPLATE_MISSING_PARAMETERS' });
      expect(await provider.send(outbound('+8613800138000', { from: 'Unknown' }))).toMatchObject({ kind: 'rejected', rawCode: 'isv.SMS_SIGNATURE_ILLEGAL' });
    });
  });

  describe('authentication at Aliyun', () => {
    it('is refused with SignatureDoesNotMatch for a wrong secret: retryable ACCOUNT_ERROR', async () => {
      await start();
      const result = await providerFor(fake, { accessKeySecret: 'wrong' }).send(outbound('+8613800138000'));
      expect(result).toMatchObject({ kind: 'retryable', errorCode: 'ACCOUNT_ERROR', rawCode: 'SignatureDoesNotMatch' });
      expect(fake.received[0].httpStatus).toBe(400);
      expect(fake.sent).toHaveLength(0);
    });

    it('is refused with InvalidAccessKeyId.NotFound (HTTP 404) for an unknown key', async () => {
      await start();
      expect(await providerFor(fake, { accessKeyId: 'LTAInope' }).send(outbound('+8613800138000'))).toMatchObject({ errorCode: 'ACCOUNT_ERROR', rawCode: 'InvalidAccessKeyId.NotFound' });
      expect(fake.received[0].httpStatus).toBe(404);
    });

    it('is refused with InvalidTimeStamp.Expired when the clock is 20 minutes off', async () => {
      await start();
      const skewed = providerFor(fake, { now: () => new Date(Date.now() - 20 * 60_000) });
      expect(await skewed.send(outbound('+8613800138000'))).toMatchObject({ kind: 'retryable', rawCode: 'InvalidTimeStamp.Expired' });
    });

    it('refuses a replayed request with SignatureNonceUsed and a tampered one with SignatureDoesNotMatch', async () => {
      await start();
      const { body } = signRpcRequest(fake, 'SendSms', { PhoneNumbers: '13800138000', SignName: 's', TemplateCode: 'SMS_1' });
      const post = (form: string) => fetch(`${fake.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }).then((r) => r.json() as Promise<{ Code: string }>);
      expect((await post(body)).Code).toBe('OK');
      expect((await post(body)).Code).toBe('SignatureNonceUsed');
      const tampered = body.replace('PhoneNumbers=13800138000', 'PhoneNumbers=13900139000').replace(/SignatureNonce=[^&]+/, 'SignatureNonce=fresh');
      expect((await post(tampered)).Code).toBe('SignatureDoesNotMatch');
      expect(fake.sent).toHaveLength(1);
    });
  });

  describe('transport failures', () => {
    it('times out against a hanging Aliyun as a retryable TIMEOUT that may have been accepted', async () => {
      await start();
      fake.setMode('hang');
      const started = Date.now();
      const result = await providerFor(fake, { timeoutMs: 150 }).send(outbound('+8613800138000'));
      expect(result).toMatchObject({ kind: 'retryable', errorCode: 'TIMEOUT', maybeAccepted: true });
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('treats a 503 as retryable PROVIDER_ERROR that Aliyun certainly did not take', async () => {
      await start();
      fake.setMode('503');
      const result = await providerFor(fake).send(outbound('+8613800138000'));
      expect(result).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'ServiceUnavailable' });
      expect(result).not.toHaveProperty('maybeAccepted');
    });

    it('treats a refused connection as retryable PROVIDER_ERROR without maybeAccepted', async () => {
      await start();
      const provider = providerFor(fake);
      await fake.close();
      const result = await provider.send(outbound('+8613800138000'));
      expect(result).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'ECONNREFUSED' });
      expect(result).not.toHaveProperty('maybeAccepted');
    });

    it('treats a connection dropped after the request as maybe accepted', async () => {
      await start();
      fake.setMode('reset');
      expect(await providerFor(fake).send(outbound('+8613800138000'))).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', maybeAccepted: true });
    });

    it('finds, after a lost answer, the message Aliyun took, and polls its final status by OutId', async () => {
      await start({ autoReport: false });
      fake.setMode('accept-then-hang');
      const message = outbound('+8613800138000');
      const since = new Date(Date.now() - 60_000);
      expect(await providerFor(fake, { timeoutMs: 150 }).send(message)).toMatchObject({ errorCode: 'TIMEOUT', maybeAccepted: true });
      fake.setMode('ok');
      // A fresh process: Aliyun's QuerySendDetails has no BizId, so the id names our reference.
      const provider = providerFor(fake);
      const found = await provider.lookup(message.id, { to: message.to, since });
      expect(found).toEqual({ found: true, providerMessageId: `${ALIYUN_OUT_ID_PREFIX}${message.id}`, status: 'SENT', rawStatus: '1' });
      const ref = { id: message.id, to: message.to, providerMessageId: found.found ? found.providerMessageId : '', sentAt: since };
      expect(await provider.queryStatus(ref)).toBeUndefined();
      await fake.deliverReport(fake.sent[0].bizId);
      expect(await provider.queryStatus(ref)).toMatchObject({ reference: message.id, status: 'DELIVERED', rawStatus: 'DELIVERED' });
      expect(fake.received.filter((r) => r.action === 'QuerySendDetails').every((r) => r.params.BizId === undefined)).toBe(true);
    });
  });

  describe('delivery reports (SmsReport)', () => {
    const report = (overrides: Record<string, unknown> = {}) => ({
      phone_number: '13800138000',
      send_time: '2024-03-01 10:00:00',
      report_time: '2024-03-01 10:00:05',
      success: true,
      err_code: 'DELIVERED',
      err_msg: '用户接收成功',
      sms_size: '1',
      biz_id: '900619746936498440^0',
      out_id: 'ref-1',
      ...overrides,
    });
    let provider: AliyunProvider;
    beforeEach(async () => {
      provider = providerFor(await start());
    });

    it('reads a pushed report: DELIVERED, both ids, Beijing report_time', async () => {
      expect(provider.parseStatusReport(webhook([report()]))).toEqual([
        { reference: 'ref-1', providerMessageId: '900619746936498440^0', status: 'DELIVERED', rawStatus: 'DELIVERED', occurredAt: new Date('2024-03-01T02:00:05Z') },
      ]);
    });

    it.each([
      ['UNDELIV', 'UNDELIVERED', 'UNDELIVERABLE'],
      ['EXPIRED', 'EXPIRED', 'EXPIRED'],
      ['MK:0001', 'UNDELIVERED', 'INVALID_NUMBER'],
      ['MK:0005', 'UNDELIVERED', 'UNDELIVERABLE'],
      ['MN:0017', 'UNDELIVERED', 'UNDELIVERABLE'],
      ['DB:0141', 'UNDELIVERED', 'BLOCKED'],
      ['DB:0101', 'UNDELIVERED', 'INVALID_NUMBER'],
      ['IB:0008', 'UNDELIVERED', 'PROVIDER_ERROR'],
      ['MBBLACK', 'UNDELIVERED', 'BLOCKED'],
      ['isv.MOBILE_NUMBER_ILLEGAL', 'UNDELIVERED', 'INVALID_NUMBER'],
      ['SOMETHING', 'UNDELIVERED', 'UNKNOWN'],
    ])('maps failed report err_code %s to %s / %s with the raw code kept', (errCode, status, errorCode) => {
      const [parsed] = provider.parseStatusReport(webhook([report({ success: false, err_code: errCode, err_msg: 'x' })]));
      expect(parsed).toMatchObject({ status, errorCode, rawStatus: errCode, rawErrorCode: errCode });
    });

    it('reads every report of a batch, and one without out_id by biz_id only', () => {
      const reports = provider.parseStatusReport(webhook([report(), report({ biz_id: 'b2', out_id: undefined, success: 'false', err_code: '' })]));
      expect(reports).toHaveLength(2);
      expect(reports[1]).toEqual(expect.objectContaining({ providerMessageId: 'b2', status: 'UNDELIVERED', rawStatus: 'failure', errorCode: 'UNKNOWN' }));
      expect(reports[1]).not.toHaveProperty('reference');
    });

    it('throws WebhookPayloadError for bodies Aliyun does not send', () => {
      for (const body of ['', 'nope', '{}', JSON.stringify(report()), '[]', JSON.stringify([{ ...report(), biz_id: undefined }]), JSON.stringify([report({ report_time: '2024-03-01T10:00:05Z' })])]) {
        expect(() => provider.parseStatusReport(webhook(body)), body).toThrow(WebhookPayloadError);
      }
    });

    it('is pushed by the fake after acceptance exactly as documented, and Herald answers {"code":0}', async () => {
      const message = outbound('+8613800130000');
      const result = await provider.send(message);
      const request = await receiver.next();
      expect(request.url).toBe(`${receiver.url}/webhooks/aliyun/status?token=${TOKEN}`);
      expect(request.headers['content-type']).toBe('application/json');
      const [pushed] = JSON.parse(request.rawBody.toString()) as Record<string, unknown>[];
      expect(Object.keys(pushed).sort()).toEqual(['biz_id', 'err_code', 'err_msg', 'out_id', 'phone_number', 'report_time', 'send_time', 'sms_size', 'success']);
      expect(provider.verifyWebhook(request)).toBe(true);
      expect(provider.parseStatusReport(request)).toEqual([
        expect.objectContaining({ reference: message.id, providerMessageId: result.kind === 'accepted' ? result.providerMessageId : '?', status: 'UNDELIVERED', rawErrorCode: 'UNDELIV' }),
      ]);
      const ack = provider.webhookAck();
      expect(ack.contentType).toBe('application/json');
      expect(JSON.parse(ack.body)).toMatchObject({ code: 0 });
    });
  });

  describe('callback token', () => {
    let provider: AliyunProvider;
    beforeEach(async () => {
      provider = providerFor(await start());
    });
    const at = (query: string) => webhook('[]', `https://herald.example/webhooks/aliyun/status${query}`);

    it('accepts the configured token only', () => {
      expect(provider.verifyWebhook(at(`?token=${TOKEN}`))).toBe(true);
      expect(provider.verifyWebhook(at(`?a=1&token=${encodeURIComponent(TOKEN)}`))).toBe(true);
      expect(provider.verifyWebhook(at(''))).toBe(false);
      expect(provider.verifyWebhook(at('?token='))).toBe(false);
      expect(provider.verifyWebhook(at(`?token=${TOKEN.toUpperCase()}`))).toBe(false);
      expect(provider.verifyWebhook(at(`?token=${TOKEN}x`))).toBe(false);
      expect(provider.verifyWebhook(at(`?token=${TOKEN.slice(0, -1)}`))).toBe(false);
      expect(provider.verifyWebhook(at(`?token=guess&token=${TOKEN}`))).toBe(false);
      expect(provider.verifyWebhook(at(`?token=${TOKEN}&token=guess`))).toBe(false);
      expect(provider.verifyWebhook(at(`?Token=${TOKEN}`))).toBe(false);
      expect(provider.verifyWebhook({ ...at(''), url: 'not a url' })).toBe(false);
    });

    it('cannot notice a changed body: Aliyun signs nothing, so the token is the only proof', () => {
      const request = at(`?token=${TOKEN}`);
      expect(provider.verifyWebhook({ ...request, rawBody: Buffer.from('[{"forged":true}]') })).toBe(true);
    });
  });

  describe('replies (SmsUp)', () => {
    it('reads the fake’s SmsUp push: E.164 sender, the sign name as receiver, sequence_id as id', async () => {
      const provider = providerFor(await start({ upUrl: `${receiver.url}/webhooks/aliyun/inbound?token=${TOKEN}` }));
      const push = await fake.sendInbound({ phoneNumber: '13800138000', content: '退订 TD', signName: '阿里云短信测试', sequenceId: 1234567890 });
      expect(push.httpStatus).toBe(200);
      const request = await receiver.next();
      expect(provider.verifyWebhook(request)).toBe(true);
      const [reply] = provider.parseInbound(request);
      expect(reply).toEqual({ from: '+8613800138000', to: '阿里云短信测试', body: '退订 TD', providerMessageId: '1234567890', receivedAt: expect.any(Date) });
      expect(Object.keys(JSON.parse(request.rawBody.toString())[0]).sort()).toEqual(['content', 'dest_code', 'phone_number', 'send_time', 'sequence_id', 'sign_name']);
    });

    it('reads the documented example and refuses what is not an SmsUp array', async () => {
      const provider = providerFor(await start());
      const example = [{ phone_number: '13811110000', send_time: '2017-09-01 00:00:00', content: '内容', sign_name: '签名', dest_code: '1234', sequence_id: 1234567890 }];
      expect(provider.parseInbound(webhook(example))).toEqual([
        { from: '+8613811110000', to: '签名', body: '内容', providerMessageId: '1234567890', receivedAt: new Date('2017-08-31T16:00:00Z') },
      ]);
      for (const body of ['[]', '{}', JSON.stringify(example[0]), JSON.stringify([{ ...example[0], sign_name: undefined }])]) {
        expect(() => provider.parseInbound(webhook(body))).toThrow(WebhookPayloadError);
      }
      expect(fromAliyunNumber('85291234567')).toBe('+85291234567');
      expect(fromAliyunNumber('+8613800138000')).toBe('+8613800138000');
    });
  });

  describe('lookup and queryStatus (QuerySendDetails)', () => {
    it('finds an accepted message by OutId with its BizId and status, before and after the report', async () => {
      await start({ autoReport: false });
      const provider = providerFor(fake);
      const message = outbound('+8613800138000');
      const since = new Date(Date.now() - 60_000);
      const result = await provider.send(message);
      const bizId = result.kind === 'accepted' ? result.providerMessageId : '';
      expect(await provider.lookup(message.id, { to: message.to, since })).toEqual({ found: true, providerMessageId: bizId, status: 'SENT', rawStatus: '1' });
      await fake.deliverReport(bizId, { success: false, errCode: 'MK:0001' });
      expect(await provider.lookup(message.id, { to: message.to, since })).toMatchObject({ found: true, status: 'UNDELIVERED', rawStatus: '2' });
      expect(await provider.lookup('another-reference', { to: message.to, since })).toEqual({ found: false });
      const query = fake.received.find((r) => r.action === 'QuerySendDetails')!;
      expect(query.params).toMatchObject({ PhoneNumber: '13800138000', SendDate: chinaDate(new Date()), PageSize: '50', CurrentPage: '1' });
    });

    it('searches every Beijing day from since to today, and pages through a busy day', async () => {
      await start({ autoReport: false });
      const provider = providerFor(fake);
      const target = outbound('+8613800138000');
      for (let i = 0; i < 55; i++) await provider.send(outbound('+8613800138000'));
      await provider.send(target);
      const found = await providerFor(fake).lookup(target.id, { to: target.to, since: new Date(Date.now() - 2 * 86_400_000) });
      expect(found).toMatchObject({ found: true, providerMessageId: `${ALIYUN_OUT_ID_PREFIX}${target.id}` });
      const queries = fake.received.filter((r) => r.action === 'QuerySendDetails').map((r) => `${r.params.SendDate}/${r.params.CurrentPage}`);
      const today = chinaDate(new Date());
      expect(queries).toEqual([`${chinaDate(new Date(Date.now() - 2 * 86_400_000))}/1`, `${chinaDate(new Date(Date.now() - 86_400_000))}/1`, `${today}/1`, `${today}/2`]);
    });

    it('polls an old overdue message on the Beijing day it was sent, not the last two days', async () => {
      let clock = Date.now() - 5 * 86_400_000;
      const now = () => new Date(clock);
      await start({ now, autoReport: false });
      const provider = providerFor(fake, { now });
      const message = outbound('+8613800138000');
      const result = await provider.send(message);
      const sentAt = now();
      await fake.deliverReport(fake.sent[0].bizId);
      clock = Date.now();
      const ref = { id: message.id, to: message.to, providerMessageId: result.kind === 'accepted' ? result.providerMessageId : '', sentAt };
      expect(await provider.queryStatus(ref)).toMatchObject({ status: 'DELIVERED' });
      expect(fake.received.filter((r) => r.action === 'QuerySendDetails').map((r) => r.params.SendDate)[0]).toBe(chinaDate(sentAt));
    });

    it('looks up at most maxLookupDays of the newest days', async () => {
      await start();
      await providerFor(fake, { maxLookupDays: 3 }).lookup('x', { to: '+8613800138000', since: new Date(Date.now() - 10 * 86_400_000) });
      const dates = fake.received.map((r) => r.params.SendDate);
      expect(dates).toHaveLength(3);
      expect(dates.at(-1)).toBe(chinaDate(new Date()));
    });

    it('throws when Aliyun cannot be asked', async () => {
      await start();
      fake.setMode('503');
      await expect(providerFor(fake).lookup('x', { to: '+8613800138000', since: new Date() })).rejects.toThrow(/QuerySendDetails/);
      fake.setMode('ok');
      await expect(providerFor(fake, { accessKeySecret: 'wrong' }).lookup('x', { to: '+8613800138000', since: new Date() })).rejects.toThrow(/SignatureDoesNotMatch/);
    });

    it('polls by BizId: nothing while waiting, then the final status with the receipt code', async () => {
      await start({ autoReport: false });
      const provider = providerFor(fake);
      const message = outbound('+8613800138000');
      const result = await provider.send(message);
      const ref = { id: message.id, to: message.to, providerMessageId: result.kind === 'accepted' ? result.providerMessageId : '', sentAt: new Date() };
      expect(await provider.queryStatus(ref)).toBeUndefined();
      await fake.deliverReport(ref.providerMessageId, { success: false, errCode: 'DB:0141' });
      expect(await provider.queryStatus(ref)).toEqual({
        reference: message.id,
        providerMessageId: ref.providerMessageId,
        status: 'UNDELIVERED',
        rawStatus: 'DB:0141',
        errorCode: 'BLOCKED',
        rawErrorCode: 'DB:0141',
        occurredAt: expect.any(Date),
      });
      expect(fake.received.at(-1)!.params.BizId).toBe(ref.providerMessageId);
    });
  });

  it('dates QuerySendDetails in Beijing time', () => {
    expect(chinaDate(new Date('2024-01-01T15:59:59Z'))).toBe('20240101');
    expect(chinaDate(new Date('2024-01-01T16:00:00Z'))).toBe('20240102');
  });
});
