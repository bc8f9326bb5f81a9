-- CreateTable
CREATE TABLE "ProviderDefinition" (
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "settings" JSONB NOT NULL,
    "sealedCredentials" BYTEA,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProviderDefinition_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "RoutingDocument" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "document" JSONB NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RoutingDocument_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConfigChange" (
    "version" SERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "accountId" UUID,
    "keyId" TEXT,
    "keyName" TEXT,
    "subject" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,

    CONSTRAINT "ConfigChange_pkey" PRIMARY KEY ("version")
);

-- CreateIndex
CREATE INDEX "ConfigChange_accountId_version_idx" ON "ConfigChange"("accountId", "version");
