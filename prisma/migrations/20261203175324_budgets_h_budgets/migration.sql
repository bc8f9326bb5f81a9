-- CreateTable
CREATE TABLE "Budget" (
    "accountId" UUID NOT NULL,
    "period" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "limitMicros" BIGINT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Budget_pkey" PRIMARY KEY ("accountId","period")
);

-- CreateTable
CREATE TABLE "BudgetSpend" (
    "accountId" UUID NOT NULL,
    "period" TEXT NOT NULL,
    "periodStart" TIMESTAMPTZ(3) NOT NULL,
    "currency" TEXT NOT NULL,
    "spentMicros" BIGINT NOT NULL DEFAULT 0,
    "uncounted" INTEGER NOT NULL DEFAULT 0,
    "notified80" BOOLEAN NOT NULL DEFAULT false,
    "notified100" BOOLEAN NOT NULL DEFAULT false,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BudgetSpend_pkey" PRIMARY KEY ("accountId","period","periodStart","currency")
);

-- CreateTable
CREATE TABLE "MessageStatsCost" (
    "accountId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "dimension" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "costMicros" BIGINT NOT NULL,
    "priced" INTEGER NOT NULL,

    CONSTRAINT "MessageStatsCost_pkey" PRIMARY KEY ("accountId","dimension","day","key","currency")
);

-- AddForeignKey
ALTER TABLE "Budget" ADD CONSTRAINT "Budget_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BudgetSpend" ADD CONSTRAINT "BudgetSpend_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MessageStatsCost" ADD CONSTRAINT "MessageStatsCost_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
