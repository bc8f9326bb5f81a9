-- DropIndex
DROP INDEX "Message_status_idx";

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "dueAt" TIMESTAMPTZ(3),
ADD COLUMN     "leaseOwner" TEXT,
ADD COLUMN     "leaseUntil" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "MessageEvent" ADD COLUMN     "applied" BOOLEAN NOT NULL DEFAULT true;

-- CreateTable
CREATE TABLE "PendingStatusReport" (
    "id" BIGSERIAL NOT NULL,
    "provider" TEXT NOT NULL,
    "providerMessageId" TEXT NOT NULL,
    "report" JSONB NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingStatusReport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "PendingStatusReport_provider_providerMessageId_idx" ON "PendingStatusReport"("provider", "providerMessageId");

-- CreateIndex
CREATE INDEX "Message_status_dueAt_idx" ON "Message"("status", "dueAt");

-- CreateIndex
CREATE INDEX "Message_provider_providerMessageId_idx" ON "Message"("provider", "providerMessageId");

-- Hand-written: messages accepted before this migration become due now (or when scheduled).
UPDATE "Message" SET "dueAt" = COALESCE("scheduledAt", "createdAt") WHERE "status" IN ('QUEUED', 'SCHEDULED');

-- Hand-written: finding expired leases must not scan every message. (Partial indexes cannot be
-- declared in schema.prisma; diffs between schema snapshots never see or drop this one.)
CREATE INDEX "Message_sending_lease_idx" ON "Message" ("leaseUntil") WHERE "status" = 'SENDING';
