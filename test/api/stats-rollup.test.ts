// messageStats' rollup (src/store/message-stats-rollup.ts) against the exact aggregate, on PGlite and
// PostgreSQL: rolled-up days plus the live rest give the exact counts, before and after late status
// changes; histogram medians stay within the stated error; the loop rolls changed days again; two
// loops on one database never count a day twice. Passes are run here by hand (the test Herald's
// loop is off), on a database of this file's own on PostgreSQL, so no other file's data is rolled.
import { inject } from 'vitest';
import { SMSClient } from '../../src/client/index.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { MAX_RELATIVE_ERROR } from '../../src/domain/stats-histogram.js';
import { statsGroupBys, type StatsGroupBy } from '../../src/domain/stats.js';
import { createLogger } from '../../src/logging/logger.js';
import { makeConfig } from '../../src/config/config.js';
import { createRollupPass, createStatsRollupLoop } from '../../src/services/message-stats-rollup.js';
import { messageStats, type MessageStats, type StatsGroup, type StatsSources } from '../../src/services/message-stats.js';
import { createMessageStatsRollup, type MessageStatsRollup } from '../../src/store/message-stats-rollup.js';
import { createStore, type Store } from '../../src/store/store.js';
import { createOwnDatabase, expectNoErrors, startTestHerald, testDatabaseKind, type SeededAccount, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let own: { url: string; drop(): Promise<void> } | undefined;
let store: Store;
/** The rollup with a margin of 0.3 s instead of 5 minutes: late changes are looked at 0.3 s after they are stamped. */
let rollup: MessageStatsRollup;
let sources: StatsSources;
const MARGIN_MS = 300;
const settle = () => new Promise((resolve) => setTimeout(resolve, MARGIN_MS + 100));
beforeAll(async () => {
  own = testDatabaseKind() === 'postgres' ? await createOwnDatabase(inject('postgresUrl')) : undefined;
  t = await startTestHerald({}, { databaseUrl: own?.url });
  store = createStore(t.database);
  rollup = createMessageStatsRollup(t.database, { marginMs: MARGIN_MS });
  sources = { reads: store.stats, rollup };
});
afterAll(async () => {
  await t?.stop();
  await own?.drop();
});

const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const dayStart = (daysAgo: number) => new Date(today - daysAgo * DAY_MS);
const dayKey = (daysAgo: number) => dayStart(daysAgo).toISOString().slice(0, 10);
const NUMBERS = ['+14155550100', '+16135550123', '+4915123456789', '+8613800138000', '+447400123456', '+33612345678'];
const STATUSES = ['DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'SENT', 'UNDELIVERED', 'FAILED', 'EXPIRED', 'CANCELED', 'QUEUED'] as const;

/** Passes until one finds nothing left to do (waiting while another instance holds the lock). */
async function catchUp(on: MessageStatsRollup = rollup): Promise<void> {
  const pass = createRollupPass(on);
  for (let i = 0; i < 1000; i++) {
    const result = await pass();
    if (!result.more && !result.locked) return;
    if (result.locked) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the rollup did not catch up in 1000 passes');
}

/**
 * `perDay` messages on each of the days 8, 7, 6 and 5 days ago and today (so far), with every
 * status, three providers and none, six countries, two templates and none, and times to delivery
 * from half a second to two hours. Written as the send path writes them: "updatedAt" is the last
 * change, long past for old days.
 */
async function seed(account: SeededAccount, perDay: number): Promise<{ estimatedCostMicros: bigint | null; costCurrency: string | null }[]> {
  const templates = await Promise.all(
    ['A', 'B'].map((name) => t.database.prisma.template.create({ data: { accountId: account.accountId, name: `T${name}-${account.accountId}`, category: 'NOTIFICATION' } })),
  );
  const rows = [];
  for (const daysAgo of [8, 7, 6, 5, 0]) {
    const span = daysAgo === 0 ? Math.max(1, Date.now() - today - 120_000) : DAY_MS;
    for (let i = 0; i < perDay; i++) {
      const n = daysAgo * 1000 + i;
      const createdAt = new Date(dayStart(daysAgo).getTime() + ((n * 7919) % span));
      const status = STATUSES[(n * 37) % STATUSES.length]!;
      const delay = status === 'DELIVERED' ? 0.5 * Math.exp(((n * 13) % 100) / 12) : 0; // 0.5 s … about 2.2 h
      const deliveredAt = status === 'DELIVERED' ? new Date(createdAt.getTime() + delay * 1000) : null;
      const provider = status === 'CANCELED' || status === 'QUEUED' ? null : (['twilio', 'aliyun', 'smpp'] as const)[n % 3];
      // A cost where a provider took it, except every fifth (no price known), in two currencies.
      const priced = provider !== null && n % 5 !== 0;
      rows.push({
        accountId: account.accountId,
        to: NUMBERS[n % NUMBERS.length]!,
        body: 'rollup',
        encoding: 'GSM7' as const,
        segments: 1 + (n % 3),
        status,
        provider,
        estimatedCostMicros: priced ? BigInt((1 + (n % 3)) * 7_900 + (n % 7)) : null,
        costCurrency: priced ? (n % 2 ? 'USD' : 'EUR') : null,
        templateId: n % 3 === 0 ? null : templates[n % 2]!.id,
        createdAt,
        updatedAt: deliveredAt ?? createdAt,
        deliveredAt,
        dueAt: status === 'QUEUED' ? new Date('2099-01-01T00:00:00Z') : null,
      });
    }
  }
  await t.database.prisma.message.createMany({ data: rows });
  return rows;
}

/** Late changes, as a report or the reconciler writes them now: SENT → DELIVERED or EXPIRED, on old days. */
async function changeLate(account: SeededAccount, daysAgo: number[]): Promise<number> {
  let changed = 0;
  for (const d of daysAgo) {
    const sent = await t.database.prisma.message.findMany({
      where: { accountId: account.accountId, status: 'SENT', createdAt: { gte: dayStart(d), lt: dayStart(d - 1) } },
      select: { id: true, createdAt: true },
    });
    for (const [i, m] of sent.entries()) {
      const now = new Date();
      await t.database.prisma.message.update({
        where: { id: m.id },
        data: i % 2 ? { status: 'EXPIRED', updatedAt: now } : { status: 'DELIVERED', deliveredAt: now, updatedAt: now },
      });
      changed++;
    }
  }
  return changed;
}

const both = async (account: SeededAccount, groupBy: StatsGroupBy, from: Date, to: Date): Promise<[MessageStats, MessageStats]> => {
  const fast = await messageStats(sources, account.accountId, { from, to, groupBy }, { exactBelow: 0 });
  const exact = await messageStats(sources, account.accountId, { from, to, groupBy, exact: true });
  if (!('groups' in fast) || !('groups' in exact)) throw new Error('unexpected validation error');
  return [fast, exact];
};

const counts = ({ medianSecondsToDelivery: _, ...rest }: StatsGroup) => rest;

/** Same groups with the same counts; each median within the histogram's error of the exact one. */
function expectSameAnswer(fast: MessageStats, exact: MessageStats): void {
  expect(fast.groups.map(counts)).toEqual(exact.groups.map(counts));
  expect(counts(fast.totals)).toEqual(counts(exact.totals));
  for (const [f, e] of [...fast.groups.map((g, i) => [g, exact.groups[i]!] as const), [fast.totals, exact.totals] as const]) {
    if (e.medianSecondsToDelivery === null) expect(f.medianSecondsToDelivery).toBeNull();
    else expect(Math.abs(f.medianSecondsToDelivery! - e.medianSecondsToDelivery) / e.medianSecondsToDelivery).toBeLessThanOrEqual(MAX_RELATIVE_ERROR + 1e-9);
  }
}

describe('messageStats rollup', () => {
  it('adds rolled-up days to the live rest for exactly the exact counts, before and after late status changes', async () => {
    const account = await t.seedAccount();
    const seeded = await seed(account, 150);
    // From the middle of the first day (live) through the rolled days and the empty ones to now.
    const from = new Date(dayStart(8).getTime() + 12 * 3_600_000);
    const to = new Date(Date.now() + 60_000);

    await catchUp();
    // The days with messages, and maybe some of the empty days after them (as far as the last
    // piece reached); never today.
    const rolled = await rollup.currentDays(account.accountId, dayKey(8), dayKey(0));
    expect(rolled.slice(0, 4)).toEqual([dayKey(8), dayKey(7), dayKey(6), dayKey(5)]);
    expect(rolled.every((day) => day < dayKey(0))).toBe(true);
    for (const groupBy of statsGroupBys) expectSameAnswer(...(await both(account, groupBy, from, to)));
    // Costs: exact per-currency sums, whole range (the first day from its middle is live).
    const [fastTotals] = await both(account, 'PROVIDER', dayStart(9), to);
    const expected = (currency: string) => seeded.filter((r) => r.costCurrency === currency).reduce((sum, r) => sum + r.estimatedCostMicros!, 0n);
    expect(fastTotals.totals.costs).toEqual([
      { currency: 'EUR', micros: expected('EUR') },
      { currency: 'USD', micros: expected('USD') },
    ]);
    expect(fastTotals.groups.find((g) => g.key === 'NONE')?.costs).toEqual([]);

    // Late reports and expiries on rolled days: those days are counted live until rolled again.
    expect(await changeLate(account, [7, 5])).toBeGreaterThan(10);
    expect(await rollup.currentDays(account.accountId, dayKey(7), dayKey(4))).toEqual([dayKey(6)]);
    for (const groupBy of statsGroupBys) expectSameAnswer(...(await both(account, groupBy, from, to)));

    await settle();
    await catchUp();
    expect(await rollup.currentDays(account.accountId, dayKey(7), dayKey(4))).toEqual([dayKey(7), dayKey(6), dayKey(5)]);
    // Each change is looked at once: the next pass finds nothing to roll again.
    expect((await createRollupPass(rollup)()).steps).toEqual([{ kind: 'idle' }]);
    for (const groupBy of statsGroupBys) expectSameAnswer(...(await both(account, groupBy, from, to)));
    // The rollup rows themselves now hold the changes.
    const fromRollup = await rollup.parts(account.accountId, [dayKey(7), dayKey(5)], 'DAY');
    const live = await store.stats.liveParts({ accountId: account.accountId, intervals: [{ from: dayStart(7), to: dayStart(6) }, { from: dayStart(5), to: dayStart(4) }] }, 'DAY');
    fromRollup.sort((a, b) => a.key!.localeCompare(b.key!));
    expect(fromRollup.map((p) => [p.key, p.counts, p.segments, Object.fromEntries(p.histogram)])).toEqual(
      live.sort((a, b) => a.key!.localeCompare(b.key!)).map((p) => [p.key, p.counts, p.segments, Object.fromEntries(p.histogram)]),
    );
  });

  it('answers through GraphQL with counts equal to `exact: true`', async () => {
    const account = await t.seedAccount();
    await seed(account, 40);
    await catchUp();
    const query = `query($from: DateTime, $to: DateTime, $exact: Boolean) { messageStats(from: $from, to: $to, groupBy: COUNTRY, exact: $exact) {
      groups { key total delivered medianSecondsToDelivery } totals { total delivered medianSecondsToDelivery } } }`;
    const range = { from: dayStart(9).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    const fast = expectNoErrors(await account.sender(query, range)).messageStats;
    const exact = expectNoErrors(await account.sender(query, { ...range, exact: true })).messageStats;
    expect(fast).toEqual(exact); // 200 messages: under EXACT_BELOW, so exact medians too
    expect(exact.totals.total).toBe(200);
    const sdk = await new SMSClient({ url: t.url, apiKey: account.senderKey }).messageStats(range.from, range.to, 'COUNTRY', { exact: true });
    expect(sdk.totals).toMatchObject(exact.totals);
  });

  it('the loop rolls a day again after a late change, and its rows then hold it', async () => {
    const account = await t.seedAccount();
    await seed(account, 30);
    await catchUp();
    const deliveredOn7 = async () => (await rollup.parts(account.accountId, [dayKey(7)], 'DAY'))[0]!.counts.delivered;
    const before = await deliveredOn7();
    const sent = await t.database.prisma.message.findFirstOrThrow({ where: { accountId: account.accountId, status: 'SENT', createdAt: { gte: dayStart(7), lt: dayStart(6) } } });
    await t.database.prisma.message.update({ where: { id: sent.id }, data: { status: 'DELIVERED', deliveredAt: new Date(), updatedAt: new Date() } });

    const loop = createStatsRollupLoop({ rollup, logger: createLogger(makeConfig({ logLevel: 'silent' })), pollMs: 20 });
    loop.start();
    try {
      await vi.waitFor(async () => expect(await deliveredOn7()).toBe(before + 1), { timeout: 20_000, interval: 50 });
    } finally {
      await loop.stop();
    }
    // Re-rolled, not added to: the day's total is still its message count.
    const [day7] = await rollup.parts(account.accountId, [dayKey(7)], 'DAY');
    expect(day7!.counts.total).toBe(30);
  });

  it('two loops on one database: one works while the other holds off, and no day is counted twice', async () => {
    const account = await t.seedAccount();
    await seed(account, 60);
    const second: Database =
      t.database.kind === 'postgres'
        ? await openDatabase({ databaseUrl: own!.url, dataDir: '/nonexistent', holder: 'test' })
        : t.database; // PGlite: one connection; a second store on it is the second instance
    try {
      const other = createMessageStatsRollup(second, { marginMs: MARGIN_MS });
      if (t.database.kind === 'postgres') {
        // While one instance holds the lock, the other's pass does nothing.
        await t.database.prisma.$transaction(async (tx) => {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('herald:stats-rollup', 0))`;
          const result = await createRollupPass(other)();
          expect(result).toMatchObject({ locked: true, more: false });
        });
      }
      await Promise.all([catchUp(rollup), catchUp(other), catchUp(rollup), catchUp(other)]);
      const from = new Date(dayStart(9).getTime());
      const to = new Date(Date.now() + 60_000);
      for (const groupBy of ['DAY', 'STATUS'] as const) {
        const [fast, exact] = await both(account, groupBy, from, to);
        expectSameAnswer(fast, exact);
        expect(fast.totals.total).toBe(300);
      }
      const rows = await t.database.prisma.messageStatsRollup.groupBy({ by: ['dimension'], where: { accountId: account.accountId }, _sum: { total: true } });
      // Each dimension counts every rolled-up message once: the four old days' 240.
      expect(Object.fromEntries(rows.map((r) => [r.dimension, r._sum.total]))).toEqual({ STATUS: 240, PROVIDER: 240, COUNTRY: 240, TEMPLATE: 240 });
    } finally {
      if (second !== t.database) await second.close();
    }
  });
});
