import type { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from '../db/database.js';
import { HeraldError, IdempotencyConflictError } from '../domain/errors.js';
import { draftMessage, type DraftOptions, type MessageDraft, type SendMessageInput } from '../domain/message-draft.js';
import { hashRequest } from '../domain/request-hash.js';

type Tx = Prisma.TransactionClient;

// API.md: the same key with the same input within 24 h returns the original result.
const IDEMPOTENCY_WINDOW_HOURS = 24;

/**
 * Accepts a message: validates it, then writes it and its first event in one transaction
 * before returning, so an accepted message is durable. With an idempotency key, the key's
 * row is inserted in the same transaction: a concurrent duplicate blocks on the primary key
 * until the first commits, then finds its result, so racing requests produce one message.
 */
export async function sendMessage(
  prisma: PrismaClient,
  accountId: string,
  input: SendMessageInput,
  options: DraftOptions,
): Promise<{ id: string } | HeraldError> {
  const draft = draftMessage(input, options);
  if (draft instanceof HeraldError) return draft;
  const key = draft.idempotencyKey;
  if (!key) return insertMessage(prisma, accountId, draft);

  const requestHash = hashRequest({
    to: draft.to,
    from: draft.from,
    body: input.body,
    templateId: input.templateId,
    variables: input.variables,
    scheduledAt: input.scheduledAt,
    metadata: input.metadata,
  });
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`DELETE FROM "IdempotencyRecord"
      WHERE "accountId" = ${accountId}::uuid AND "key" = ${key}
        AND "createdAt" < now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`;
    const claimed = await tx.$executeRaw`INSERT INTO "IdempotencyRecord" ("accountId", "key", "requestHash", "createdAt")
      VALUES (${accountId}::uuid, ${key}, ${requestHash}, now()) ON CONFLICT DO NOTHING`;
    if (claimed === 1) {
      const message = await insertMessage(tx, accountId, draft);
      await tx.idempotencyRecord.update({ where: { accountId_key: { accountId, key } }, data: { messageId: message.id } });
      return message;
    }
    const record = await tx.idempotencyRecord.findUniqueOrThrow({ where: { accountId_key: { accountId, key } } });
    if (record.requestHash !== requestHash || !record.messageId) return new IdempotencyConflictError(key);
    return { id: record.messageId };
  });
}

async function insertMessage(prisma: PrismaClient | Tx, accountId: string, draft: MessageDraft): Promise<{ id: string }> {
  return prisma.message.create({
    select: { id: true },
    data: {
      accountId,
      to: draft.to,
      from: draft.from,
      body: draft.body,
      encoding: draft.encoding,
      segments: draft.segments,
      status: draft.status,
      scheduledAt: draft.scheduledAt,
      idempotencyKey: draft.idempotencyKey,
      metadata: (draft.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
      variables: (draft.variables ?? undefined) as Prisma.InputJsonValue | undefined,
      events: { create: { status: draft.status, source: 'API' } },
    },
  });
}
