// Provider price lists (ADMIN only): set, list (now and at a time), remove, import all or
// nothing, export round trip, tenancy, and previewMessage's cost estimates by routing order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { mutate } from '../support/templates.js';

let t: TestHerald;

beforeAll(async () => {
  // Two providers; China goes to Twilio only. Nothing is sent (no dispatcher), so Twilio's
  // address is never called.
  t = await startTestHerald({
    providers: ['simulator', 'twilio'],
    twilio: { accountSid: 'AC0000', authToken: 'token', from: '+15005550006', messagingServiceSid: undefined, apiBaseUrl: 'http://127.0.0.1:9' },
    routes: JSON.stringify({ routes: [{ match: { countries: ['CN'] }, providers: ['twilio'] }] }),
    // Room for a CSV over importPrices' own 1 MiB limit (the default request limit is 1 MiB too).
    maxRequestBytes: 4 * 1024 * 1024,
  });
});
afterAll(() => t?.stop());

const PRICE_FIELDS = 'id provider country prefix currency pricePerSegment effectiveFrom createdAt';
const ERRORS = '... on Error { code message } ... on ValidationError { issues { path message } }';
const SET_PRICE = `mutation($input: SetPriceInput!) { setPrice(input: $input) { __typename ... on SetPriceSuccess { data { ${PRICE_FIELDS} } } ${ERRORS} } }`;
const REMOVE_PRICE = `mutation($id: ID!) { removePrice(id: $id) { __typename ... on RemovePriceSuccess { data } ... on Error { code message } } }`;
const IMPORT_PRICES = `mutation($csv: String!, $replace: Boolean) { importPrices(csv: $csv, replace: $replace) { __typename ... on ImportPricesSuccess { data { created replaced removed } } ${ERRORS} } }`;
const LIST_PRICES = `query($provider: String, $country: String, $at: DateTime) { prices(provider: $provider, country: $country, at: $at) { ${PRICE_FIELDS} } }`;
const EXPORT_PRICES = `{ exportPrices }`;
const PREVIEW = `query($input: PreviewInput!) { previewMessage(input: $input) { segments warnings costs { provider pricePerSegment currency estimatedCost segments } } }`;

const HEADER = 'provider,country,prefix,currency,price,effective_from\n';

async function setPrice(admin: GraphQLCaller, input: Record<string, unknown>) {
  const result = await mutate(admin, SET_PRICE, { input });
  expect(result.__typename).toBe('SetPriceSuccess');
  return result.data;
}

const list = async (caller: GraphQLCaller, variables: Record<string, unknown> = {}) => expectNoErrors(await caller(LIST_PRICES, variables)).prices as any[];
const summary = (prices: any[]) => prices.map((p) => `${p.provider} ${p.country} ${p.prefix ?? '-'} ${p.pricePerSegment} ${p.currency} ${p.effectiveFrom}`);

