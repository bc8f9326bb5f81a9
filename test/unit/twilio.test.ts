import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReport } from '../../src/domain/status-machine.js';
import { TwilioProvider, type TwilioOptions } from '../../src/providers/twilio/twilio.js';
import { computeTwilioSignature, verifyTwilioSignature } from '../../src/providers/twilio/twilio-signature.js';
import { classifyTwilioError, twilioStatusWords } from '../../src/providers/twilio/twilio-status.js';
import { WebhookPayloadError, type LookupHint, type OutboundMessage, type SmsProvider, type WebhookRequest } from '../../src/providers/types.js';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.js';
import { closedPort } from '../support/ports.js';
import { providerContract } from './provider-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const FROM = '+15005550006';
let sequence = 0;

function outbound(to: string, body = `Your code is ${1000 + ++sequence}`): OutboundMessage {
  return { id: `0190f0c1-0000-7000-8000-${String(++sequence).padStart(12, '0')}`, to, body, segments: 1, encoding: 'GSM7' };
}

function createProvider(fake: TwilioFake, publicUrl: string, overrides: Partial<TwilioOptions> = {}): TwilioProvider {
  return new TwilioProvider({
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    from: FROM,
    messagingServiceSid: undefined,
    apiBaseUrl: fake.url,
    publicUrl: () => publicUrl,
    timeoutMs: 2000,
    ...overrides,
  });
}

const withForm = (request: WebhookRequest, params: Record<string, string>): WebhookRequest => ({
  ...request,
  rawBody: Buffer.from(new URLSearchParams(params).toString()),
});
const formOf = (request: WebhookRequest) => Object.fromEntries(new URLSearchParams(request.rawBody.toString()));

// The contract's lookup test passes no body, and Twilio can only match on it (it keeps no
// client reference). Here each reference's hint carries that message's own body, as the
// dispatcher must pass it; a reference never submitted gets a body never sent.
function withBodiesInLookupHints(provider: TwilioProvider, sent: OutboundMessage[]): SmsProvider {
  const wrapper = Object.create(provider) as TwilioProvider;
  wrapper.lookup = (reference: string, hint: LookupHint) =>
    provider.lookup(reference, { body: sent.find((m) => m.id === reference)?.body ?? `never sent: ${reference}`, ...hint });
  return wrapper;
}

providerContract('twilio', async () => {
  const receiver = await startWebhookReceiver();
  const fake = await startTwilioFake({ reportDelayMs: 1 });
  const acceptedMessage = outbound('+15005550100');
  return {
    provider: withBodiesInLookupHints(createProvider(fake, receiver.url), [acceptedMessage]),
    acceptedMessage,
    statusWebhookFor: () => receiver.next(),
    dispose: async () => {
      await fake.close();
      await receiver.close();
    },
  };
});

