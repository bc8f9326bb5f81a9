// Several simulators share one table of submissions (SimulatorSubmission) and must not see each
// other's: a message tried on one and then another is two submissions, and one simulator's
// recovery of orphaned reports never sends another's (it would report under the wrong provider).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredSubmission } from '../../src/providers/simulator/simulator-memory-store.js';
import { createSimulatorSubmissionStores } from '../../src/store/simulator-submissions.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(async () => {
  await t?.stop();
});

let sequence = 0;
function submission(reference: string, dueMsAgo: number): StoredSubmission {
  const at = new Date(Date.now() - dueMsAgo);
  return { reference, providerMessageId: `sim_test_${process.pid}_${++sequence}`, outcome: 'delivered', acceptedAt: at, reportDueAt: at, reportedAt: null };
}

describe('simulator submissions, per simulator', () => {
  it('keeps the same reference apart for two simulators, and each finds only its own', async () => {
    const stores = createSimulatorSubmissionStores(t.database.prisma);
    const reference = `ref-${process.pid}-${Date.now()}`;
    const a = await stores('sim-a').accept(submission(reference, 0));
    const b = await stores('sim-b').accept(submission(reference, 0));
    expect(b.providerMessageId).not.toBe(a.providerMessageId);
    expect((await stores('sim-a').find(reference))?.providerMessageId).toBe(a.providerMessageId);
    expect((await stores('sim-b').find(reference))?.providerMessageId).toBe(b.providerMessageId);
    expect(await stores('simulator').find(reference)).toBeUndefined();
    // The same simulator again: the first acceptance stands (dedup).
    expect((await stores('sim-a').accept(submission(reference, 0))).providerMessageId).toBe(a.providerMessageId);
    // Marking one reported leaves the other's unreported.
    await stores('sim-a').markReported(reference, new Date());
    expect((await stores('sim-a').find(reference))?.reportedAt).toBeInstanceOf(Date);
    expect((await stores('sim-b').find(reference))?.reportedAt).toBeNull();
  });

  it("claims only its own overdue reports", async () => {
    const stores = createSimulatorSubmissionStores(t.database.prisma);
    const mine = `own-${process.pid}-${Date.now()}`;
    const theirs = `theirs-${process.pid}-${Date.now()}`;
    await stores('sim-c').accept(submission(mine, 60_000));
    await stores('sim-d').accept(submission(theirs, 60_000));
    const claimed = await stores('sim-c').claimOverdue(new Date(Date.now() - 1_000), new Date(Date.now() + 30_000), 100);
    expect(claimed.map((s) => s.reference)).toEqual([mine]);
    expect((await stores('sim-d').claimOverdue(new Date(Date.now() - 1_000), new Date(Date.now() + 30_000), 100)).map((s) => s.reference)).toEqual([theirs]);
  });
});
