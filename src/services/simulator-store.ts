import type { PrismaClient } from '../db/database.js';
import type { SimulatorStatusWord } from '../providers/simulator-payload.js';
import type { SimulatorStore, StoredSubmission } from '../providers/simulator-store.js';

type Row = Omit<StoredSubmission, 'outcome'> & { outcome: string };

const toSubmission = (row: Row): StoredSubmission => ({ ...row, outcome: row.outcome as SimulatorStatusWord });

/** The simulator's memory in Herald's database (table SimulatorSubmission). */
export function createDatabaseSimulatorStore(prisma: PrismaClient): SimulatorStore {
  return {
    async accept(submission) {
      // Insert-if-absent, then read: two instances racing on one reference agree on one row.
      await prisma.$executeRaw`
        INSERT INTO "SimulatorSubmission" (reference, "providerMessageId", outcome, "acceptedAt", "reportDueAt")
        VALUES (${submission.reference}, ${submission.providerMessageId}, ${submission.outcome}, ${submission.acceptedAt}, ${submission.reportDueAt})
        ON CONFLICT (reference) DO NOTHING`;
      return toSubmission(await prisma.simulatorSubmission.findUniqueOrThrow({ where: { reference: submission.reference } }));
    },
    async find(reference) {
      const row = await prisma.simulatorSubmission.findUnique({ where: { reference } });
      return row ? toSubmission(row) : undefined;
    },
    async markReported(reference, at) {
      await prisma.simulatorSubmission.updateMany({ where: { reference }, data: { reportedAt: at } });
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
