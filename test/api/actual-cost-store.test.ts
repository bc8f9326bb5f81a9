// The actual-cost fetcher's claim, on both databases: which messages it hands out (final status,
// a reporting provider, inside the window, no cost yet, under the attempt limit, past their
// backoff), that a claim counts as an ask, that a recorded cost is never overwritten, and that
// giving up takes a message out for good.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActualCostStore, type ActualCostStore, type CostClaim } from '../../src/store/actual-cost.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let store: ActualCostStore;

beforeAll(async () => {
  t = await startTestHerald();
  store = createActualCostStore(t.database.prisma);
});
afterAll(async () => t?.stop());

const AT = new Date('2026-12-03T12:00:00Z');
const minutesBefore = (minutes: number) => new Date(AT.getTime() - minutes * 60_000);
// Waits between asks: 10 min, then 30 min.
const CLAIM: CostClaim = { providers: ['cost-twilio'], sentAfter: minutesBefore(24 * 60), retryMs: 10 * 60_000, growth: 3, maxChecks: 3, limit: 100 };

let sequence = 0;
async function message(accountId: string, fields: Record<string, unknown> = {}) {
  const row = await t.database.prisma.message.create({
    data: {
      accountId,
      to: '+14155550100',
      body: 'cost',
      encoding: 'GSM7',
      segments: 1,
      status: 'DELIVERED',
      provider: 'cost-twilio',
      providerMessageId: `SM-cost-${++sequence}`,
      sentAt: minutesBefore(60),
      ...fields,
    },
  });
  return row.id;
}

const claimedIds = async (claim: CostClaim = CLAIM, at = AT) => (await store.claimDue(at, claim)).map((r) => r.id).sort();

describe('claiming messages to ask the cost of', () => {
  it('hands out only final messages of reporting providers, inside the window, without a cost, under the limit and past their backoff', async () => {
    const { accountId } = await t.seedAccount();
    const due = [
      await message(accountId),
      await message(accountId, { status: 'UNDELIVERED' }),
      await message(accountId, { actualCostChecks: 1, actualCostCheckedAt: minutesBefore(11) }), // first wait (10 min) over
      await message(accountId, { actualCostChecks: 2, actualCostCheckedAt: minutesBefore(31) }), // second wait (30 min) over
    ].sort();
    await message(accountId, { status: 'SENT' });
    await message(accountId, { status: 'CANCELED', providerMessageId: null });
    await message(accountId, { provider: 'cost-simulator' });
    await message(accountId, { providerMessageId: null });
    await message(accountId, { sentAt: minutesBefore(25 * 60) });
    await message(accountId, { actualCostMicros: 7_900n, actualCostCurrency: 'USD', actualCostAt: minutesBefore(5) });
    await message(accountId, { actualCostChecks: 3, actualCostCheckedAt: minutesBefore(24 * 60) });
    await message(accountId, { actualCostChecks: 1, actualCostCheckedAt: minutesBefore(9) });
    await message(accountId, { actualCostChecks: 2, actualCostCheckedAt: minutesBefore(29) });

    const claimed = await store.claimDue(AT, CLAIM);
    expect(claimed.map((r) => r.id).sort()).toEqual(due);
    expect(claimed.find((r) => r.id === due[0])).toMatchObject({ to: '+14155550100', provider: 'cost-twilio', sentAt: minutesBefore(60) });
    // Claiming is asking: each is asked once more, and not handed out again within its wait.
    const rows = await t.database.prisma.message.findMany({ where: { id: { in: due } }, select: { actualCostChecks: true, actualCostCheckedAt: true } });
    expect(rows.every((r) => r.actualCostCheckedAt?.getTime() === AT.getTime() && r.actualCostChecks >= 1)).toBe(true);
    expect(await claimedIds()).toEqual([]);
    expect(await claimedIds({ ...CLAIM, providers: [] })).toEqual([]);
  });

  it('claims at most `limit`, oldest sent first', async () => {
    const { accountId } = await t.seedAccount();
    const newer = await message(accountId, { sentAt: minutesBefore(2), provider: 'cost-limit' });
    const older = await message(accountId, { sentAt: minutesBefore(3), provider: 'cost-limit' });
    expect(await claimedIds({ ...CLAIM, providers: ['cost-limit'], limit: 1 })).toEqual([older]);
    expect(await claimedIds({ ...CLAIM, providers: ['cost-limit'], limit: 1 })).toEqual([newer]);
  });

  it('records a cost once (a second answer does not overwrite it), and a message given up is never handed out again', async () => {
    const { accountId } = await t.seedAccount();
    const id = await message(accountId, { provider: 'cost-record' });
    expect(await store.record(AT, [{ id, cost: { micros: 7_900n, currency: 'USD' } }])).toBe(1);
    expect(await store.record(AT, [{ id, cost: { micros: 1n, currency: 'EUR' } }])).toBe(0);
    expect(await t.database.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ actualCostMicros: 7_900n, actualCostCurrency: 'USD', actualCostAt: AT });
    expect(await claimedIds({ ...CLAIM, providers: ['cost-record'] })).toEqual([]);

    const never = await message(accountId, { provider: 'cost-never' });
    await store.giveUp([never], CLAIM.maxChecks);
    expect(await claimedIds({ ...CLAIM, providers: ['cost-never'] }, new Date(AT.getTime() + 3_600_000))).toEqual([]);
    expect(await store.record(AT, [])).toBe(0);
  });
});
