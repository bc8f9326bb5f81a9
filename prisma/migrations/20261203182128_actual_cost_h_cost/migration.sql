-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "actualCostAt" TIMESTAMPTZ(3),
ADD COLUMN     "actualCostCheckedAt" TIMESTAMPTZ(3),
ADD COLUMN     "actualCostChecks" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "actualCostCurrency" TEXT,
ADD COLUMN     "actualCostMicros" BIGINT;

-- Hand-written (Prisma's schema cannot say WHERE): the messages whose actual cost is still to be
-- asked for, by provider and send time (dispatch/actual-cost.ts). A message leaves it once its
-- cost is written; the fetcher only reads its own providers' rows inside ACTUAL_COST_WINDOW_MS.
CREATE INDEX "Message_actual_cost_pending_idx" ON "Message" ("provider", "sentAt") WHERE "actualCostAt" IS NULL AND "providerMessageId" IS NOT NULL;
