-- DropIndex
DROP INDEX "SimulatorSubmission_simulator_reportDueAt_idx";

-- Hand-written (Prisma's schema cannot say WHERE): the simulator's recovery claims unreported
-- submissions whose report is overdue (src/store/simulator-submissions.ts, claimOverdue), every
-- second. With an index of every submission that claim walked all the reported ones in due order
-- (a whole scan at 200 000 submissions: 13 ms, growing with every message sent); this index holds
-- only the unreported ones, a handful.
CREATE INDEX "SimulatorSubmission_unreported_idx" ON "SimulatorSubmission" ("simulator", "reportDueAt") WHERE "reportedAt" IS NULL;
