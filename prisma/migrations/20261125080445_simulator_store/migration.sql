-- CreateTable
CREATE TABLE "SimulatorSubmission" (
    "reference" TEXT NOT NULL,
    "providerMessageId" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "acceptedAt" TIMESTAMPTZ(3) NOT NULL,
    "reportDueAt" TIMESTAMPTZ(3) NOT NULL,
    "reportedAt" TIMESTAMPTZ(3),

    CONSTRAINT "SimulatorSubmission_pkey" PRIMARY KEY ("reference")
);

-- CreateIndex
CREATE UNIQUE INDEX "SimulatorSubmission_providerMessageId_key" ON "SimulatorSubmission"("providerMessageId");

-- CreateIndex
CREATE INDEX "SimulatorSubmission_reportDueAt_idx" ON "SimulatorSubmission"("reportDueAt");
