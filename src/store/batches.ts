// Batches of sendMessages: the batch row with its refused recipients, its messages and their
// first events, all committed together; and the earlier batch an idempotent retry returns.
//
// The caller hands the messages over in chunks as it prepares them (begin → add … → commit). On
// PostgreSQL a large batch streams: its transaction is open from the start and each chunk's
// INSERT runs in the database while the caller validates the next chunk, so the database's
// work and Herald's overlap instead of following each other (issue 16: a 10 000-recipient send
// had spent about as long preparing as inserting). Elsewhere (PGlite, one connection that a
// transaction would hold against the caller's own reads) and for small batches, the chunks are
// kept and written by one statement at commit.
//
// Columns whose value is the same for every message (the body of a plain send, its sender,
// schedule, metadata, template) are sent once as a scalar instead of as an array of copies:
// each array element is converted by the client and parsed by PostgreSQL, which took a quarter
// of the insert's time.
import { z } from 'zod';
import type { PrismaClient } from '../db/database.js';
import type { HeraldError } from '../domain/errors.js';
import type { MessageDraft } from '../domain/message-draft.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Db, Tx } from './db-client.js';

const rejectionSchema = z.object({ index: z.number(), to: z.string(), code: z.string(), message: z.string() });

/** A recipient refused by sendMessages: kept on the batch so an idempotent retry returns it. */
export type BatchRejection = z.infer<typeof rejectionSchema>;

export interface StoredBatch {
  id: string;
  requestHash: string | null;
  createdAt: Date;
  rejections: BatchRejection[];
}

/** The batch row, written last: how many recipients there were and which were refused. */
export interface BatchRow {
  /** The key and the request it stands for; a row older than `windowMs` gives its key up. */
  idempotency: { key: string; requestHash: string; windowMs: number } | null;
  total: number;
  rejections: BatchRejection[];
  /**
   * Runs in the batch's transaction once its rows are written (services/budgets.ts charges the
   * account's budgets there). An error returned refuses the batch: everything rolls back and
   * commit() resolves to it.
   */
  charge?: (tx: Tx) => Promise<HeraldError | undefined>;
}

export interface BatchWriter {
  /**
   * Adds accepted messages and their ids, in order. Resolves when the caller may go on with
   * the next chunk: when the chunk streams, once its INSERT is on its way (it runs meanwhile).
   */
  add(ids: string[], drafts: MessageDraft[]): Promise<void>;
  /**
   * Writes the batch row and commits everything; resolves once committed. False when a
   * concurrent duplicate holds the idempotency key, the charge's error when it refused: then
   * nothing of this batch is kept.
   */
  commit(row: BatchRow): Promise<boolean | HeraldError>;
  /** Drops what was added (the caller failed before commit). */
  abort(): Promise<void>;
}

export interface Batches {
  findByKey(accountId: string, key: string): Promise<StoredBatch | null>;
  /** Starts writing a batch of up to `size` messages. */
  begin(batchId: string, accountId: string, size: number): BatchWriter;
}

/** Batches up to this size are written by one statement: there is nothing to overlap. */
const STREAM_ABOVE = 1_000;
/**
 * A streaming batch holds a pooled connection while its caller prepares it, and the caller's
 * own reads (opt-outs) need others: at most this many stream at once (and never more than half
 * the pool), so those reads always find a connection. More would not go faster: the
 * preparation is CPU work in this one process.
 */