describe('setPrice and prices', () => {
  it('stores an exact decimal, lists it with a global id, and answers the same key again by replacing the row', async () => {
    const { admin } = await t.seedAccount();
    const first = await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00Z' });
    expect(first).toMatchObject({ provider: 'twilio', country: 'US', prefix: null, currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00.000Z' });
    expect(first.id).not.toMatch(/^[0-9a-f-]{36}$/); // a Relay global id, like every node
    const again = await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.000001', effectiveFrom: '2026-01-01T00:00:00Z' });
    expect(again).toMatchObject({ id: first.id, pricePerSegment: '0.000001' });
    const free = await setPrice(admin, { provider: 'simulator', country: 'US', prefix: '1415', currency: 'USD', pricePerSegment: '0' });
    expect(free).toMatchObject({ prefix: '1415', pricePerSegment: '0' });
    expect(Date.now() - Date.parse(free.effectiveFrom)).toBeLessThan(60_000); // default: now
    expect((await list(admin)).map((p) => p.id)).toEqual([free.id, first.id]);
    const node = expectNoErrors(await admin(`query($id: ID!) { node(id: $id) { ... on Price { pricePerSegment } } }`, { id: first.id })).node;
    expect(node).toEqual({ pricePerSegment: '0.000001' });
  });

  it('refuses bad input with a ValidationError per field', async () => {
    const { admin } = await t.seedAccount();
    const bad = await mutate(admin, SET_PRICE, { input: { provider: 'nexmo', country: 'us', prefix: '44', currency: 'dollars', pricePerSegment: '0.0000001' } });
    expect(bad.__typename).toBe('ValidationError');
    expect(bad.issues.map((i: any) => i.path)).toEqual([
      ['input', 'provider'],
      ['input', 'country'],
      ['input', 'currency'],
      ['input', 'pricePerSegment'],
    ]);
    for (const pricePerSegment of ['-1', '1e3']) {
      const refused = await mutate(admin, SET_PRICE, { input: { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment } });
      expect(refused).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'pricePerSegment'] }] });
    }
    const prefix = await mutate(admin, SET_PRICE, { input: { provider: 'twilio', country: 'GB', prefix: '1415', currency: 'GBP', pricePerSegment: '0.03' } });
    expect(prefix).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'prefix'], message: "must start with GB's calling code 44" }] });
    expect(await list(admin)).toEqual([]);
  });

  it('filters by provider and country, and `at` keeps the row in effect per (provider, country, prefix)', async () => {
    const { admin } = await t.seedAccount();
    await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00Z' });
    await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0083', effectiveFrom: '2026-03-01T00:00:00Z' });
    await setPrice(admin, { provider: 'twilio', country: 'US', prefix: '1415', currency: 'USD', pricePerSegment: '0.01', effectiveFrom: '2026-02-01T00:00:00Z' });
    await setPrice(admin, { provider: 'twilio', country: 'CN', currency: 'CNY', pricePerSegment: '0.045', effectiveFrom: '2026-01-01T00:00:00Z' });
    await setPrice(admin, { provider: 'simulator', country: 'US', currency: 'USD', pricePerSegment: '0', effectiveFrom: '2026-01-01T00:00:00Z' });

    expect(summary(await list(admin, { provider: 'twilio', country: 'US' }))).toEqual([
      'twilio US - 0.0079 USD 2026-01-01T00:00:00.000Z',
      'twilio US - 0.0083 USD 2026-03-01T00:00:00.000Z',
      'twilio US 1415 0.01 USD 2026-02-01T00:00:00.000Z',
    ]);
    expect(summary(await list(admin, { country: 'US', at: '2026-02-15T00:00:00Z' }))).toEqual([
      'simulator US - 0 USD 2026-01-01T00:00:00.000Z',
      'twilio US - 0.0079 USD 2026-01-01T00:00:00.000Z',
      'twilio US 1415 0.01 USD 2026-02-01T00:00:00.000Z',
    ]);
    expect(summary(await list(admin, { provider: 'twilio', at: '2026-12-01T00:00:00Z' }))).toEqual([
      'twilio CN - 0.045 CNY 2026-01-01T00:00:00.000Z',
      'twilio US - 0.0083 USD 2026-03-01T00:00:00.000Z',
      'twilio US 1415 0.01 USD 2026-02-01T00:00:00.000Z',
    ]);
    expect(await list(admin, { at: '2025-01-01T00:00:00Z' })).toEqual([]);
  });

  it('removes a price of the account; an unknown or malformed id is NOT_FOUND', async () => {
    const { admin } = await t.seedAccount();
    const price = await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0079' });
    expect(await mutate(admin, REMOVE_PRICE, { id: 'nonsense' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await mutate(admin, REMOVE_PRICE, { id: price.id })).toEqual({ __typename: 'RemovePriceSuccess', data: price.id });
    expect(await mutate(admin, REMOVE_PRICE, { id: price.id })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await list(admin)).toEqual([]);
  });
});

