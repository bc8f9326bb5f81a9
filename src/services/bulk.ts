// sendMessages: up to 10 000 recipients in one call. Each recipient is validated on its own;
// the accepted ones are written in one transaction with multi-row inserts, all under one
// batch id; the refused ones are listed with their index, code and reason.
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { PrismaClient } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import { HeraldError, IdempotencyConflictError, ValidationError } from '../domain/errors.js';
import type { DraftOptions, MessageDraft, SendMessageInput } from '../domain/message-draft.js';
import { hashRequest } from '../domain/request-hash.js';
import { parseOrError } from '../domain/validation.js';
import type { StatusChange } from '../pubsub.js';
import { prepareSends, type ComplianceDeps } from './send-pipeline.js';
import { findSendableTemplate } from './templates.js';

export const MAX_RECIPIENTS = 10_000;

export interface SendMessagesInput {
  recipients: { to: string; variables?: unknown }[];
  body?: string | null;
  templateId?: string | null;
  from?: string | null;
  scheduledAt?: Date | null;
  idempotencyKey?: string | null;
  metadata?: unknown;
}

export interface RecipientRejection {
  index: number;
  to: string;
  code: string;
  message: string;
}

export interface BatchOutcome {
  batchId: string;
  rejected: RecipientRejection[];
  /** The accepted messages' status changes to announce; empty for an idempotent replay. */
  changes: StatusChange[];
}

// API.md: the same key with the same input within 24 h returns the original result.
const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

