-- The transactional outbox for outgoing webhooks (outgoing-webhooks/relay.ts): every status
-- change already writes its MessageEvent, and every reply its InboundMessage, in the transaction
-- that makes the change; each row now also records that transaction's id, so a relay can turn
-- exactly the committed rows into deliveries, in order, however the process that made them died.
-- Rows from before this migration were published by the old path: they keep txid 0 and the relay
-- starts above it.
ALTER TABLE "MessageEvent" ADD COLUMN "txid" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "MessageEvent" ALTER COLUMN "txid" SET DEFAULT ((pg_current_xact_id())::text)::bigint;

ALTER TABLE "InboundMessage" ADD COLUMN "txid" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "InboundMessage" ALTER COLUMN "txid" SET DEFAULT ((pg_current_xact_id())::text)::bigint;

CREATE TABLE "OutboxRelay" (
    "source" TEXT NOT NULL,
    "txid" BIGINT NOT NULL,
    "lastId" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "OutboxRelay_pkey" PRIMARY KEY ("source")
);
INSERT INTO "OutboxRelay" ("source", "txid", "lastId") VALUES ('message-events', 1, '0'), ('inbound', 1, '00000000-0000-0000-0000-000000000000');

-- BRIN: transaction ids grow with the table's physical order, so block ranges find a relay
-- pass's rows at almost no cost per insert (these are the hottest tables).
CREATE INDEX "MessageEvent_txid_idx" ON "MessageEvent" USING BRIN ("txid");
CREATE INDEX "InboundMessage_txid_idx" ON "InboundMessage" USING BRIN ("txid");