describe('tenancy and roles', () => {
  it("another account neither sees, finds, exports, removes nor is priced by an account's prices", async () => {
    const owner = await t.seedAccount();
    const stranger = await t.seedAccount();
    const price = await setPrice(owner.admin, { provider: 'simulator', country: 'US', currency: 'USD', pricePerSegment: '0.0079' });
    expect(await list(stranger.admin)).toEqual([]);
    expect(expectNoErrors(await stranger.admin(EXPORT_PRICES)).exportPrices).toBe(HEADER.replace('\n', '\r\n'));
    expect(expectNoErrors(await stranger.admin(`query($id: ID!) { node(id: $id) { id } }`, { id: price.id })).node).toBeNull();
    expect(await mutate(stranger.admin, REMOVE_PRICE, { id: price.id })).toMatchObject({ __typename: 'NotFoundError' });
    // The stranger's replace-import deletes its own prices only.
    expect(await mutate(stranger.admin, IMPORT_PRICES, { csv: HEADER, replace: true })).toMatchObject({ data: { created: 0, replaced: 0, removed: 0 } });
    const preview = expectNoErrors(await stranger.sender(PREVIEW, { input: { body: 'hi', to: '+12125550100' } })).previewMessage;
    expect(preview.costs[0]).toMatchObject({ provider: 'simulator', pricePerSegment: null });
    expect((await list(owner.admin)).map((p) => p.id)).toEqual([price.id]);
  });

  it('is ADMIN only: a SENDER key gets FORBIDDEN from the mutations and an error from the queries', async () => {
    const account = await t.seedAccount();
    const price = await setPrice(account.admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0079' });
    const input = { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '1' };
    expect(await mutate(account.sender, SET_PRICE, { input })).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect(await mutate(account.sender, REMOVE_PRICE, { id: price.id })).toMatchObject({ __typename: 'ForbiddenError' });
    expect(await mutate(account.sender, IMPORT_PRICES, { csv: HEADER, replace: true })).toMatchObject({ __typename: 'ForbiddenError' });
    for (const query of [LIST_PRICES, EXPORT_PRICES]) {
      const refused = await account.sender(query);
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    expect(summary(await list(account.admin))).toEqual([expect.stringContaining('twilio US - 0.0079 USD')]);
  });
});

describe('importPrices and exportPrices', () => {
  it('imports nothing when any line is bad, naming each line and column', async () => {
    const { admin } = await t.seedAccount();
    await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00Z' });
    const csv = `${HEADER}twilio,US,,USD,0.5,2026-01-01T00:00:00Z\ntwilio,GB,,GBP,0.03,\ntwilio,GB,,GBP,-0.03,\nnexmo,US,1,USD,1,\ntwilio,FR,,EUR\n`;
    const result = await mutate(admin, IMPORT_PRICES, { csv, replace: true });
    expect(result.__typename).toBe('ValidationError');
    expect(result.issues).toEqual([
      { path: ['csv', '4', 'price'], message: 'must not be negative' },
      { path: ['csv', '5', 'provider'], message: expect.stringContaining('not a configured provider') },
      { path: ['csv', '6'], message: expect.stringContaining('expected 6 columns') },
    ]);
    // Not even the good lines, nor the replace.
    expect(summary(await list(admin))).toEqual(['twilio US - 0.0079 USD 2026-01-01T00:00:00.000Z']);
  });

  it('counts created and replaced; replace: true deletes the rest in the same import', async () => {
    const { admin } = await t.seedAccount();
    await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00Z' });
    await setPrice(admin, { provider: 'twilio', country: 'CN', currency: 'CNY', pricePerSegment: '0.045', effectiveFrom: '2026-01-01T00:00:00Z' });
    const csv = `${HEADER}twilio,US,,USD,0.0081,2026-01-01T00:00:00Z\ntwilio,US,1415,USD,0.01,2026-01-01\n`;
    expect(await mutate(admin, IMPORT_PRICES, { csv })).toMatchObject({ __typename: 'ImportPricesSuccess', data: { created: 1, replaced: 1, removed: 0 } });
    expect(summary(await list(admin))).toEqual([
      'twilio CN - 0.045 CNY 2026-01-01T00:00:00.000Z',
      'twilio US - 0.0081 USD 2026-01-01T00:00:00.000Z',
      'twilio US 1415 0.01 USD 2026-01-01T00:00:00.000Z',
    ]);
    const replacing = `${HEADER}simulator,US,,USD,0,2026-01-01T00:00:00Z\ntwilio,US,,USD,0.0082,2026-01-01T00:00:00Z\n`;
    expect(await mutate(admin, IMPORT_PRICES, { csv: replacing, replace: true })).toMatchObject({ data: { created: 1, replaced: 1, removed: 2 } });
    expect(summary(await list(admin))).toEqual(['simulator US - 0 USD 2026-01-01T00:00:00.000Z', 'twilio US - 0.0082 USD 2026-01-01T00:00:00.000Z']);
  });

  it('exports CSV that imports back to the same list', async () => {
    const { admin } = await t.seedAccount();
    await setPrice(admin, { provider: 'twilio', country: 'US', currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00Z' });
    await setPrice(admin, { provider: 'twilio', country: 'US', prefix: '1415', currency: 'USD', pricePerSegment: '12.5', effectiveFrom: '2026-02-01T10:30:00.123Z' });
    await setPrice(admin, { provider: 'simulator', country: 'CN', currency: 'CNY', pricePerSegment: '0', effectiveFrom: '2026-01-01T00:00:00Z' });
    const before = summary(await list(admin));
    const csv = expectNoErrors(await admin(EXPORT_PRICES)).exportPrices as string;
    expect(csv).toBe(
      'provider,country,prefix,currency,price,effective_from\r\n' +
        'simulator,CN,,CNY,0,2026-01-01T00:00:00.000Z\r\n' +
        'twilio,US,,USD,0.0079,2026-01-01T00:00:00.000Z\r\n' +
        'twilio,US,1415,USD,12.5,2026-02-01T10:30:00.123Z\r\n',
    );
    expect(await mutate(admin, IMPORT_PRICES, { csv, replace: true })).toMatchObject({ data: { created: 0, replaced: 3, removed: 0 } });
    expect(summary(await list(admin))).toEqual(before);

    const other = await t.seedAccount();
    expect(await mutate(other.admin, IMPORT_PRICES, { csv })).toMatchObject({ data: { created: 3, replaced: 0, removed: 0 } });
    expect(expectNoErrors(await other.admin(EXPORT_PRICES)).exportPrices).toBe(csv);
  });

  it('two imports of one list at once: each is whole, and a loser is told to import again', async () => {
    const { admin } = await t.seedAccount();
    const csv = `${HEADER}twilio,US,,USD,0.0079,2026-01-01T00:00:00Z\ntwilio,US,1415,USD,0.01,2026-01-01T00:00:00Z\n`;
    const results = await Promise.all([1, 2].map(() => mutate(admin, IMPORT_PRICES, { csv })));
    for (const result of results) {
      if (result.__typename === 'ImportPricesSuccess') expect(result.data.created + result.data.replaced).toBe(2);
      else expect(result).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['csv'], message: expect.stringContaining('import again') }] });
    }
    expect(results.map((r) => r.__typename)).toContain('ImportPricesSuccess');
    expect(summary(await list(admin))).toEqual(['twilio US - 0.0079 USD 2026-01-01T00:00:00.000Z', 'twilio US 1415 0.01 USD 2026-01-01T00:00:00.000Z']);
  });

  it('refuses a CSV over 1 MiB or 50 000 lines with a clear error', async () => {
    const { admin } = await t.seedAccount();
    const large = await mutate(admin, IMPORT_PRICES, { csv: HEADER + `twilio,US,,USD,0.0079,\n`.repeat(50_000) });
    expect(large).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['csv'], message: expect.stringContaining('over the 1048576-byte (1 MiB) limit') }] });
    const long = await mutate(admin, IMPORT_PRICES, { csv: HEADER + ',,,,,\n'.repeat(50_001) });
    expect(long).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['csv'], message: expect.stringContaining('more than 50000 prices') }] });
  });
});

