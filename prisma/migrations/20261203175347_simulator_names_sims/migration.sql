-- DropIndex
DROP INDEX "SimulatorSubmission_reportDueAt_idx";

-- AlterTable
ALTER TABLE "SimulatorSubmission" DROP CONSTRAINT "SimulatorSubmission_pkey",
ADD COLUMN     "simulator" TEXT NOT NULL DEFAULT 'simulator',
ADD CONSTRAINT "SimulatorSubmission_pkey" PRIMARY KEY ("simulator", "reference");

-- CreateIndex
CREATE INDEX "SimulatorSubmission_simulator_reportDueAt_idx" ON "SimulatorSubmission"("simulator", "reportDueAt");