describe('twilio provider', () => {
  let receiver: WebhookReceiver;
  let fake: TwilioFake;
  let provider: TwilioProvider;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
    fake = await startTwilioFake({ reportDelayMs: 1, retryAfterSeconds: 2 });
    provider = createProvider(fake, receiver.url);
  });
  afterEach(async () => {
    await fake.close();
    await receiver.close();
  });

  describe('send', () => {
    it('posts To, Body, From and a StatusCallback carrying our id, with Basic auth', async () => {
      const message = outbound('+8613800138000');
      const result = await provider.send(message);
      expect(result).toEqual({ kind: 'accepted', providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/), rawStatus: 'queued' });
      expect(fake.requests).toEqual([
        {
          method: 'POST',
          path: `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`,
          query: {},
          form: { To: '+8613800138000', Body: message.body, From: FROM, StatusCallback: `${receiver.url}/webhooks/twilio/status?ref=${message.id}` },
          authorized: true,
        },
      ]);
    });

    it("uses the message's own sender over TWILIO_FROM", async () => {
      await provider.send({ ...outbound('+15005550100'), from: '+15005550199' });
      expect(fake.requests[0].form.From).toBe('+15005550199');
    });

    it('sends through a Messaging Service when one is configured, which answers accepted and reports queued', async () => {
      const service = createProvider(fake, receiver.url, { from: undefined, messagingServiceSid: 'MG0123456789abcdef0123456789abcdef' });
      expect(await service.send(outbound('+15005550100'))).toMatchObject({ kind: 'accepted', rawStatus: 'accepted' });
      expect(fake.requests[0].form).toMatchObject({ MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef' });
      expect(fake.requests[0].form.From).toBeUndefined();
      const reports = [await receiver.next(), await receiver.next(), await receiver.next()].flatMap((r) => service.parseStatusReport(r));
      expect(reports.map((r) => r.rawStatus)).toEqual(['queued', 'sent', 'delivered']);
    });

    it('refuses to be built without credentials or a sender', () => {
      expect(() => createProvider(fake, receiver.url, { authToken: '' })).toThrow(/authToken/);
      expect(() => createProvider(fake, receiver.url, { from: undefined })).toThrow(/From/);
    });

    it('answers retryable ACCOUNT_ERROR when Twilio refuses the credentials (the message may go elsewhere)', async () => {
      const wrong = createProvider(fake, receiver.url, { authToken: 'not-the-token' });
      const result = await wrong.send(outbound('+15005550100'));
      expect(result).toEqual({ kind: 'retryable', errorCode: 'ACCOUNT_ERROR', rawCode: '20003', message: expect.stringContaining('Authentication') });
      expect(fake.messages).toHaveLength(0);
    });
  });

  describe('error mapping at submission', () => {
    it.each([
      ['+15005559911', 'rejected', 'INVALID_NUMBER', '21211'],
      ['+15005559910', 'rejected', 'BLOCKED', '21610'],
      ['+15005559914', 'rejected', 'INVALID_NUMBER', '21614'],
      ['+15005559908', 'retryable', 'BLOCKED', '21408'],
      ['+15005559912', 'retryable', 'BLOCKED', '21612'],
      ['+15005559906', 'retryable', 'BLOCKED', '21606'],
      ['+15005559950', 'retryable', 'PROVIDER_ERROR', '20500'],
    ])('%s → %s %s (Twilio %s)', async (to, kind, errorCode, rawCode) => {
      const result = await provider.send(outbound(to));
      expect(result).toEqual({ kind, errorCode, rawCode, message: expect.stringMatching(/^twilio: /) });
    });

    it('maps 20429 to THROTTLED with the Retry-After it was given', async () => {
      expect(await provider.send(outbound('+15005559929'))).toEqual({
        kind: 'retryable',
        errorCode: 'THROTTLED',
        rawCode: '20429',
        message: expect.any(String),
        retryAfterMs: 2000,
      });
    });

    it('rejects a body over 1600 characters as CONTENT_REJECTED (21617)', async () => {
      expect(await provider.send(outbound('+15005550100', 'x'.repeat(1601)))).toMatchObject({ kind: 'rejected', errorCode: 'CONTENT_REJECTED', rawCode: '21617' });
    });

    it('classifies unknown codes by the HTTP status they came with', () => {
      expect(classifyTwilioError('29999', 400)).toEqual({ code: 'UNKNOWN', kind: 'rejected' });
      expect(classifyTwilioError('29999', 502)).toEqual({ code: 'PROVIDER_ERROR', kind: 'retryable' });
      expect(classifyTwilioError(undefined, 401)).toEqual({ code: 'ACCOUNT_ERROR', kind: 'retryable' });
      expect(classifyTwilioError(undefined, 429)).toEqual({ code: 'THROTTLED', kind: 'retryable' });
      expect(classifyTwilioError(undefined, undefined)).toEqual({ code: 'UNKNOWN', kind: 'retryable' });
    });
  });

  describe('failures before an answer', () => {
    it('answers a hanging Twilio with retryable TIMEOUT, maybe accepted, after timeoutMs', async () => {
      fake.setMode('hang');
      const started = Date.now();
      const result = await createProvider(fake, receiver.url, { timeoutMs: 150 }).send(outbound('+15005550100'));
      expect(result).toEqual({ kind: 'retryable', errorCode: 'TIMEOUT', rawCode: 'timeout', message: expect.any(String), maybeAccepted: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('finds with lookup a message whose answer was lost', async () => {
      fake.setMode('accept-and-hang');
      const since = new Date(Date.now() - 1000);
      const message = outbound('+15005550100');
      expect(await createProvider(fake, receiver.url, { timeoutMs: 150 }).send(message)).toMatchObject({ kind: 'retryable', maybeAccepted: true });
      fake.setMode('ok');
      expect(await provider.lookup(message.id, { to: message.to, since, body: message.body })).toMatchObject({
        found: true,
        providerMessageId: fake.messages[0].sid,
      });
    });

    it('answers 503 with retryable PROVIDER_ERROR that certainly was not accepted', async () => {
      fake.setMode('unavailable');
      const result = await provider.send(outbound('+15005550100'));
      expect(result).toEqual({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: '20503', message: expect.any(String) });
    });

    it('answers a refused connection with retryable PROVIDER_ERROR that certainly was not accepted', async () => {
      const nowhere = createProvider(fake, receiver.url, { apiBaseUrl: `http://127.0.0.1:${await closedPort()}` });
      expect(await nowhere.send(outbound('+15005550100'))).toEqual({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'ECONNREFUSED', message: expect.any(String) });
    });

    it('answers a connection dropped after the request with maybeAccepted', async () => {
      fake.setMode('reset');
      expect(await provider.send(outbound('+15005550100'))).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', maybeAccepted: true });
    });

    it('answers retryable when Herald does not know its public URL yet', async () => {
      const early = createProvider(fake, receiver.url, {
        publicUrl: () => {
          throw new Error('not listening yet');
        },
      });
      expect(await early.send(outbound('+15005550100'))).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR' });
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('delivery reports', () => {
    it('reports sent, then delivered, for an ordinary number, and the message ends DELIVERED', async () => {
      const message = outbound('+15005550100');
      const result = await provider.send(message);
      const requests = [await receiver.next(), await receiver.next()];
      for (const request of requests) {
        expect(request.path).toBe('/webhooks/twilio/status');
        expect(provider.verifyWebhook(request)).toBe(true);
      }
      const reports = requests.flatMap((r) => provider.parseStatusReport(r));
      const sid = result.kind === 'accepted' ? result.providerMessageId : '';
      expect(reports).toEqual([
        { reference: message.id, providerMessageId: sid, status: 'SENT', rawStatus: 'sent' },
        { reference: message.id, providerMessageId: sid, status: 'DELIVERED', rawStatus: 'delivered' },
      ]);
      expect(reports.reduce((status, report) => applyReport(status, report).next ?? status, 'SENDING' as const as Parameters<typeof applyReport>[0])).toBe('DELIVERED');
    });

    it.each([
      ['+15005553003', 'undelivered', 'UNDELIVERED', 'UNDELIVERABLE', '30003'],
      ['+15005553005', 'undelivered', 'UNDELIVERED', 'INVALID_NUMBER', '30005'],
      ['+15005553006', 'undelivered', 'UNDELIVERED', 'INVALID_NUMBER', '30006'],
      ['+15005553007', 'failed', 'FAILED', 'CONTENT_REJECTED', '30007'],
      ['+15005553008', 'undelivered', 'UNDELIVERED', 'UNKNOWN', '30008'],
    ])('%s ends %s: %s with %s (Twilio %s)', async (to, rawStatus, status, errorCode, rawErrorCode) => {
      await provider.send(outbound(to));
      await receiver.next(); // sent
      const final = await receiver.next();
      expect(formOf(final)).toMatchObject({ MessageStatus: rawStatus, ErrorCode: rawErrorCode });
      expect(provider.parseStatusReport(final)).toEqual([expect.objectContaining({ status, rawStatus, errorCode, rawErrorCode })]);
    });

    const expected: Record<string, string> = {
      accepted: 'SENT',
      scheduled: 'SENT',
      queued: 'SENT',
      sending: 'SENT',
      sent: 'SENT',
      delivered: 'DELIVERED',
      read: 'DELIVERED',
      undelivered: 'UNDELIVERED',
      partially_delivered: 'UNDELIVERED',
      failed: 'FAILED',
      canceled: 'FAILED',
    };
    it('maps every documented outbound status word', async () => {
      expect(Object.keys(twilioStatusWords).sort()).toEqual(Object.keys(expected).sort());
      await fake.close();
      fake = await startTwilioFake({ autoReports: false });
      provider = createProvider(fake, receiver.url);
      const result = await provider.send(outbound('+15005550100'));
      const sid = result.kind === 'accepted' ? result.providerMessageId : '';
      for (const [word, status] of Object.entries(expected)) {
        await fake.deliverReport(sid, word);
        const [report] = provider.parseStatusReport(await receiver.next());
        expect({ word, status: report.status, rawStatus: report.rawStatus }).toEqual({ word, status, rawStatus: word });
        expect(report.errorCode).toBeUndefined();
      }
    });

    it('keeps an error code only on failed and undelivered reports', async () => {
      const request = { path: '/webhooks/twilio/status', headers: {}, rawBody: Buffer.alloc(0), url: `${receiver.url}/webhooks/twilio/status`, receivedAt: new Date() };
      const base = { MessageSid: 'SM1', MessageStatus: 'sent' };
      expect(provider.parseStatusReport(withForm(request, { ...base, ErrorCode: '30001' }))[0].errorCode).toBeUndefined();
      expect(provider.parseStatusReport(withForm(request, { ...base, MessageStatus: 'failed', ErrorCode: '0' }))[0].errorCode).toBeUndefined();
      expect(provider.parseStatusReport(withForm(request, { ...base, MessageStatus: 'failed', ErrorCode: '12345' }))[0]).toMatchObject({ errorCode: 'UNKNOWN', rawErrorCode: '12345' });
      // Without our ref (a message sent outside Herald, or a callback set elsewhere) the sid alone identifies it.
      expect(provider.parseStatusReport(withForm(request, base))[0].reference).toBeUndefined();
      // Legacy parameter names alone are enough.
      expect(provider.parseStatusReport(withForm(request, { SmsSid: 'SM2', SmsStatus: 'delivered' }))[0]).toMatchObject({ providerMessageId: 'SM2', status: 'DELIVERED' });
    });

    it.each([
      ['no MessageSid', { MessageStatus: 'delivered' }],
      ['no MessageStatus', { MessageSid: 'SM1' }],
      ['an inbound status', { MessageSid: 'SM1', MessageStatus: 'received' }],
      ['an unknown status', { MessageSid: 'SM1', MessageStatus: 'teleported' }],
    ])('throws WebhookPayloadError for %s', (_, params) => {
      const request = { path: '/webhooks/twilio/status', headers: {}, rawBody: Buffer.alloc(0), url: receiver.url, receivedAt: new Date() };
      expect(() => provider.parseStatusReport(withForm(request, params))).toThrow(WebhookPayloadError);
    });
  });

  describe('inbound messages', () => {
    it('verifies and reads a reply, and answers with empty TwiML', async () => {
      const sent = fake.sendInbound(`${receiver.url}/webhooks/twilio/inbound`, { From: '+15005550100', To: FROM, Body: 'STOP please' });
      const request = await receiver.next();
      await sent;
      expect(provider.verifyWebhook(request)).toBe(true);
      expect(provider.parseInbound(request)).toEqual([
        { from: '+15005550100', to: FROM, body: 'STOP please', providerMessageId: formOf(request).MessageSid },
      ]);
      expect(provider.webhookAck()).toEqual({ contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>' });
    });

    it('throws WebhookPayloadError for a body without From', () => {
      const request = { path: '/webhooks/twilio/inbound', headers: {}, rawBody: Buffer.alloc(0), url: receiver.url, receivedAt: new Date() };
      expect(() => provider.parseInbound(withForm(request, { MessageSid: 'SM1', To: FROM, Body: 'hi' }))).toThrow(WebhookPayloadError);
    });
  });

  describe('signatures', () => {
    // Twilio's published example: auth token 12345, this URL and these POST parameters sign to
    // RSOYDt4T1cUTdK1PDd93/VVr8B8= (twilio-python docs snippet for RequestValidator, and the
    // SDK tests, e.g. https://github.com/twilio/twilio-php tests/Twilio/Unit/Security/RequestValidatorTest.php,
    // which also give the :443 and repeated-parameter vectors below).
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

    it("reproduces Twilio's published example", () => {
      expect(computeTwilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
      expect(verifyTwilioSignature('12345', url, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=')).toBe(true);
      // Signed with the default port written out; and repeated values sorted and deduplicated.
      expect(verifyTwilioSignature('12345', url, params, 'kvajT1Ptam85bY51eRf/AJRuM3w=')).toBe(true);
      expect(computeTwilioSignature('12345', url, { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234', '1234'] })).toBe('IK+Dwps556ElfBT0I3Rgjkr1wJU=');
    });

    it('refuses the example with any input changed', () => {
      expect(verifyTwilioSignature('12345', url, { ...params, Digits: '9999' }, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=')).toBe(false);
      expect(verifyTwilioSignature('12345', `${url}&x=1`, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=')).toBe(false);
      expect(verifyTwilioSignature('54321', url, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=')).toBe(false);
      expect(verifyTwilioSignature('12345', url, params, undefined)).toBe(false);
      expect(verifyTwilioSignature('12345', url, params, 'not base64 at all')).toBe(false);
    });

    it("agrees with the official twilio package's signer and validator", () => {
      const cases: Array<{ url: string; params: Record<string, string> }> = [
        { url: 'https://herald.example/webhooks/twilio/status?ref=0190f0c1-0000-7000-8000-000000000001', params: { MessageSid: 'SM1', MessageStatus: 'delivered', Body: 'héllo wörld & <b>' } },
        { url: 'http://127.0.0.1:4000/webhooks/twilio/inbound', params: { Body: '', From: '+15005550100', To: '+15005550006' } },
      ];
      for (const c of cases) {
        const ours = computeTwilioSignature('s3cret-token', c.url, c.params);
        expect(ours).toBe(twilio.getExpectedTwilioSignature('s3cret-token', c.url, c.params));
        expect(twilio.validateRequest('s3cret-token', ours, c.url, c.params)).toBe(true);
      }
    });

    describe('verifyWebhook on a callback signed by the fake (with the twilio package)', () => {
      let request: WebhookRequest;
      beforeEach(async () => {
        await provider.send(outbound('+15005550100'));
        request = await receiver.next();
      });

      it('accepts it as sent', () => {
        expect(provider.verifyWebhook(request)).toBe(true);
      });

      it('refuses a tampered parameter', () => {
        expect(provider.verifyWebhook(withForm(request, { ...formOf(request), MessageStatus: 'undelivered' }))).toBe(false);
      });

      it('refuses a changed URL, such as another ref', () => {
        const url = new URL(request.url);
        url.searchParams.set('ref', 'someone-else');
        expect(provider.verifyWebhook({ ...request, url: url.href })).toBe(false);
      });

      it('refuses a missing or forged signature header', () => {
        expect(provider.verifyWebhook({ ...request, headers: { ...request.headers, 'x-twilio-signature': undefined } })).toBe(false);
        const forged = computeTwilioSignature('a-guessed-token', request.url, formOf(request));
        expect(provider.verifyWebhook({ ...request, headers: { ...request.headers, 'x-twilio-signature': forged } })).toBe(false);
      });

      it('refuses a correctly signed callback about another account', () => {
        const params = { ...formOf(request), AccountSid: 'AC00000000000000000000000000000000' };
        const signature = twilio.getExpectedTwilioSignature(fake.authToken, request.url, params);
        expect(provider.verifyWebhook({ ...withForm(request, params), headers: { ...request.headers, 'x-twilio-signature': signature } })).toBe(false);
      });
    });
  });

  describe('lookup', () => {
    it('cannot tell without the body, and says so by throwing', async () => {
      await expect(provider.lookup('any', { to: '+15005550100', since: new Date() })).rejects.toThrow(/body/);
    });

    it('finds a sent message by recipient, day and body, asking Twilio with DateSent>=', async () => {
      const since = new Date(Date.now() - 1000);
      const message = outbound('+15005550100');
      const result = await provider.send(message);
      await receiver.next(); // sent: it now has a date_sent
      await receiver.next(); // delivered
      expect(await provider.lookup(message.id, { to: message.to, since, body: message.body })).toEqual({
        found: true,
        providerMessageId: result.kind === 'accepted' ? result.providerMessageId : '',
        status: 'DELIVERED',
        rawStatus: 'delivered',
      });
      const list = fake.requests.find((r) => r.method === 'GET');
      expect(list?.query).toMatchObject({ To: message.to, 'DateSent>': since.toISOString().slice(0, 10) });
    });

    it('does not take another body, another number, or a message from before since', async () => {
      const message = outbound('+15005550100');
      await provider.send(message);
      await fake.idle();
      const since = new Date(Date.now() - 1000);
      expect(await provider.lookup(message.id, { to: message.to, since, body: 'another body' })).toEqual({ found: false });
      expect(await provider.lookup(message.id, { to: '+15005550101', since, body: message.body })).toEqual({ found: false });
      expect(await provider.lookup(message.id, { to: message.to, since: new Date(Date.now() + 2000), body: message.body })).toEqual({ found: false });
    });

    it('reads further pages up to lookupMaxPages, and throws when the window is longer', async () => {
      const quiet = await startTwilioFake({ autoReports: false, accountSid: fake.accountSid, authToken: fake.authToken });
      const since = new Date(Date.now() - 1000);
      const twilioAt = createProvider(quiet, receiver.url, { lookupMaxPages: 2 });
      const first = outbound('+15005550100', 'the oldest one');
      await twilioAt.send(first);
      for (let i = 0; i < 55; i++) await twilioAt.send(outbound('+15005550100'));
      for (const m of quiet.messages) quiet.setMessageStatus(m.sid, 'sent');
      expect(await twilioAt.lookup(first.id, { to: first.to, since, body: first.body })).toMatchObject({ found: true, providerMessageId: quiet.messages[0].sid, status: 'SENT' });
      const shortWindow = createProvider(quiet, receiver.url, { lookupMaxPages: 1 });
      await expect(shortWindow.lookup(first.id, { to: first.to, since, body: first.body })).rejects.toThrow(/pages/);
      await quiet.close();
    });

    it('throws when Twilio cannot be asked', async () => {
      fake.setMode('unavailable');
      await expect(provider.lookup('x', { to: '+15005550100', since: new Date(), body: 'b' })).rejects.toThrow(/503/);
    });
  });

  describe("the fake, driven by the official twilio client", () => {
    it('accepts its create, fetch and list calls and answers its errors in the shape it reads', async () => {
      const client = twilio(fake.accountSid, fake.authToken);
      client.api.baseUrl = fake.url;
      const created = await client.messages.create({ to: '+15005550100', from: FROM, body: 'hi', statusCallback: `${receiver.url}/webhooks/twilio/status?ref=sdk` });
      expect(created).toMatchObject({ sid: expect.stringMatching(/^SM/), status: 'queued', to: '+15005550100', dateCreated: expect.any(Date) });
      // Its callbacks then verify with Herald's own code.
      expect(provider.verifyWebhook(await receiver.next())).toBe(true);
      await fake.idle();
      expect(await client.messages(created.sid).fetch()).toMatchObject({ status: 'delivered', dateSent: expect.any(Date) });
      const listed = await client.messages.list({ to: '+15005550100', dateSentAfter: new Date(Date.now() - 86_400_000) });
      expect(listed.map((m) => m.sid)).toEqual([created.sid]);
      await expect(client.messages.create({ to: '+15005559910', from: FROM, body: 'x' })).rejects.toMatchObject({ status: 400, code: 21610 });
      const stranger = twilio(fake.accountSid, 'wrong-token');
      stranger.api.baseUrl = fake.url;
      await expect(stranger.messages.list({ limit: 1 })).rejects.toMatchObject({ status: 401, code: 20003 });
    });
  });

  describe('queryStatus', () => {
    it('says nothing while the message is on its way, then reports its final status', async () => {
      const quiet = await startTwilioFake({ autoReports: false });
      const polled = createProvider(quiet, receiver.url);
      const message = outbound('+15005550100');
      const result = await polled.send(message);
      const ref = { id: message.id, to: message.to, providerMessageId: result.kind === 'accepted' ? result.providerMessageId : '', sentAt: new Date() };
      expect(await polled.queryStatus(ref)).toBeUndefined();
      quiet.setMessageStatus(ref.providerMessageId, 'sent');
      expect(await polled.queryStatus(ref)).toBeUndefined();
      quiet.setMessageStatus(ref.providerMessageId, 'undelivered', 30003);
      expect(await polled.queryStatus(ref)).toEqual({
        reference: message.id,
        providerMessageId: ref.providerMessageId,
        status: 'UNDELIVERED',
        rawStatus: 'undelivered',
        errorCode: 'UNDELIVERABLE',
        rawErrorCode: '30003',
        occurredAt: expect.any(Date),
      });
      quiet.setMessageStatus(ref.providerMessageId, 'delivered');
      expect(await polled.queryStatus(ref)).toMatchObject({ status: 'DELIVERED', rawStatus: 'delivered' });
      await quiet.close();
    });

    it('throws for a message Twilio does not know', async () => {
      await expect(provider.queryStatus({ id: 'x', to: '+15005550100', providerMessageId: 'SM404', sentAt: new Date() })).rejects.toThrow(/20404/);
    });
  });
});
