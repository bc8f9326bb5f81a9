-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "accessTokenId" UUID;

-- CreateIndex
CREATE INDEX "MessageEvent_at_idx" ON "MessageEvent"("at");
