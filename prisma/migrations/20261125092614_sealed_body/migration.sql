-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "sealedBody" BYTEA;
