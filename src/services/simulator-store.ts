import DataLoader from 'dataloader';
import type { PrismaClient } from '../db/database.js';
import type { SimulatorStatusWord } from '../providers/simulator-payload.js';
import type { SimulatorStore, StoredSubmission } from '../providers/simulator-store.js';

type Row = Omit<StoredSubmission, 'outcome'> & { outcome: string };

const toSubmission = (row: Row): StoredSubmission => ({ ...row, outcome: row.outcome as SimulatorStatusWord });

/** The simulator's memory in Herald's database (table SimulatorSubmission). */
export function createDatabaseSimulatorStore(prisma: PrismaClient): SimulatorStore {
  // Reports sent in the same moment are marked in one UPDATE (DataLoader's batching, no cache).
  const reported = new DataLoader<{ reference: string; at: Date }, true>(
    async (marks) => {
      await prisma.$executeRaw`
        UPDATE "SimulatorSubmission" s SET "reportedAt" = u.at
        FROM unnest(${marks.map((m) => m.reference)}::text[], ${marks.map((m) => m.at)}::timestamptz[]) AS u(reference, at)
        WHERE s.reference = u.reference`;
      return marks.map(() => true as const);
    },
    { cache: false, maxBatchSize: 1000 },
  );
  return {
    async accept(submission) {
      // Insert-if-absent returning the row that stands: two instances racing on one reference
      // agree on one row (the no-op update makes a conflicting insert return the stored row).
      const [row] = await prisma.$queryRaw<Row[]>`
        INSERT INTO "SimulatorSubmission" (reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt")
        VALUES (${submission.reference}, ${submission.providerMessageId}, ${submission.outcome}, ${submission.acceptedAt}, ${submission.reportDueAt})
        ON CONFLICT (reference) DO UPDATE SET reference = EXCLUDED.reference
        RETURNING reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt", "reportedAt"`;
      return toSubmission(row!);
    },
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
