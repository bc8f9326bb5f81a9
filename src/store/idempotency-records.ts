// Idempotency keys of single sends: the key's row is claimed in the transaction that inserts
// the message, so a concurrent duplicate blocks on the primary key until the first commits.
import type { PrismaClient } from '../db/database.js';
import type { MessageStatus } from '../domain/status-machine.js';
import type { Db, Tx } from './db-client.js';

export interface IdempotencyRecord {
  requestHash: string;
  messageId: string | null;
  createdAt: Date;
}

export interface IdempotencyRecords {
  find(accountId: string, key: string, db?: Db): Promise<IdempotencyRecord | null>;
  /** The status of the message a record points to (null when it is gone). */
  messageStatus(messageId: string, db?: Db): Promise<MessageStatus | null>;
  /**
   * Frees the key if its row is older than `windowHours`, then takes it: true when this
   * transaction holds it now, false when another request does.
   */
  claim(tx: Tx, accountId: string, key: string, requestHash: string, windowHours: number): Promise<boolean>;
  /** Points the claimed key at the message written in the same transaction. */
  link(tx: Tx, accountId: string, key: string, messageId: string): Promise<void>;
}

export function createIdempotencyRecords(prisma: PrismaClient): IdempotencyRecords {
  return {
    find: (accountId, key, db = prisma) => db.idempotencyRecord.findUnique({ where: { accountId_key: { accountId, key } } }),
    async messageStatus(messageId, db = prisma) {
      return (await db.message.findUnique({ where: { id: messageId }, select: { status: true } }))?.status ?? null;
    },
    async claim(tx, accountId, key, requestHash, windowHours) {
      await tx.$executeRaw`DELETE FROM "IdempotencyRecord"
        WHERE "accountId" = ${accountId}::uuid AND "key" = ${key}
          AND "createdAt" < now() - make_interval(hours => ${windowHours})`;
      const claimed = await tx.$executeRaw`INSERT INTO "IdempotencyRecord" ("accountId", "key", "requestHash", "createdAt")
        VALUES (${accountId}::uuid, ${key}, ${requestHash}, now()) ON CONFLICT DO NOTHING`;
      return claimed === 1;
    },
    async link(tx, accountId, key, messageId) {
      await tx.idempotencyRecord.update({ where: { accountId_key: { accountId, key } }, data: { messageId } });
    },
  };
}
