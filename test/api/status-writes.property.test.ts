// The status write is a compare-and-set under the row lock (store/message-status.ts): whatever
// mix of delivery reports, dispatcher outcomes and expiries races on a message, in whatever
// grouping and order they reach the database, the stored history only moves forward.
// Properties checked against the real database (PGlite and PostgreSQL runs):
//   - the applied events of a message have strictly rising status ranks, none after a final one
//     (except the one correction of Herald's own synthetic EXPIRED by a real final report);
//   - the message's status is its last applied event's status;
//   - every change asked for is recorded as an event (applied or not): nothing is lost.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideReport } from '../../src/dispatch/reports.js';
import { isFinal, statusRank, type MessageStatus } from '../../src/domain/status-machine.js';
import { createMessageStatusStore, type Decide } from '../../src/store/message-status.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const reportStatuses: MessageStatus[] = ['SENT', 'DELIVERED', 'UNDELIVERED', 'EXPIRED', 'FAILED', 'REJECTED', 'SENDING'];

/** One writer's intent: a provider report, or Herald's own expiry at the deadline. */
type Write = { kind: 'report'; status: MessageStatus } | { kind: 'expire' };

const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...reportStatuses).map((status) => ({ kind: 'report' as const, status })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
);

/** Herald's own expiry (dispatch/reconciler.ts): SENT → EXPIRED, marked synthetic. */
const expire: Decide = (m) => (m.status === 'SENT' ? { next: 'EXPIRED', data: { statusSynthetic: true }, event: { source: 'DISPATCHER', rawStatus: 'deadline' } } : { next: null, event: { source: 'DISPATCHER', rawStatus: 'deadline' } });

describe('status writes under concurrency (property)', { timeout: 120_000 }, () => {
  let t: TestHerald;
  let accountId: string;

  beforeAll(async () => {
    t = await startTestHerald();
    accountId = (await t.seedAccount()).accountId;
  });
  afterAll(() => t.stop());

  it('only ever move a message forward, whatever races and however they are grouped', async () => {
    const { prisma } = t.database;
    const store = createMessageStatusStore(prisma);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<MessageStatus>('SENDING', 'SENT'),
        // Writers in waves: a wave's writes are asked in one turn (one transaction, in order);
        // waves overlap in time, so their transactions race for the row lock.
        fc.array(fc.tuple(fc.array(writeArb, { minLength: 1, maxLength: 4 }), fc.nat({ max: 3 })), { minLength: 1, maxLength: 6 }),
        async (start, waves) => {
          const message = await prisma.message.create({
            data: { accountId, to: '+14155550100', body: 'property', encoding: 'GSM7', segments: 1, status: start, provider: 'simulator' },
          });
          let asked = 0;
          await Promise.all(
            waves.map(async ([writes, delayMs]) => {
              await new Promise((resolve) => setTimeout(resolve, delayMs));
              await Promise.all(
                writes.map((write) => {
                  asked++;
                  const decide: Decide =
                    write.kind === 'expire' ? expire : decideReport('simulator', { status: write.status, rawStatus: write.status.toLowerCase() }, new Date());
                  return store.change(message.id, decide);
                }),
              );
            }),
          );
          const events = await prisma.messageEvent.findMany({ where: { messageId: message.id }, orderBy: { id: 'asc' } });
          const stored = await prisma.message.findUniqueOrThrow({ where: { id: message.id } });
          expect(events).toHaveLength(asked);
          const applied = events.filter((e) => e.applied);
          let previous: MessageStatus = start;
          let synthetic = false;
          for (const event of applied) {
            const status = event.status as MessageStatus;
            const correction: boolean = synthetic && previous === 'EXPIRED' && isFinal(status) && status !== 'EXPIRED';
            const forward = !isFinal(previous) && statusRank(status) > statusRank(previous);
            expect(correction || forward, `${previous} → ${status} in ${applied.map((e) => e.status).join(', ')}`).toBe(true);
            synthetic = status === 'EXPIRED' && event.source === 'DISPATCHER';
            previous = status;
          }
          expect(stored.status).toBe(applied.at(-1)?.status ?? start);
        },
      ),
      { numRuns: 40 },
    );
  });
});
