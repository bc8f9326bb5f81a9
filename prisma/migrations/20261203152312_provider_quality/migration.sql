-- CreateTable
CREATE TABLE "ProviderQualityMinute" (
    "provider" TEXT NOT NULL,
    "country" TEXT NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "submitted" INTEGER NOT NULL DEFAULT 0,
    "submitErrors" INTEGER NOT NULL DEFAULT 0,
    "delivered" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "reportsMissing" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ProviderQualityMinute_pkey" PRIMARY KEY ("provider","country","minute")
);

-- CreateTable
CREATE TABLE "ProviderQualityLatency" (
    "provider" TEXT NOT NULL,
    "country" TEXT NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "bucket" INTEGER NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "ProviderQualityLatency_pkey" PRIMARY KEY ("provider","country","minute","bucket")
);

-- CreateIndex
CREATE INDEX "ProviderQualityMinute_minute_idx" ON "ProviderQualityMinute"("minute");

-- CreateIndex
CREATE INDEX "ProviderQualityLatency_minute_idx" ON "ProviderQualityLatency"("minute");
