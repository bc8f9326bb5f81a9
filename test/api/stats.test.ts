// messageStats over messages written straight into the database (known statuses, times,
// providers, countries), so every figure can be checked exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldApiError, SMSClient } from '../../src/client/index.js';
import { expectNoErrors, startTestHerald, type SeededAccount, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const STATS = `query($from: DateTime, $to: DateTime, $groupBy: StatsGroupBy) {
  messageStats(from: $from, to: $to, groupBy: $groupBy) {
    from to groupBy
    groups { key label total delivered undelivered failed rejected expired canceled inFlight segments deliveryRate medianSecondsToDelivery }
    totals { key total delivered segments deliveryRate medianSecondsToDelivery }
  }
}`;

const DAY1 = new Date('2025-03-01T10:00:00Z');
const DAY2 = new Date('2025-03-02T23:30:00Z');
const at = (base: Date, seconds: number) => new Date(base.getTime() + seconds * 1000);
const RANGE = { from: '2025-03-01T00:00:00Z', to: '2025-03-03T00:00:00Z' };

interface Seed {
  to: string;
  status: string;
  createdAt: Date;
  provider?: string;
  segments?: number;
  deliverAfter?: number;
  templateId?: string;
}

async function seedMessages(account: SeededAccount, rows: Seed[]) {
  await t.database.prisma.message.createMany({
    data: rows.map((r) => ({
      accountId: account.accountId,
      to: r.to,
      body: 'stats',
      encoding: 'GSM7' as const,
      segments: r.segments ?? 1,
      status: r.status as 'DELIVERED',
      provider: r.provider ?? null,
      templateId: r.templateId ?? null,
      createdAt: r.createdAt,
      deliveredAt: r.deliverAfter === undefined ? null : at(r.createdAt, r.deliverAfter),
      // In-flight rows are due far in the future so no dispatcher touches them.
      dueAt: ['SCHEDULED', 'QUEUED'].includes(r.status) ? new Date('2099-01-01T00:00:00Z') : null,
    })),
  });
}

async function stats(account: SeededAccount, groupBy: string, range = RANGE, caller: 'admin' | 'sender' = 'sender') {
  // Shaped as before docs/api.md's plain `MessageStats!` was honoured: `data` holds the stats.
  return { __typename: 'MessageStatsSuccess', data: expectNoErrors(await account[caller](STATS, { ...range, groupBy })).messageStats };
}

async function seedStandard(account: SeededAccount, templateId?: string) {
  await seedMessages(account, [
    { to: '+14155550100', status: 'DELIVERED', createdAt: DAY1, provider: 'twilio', deliverAfter: 2, segments: 2, templateId },
    { to: '+14155550101', status: 'DELIVERED', createdAt: DAY1, provider: 'twilio', deliverAfter: 4, templateId },
    { to: '+16135550123', status: 'DELIVERED', createdAt: DAY2, provider: 'aliyun', deliverAfter: 10 },
    { to: '+4915123456789', status: 'UNDELIVERED', createdAt: DAY2, provider: 'aliyun', segments: 3 },
    { to: '+4915123456780', status: 'FAILED', createdAt: DAY2 },
    { to: '+8613800138000', status: 'EXPIRED', createdAt: DAY2, provider: 'twilio' },
    { to: '+8613800138001', status: 'SENT', createdAt: DAY1, provider: 'twilio' },
    { to: '+8613800138002', status: 'CANCELED', createdAt: DAY1 },
    // Outside the range on both sides: never counted.
    { to: '+14155550100', status: 'DELIVERED', createdAt: new Date('2025-02-28T23:59:59.999Z'), provider: 'twilio', deliverAfter: 1 },
    { to: '+14155550100', status: 'DELIVERED', createdAt: new Date('2025-03-03T00:00:00Z'), provider: 'twilio', deliverAfter: 1 },
  ]);
}

describe('messageStats', () => {
  it('counts by status with segments, delivery rate over final outcomes and median time to delivery, and a total', async () => {
    const account = await t.seedAccount();
    await seedStandard(account);
    const result = await stats(account, 'STATUS');
    expect(result.__typename).toBe('MessageStatsSuccess');
    const byKey = Object.fromEntries(result.data.groups.map((g: any) => [g.key, g]));
    expect(Object.fromEntries(result.data.groups.map((g: any) => [g.key, g.total]))).toEqual({
      DELIVERED: 3, UNDELIVERED: 1, FAILED: 1, EXPIRED: 1, SENT: 1, CANCELED: 1,
    });
    expect(byKey.DELIVERED).toMatchObject({ delivered: 3, segments: 4, deliveryRate: 1, medianSecondsToDelivery: 4 });
    expect(byKey.SENT).toMatchObject({ inFlight: 1, deliveryRate: null, medianSecondsToDelivery: null });
    // 3 delivered of 6 final (canceled and in flight left out).
    expect(result.data.totals).toEqual({ key: 'TOTAL', total: 8, delivered: 3, segments: 11, deliveryRate: 0.5, medianSecondsToDelivery: 4 });
  });

  it('groups by UTC day, provider, country and template (with names as labels and global ids as keys)', async () => {
    const account = await t.seedAccount();
    const template = await t.database.prisma.template.create({ data: { accountId: account.accountId, name: 'Parcel notice', category: 'NOTIFICATION' } });
    await seedStandard(account, template.id);

    const days = (await stats(account, 'DAY')).data.groups;
    expect(days.map((g: any) => [g.key, g.total, g.delivered])).toEqual([['2025-03-01', 4, 2], ['2025-03-02', 4, 1]]);
    expect(days[0].medianSecondsToDelivery).toBe(3); // percentile_cont interpolates 2 s and 4 s

    const providers = (await stats(account, 'PROVIDER')).data.groups;
    expect(providers.map((g: any) => [g.key, g.total])).toEqual([['twilio', 4], ['aliyun', 2], ['NONE', 2]]);
    expect(providers.find((g: any) => g.key === 'aliyun')).toMatchObject({ delivered: 1, undelivered: 1, deliveryRate: 0.5, segments: 4 });

    const countries = (await stats(account, 'COUNTRY')).data.groups;
    expect(countries.map((g: any) => [g.key, g.label, g.total])).toEqual([
      ['CN', 'China', 3], ['DE', 'Germany', 2], ['US', 'United States', 2], ['CA', 'Canada', 1],
    ]);

    const templates = (await stats(account, 'TEMPLATE')).data.groups;
    expect(templates.map((g: any) => [g.label, g.total])).toEqual([['No template', 6], ['Parcel notice', 2]]);
    const key = templates.find((g: any) => g.label === 'Parcel notice').key;
    const filtered = expectNoErrors(await account.sender(`query($f: MessageFilter) { messages(first: 10, filter: $f) { edges { node { id } } } }`, { f: { templateId: key } }));
    expect(filtered.messages.edges).toHaveLength(2);
  });

  it("never shows another account's messages or template names", async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const template = await t.database.prisma.template.create({ data: { accountId: a.accountId, name: 'Secret campaign', category: 'MARKETING' } });
    await seedStandard(a, template.id);
    for (const groupBy of ['DAY', 'PROVIDER', 'STATUS', 'COUNTRY', 'TEMPLATE']) {
      for (const caller of ['admin', 'sender'] as const) {
        const result = await stats(b, groupBy, RANGE, caller);
        expect(result.data.groups).toEqual([]);
        expect(result.data.totals.total).toBe(0);
      }
    }
    expect((await stats(a, 'TEMPLATE')).data.totals.total).toBe(8);
  });

  it('answers a reversed or too long range with a VALIDATION_FAILED error naming `to`', async () => {
    const account = await t.seedAccount();
    for (const range of [
      { from: '2025-03-02T00:00:00Z', to: '2025-03-01T00:00:00Z' },
      { from: '2024-01-01T00:00:00Z', to: '2025-03-01T00:00:00Z' },
    ]) {
      const result = await account.sender(STATS, { ...range, groupBy: 'DAY' });
      expect(result.data).toBeNull();
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION_FAILED', issues: [{ path: ['to'] }] } });
    }
    const bad = await account.sender(STATS, { from: 'yesterday', to: RANGE.to, groupBy: 'DAY' });
    expect(bad.errors?.length).toBeGreaterThan(0);
  });

  it('takes no arguments as docs/api.md has it: the last 30 days by status', async () => {
    const account = await t.seedAccount();
    await seedMessages(account, [{ to: '+14155550100', status: 'DELIVERED', createdAt: new Date(Date.now() - 86_400_000), provider: 'twilio', deliverAfter: 3 }]);
    const plain = expectNoErrors(await account.sender('{ messageStats { groupBy totals { total delivered deliveryRate segments } } }')).messageStats;
    expect(plain).toMatchObject({ groupBy: 'STATUS', totals: { total: 1, delivered: 1, deliveryRate: 1, segments: 1 } });
  });

  it('is in the typed SDK: groups and totals, and VALIDATION_FAILED as a HeraldApiError', async () => {
    const account = await t.seedAccount();
    await seedStandard(account);
    const client = new SMSClient({ url: t.url, apiKey: account.senderKey });
    const stats = await client.messageStats(new Date(RANGE.from), RANGE.to, 'COUNTRY');
    expect(stats.totals.total).toBe(8);
    expect(stats.groups[0]).toMatchObject({ key: 'CN', label: 'China', total: 3 });
    const error = await client.messageStats(RANGE.to, RANGE.from, 'DAY').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldApiError);
    expect((error as HeraldApiError).code).toBe('VALIDATION_FAILED');
  });
});
