// The dispatcher's own status changes (SCHEDULED → QUEUED when due, QUEUED → SENDING when claimed,
// SENT → EXPIRED at the report deadline) write their event in the same statement as the change,
// so in the same transaction: the event log that watchers read and that the outgoing-webhook
// outbox relays can never lack a change that committed (a crash between two statements could
// lose the event before). Checked on both databases by the statements sent: one, doing both.
// Rows are dated in 2000, so these claims take only this file's messages from a shared database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatchQueueStore } from '../../src/store/dispatch-queue.js';
import { createReconciliationStore } from '../../src/store/reconciliation.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let accountId: string;
beforeAll(async () => {
  t = await startTestHerald();
  ({ accountId } = await t.seedAccount());
});
afterAll(async () => t?.stop());

const Y2K = new Date('2000-01-01T00:00:00Z');
const later = (ms: number) => new Date(Y2K.getTime() + ms);

async function message(fields: { status: 'SCHEDULED' | 'QUEUED' | 'SENT' } & Record<string, unknown>) {
  const row = await t.database.prisma.message.create({
    data: { accountId, to: '+14155550100', body: 'atomic', encoding: 'GSM7', segments: 1, dueAt: Y2K, ...fields },
  });
  return row.id;
}

const eventsOf = (id: string) => t.database.prisma.messageEvent.findMany({ where: { messageId: id }, orderBy: { id: 'asc' } });

/** The statements `run` sends, and its result. */
async function statements<T>(run: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  const before = t.queries.length;
  const result = await run();
  return { result, sql: t.queries.slice(before) };
}

describe("the dispatcher's status changes and their events", () => {
  it('promotes a due SCHEDULED message to QUEUED and logs it in one statement', async () => {
    const id = await message({ status: 'SCHEDULED' });
    const store = createDispatchQueueStore(t.database.prisma);
    const { result, sql } = await statements(() => store.promoteDue(later(1_000), 100));
    expect(result).toEqual([{ id, accountId, batchId: null }]);
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/UPDATE "Message"[\s\S]*INSERT INTO "MessageEvent"/);
    expect((await eventsOf(id)).map((e) => [e.status, e.source, e.applied])).toEqual([['QUEUED', 'DISPATCHER', true]]);
  });

  it('claims a QUEUED message as SENDING and logs it in one statement; a lease taken over is not logged again', async () => {
    const id = await message({ status: 'QUEUED' });
    const store = createDispatchQueueStore(t.database.prisma);
    const first = await statements(() => store.claimDue(later(1_000), later(2_000), 'test-owner', 100));
    // (The first test's message, QUEUED since, is claimed too: only this one is looked at.)
    const mine = (rows: { id: string }[]) => rows.filter((r) => r.id === id);
    expect(mine(first.result).map((r: any) => [r.id, r.previous, r.attempts, r.to, r.encoding])).toEqual([[id, 'QUEUED', 1, '+14155550100', 'GSM7']]);
    expect(first.sql).toHaveLength(1);
    expect(first.sql[0]).toMatch(/UPDATE "Message"[\s\S]*INSERT INTO "MessageEvent"/);
    // Its lease runs out: another claim takes it (SENDING → SENDING), with no second event.
    const second = await statements(() => store.claimDue(later(3_000), later(4_000), 'other-owner', 100));
    expect(mine(second.result).map((r: any) => [r.id, r.previous, r.attempts])).toEqual([[id, 'SENDING', 2]]);
    expect((await eventsOf(id)).map((e) => e.status)).toEqual(['SENDING']);
  });

  it('expires a SENT message past the deadline and logs it, with the synthetic raw status, in one statement', async () => {
    const id = await message({ status: 'SENT', provider: 'simulator', providerMessageId: 'sim-atomic', sentAt: Y2K });
    const store = createReconciliationStore(t.database.prisma);
    const { result, sql } = await statements(() => store.expireSentBefore(later(1_000), later(2_000), 100, 'no delivery report', 'NO_REPORT_BEFORE_DEADLINE'));
    expect(result).toEqual([{ id, accountId, batchId: null }]);
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/UPDATE "Message"[\s\S]*INSERT INTO "MessageEvent"/);
    const row = await t.database.prisma.message.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'EXPIRED', statusSynthetic: true, errorCode: 'EXPIRED' });
    expect((await eventsOf(id)).map((e) => [e.status, e.rawStatus, e.errorCode, e.applied, e.at.getTime()])).toEqual([
      ['EXPIRED', 'NO_REPORT_BEFORE_DEADLINE', 'EXPIRED', true, later(2_000).getTime()],
    ]);
  });
});
