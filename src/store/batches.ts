// Batches of sendMessages: the batch row with its refused recipients, and its messages, written
// in one transaction; and the earlier batch an idempotent retry returns.
import { z } from 'zod';
import type { PrismaClient } from '../db/database.js';
import type { MessageDraft } from '../domain/message-draft.js';
import type { NewMessages } from './new-messages.js';

const rejectionSchema = z.object({ index: z.number(), to: z.string(), code: z.string(), message: z.string() });

/** A recipient refused by sendMessages: kept on the batch so an idempotent retry returns it. */
export type BatchRejection = z.infer<typeof rejectionSchema>;

export interface StoredBatch {
  id: string;
  requestHash: string | null;
  createdAt: Date;
  rejections: BatchRejection[];
}

export interface NewBatch {
  batchId: string;
  accountId: string;
  /** The key and the request it stands for; a row older than `windowMs` gives its key up. */
  idempotency: { key: string; requestHash: string; windowMs: number } | null;
  total: number;
  rejections: BatchRejection[];
  /** The accepted messages and their ids, in order. */
  ids: string[];
  drafts: MessageDraft[];
}

export interface Batches {
  findByKey(accountId: string, key: string): Promise<StoredBatch | null>;
  /** Writes the batch and its messages; false when a concurrent duplicate holds the key. */
  insert(batch: NewBatch): Promise<boolean>;
}

export function createBatches(prisma: PrismaClient, newMessages: NewMessages): Batches {
  return {
    async findByKey(accountId, key) {
      const batch = await prisma.batch.findUnique({
        where: { accountId_idempotencyKey: { accountId, idempotencyKey: key } },
        select: { id: true, requestHash: true, createdAt: true, rejections: true },
      });
      return batch && { ...batch, rejections: z.array(rejectionSchema).parse(batch.rejections) };
    },

    insert(batch) {
      const { batchId, accountId, idempotency } = batch;
      const counts = { total: batch.total, accepted: batch.drafts.length, rejected: batch.rejections.length };
      return prisma.$transaction(
        async (tx) => {
          if (idempotency) {
            const { key, requestHash, windowMs } = idempotency;
            // An expired key is free again: detach it from its old batch.
            await tx.batch.updateMany({ where: { accountId, idempotencyKey: key, createdAt: { lt: new Date(Date.now() - windowMs) } }, data: { idempotencyKey: null } });
            const claimed = await tx.$executeRaw`
              INSERT INTO "Batch" (id, "accountId", "idempotencyKey", "requestHash", total, accepted, rejected, rejections, "createdAt")
              VALUES (${batchId}::uuid, ${accountId}::uuid, ${key}, ${requestHash}, ${counts.total}, ${counts.accepted}, ${counts.rejected},
                      ${JSON.stringify(batch.rejections)}::jsonb, now())
              ON CONFLICT ("accountId", "idempotencyKey") DO NOTHING`;
            if (claimed === 0) return false; // a concurrent duplicate won
          } else {
            await tx.batch.create({ data: { id: batchId, accountId, ...counts, rejections: batch.rejections } });
          }
          await newMessages.insertBatch(tx, accountId, batchId, batch.ids, batch.drafts);
          return true;
        },
        { timeout: 60_000 },
      );
    },
  };
}
