-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "costCurrency" TEXT,
ADD COLUMN     "estimatedCostMicros" BIGINT,
ADD COLUMN     "routing" JSONB;
