// Messages as single sends create them, with their first event: a send grouped with the other
// sends of its turn, and a send whose text is sealed (a batch's are written by store/batches.ts).
//
// Group commit for single sends: sendMessage calls that arrive together (many connections at
// once) are written by one statement, each caller resolving when that statement has committed.
// An accepted message is as durable as with one INSERT per request, and the database and the
// query path see one round trip per group instead of four per message (BEGIN, two INSERTs,
// COMMIT): the difference between tens and thousands of sends per second. One statement inserts
// the messages and their first events (a data-modifying CTE is atomic on its own) and returns the
// full rows, so the answer needs no second read. A group that fails is retried one by one, so one
// bad row (a template deleted meanwhile) fails only its own request.
import { v7 as uuidv7 } from 'uuid';
import { groupPerTurn } from '../concurrency/group-per-turn.js';
import type { PrismaClient } from '../db/database.js';
import type { MessageDraft } from '../domain/message-draft.js';
import type { Message, Prisma } from '../generated/prisma/client.js';
import type { Db } from './db-client.js';

const MAX_GROUP = 500;

/** What a sealed send stores instead of the draft's text (services/messages.ts decides it). */
export interface StoredText {
  body: string;
  variables: unknown;
  sealedBody: Uint8Array<ArrayBuffer> | null;
  sealedVariables: Uint8Array<ArrayBuffer> | null;
}

export interface NewMessages {
  /**
   * Writes one message and its first event, grouped with the other sends of the turn.
   * `accessTokenId`: the browser token sending it (the jti), which may then watch it.
   */
  insert(accountId: string, draft: MessageDraft, accessTokenId?: string | null): Promise<Message>;
  /** Writes one message with `text` in place of the draft's, on `db` (a caller's transaction). */
  insertOne(db: Db, accountId: string, draft: MessageDraft, text: StoredText, accessTokenId?: string | null): Promise<{ id: string }>;
}

interface Pending {
  id: string;
  accountId: string;
  draft: MessageDraft;
  accessTokenId: string | null;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/** One long factory because its two writers share the column lists of one table; each is commented. */
export function createNewMessages(prisma: PrismaClient): NewMessages {
  async function write(group: readonly Pending[]): Promise<Message[]> {
    const now = new Date();
    const column = <T>(pick: (p: Pending) => T) => group.map(pick);
    return prisma.$queryRaw<Message[]>`
      WITH m AS (
        INSERT INTO "Message" (id, "accountId", "to", "from", body, encoding, segments, status, "scheduledAt", "dueAt",
                               "idempotencyKey", metadata, variables, "templateId", "templateVersionId", category, "accessTokenId", "createdAt", "updatedAt")
        SELECT u.id, u."accountId", u."to", u."from", u.body, u.encoding::"Encoding", u.segments, u.status::"MessageStatus",
               u."scheduledAt", COALESCE(u."scheduledAt", ${now}), u."idempotencyKey", u.metadata, u.variables,
               u."templateId", u."templateVersionId", u.category::"TemplateCategory", u."accessTokenId", ${now}, ${now}
        FROM unnest(${column((p) => p.id)}::uuid[], ${column((p) => p.accountId)}::uuid[], ${column((p) => p.draft.to)}::text[],
                    ${column((p) => p.draft.from)}::text[], ${column((p) => p.draft.body)}::text[], ${column((p) => p.draft.encoding)}::text[],
                    ${column((p) => p.draft.segments)}::int[], ${column((p) => p.draft.status)}::text[], ${column((p) => p.draft.scheduledAt)}::timestamptz[],
                    ${column((p) => p.draft.idempotencyKey)}::text[], ${column((p) => json(p.draft.metadata))}::jsonb[],
                    ${column((p) => json(p.draft.variables))}::jsonb[], ${column((p) => p.draft.templateId)}::uuid[],
                    ${column((p) => p.draft.templateVersionId)}::uuid[], ${column((p) => p.draft.category)}::text[],
                    ${column((p) => p.accessTokenId)}::uuid[])
          AS u(id, "accountId", "to", "from", body, encoding, segments, status, "scheduledAt", "idempotencyKey", metadata, variables,
               "templateId", "templateVersionId", category, "accessTokenId")
        RETURNING *
      ), e AS (
        INSERT INTO "MessageEvent" ("messageId", status, source, at, applied)
        SELECT id, status, 'API', ${now}, true FROM m
      )
      SELECT * FROM m`;
  }

  const insertGrouped = groupPerTurn<Pending, Message>(
    async (group) => {
      let rows: Message[];
      try {
        rows = await write(group);
      } catch (error) {
        if (group.length === 1) throw error;
        const answers: (Message | Error)[] = [];
        for (const p of group) answers.push(await write([p]).then((written) => written[0]!, asError));
        return answers;
      }
      const byId = new Map(rows.map((r) => [r.id, r]));
      return group.map((p) => byId.get(p.id) ?? new Error(`message ${p.id} was not written`));
    },
    { maxGroupSize: MAX_GROUP },
  );

  return {
    insert: (accountId, draft, accessTokenId = null) => insertGrouped({ id: uuidv7(), accountId, draft, accessTokenId }),

    async insertOne(db, accountId, draft, text, accessTokenId = null) {
      return db.message.create({
        select: { id: true },
        data: {
          accountId,
          to: draft.to,
          from: draft.from,
          body: text.body,
          sealedBody: text.sealedBody,
          sealedVariables: text.sealedVariables,
          encoding: draft.encoding,
          segments: draft.segments,
          status: draft.status,
          scheduledAt: draft.scheduledAt,
          dueAt: draft.scheduledAt ?? new Date(),
          idempotencyKey: draft.idempotencyKey,
          metadata: (draft.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
          variables: (text.variables ?? undefined) as Prisma.InputJsonValue | undefined,
          templateId: draft.templateId,
          templateVersionId: draft.templateVersionId,
          category: draft.category,
          accessTokenId,
          events: { create: { status: draft.status, source: 'API' } },
        },
      });
    },
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
