// Group commit for single sends: sendMessage calls that arrive together (many connections at
// once) are written by one statement, each caller resolving when that statement has committed.
// An accepted message is as durable as with one INSERT per request, and the database and the
// query path see one round trip per group instead of four per message (BEGIN, two INSERTs,
// COMMIT) — the difference between tens and thousands of sends per second.
//
// One statement inserts the messages and their first events (a data-modifying CTE is atomic on
// its own) and returns the full rows, so the answer needs no second read. A group that fails is
// retried one by one, so one bad row (a template deleted meanwhile) fails only its own request.
import { v7 as uuidv7 } from 'uuid';
import type { PrismaClient } from '../db/database.js';
import type { Message } from '../generated/prisma/client.js';
import type { MessageDraft } from '../domain/message-draft.js';

const MAX_GROUP = 500;

interface Pending {
  id: string;
  accountId: string;
  draft: MessageDraft;
  resolve: (row: Message) => void;
  reject: (error: unknown) => void;
}

class MessageWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly prisma: PrismaClient) {}

  insert(accountId: string, draft: MessageDraft): Promise<Message> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: uuidv7(), accountId, draft, resolve, reject });
      if (this.queue.length >= MAX_GROUP) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // Everything that arrives in this turn of the event loop joins the group.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    void this.write(group).then(
      (rows) => {
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const p of group) {
          const row = byId.get(p.id);
          if (row) p.resolve(row);
          else p.reject(new Error(`message ${p.id} was not written`));
        }
      },
      async (error: unknown) => {
        if (group.length === 1) return group[0]!.reject(error);
        for (const p of group) await this.write([p]).then((rows) => p.resolve(rows[0]!), p.reject);
      },
    );
  }

  private async write(group: Pending[]): Promise<Message[]> {
    const now = new Date();
    const column = <T>(pick: (p: Pending) => T) => group.map(pick);
    const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
    return this.prisma.$queryRaw<Message[]>`
      WITH m AS (
        INSERT INTO "Message" (id, "accountId", "to", "from", body, encoding, segments, status, "scheduledAt", "dueAt",
                               "idempotencyKey", metadata, variables, "templateId", "templateVersionId", category, "createdAt", "updatedAt")
        SELECT u.id, u."accountId", u."to", u."from", u.body, u.encoding::"Encoding", u.segments, u.status::"MessageStatus",
               u."scheduledAt", COALESCE(u."scheduledAt", ${now}), u."idempotencyKey", u.metadata, u.variables,
               u."templateId", u."templateVersionId", u.category::"TemplateCategory", ${now}, ${now}
        FROM unnest(${column((p) => p.id)}::uuid[], ${column((p) => p.accountId)}::uuid[], ${column((p) => p.draft.to)}::text[],
                    ${column((p) => p.draft.from)}::text[], ${column((p) => p.draft.body)}::text[], ${column((p) => p.draft.encoding)}::text[],
                    ${column((p) => p.draft.segments)}::int[], ${column((p) => p.draft.status)}::text[], ${column((p) => p.draft.scheduledAt)}::timestamptz[],
                    ${column((p) => p.draft.idempotencyKey)}::text[], ${column((p) => json(p.draft.metadata))}::jsonb[],
                    ${column((p) => json(p.draft.variables))}::jsonb[], ${column((p) => p.draft.templateId)}::uuid[],
                    ${column((p) => p.draft.templateVersionId)}::uuid[], ${column((p) => p.draft.category)}::text[])
          AS u(id, "accountId", "to", "from", body, encoding, segments, status, "scheduledAt", "idempotencyKey", metadata, variables,
               "templateId", "templateVersionId", category)
        RETURNING *
      ), e AS (
        INSERT INTO "MessageEvent" ("messageId", status, source, at, applied)
        SELECT id, status, 'API', ${now}, true FROM m
      )
      SELECT * FROM m`;
  }
}

const writers = new WeakMap<PrismaClient, MessageWriter>();

/** Writes one message and its first event, grouped with the other sends of the same moment. */
export function writeMessage(prisma: PrismaClient, accountId: string, draft: MessageDraft): Promise<Message> {
  let writer = writers.get(prisma);
  if (!writer) writers.set(prisma, (writer = new MessageWriter(prisma)));
  return writer.insert(accountId, draft);
}
