-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "redactedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "InboundMessage" ADD COLUMN     "redactedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "MessageStatsDay" ADD COLUMN     "purgedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "RetentionPolicy" (
    "accountId" UUID NOT NULL,
    "bodyDays" INTEGER,
    "recordDays" INTEGER,
    "verificationDays" INTEGER,
    "webhookLogDays" INTEGER,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RetentionPolicy_pkey" PRIMARY KEY ("accountId")
);

-- AddForeignKey
ALTER TABLE "RetentionPolicy" ADD CONSTRAINT "RetentionPolicy_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
