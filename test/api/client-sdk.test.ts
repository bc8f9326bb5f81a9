import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldApiError, SMSClient } from '../../src/client/index.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

describe('SMSClient', () => {
  it('sends a message and resolves to the stored message', async () => {
    const { senderKey } = await t.seedAccount();
    const client = new SMSClient({ url: t.url, apiKey: senderKey });
    const message = await client.sendSMS({ to: '+1 (415) 555-0100', message: 'Hello from the SDK', metadata: { ref: 'A1' } });
    expect(message).toMatchObject({ to: '+14155550100', body: 'Hello from the SDK', status: 'QUEUED', encoding: 'GSM7', segments: 1 });
    expect(message.events).toHaveLength(1);

    expect(await client.getMessage(message.id)).toMatchObject({ id: message.id, metadata: { ref: 'A1' } });
    const page = await client.listMessages({ to: '+14155550100' });
    expect(page.messages.map((m) => m.id)).toEqual([message.id]);
    expect(page.hasNextPage).toBe(false);
  });

  it("rejects with the API's code for an invalid number and for a malformed request", async () => {
    const { senderKey } = await t.seedAccount();
    const client = new SMSClient({ url: t.url, apiKey: senderKey });
    const invalid = await client.sendSMS({ to: '12345', message: 'x' }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(HeraldApiError);
    expect(invalid).toMatchObject({ code: 'INVALID_PHONE_NUMBER', details: { type: 'InvalidPhoneNumberError', input: '12345' } });

    const empty = await client.sendSMS({ to: '+14155550100', message: '' }).catch((e: unknown) => e);
    expect(empty).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((empty as HeraldApiError).details.issues).toEqual([{ path: ['input', 'body'], message: 'must not be empty' }]);
  });

  it('rejects with UNAUTHENTICATED and the HTTP status for a bad key', async () => {
    const client = new SMSClient({ url: t.url, apiKey: 'hk_aaaaaaaaaa_' + 'C'.repeat(43) });
    const error = await client.getMessage('x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('previews a message without sending it', async () => {
    const { senderKey, accountId } = await t.seedAccount();
    const client = new SMSClient({ url: t.url, apiKey: senderKey });
    expect(await client.previewMessage({ body: '你好' })).toMatchObject({ encoding: 'UCS2', segments: 1, characters: 2 });
    expect(await client.providers()).toEqual([expect.objectContaining({ name: 'simulator', state: 'UP', circuit: 'CLOSED', templateOnly: false })]);
    expect(await t.database.prisma.message.count({ where: { accountId } })).toBe(0);
  });

  it('manages prices with an ADMIN key and shows cost estimates in previews', async () => {
    const { adminKey } = await t.seedAccount();
    const client = new SMSClient({ url: t.url, apiKey: adminKey });
    const price = await client.setPrice({ provider: 'simulator', country: 'US', currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00Z' });
    expect(price).toMatchObject({ provider: 'simulator', prefix: null, pricePerSegment: '0.0079' });
    expect(await client.prices({ at: new Date('2026-02-01T00:00:00Z') })).toEqual([price]);
    const preview = await client.previewMessage({ body: 'hi', to: '+14155550100' });
    expect(preview.costs).toEqual([{ provider: 'simulator', segments: 1, pricePerSegment: '0.0079', currency: 'USD', estimatedCost: '0.0079' }]);

    const refused = await client.importPrices('provider,country,prefix,currency,price,effective_from\nsimulator,US,,USD,-1,\n').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: ['csv', '2', 'price'], message: 'must not be negative' }] } });
    const csv = await client.exportPrices();
    expect(await client.importPrices(csv, { replace: true })).toEqual({ created: 0, replaced: 1, removed: 0 });
    const [again] = await client.prices();
    await client.removePrice(again!.id);
    expect(await client.prices()).toEqual([]);
    await expect(client.removePrice(again!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
