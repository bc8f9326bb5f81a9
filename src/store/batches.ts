// Batches of sendMessages: the batch row with its refused recipients, its messages and their
// first events, written by one statement; and the earlier batch an idempotent retry returns.
//
// One statement, not a transaction of several: a data-modifying CTE commits or fails as a
// whole, and a 10 000-message batch then costs one round trip. Columns whose value is the same
// for every message of the batch (the body of a plain send, its sender, schedule, metadata,
// template) are sent once as a scalar instead of as an array of 10 000 copies: each array
// element is converted by the client and parsed by PostgreSQL, which took a quarter of the
// insert's time (docs/benchmarks.md).
import { z } from 'zod';
import type { PrismaClient } from '../db/database.js';
import type { MessageDraft } from '../domain/message-draft.js';
import { Prisma } from '../generated/prisma/client.js';

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

type Value = string | number | Date | null;

/** A Message column taken from the draft; `cast` turns the parameter's type into the column's enum. */
interface DraftColumn {
  name: string;
  type: 'text' | 'int' | 'uuid' | 'jsonb' | 'timestamptz';
  cast?: string;
  pick: (draft: MessageDraft) => Value;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

const DRAFT_COLUMNS: readonly DraftColumn[] = [
  { name: 'to', type: 'text', pick: (d) => d.to },
  { name: 'from', type: 'text', pick: (d) => d.from },
  { name: 'body', type: 'text', pick: (d) => d.body },
  { name: 'encoding', type: 'text', cast: '"Encoding"', pick: (d) => d.encoding },
  { name: 'segments', type: 'int', pick: (d) => d.segments },
  { name: 'status', type: 'text', cast: '"MessageStatus"', pick: (d) => d.status },
  { name: 'scheduledAt', type: 'timestamptz', pick: (d) => d.scheduledAt },
  { name: 'metadata', type: 'jsonb', pick: (d) => json(d.metadata) },
  { name: 'variables', type: 'jsonb', pick: (d) => json(d.variables) },
  { name: 'templateId', type: 'uuid', pick: (d) => d.templateId },
  { name: 'templateVersionId', type: 'uuid', pick: (d) => d.templateVersionId },
  { name: 'category', type: 'text', cast: '"TemplateCategory"', pick: (d) => d.category },
];

const same = (a: Value, b: Value) => a === b || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime());

/**
 * The SELECT list's expression of each draft column (`u."to"`, or a scalar parameter when every
 * draft has the same value) and the unnest() arrays of the varying ones, ids first.
 */
function draftColumns(ids: string[], drafts: MessageDraft[]): { select: Map<string, Prisma.Sql>; arrays: Prisma.Sql[]; aliases: Prisma.Sql[] } {
  const select = new Map<string, Prisma.Sql>();
  const arrays = [Prisma.sql`${ids}::uuid[]`];
  const aliases = [Prisma.raw('id')];
  for (const column of DRAFT_COLUMNS) {
    const values = drafts.map(column.pick);
    const first = values[0] ?? null;
    const cast = column.cast ? Prisma.raw(`::${column.cast}`) : Prisma.empty;
    const quoted = Prisma.raw(`"${column.name}"`);
    if (values.every((v) => same(v, first))) {
      select.set(column.name, Prisma.sql`${first}::${Prisma.raw(column.type)}${cast}`);
    } else {
      arrays.push(Prisma.sql`${values}::${Prisma.raw(column.type)}[]`);
      aliases.push(quoted);
      select.set(column.name, Prisma.sql`u.${quoted}${cast}`);
    }
  }
  return { select, arrays, aliases };
}

export function createBatches(prisma: PrismaClient): Batches {
  return {
    async findByKey(accountId, key) {
      const batch = await prisma.batch.findUnique({
        where: { accountId_idempotencyKey: { accountId, idempotencyKey: key } },
        select: { id: true, requestHash: true, createdAt: true, rejections: true },
      });
      return batch && { ...batch, rejections: z.array(rejectionSchema).parse(batch.rejections) };
    },

    async insert(batch) {
      const { batchId, accountId, idempotency, ids, drafts } = batch;
      if (idempotency) {
        // An expired key is free again: detach it from its old batch. On its own, before the
        // insert: if that insert fails, the key was free anyway.
        await prisma.$executeRaw`
          UPDATE "Batch" SET "idempotencyKey" = NULL
          WHERE "accountId" = ${accountId}::uuid AND "idempotencyKey" = ${idempotency.key}
            AND "createdAt" < ${new Date(Date.now() - idempotency.windowMs)}`;
      }
      const now = new Date();
      const { select, arrays, aliases } = draftColumns(ids, drafts);
      const column = (name: string) => select.get(name)!;
      // A duplicate key (a concurrent retry that committed first) leaves `b` empty, and with it
      // every other insert of the statement: nothing is written and the caller returns the first.
      const rows = await prisma.$queryRaw<{ claimed: number }[]>`
        WITH b AS (
          INSERT INTO "Batch" (id, "accountId", "idempotencyKey", "requestHash", total, accepted, rejected, rejections, "createdAt")
          VALUES (${batchId}::uuid, ${accountId}::uuid, ${idempotency?.key ?? null}, ${idempotency?.requestHash ?? null},
                  ${batch.total}, ${drafts.length}, ${batch.rejections.length}, ${JSON.stringify(batch.rejections)}::jsonb, ${now})
          ON CONFLICT ("accountId", "idempotencyKey") DO NOTHING
          RETURNING id
        ), m AS (
          INSERT INTO "Message" (id, "accountId", "batchId", "to", "from", body, encoding, segments, status, "scheduledAt", "dueAt",
                                 metadata, variables, "templateId", "templateVersionId", category, "createdAt", "updatedAt")
          SELECT u.id, ${accountId}::uuid, b.id, ${column('to')}, ${column('from')}, ${column('body')}, ${column('encoding')},
                 ${column('segments')}, ${column('status')}, ${column('scheduledAt')}, COALESCE(${column('scheduledAt')}, ${now}),
                 ${column('metadata')}, ${column('variables')}, ${column('templateId')}, ${column('templateVersionId')},
                 ${column('category')}, ${now}, ${now}
          FROM b, unnest(${Prisma.join(arrays)}) AS u(${Prisma.join(aliases)})
          RETURNING id, status
        ), e AS (
          INSERT INTO "MessageEvent" ("messageId", status, source, at, applied)
          SELECT id, status, 'API', ${now}, true FROM m
        )
        SELECT count(*)::int AS claimed FROM b`;
      return rows[0]!.claimed === 1;
    },
  };
}
