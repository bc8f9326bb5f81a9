// Templates as sends and edits read them: a live template with its current version (every
// templated send asks), and the locks that keep concurrent edits in order.
import type { PrismaClient } from '../db/database.js';
import { isUuid } from '../domain/ids.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Db, Tx } from './db-client.js';

const withCurrent = { currentVersion: true } satisfies Prisma.TemplateInclude;
type TemplateRow = Prisma.TemplateGetPayload<{ include: typeof withCurrent }>;
/** A live template and the version it is at (a template always has one once created). */
export type TemplateWithVersion = TemplateRow & { currentVersion: NonNullable<TemplateRow['currentVersion']> };

export interface TemplateReads {
  /**
   * A template of the account that is not deleted, with its current version. With `forUpdate`
   * (in a transaction), its row stays locked until the transaction ends, so that concurrent
   * edits read the version the previous edit made instead of all making the same new version.
   */
  findLive(accountId: string, id: string, options?: { forUpdate?: boolean; db?: Db }): Promise<TemplateWithVersion | undefined>;
  /**
   * Holds a lock on (account, name) until `tx` ends, so that concurrent creates or renames to
   * one name are checked one after the other (there is no unique index: deleted templates keep
   * their names).
   */
  lockName(tx: Tx, accountId: string, name: string): Promise<void>;
}

export function createTemplateReads(prisma: PrismaClient): TemplateReads {
  return {
    async findLive(accountId, id, options = {}) {
      const db = options.db ?? prisma;
      // Callers may pass a client's id as given (sendMessage does): not a uuid is not found, not a database error.
      if (!isUuid(id)) return undefined;
      if (options.forUpdate) await db.$executeRaw`SELECT 1 FROM "Template" WHERE "id" = ${id}::uuid AND "accountId" = ${accountId}::uuid FOR UPDATE`;
      const template = await db.template.findFirst({ where: { id, accountId, deletedAt: null }, include: withCurrent });
      return withVersion(template);
    },
    async lockName(tx, accountId, name) {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`herald:template-name:${accountId}:${name}`}, 0))`;
    },
  };
}

function withVersion(template: TemplateRow | null): TemplateWithVersion | undefined {
  if (!template) return undefined;
  const { currentVersion } = template;
  return currentVersion ? { ...template, currentVersion } : undefined;
}
