-- CreateTable
CREATE TABLE "MessageStatsRollup" (
    "accountId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "dimension" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "delivered" INTEGER NOT NULL,
    "undelivered" INTEGER NOT NULL,
    "failed" INTEGER NOT NULL,
    "rejected" INTEGER NOT NULL,
    "expired" INTEGER NOT NULL,
    "canceled" INTEGER NOT NULL,
    "inFlight" INTEGER NOT NULL,
    "segments" BIGINT NOT NULL,
    "deliveryBuckets" INTEGER[],
    "deliveryCounts" INTEGER[],

    CONSTRAINT "MessageStatsRollup_pkey" PRIMARY KEY ("accountId","dimension","day","key")
);

-- CreateTable
CREATE TABLE "MessageStatsDay" (
    "accountId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "coveredUntil" TIMESTAMPTZ(3) NOT NULL,
    "dirty" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "MessageStatsDay_pkey" PRIMARY KEY ("accountId","day")
);

-- CreateTable
CREATE TABLE "MessageStatsRollupState" (
    "id" INTEGER NOT NULL,
    "checkedUntil" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "MessageStatsRollupState_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "MessageStatsRollup" ADD CONSTRAINT "MessageStatsRollup_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MessageStatsDay" ADD CONSTRAINT "MessageStatsDay_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written (Prisma's schema cannot say WHERE): the changes to messages made more than an hour
-- after their creation, the only ones that can reach a day after messageStats' rollup took it
-- (src/store/message-stats-rollup.ts). Senders' own changes come within seconds or minutes and
-- never enter this index; it holds late reports, reconciled, expired and scheduled messages.
CREATE INDEX "Message_late_change_idx" ON "Message" ("updatedAt") WHERE ("updatedAt" - "createdAt") > '01:00:00'::interval;

-- The days the rollup loop must take again.
CREATE INDEX "MessageStatsDay_dirty_idx" ON "MessageStatsDay" ("accountId", "day") WHERE "dirty";
