import DataLoader from 'dataloader';
import type { PrismaClient } from '../db/database.js';
import type { SimulatorStatusWord } from '../providers/simulator-payload.js';
import type { SimulatorStore, StoredSubmission } from '../providers/simulator-store.js';
import { GROUP_PER_MOMENT } from './grouped-lookups.js';

type Row = Omit<StoredSubmission, 'outcome'> & { outcome: string };

const toSubmission = (row: Row): StoredSubmission => ({ ...row, outcome: row.outcome as SimulatorStatusWord });

/** The simulator's memory in Herald's database (table SimulatorSubmission). */
export function createDatabaseSimulatorStore(prisma: PrismaClient): SimulatorStore {
  // Submissions accepted in the same moment are one INSERT, and reports sent in the same moment
  // are marked in one UPDATE (DataLoader's batching, as the other grouped statements).
  const accepted = new DataLoader<StoredSubmission, StoredSubmission>(
    async (submissions) => {
      // Insert-if-absent returning the row that stands: two instances racing on one reference
      // agree on one row (the no-op update makes a conflicting insert return the stored row).
      // One row per reference: ON CONFLICT DO UPDATE may not touch a row twice in a statement.
      const first = [...new Map(submissions.map((s) => [s.reference, s])).values()];
      const rows = await prisma.$queryRaw<Row[]>`
        INSERT INTO "SimulatorSubmission" (reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt")
        SELECT * FROM unnest(${first.map((s) => s.reference)}::text[], ${first.map((s) => s.providerMessageId)}::text[],
          ${first.map((s) => s.outcome)}::text[], ${first.map((s) => s.acceptedAt)}::timestamptz[], ${first.map((s) => s.reportDueAt)}::timestamptz[])
        ON CONFLICT (reference) DO UPDATE SET reference = EXCLUDED.reference
        RETURNING reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt", "reportedAt"`;
      const byReference = new Map(rows.map((row) => [row.reference, toSubmission(row)]));
      return submissions.map((s) => byReference.get(s.reference) ?? new Error(`submission ${s.reference} was not stored`));
    },
    { ...GROUP_PER_MOMENT, maxBatchSize: 1000 },
  );
  const reported = new DataLoader<{ reference: string; at: Date }, true>(
    async (marks) => {
      await prisma.$executeRaw`
        UPDATE "SimulatorSubmission" s SET "reportedAt" = u.at
        FROM unnest(${marks.map((m) => m.reference)}::text[], ${marks.map((m) => m.at)}::timestamptz[]) AS u(reference, at)
        WHERE s.reference = u.reference`;
      return marks.map(() => true as const);
    },
    { ...GROUP_PER_MOMENT, maxBatchSize: 1000 },
  );
  return {
    accept: (submission) => accepted.load(submission),
    async find(reference) {
      const row = await prisma.simulatorSubmission.findUnique({ where: { reference } });
      return row ? toSubmission(row) : undefined;
    },
    async markReported(reference, at) {
      await reported.load({ reference, at });
    },
    async claimOverdue(cutoff, leaseUntil, limit) {
      const rows = await prisma.$queryRaw<Row[]>`
        UPDATE "SimulatorSubmission" SET "reportDueAt" = ${leaseUntil}
        WHERE reference IN (SELECT reference FROM "SimulatorSubmission"
                            WHERE "reportedAt" IS NULL AND "reportDueAt" < ${cutoff}
                            ORDER BY "reportDueAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt", "reportedAt"`;
      return rows.map(toSubmission);
    },
  };
}