describe('previewMessage costs', () => {
  it('estimates each routed provider in failover order: a known price × segments, an unknown one as null (not "0")', async () => {
    const { admin, sender } = await t.seedAccount();
    await setPrice(admin, { provider: 'simulator', country: 'US', currency: 'USD', pricePerSegment: '0.0079', effectiveFrom: '2026-01-01T00:00:00Z' });
    await setPrice(admin, { provider: 'twilio', country: 'CN', currency: 'CNY', pricePerSegment: '0.045', effectiveFrom: '2026-01-01T00:00:00Z' });
    const body = 'x'.repeat(200); // GSM-7: two segments
    const us = expectNoErrors(await sender(PREVIEW, { input: { body, to: '+1 212 555 0100' } })).previewMessage;
    expect(us.segments).toBe(2);
    expect(us.costs).toEqual([
      { provider: 'simulator', pricePerSegment: '0.0079', currency: 'USD', estimatedCost: '0.0158', segments: 2 },
      { provider: 'twilio', pricePerSegment: null, currency: null, estimatedCost: null, segments: 2 },
    ]);
    // China's route has Twilio only.
    const cn = expectNoErrors(await sender(PREVIEW, { input: { body, to: '+8613800138000' } })).previewMessage;
    expect(cn.costs).toEqual([{ provider: 'twilio', pricePerSegment: '0.045', currency: 'CNY', estimatedCost: '0.09', segments: 2 }]);
  });

  it('follows a price change at once, and has no estimate without a valid `to`', async () => {
    const { admin } = await t.seedAccount();
    const preview = async (to?: string) => expectNoErrors(await admin(PREVIEW, { input: { body: 'hello', to } })).previewMessage;
    expect((await preview('+12125550100')).costs[0].pricePerSegment).toBeNull();
    await setPrice(admin, { provider: 'simulator', country: 'US', currency: 'USD', pricePerSegment: '0.0079' });
    expect((await preview('+12125550100')).costs[0]).toMatchObject({ pricePerSegment: '0.0079', estimatedCost: '0.0079' });
    await mutate(admin, IMPORT_PRICES, { csv: HEADER, replace: true });
    expect((await preview('+12125550100')).costs[0].pricePerSegment).toBeNull();
    expect((await preview()).costs).toEqual([]);
    const invalid = await preview('12345');
    expect(invalid.costs).toEqual([]);
    expect(invalid.warnings).toEqual([expect.stringContaining('no cost estimate')]);
  });
});
