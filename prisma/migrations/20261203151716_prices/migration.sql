-- CreateTable
CREATE TABLE "Price" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "country" TEXT NOT NULL,
    "prefix" TEXT NOT NULL DEFAULT '',
    "currency" TEXT NOT NULL,
    "pricePerSegmentMicros" BIGINT NOT NULL,
    "effectiveFrom" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Price_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Price_accountId_provider_country_prefix_effectiveFrom_key" ON "Price"("accountId", "provider", "country", "prefix", "effectiveFrom");

-- AddForeignKey
ALTER TABLE "Price" ADD CONSTRAINT "Price_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
