-- CreateEnum
CREATE TYPE "VerificationStatus" AS ENUM ('PENDING', 'APPROVED', 'CANCELED', 'EXPIRED', 'MAX_ATTEMPTS_REACHED');

-- AlterTable
ALTER TABLE "AccountSettings" ADD COLUMN     "helpText" TEXT,
ADD COLUMN     "otpAllowedCountries" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "otpPrefixVelocity" JSONB,
ADD COLUMN     "startReply" TEXT,
ADD COLUMN     "stopReply" TEXT;

-- CreateTable
CREATE TABLE "SenderIdentity" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "value" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "provider" TEXT,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SenderIdentity_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InboundMessage" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "providerMessageId" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "inReplyToId" UUID,
    "keyword" TEXT,

    CONSTRAINT "InboundMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Verification" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "to" TEXT NOT NULL,
    "codeHash" BYTEA NOT NULL,
    "codeLength" INTEGER NOT NULL,
    "status" "VerificationStatus" NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "messageId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "approvedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Verification_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "SenderIdentity_value_key" ON "SenderIdentity"("value");

-- CreateIndex
CREATE INDEX "SenderIdentity_accountId_idx" ON "SenderIdentity"("accountId");

-- CreateIndex
CREATE INDEX "InboundMessage_accountId_id_idx" ON "InboundMessage"("accountId", "id" DESC);

-- CreateIndex
CREATE INDEX "InboundMessage_accountId_from_idx" ON "InboundMessage"("accountId", "from");

-- CreateIndex
CREATE UNIQUE INDEX "InboundMessage_provider_providerMessageId_key" ON "InboundMessage"("provider", "providerMessageId");

-- CreateIndex
CREATE INDEX "Verification_accountId_to_createdAt_idx" ON "Verification"("accountId", "to", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Verification_accountId_id_idx" ON "Verification"("accountId", "id" DESC);

-- AddForeignKey
ALTER TABLE "SenderIdentity" ADD CONSTRAINT "SenderIdentity_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboundMessage" ADD CONSTRAINT "InboundMessage_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboundMessage" ADD CONSTRAINT "InboundMessage_inReplyToId_fkey" FOREIGN KEY ("inReplyToId") REFERENCES "Message"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Verification" ADD CONSTRAINT "Verification_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Verification" ADD CONSTRAINT "Verification_messageId_fkey" FOREIGN KEY ("messageId") REFERENCES "Message"("id") ON DELETE SET NULL ON UPDATE CASCADE;