const MAX_STREAMS = 2;

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
 * INSERT … SELECT of the messages (`id`, `status` returned for their events): every column
 * that varies is one array in unnest(), every other one a scalar parameter. `from` prefixes
 * the FROM list (the batch row's CTE in the one-statement form).
 */
function messagesInsert(accountId: string, batchId: Prisma.Sql, from: Prisma.Sql, ids: string[], drafts: MessageDraft[], now: Date): Prisma.Sql {
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
  const column = (name: string) => select.get(name)!;
  return Prisma.sql`
    INSERT INTO "Message" (id, "accountId", "batchId", "to", "from", body, encoding, segments, status, "scheduledAt", "dueAt",
                           metadata, variables, "templateId", "templateVersionId", category, "createdAt", "updatedAt")
    SELECT u.id, ${accountId}::uuid, ${batchId}, ${column('to')}, ${column('from')}, ${column('body')}, ${column('encoding')},
           ${column('segments')}, ${column('status')}, ${column('scheduledAt')}, COALESCE(${column('scheduledAt')}, ${now}),
           ${column('metadata')}, ${column('variables')}, ${column('templateId')}, ${column('templateVersionId')},
           ${column('category')}, ${now}, ${now}
    FROM ${from} unnest(${Prisma.join(arrays)}) AS u(${Prisma.join(aliases)})
    RETURNING id, status`;
}

const eventsOf = (now: Date) => Prisma.sql`INSERT INTO "MessageEvent" ("messageId", status, source, at, applied) SELECT id, status, 'API', ${now}, true FROM m`;

/** The batch row's VALUES; ON CONFLICT leaves it out when a concurrent duplicate holds the key. */
function batchRowInsert(batchId: string, accountId: string, row: BatchRow, accepted: number, now: Date): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "Batch" (id, "accountId", "idempotencyKey", "requestHash", total, accepted, rejected, rejections, "createdAt")
    VALUES (${batchId}::uuid, ${accountId}::uuid, ${row.idempotency?.key ?? null}, ${row.idempotency?.requestHash ?? null},
            ${row.total}, ${accepted}, ${row.rejections.length}, ${JSON.stringify(row.rejections)}::jsonb, ${now})
    ON CONFLICT ("accountId", "idempotencyKey") DO NOTHING`;
}

/** An expired key is free again: detach it from its old batch (before this batch claims it). */
async function freeExpiredKey(db: Db, accountId: string, row: BatchRow): Promise<void> {
  if (!row.idempotency) return;
  await db.$executeRaw`
    UPDATE "Batch" SET "idempotencyKey" = NULL
    WHERE "accountId" = ${accountId}::uuid AND "idempotencyKey" = ${row.idempotency.key}
      AND "createdAt" < ${new Date(Date.now() - row.idempotency.windowMs)}`;
}

/** Keeps the chunks and writes the whole batch with one statement at commit (atomic on its own). */
function bufferedWriter(prisma: PrismaClient, batchId: string, accountId: string): BatchWriter {
  const ids: string[] = [];
  const drafts: MessageDraft[] = [];
  return {
    async add(more, moreDrafts) {
      ids.push(...more);
      drafts.push(...moreDrafts);
    },
    async commit(row) {
      // Outside the statement below: if that fails, the key was free anyway.
      const now = new Date();
      // A duplicate key leaves `b` empty, and with it every other insert of the statement.
      const write = async (db: Db) => {
        await freeExpiredKey(db, accountId, row);
        const rows = await db.$queryRaw<{ claimed: number }[]>`
          WITH b AS (${batchRowInsert(batchId, accountId, row, drafts.length, now)} RETURNING id),
               m AS (${messagesInsert(accountId, Prisma.sql`b.id`, Prisma.sql`b,`, ids, drafts, now)}),
               e AS (${eventsOf(now)})
          SELECT count(*)::int AS claimed FROM b`;
        return rows[0]!.claimed === 1;
      };
      const charge = row.charge;
      if (!charge) return write(prisma);
      // With a charge, statement and charge share a transaction, the charge last (it locks the
      // account's spend rows: held for the shortest time).
      return prisma
        .$transaction(
          async (tx) => {
            if (!(await write(tx))) return false;
            const refused = await charge(tx);
            if (refused) throw new Refused(refused);
            return true;
          },
          { timeout: 60_000 },
        )
        .catch(refusedOrThrow);
    },
    async abort() {},
  };
}

const DUPLICATE_KEY = Symbol('duplicate idempotency key');

/** Thrown out of a batch's transaction to roll it back when its charge refused. */
class Refused extends Error {
  constructor(readonly refusal: HeraldError) {
    super(refusal.message);
  }
}

function refusedOrThrow(error: unknown): HeraldError {
  if (error instanceof Refused) return error.refusal;
  throw error;
}
const ABORTED = Symbol('aborted by the caller');

/**
 * One transaction from begin to commit: each chunk's INSERT is sent as soon as it is added
 * (after the previous one), the batch row last.
 */
function streamingWriter(prisma: PrismaClient, batchId: string, accountId: string, done: () => void): BatchWriter {
  const now = new Date();
  let accepted = 0;
  let end!: (row: BatchRow | typeof ABORTED) => void;
  const ended = new Promise<BatchRow | typeof ABORTED>((resolve) => (end = resolve));
  let opened!: (tx: Tx) => void;
  const txOpen = new Promise<Tx>((resolve) => (opened = resolve));
  let writes: Promise<unknown> = txOpen;
  const committed = prisma
    .$transaction(
      async (tx) => {
        opened(tx);
        const row = await ended;
        await writes; // a failed chunk fails the transaction: it rolls back
        if (row === ABORTED) throw ABORTED;
        await freeExpiredKey(tx, accountId, row);
        if ((await tx.$executeRaw(batchRowInsert(batchId, accountId, row, accepted, now))) === 0) throw DUPLICATE_KEY;
        const refused = await row.charge?.(tx);
        if (refused) throw new Refused(refused);
        return true as boolean | HeraldError;
      },
      { timeout: 60_000 },
    )
    .catch((error: unknown) => {
      if (error === DUPLICATE_KEY || error === ABORTED) return false;
      return refusedOrThrow(error);
    })
    .finally(done);
  committed.catch(() => {}); // awaited by commit() or abort()
  return {
    async add(ids, drafts) {
      if (ids.length === 0) return;
      accepted += ids.length;
      const previous = writes;
      writes = previous.then(async () => {
        const tx = await txOpen;
        await tx.$executeRaw`WITH m AS (${messagesInsert(accountId, Prisma.sql`${batchId}::uuid`, Prisma.empty, ids, drafts, now)}) ${eventsOf(now)}`;
      });
      writes.catch(() => {}); // surfaces in the transaction above
      // One macrotask, so the client sends the statement before the caller's next CPU-bound
      // chunk holds the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    },
    async commit(row) {
      end(row);
      return committed;
    },
    async abort() {
      end(ABORTED);
      await committed.catch(() => {});
    },
  };
}

export function createBatches(prisma: PrismaClient, poolSize: number): Batches {
  let streams = 0;
  const maxStreams = Math.min(MAX_STREAMS, Math.floor(poolSize / 2));
  return {
    async findByKey(accountId, key) {
      const batch = await prisma.batch.findUnique({
        where: { accountId_idempotencyKey: { accountId, idempotencyKey: key } },
        select: { id: true, requestHash: true, createdAt: true, rejections: true },
      });
      return batch && { ...batch, rejections: z.array(rejectionSchema).parse(batch.rejections) };
    },

    begin(batchId, accountId, size) {
      if (size <= STREAM_ABOVE || streams >= maxStreams) return bufferedWriter(prisma, batchId, accountId);
      streams++;
      return streamingWriter(prisma, batchId, accountId, () => streams--);
    },
  };
}
