-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "accessTokenId" UUID;

-- CreateIndex
-- BRIN: events are appended in time order, so block ranges find recent ones at almost no cost per insert.
CREATE INDEX "MessageEvent_at_idx" ON "MessageEvent" USING BRIN ("at");
