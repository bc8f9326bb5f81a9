-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "reconciledAt" TIMESTAMPTZ(3),
ADD COLUMN     "statusSynthetic" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Template" ADD COLUMN     "providerTemplates" JSONB;

-- The reconciler looks for SENT messages by age; SENT is a small, moving part of the table.
CREATE INDEX "Message_sent_awaiting_report_idx" ON "Message"("sentAt") WHERE status = 'SENT';
