// SMSClient's wrappers of the operations beyond sending: templates and review, opt-outs,
// verification, keys, sender identities, conversations, account settings. Each resolves to the
// typed data or rejects with the API's code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldApiError, SMSClient } from '../../src/client/index.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

async function clients() {
  const { adminKey, senderKey } = await t.seedAccount();
  return { admin: new SMSClient({ url: t.url, apiKey: adminKey }), sender: new SMSClient({ url: t.url, apiKey: senderKey }) };
}

const rejection = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => e);

describe('SMSClient operations', () => {
  it('takes a template from draft through review to APPROVED, lists the review queue, and refuses a second submit', async () => {
    const { admin, sender } = await clients();
    const draft = await sender.createTemplate({ name: 'otp', category: 'OTP', body: 'Your code is {{code}}' });
    expect(draft).toMatchObject({ status: 'DRAFT', variables: ['code'], version: 1 });
    const pending = await sender.submitTemplate(draft.id);
    expect(pending.status).toBe('PENDING_REVIEW');
    expect((await admin.templates({ status: 'PENDING_REVIEW' })).items.map((x) => x.id)).toEqual([draft.id]);
    const again = await rejection(sender.submitTemplate(draft.id));
    expect(again).toBeInstanceOf(HeraldApiError);
    expect(again).toMatchObject({ code: 'INVALID_TEMPLATE_STATE', details: { status: 'PENDING_REVIEW' } });
    expect(await rejection(sender.reviewTemplate(draft.id, { approve: true }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await admin.reviewTemplate(draft.id, { approve: true })).toMatchObject({ status: 'APPROVED' });
    expect((await sender.getTemplate(draft.id))?.status).toBe('APPROVED');
    expect(await rejection(sender.createTemplate({ name: '', category: 'OTP', body: '' }))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('adds, lists and removes opt-outs, and refuses a bad number', async () => {
    const { sender } = await clients();
    expect(await sender.addOptOut('+1 415 555 0177')).toMatchObject({ phone: '+14155550177' });
    expect((await sender.optOuts()).items.map((o) => o.phone)).toEqual(['+14155550177']);
    expect(await rejection(sender.sendSMS({ to: '+14155550177', message: 'x' }))).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' });
    expect(await sender.removeOptOut('+14155550177')).toBe('+14155550177');
    expect(await rejection(sender.removeOptOut('+14155550177'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await rejection(sender.addOptOut('12345'))).toMatchObject({ code: 'INVALID_PHONE_NUMBER' });
  });

  it('starts a verification and reports a wrong code with the attempts left', async () => {
    const { sender } = await clients();
    const started = await sender.startVerification({ to: '+14155550188' });
    expect(started).toMatchObject({ status: 'PENDING', to: '+14155550188', attempts: 0 });
    const wrong = await rejection(sender.checkVerification({ to: '+14155550188', code: '000000'.slice(0, started.codeLength) }));
    // The code is random: the wrong guess may, once in a million, be right.
    if (wrong !== 'resolved') expect(wrong).toMatchObject({ code: 'VERIFICATION_FAILED', details: { reason: 'INCORRECT_CODE', attemptsLeft: started.maxAttempts - 1 } });
    expect((await sender.verifications({ to: '+14155550188' })).items.map((v) => v.id)).toEqual([started.id]);
  });

  it('creates, lists and revokes keys (ADMIN only), and tells the viewer', async () => {
    const { admin, sender } = await clients();
    const { apiKey, secret } = await admin.createApiKey('ci', 'SENDER');
    expect(secret).toMatch(/^hk_/);
    expect((await new SMSClient({ url: t.url, apiKey: secret }).viewer()).apiKey.id).toBe(apiKey.id);
    expect(await rejection(sender.createApiKey('nope', 'ADMIN'))).toMatchObject({ code: 'FORBIDDEN' });
    expect((await admin.revokeApiKey(apiKey.id)).revokedAt).not.toBeNull();
    expect((await admin.apiKeys()).find((k) => k.id === apiKey.id)?.revokedAt).not.toBeNull();
    expect(await rejection(new SMSClient({ url: t.url, apiKey: secret }).viewer())).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('manages sender identities and shows a conversation in both directions', async () => {
    const { admin } = await clients();
    const number = await admin.addSenderIdentity('+14155550150', { isDefault: true });
    expect((await admin.senderIdentities()).map((s) => s.value)).toEqual(['+14155550150']);
    expect(await rejection(admin.addSenderIdentity('!'))).toMatchObject({ code: 'VALIDATION_FAILED' });
    const sent = await admin.sendSMS({ to: '+14155550160', message: 'hi' });
    const reply = await admin.simulateInboundMessage({ from: '+14155550160', to: number.value, body: 'hi back' });
    const { items } = await admin.conversation('+1 415 555 0160');
    expect(items.map((e) => [e.direction, e.node.__typename, e.node.id])).toEqual([
      ['INBOUND', 'InboundMessage', reply.id],
      ['OUTBOUND', 'Message', sent.id],
    ]);
    await admin.removeSenderIdentity(number.id);
    expect(await admin.senderIdentities()).toEqual([]);
    expect(await rejection(admin.removeSenderIdentity(number.id))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reads and updates account settings and sensitive-word rules', async () => {
    const { admin, sender } = await clients();
    expect(await admin.updateAccountSettings({ helpText: 'Reply STOP to stop' })).toMatchObject({ helpText: 'Reply STOP to stop' });
    expect((await sender.accountSettings()).helpText).toBe('Reply STOP to stop');
    expect(await admin.addSensitiveWordRule('BLOCK', 'lottery')).toMatchObject({ kind: 'BLOCK', word: 'lottery' });
    expect((await admin.sensitiveWordRules()).map((r) => r.word)).toEqual(['lottery']);
    await admin.removeSensitiveWordRule('BLOCK', 'lottery');
    expect(await admin.sensitiveWordRules()).toEqual([]);
  });

  it('constructs from a bare key with HERALD_URL as the endpoint', async () => {
    const { senderKey } = await t.seedAccount();
    const previous = process.env.HERALD_URL;
    process.env.HERALD_URL = t.url;
    try {
      const message = await new SMSClient(senderKey).sendSMS({ to: '+14155550100', message: 'bare key' });
      expect(message.status).toBe('QUEUED');
    } finally {
      if (previous === undefined) delete process.env.HERALD_URL;
      else process.env.HERALD_URL = previous;
    }
    expect(() => new SMSClient({ url: t.url })).toThrow(TypeError);
  });
});
