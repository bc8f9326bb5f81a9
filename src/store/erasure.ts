// Erasing one recipient's data from one account (services/erasure.ts decides; this says how),
// all on the caller's transaction so an erasure is whole or not at all.
import type { Db } from './db-client.js';

export interface ErasureCounts {
  /** Messages to the number: their number replaced, bodies, variables and sealed parts blanked. */
  messages: number;
  /** Of those, queued or scheduled ones canceled first (they will not be sent). */
  canceled: number;
  /** Replies from the number, deleted. */
  replies: number;
  verifications: number;
  /** Outgoing-webhook deliveries whose payload named the number, deleted with their attempts. */
  webhookDeliveries: number;
  /** Batches whose refusals quoted the number, the quote removed. */
  batches: number;
  /** Provider reports not yet matched to a message that named the number, deleted. */
  pendingReports: number;
  /** Whether an opt-out was kept, as a keyed hash. */
  optOutKept: boolean;
}

export async function eraseRecipient(db: Db, accountId: string, e164: string, replacement: { number: string; optOut: string }): Promise<ErasureCounts> {
  const canceled = await db.$executeRaw`
    WITH c AS (
      UPDATE "Message" SET status = 'CANCELED', "updatedAt" = now()
      WHERE "accountId" = ${accountId}::uuid AND "to" = ${e164} AND status IN ('QUEUED', 'SCHEDULED')
      RETURNING id)
    INSERT INTO "MessageEvent" ("messageId", status, source, applied, at) SELECT id, 'CANCELED', 'API', true, now() FROM c`;
  // "updatedAt" is left alone: no status changes here, so no stats day is marked for a roll.
  const messages = await db.$executeRaw`
    UPDATE "Message" SET "to" = ${replacement.number}, body = '', variables = NULL, "sealedBody" = NULL, "sealedVariables" = NULL, "redactedAt" = coalesce("redactedAt", now())
    WHERE "accountId" = ${accountId}::uuid AND "to" = ${e164}`;
  const replies = await db.$executeRaw`DELETE FROM "InboundMessage" WHERE "accountId" = ${accountId}::uuid AND "from" = ${e164}`;
  const verifications = await db.$executeRaw`DELETE FROM "Verification" WHERE "accountId" = ${accountId}::uuid AND "to" = ${e164}`;
  const webhookDeliveries = await db.$executeRaw`
    DELETE FROM "WebhookDelivery" d USING "WebhookEndpoint" e
    WHERE e.id = d."endpointId" AND e."accountId" = ${accountId}::uuid AND strpos(d.payload, ${e164}) > 0`;
  // A refusal in a batch keeps its index and code; the input it quoted, and the message quoting it, go.
  const batches = await db.$executeRaw`
    UPDATE "Batch" SET rejections = (
      SELECT coalesce(jsonb_agg(CASE WHEN strpos(r::text, ${e164.slice(1)}) > 0
        THEN r || jsonb_build_object('to', '[erased]', 'message', 'erased on request') ELSE r END ORDER BY ord), '[]'::jsonb)
      FROM jsonb_array_elements(rejections) WITH ORDINALITY AS e(r, ord))
    WHERE "accountId" = ${accountId}::uuid AND strpos(rejections::text, ${e164.slice(1)}) > 0`;
  const pendingReports = await db.$executeRaw`DELETE FROM "PendingStatusReport" WHERE strpos(report::text, ${e164.slice(1)}) > 0`;
  await db.$executeRaw`
    INSERT INTO "OptOut" ("accountId", phone, source, "createdAt")
    SELECT "accountId", ${replacement.optOut}, source, "createdAt" FROM "OptOut" WHERE "accountId" = ${accountId}::uuid AND phone = ${e164}
    ON CONFLICT DO NOTHING`;
  await db.$executeRaw`DELETE FROM "OptOut" WHERE "accountId" = ${accountId}::uuid AND phone = ${e164}`;
  const [{ kept }] = await db.$queryRaw<[{ kept: boolean }]>`SELECT EXISTS (SELECT 1 FROM "OptOut" WHERE "accountId" = ${accountId}::uuid AND phone = ${replacement.optOut}) AS kept`;
  return { messages, canceled, replies, verifications, webhookDeliveries, batches, pendingReports, optOutKept: kept };
}
