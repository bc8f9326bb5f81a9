-- CreateIndex
CREATE INDEX "Verification_accountId_createdAt_idx" ON "Verification"("accountId", "createdAt" DESC);
