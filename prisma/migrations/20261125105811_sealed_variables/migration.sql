-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "sealedVariables" BYTEA;
