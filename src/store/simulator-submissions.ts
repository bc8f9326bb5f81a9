// The simulator's memory in Herald's database (table SimulatorSubmission): what a remote
// provider would keep in its own, so that dedup, `lookup` and unsent reports survive a crash of
// the process that submitted, and are shared by every instance. Each simulator (SIMULATORS can
// name several) has its own rows: a message tried on one and then another is two submissions,
// and one simulator's recovery never sends another's reports.
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import { simulatorStatusWords, type SimulatorStatusWord } from '../providers/simulator/simulator-payload.js';
import type { SimulatorStore, StoredSubmission } from '../providers/simulator/simulator-memory-store.js';

/** A row as the statements below return it (outcome is checked, not assumed). */
interface SubmissionRow {
  reference: string;
  providerMessageId: string;
  outcome: string;
  acceptedAt: Date;
  reportDueAt: Date;
  reportedAt: Date | null;
}

function toSubmission(row: SubmissionRow): StoredSubmission {
  if (!isStatusWord(row.outcome)) throw new Error(`simulator submission ${row.reference} has an unknown outcome ${row.outcome}`);
  return { ...row, outcome: row.outcome };
}

const isStatusWord = (value: string): value is SimulatorStatusWord => Object.hasOwn(simulatorStatusWords, value);

/** The stores of each simulator by name, created on first use and kept. */
export function createSimulatorSubmissionStores(prisma: PrismaClient): (simulator: string) => SimulatorStore {
  const stores = new Map<string, SimulatorStore>();
  return (simulator) => {
    let store = stores.get(simulator);
    if (!store) stores.set(simulator, (store = createSimulatorSubmissionStore(prisma, simulator)));
    return store;
  };
}

function createSimulatorSubmissionStore(prisma: PrismaClient, simulator: string): SimulatorStore {
  // Submissions accepted in the same turn are one INSERT, and reports sent in the same turn
  // are marked in one UPDATE.
  const accepted = groupPerTurn<StoredSubmission, StoredSubmission>(
    async (submissions) => {
      // Insert-if-absent returning the row that stands: two instances racing on one reference
      // agree on one row (the no-op update makes a conflicting insert return the stored row).
      // One row per reference: ON CONFLICT DO UPDATE may not touch a row twice in a statement.
      const first = [...new Map(submissions.map((s) => [s.reference, s])).values()];
      const rows = await prisma.$queryRaw<SubmissionRow[]>`
        INSERT INTO "SimulatorSubmission" (simulator, reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt")
        SELECT ${simulator}::text, * FROM unnest(${first.map((s) => s.reference)}::text[], ${first.map((s) => s.providerMessageId)}::text[],
          ${first.map((s) => s.outcome)}::text[], ${first.map((s) => s.acceptedAt)}::timestamptz[], ${first.map((s) => s.reportDueAt)}::timestamptz[])
        ON CONFLICT (simulator, reference) DO UPDATE SET reference = EXCLUDED.reference
        RETURNING reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt", "reportedAt"`;
      const byReference = new Map(rows.map((row) => [row.reference, toSubmission(row)]));
      return submissions.map((s) => byReference.get(s.reference) ?? new Error(`submission ${s.reference} was not stored`));
    },
    { maxGroupSize: 1000 },
  );
  const reported = groupPerTurn<{ reference: string; at: Date }, true>(
    async (marks) => {
      await prisma.$executeRaw`
        UPDATE "SimulatorSubmission" s SET "reportedAt" = u.at
        FROM unnest(${marks.map((m) => m.reference)}::text[], ${marks.map((m) => m.at)}::timestamptz[]) AS u(reference, at)
        WHERE s.simulator = ${simulator} AND s.reference = u.reference`;
      return marks.map(() => true as const);
    },
    { maxGroupSize: 1000 },
  );
  return {
    accept: accepted,
    async find(reference) {
      const row = await prisma.simulatorSubmission.findUnique({ where: { simulator_reference: { simulator, reference } } });
      return row ? toSubmission(row) : undefined;
    },
    async markReported(reference, at) {
      await reported({ reference, at });
    },
    async claimOverdue(cutoff, leaseUntil, limit) {
      const rows = await prisma.$queryRaw<SubmissionRow[]>`
        UPDATE "SimulatorSubmission" SET "reportDueAt" = ${leaseUntil}
        WHERE simulator = ${simulator} AND reference IN (SELECT reference FROM "SimulatorSubmission"
                            WHERE simulator = ${simulator} AND "reportedAt" IS NULL AND "reportDueAt" < ${cutoff}
                            ORDER BY "reportDueAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt", "reportedAt"`;
      return rows.map(toSubmission);
    },
  };
}