const shapeSchema = z
  .object({
    recipients: z.array(z.unknown()).min(1, 'give at least one recipient').max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients per call`),
    idempotencyKey: z.string().min(1, 'must not be empty').max(255).nullish(),
  })
  .loose();

export async function sendMessages(
  prisma: PrismaClient,
  compliance: ComplianceDeps,
  accountId: string,
  input: SendMessagesInput,
  options: DraftOptions,
): Promise<BatchOutcome | HeraldError> {
  const shape = parseOrError(shapeSchema, input, ['input']);
  if (shape instanceof ValidationError) return shape;
  const key = input.idempotencyKey || null;
  const requestHash = key ? hashRequest(input) : null;
  if (key) {
    const earlier = await findEarlierBatch(prisma, accountId, key, requestHash!);
    if (earlier) return earlier;
  }
  // A template problem refuses the whole call, not each of 10 000 recipients the same way.
  if (input.templateId) {
    const template = await findSendableTemplate(prisma, accountId, input.templateId);
    if (template instanceof HeraldError) return template;
  }

  const inputs: SendMessageInput[] = input.recipients.map((r) => ({
    to: r.to,
    body: input.body,
    templateId: input.templateId,
    variables: r.variables,
    from: input.from,
    scheduledAt: input.scheduledAt,
    metadata: input.metadata,
  }));
  const prepared = await prepareSends(prisma, compliance, accountId, inputs, options);
  const rejected: RecipientRejection[] = [];
  const accepted: MessageDraft[] = [];
  prepared.forEach((result, index) => {
    if (result instanceof HeraldError) rejected.push({ index, to: input.recipients[index].to, code: result.code, message: result.message });
    else accepted.push(result);
  });

  const batchId = uuidv7();
  const ids = accepted.map(() => uuidv7());
  const stored = await prisma.$transaction(
    async (tx) => {
      if (key) {
        // An expired key is free again: detach it from its old batch.
        await tx.batch.updateMany({ where: { accountId, idempotencyKey: key, createdAt: { lt: new Date(Date.now() - IDEMPOTENCY_WINDOW_MS) } }, data: { idempotencyKey: null } });
        const claimed = await tx.$executeRaw`
          INSERT INTO "Batch" (id, "accountId", "idempotencyKey", "requestHash", total, accepted, rejected, rejections, "createdAt")
          VALUES (${batchId}::uuid, ${accountId}::uuid, ${key}, ${requestHash}, ${input.recipients.length}, ${accepted.length}, ${rejected.length}, ${JSON.stringify(rejected)}::jsonb, now())
          ON CONFLICT ("accountId", "idempotencyKey") DO NOTHING`;
        if (claimed === 0) return false; // a concurrent duplicate won
      } else {
        await tx.batch.create({
          data: { id: batchId, accountId, total: input.recipients.length, accepted: accepted.length, rejected: rejected.length, rejections: rejected as unknown as Prisma.InputJsonValue },
        });
      }
      await insertDrafts(tx, accountId, batchId, ids, accepted);
      return true;
    },
    { timeout: 60_000 },
  );
  if (!stored) return (await findEarlierBatch(prisma, accountId, key!, requestHash!)) ?? new IdempotencyConflictError(key!);
  return {
    batchId,
    rejected,
    changes: accepted.map((draft, i) => ({ id: ids[i], accountId, batchId, status: draft.status })),
  };
}

/**
 * Two statements for any number of messages: each column is sent as one array parameter and
 * expanded with unnest(). Prisma's createMany compiles a query per call whose cost grows with
 * the row count (seconds for 10 000 rows); this is the multi-row insert the database sees.
 */
async function insertDrafts(tx: Prisma.TransactionClient, accountId: string, batchId: string, ids: string[], drafts: MessageDraft[]): Promise<void> {
  if (drafts.length === 0) return;
  const now = new Date();
  const column = <T>(pick: (d: MessageDraft) => T) => drafts.map(pick);
  const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
  await tx.$executeRaw`
    INSERT INTO "Message" (id, "accountId", "batchId", "to", "from", body, encoding, segments, status, "scheduledAt", "dueAt",
                           metadata, variables, "templateId", "templateVersionId", category, "createdAt", "updatedAt")
    SELECT u.id, ${accountId}::uuid, ${batchId}::uuid, u."to", u."from", u.body, u.encoding::"Encoding", u.segments,
           u.status::"MessageStatus", u."scheduledAt", COALESCE(u."scheduledAt", ${now}), u.metadata, u.variables,
           u."templateId", u."templateVersionId", u.category::"TemplateCategory", ${now}, ${now}
    FROM unnest(${ids}::uuid[], ${column((d) => d.to)}::text[], ${column((d) => d.from)}::text[], ${column((d) => d.body)}::text[],
                ${column((d) => d.encoding)}::text[], ${column((d) => d.segments)}::int[], ${column((d) => d.status)}::text[],
                ${column((d) => d.scheduledAt)}::timestamptz[], ${column((d) => json(d.metadata))}::jsonb[], ${column((d) => json(d.variables))}::jsonb[],
                ${column((d) => d.templateId)}::uuid[], ${column((d) => d.templateVersionId)}::uuid[], ${column((d) => d.category)}::text[])
      AS u(id, "to", "from", body, encoding, segments, status, "scheduledAt", metadata, variables, "templateId", "templateVersionId", category)`;
  await tx.$executeRaw`
    INSERT INTO "MessageEvent" ("messageId", status, source, at, applied)
    SELECT u.id, u.status::"MessageStatus", 'API', ${now}, true
    FROM unnest(${ids}::uuid[], ${column((d) => d.status)}::text[]) AS u(id, status)`;
}

async function findEarlierBatch(prisma: PrismaClient, accountId: string, key: string, requestHash: string): Promise<BatchOutcome | IdempotencyConflictError | undefined> {
  const batch = await prisma.batch.findUnique({ where: { accountId_idempotencyKey: { accountId, idempotencyKey: key } } });
  if (!batch || batch.createdAt.getTime() < Date.now() - IDEMPOTENCY_WINDOW_MS) return undefined;
  if (batch.requestHash !== requestHash) return new IdempotencyConflictError(key);
  return { batchId: batch.id, rejected: batch.rejections as unknown as RecipientRejection[], changes: [] };
}
