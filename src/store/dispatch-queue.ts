// The dispatcher's statements: making scheduled messages due, claiming due messages with a
// lease, and what a claimed batch needs to be sent (its templates, its senders' providers).
// Claims use FOR UPDATE SKIP LOCKED: concurrent dispatchers (other instances) take disjoint
// batches.
import { z } from 'zod';
import type { PrismaClient } from '../db/database.js';
import type { Encoding } from '../domain/segments.js';
import type { ProviderTemplate } from '../providers/types.js';

/** A message as the claim returns it. */
export interface ClaimedRow {
  id: string;
  accountId: string;
  batchId: string | null;
  to: string;
  from: string | null;
  body: string;
  segments: number;
  /** The column's enum type holds nothing else. */
  encoding: Encoding;
  /** The real body of a message carrying a secret; `body` then holds it masked. */
  sealedBody: Uint8Array | null;
  /** Its real template variables (`variables` then holds them masked). */
  sealedVariables: Uint8Array | null;
  /** Counting this claim. */
  attempts: number;
  /** Set while SENDING only when an ambiguous failure pinned the message to this provider. */
  provider: string | null;
  templateId: string | null;
  variables: unknown;
  category: string | null;
  createdAt: Date;
  /**
   * SENDING when this claim took over an expired lease (or a retry whose backoff ran out);
   * the claim's WHERE takes nothing else.
   */
  previous: 'QUEUED' | 'SENDING';
}

/** A message whose status a statement moved: what is published about it. */
export interface MovedRow {
  id: string;
  accountId: string;
  batchId: string | null;
}

export interface TemplateInfo {
  name: string;
  providerTemplates: Record<string, ProviderTemplate>;
}

export interface DispatchQueueStore {
  /**
   * SCHEDULED messages whose time has come become QUEUED, with their QUEUED events (at most
   * `limit`); returns the messages moved.
   */
  promoteDue(at: Date, limit: number): Promise<MovedRow[]>;
  /**
   * Claims due messages (QUEUED and due, or SENDING with an expired lease) for `owner` until
   * `leaseUntil`, counting an attempt each; records SENDING events for the newly queued ones.
   */
  claimDue(at: Date, leaseUntil: Date, owner: string, limit: number): Promise<ClaimedRow[]>;
  /** Names and provider mappings of these templates: one query per batch. */
  templatesOf(ids: string[]): Promise<Map<string, TemplateInfo>>;
  /** The provider each of these sender identities is provisioned on, where it names one. */
  identityProvidersOf(values: string[]): Promise<Map<string, string>>;
}

export function createDispatchQueueStore(prisma: PrismaClient): DispatchQueueStore {
  return {
    async promoteDue(at, limit) {
      // The status change and its event in one statement, so in one transaction: the event log
      // (which watchers read) and the outgoing-webhook outbox (which relays events) never miss it.
      return prisma.$queryRaw<MovedRow[]>`
        WITH moved AS (
          UPDATE "Message" SET status = 'QUEUED', "updatedAt" = ${at}
          WHERE id IN (SELECT id FROM "Message" WHERE status = 'SCHEDULED' AND "dueAt" <= ${at}
                       ORDER BY "dueAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          RETURNING id, "accountId", "batchId"
        ), logged AS (
          INSERT INTO "MessageEvent" ("messageId", status, source, applied, at)
          SELECT id, 'QUEUED'::"MessageStatus", 'DISPATCHER', true, ${at} FROM moved
        )
        SELECT id::text, "accountId"::text, "batchId"::text FROM moved`;
    },

    async claimDue(at, leaseUntil, owner, limit) {
      // The claim and the SENDING events of the newly queued in one statement (one transaction).
      return prisma.$queryRaw<ClaimedRow[]>`
        WITH due AS (
          SELECT id, status AS previous FROM "Message"
          WHERE (status = 'QUEUED' AND "dueAt" <= ${at}) OR (status = 'SENDING' AND "leaseUntil" <= ${at})
          ORDER BY "dueAt" LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ), claimed AS (
          UPDATE "Message" m
          SET status = 'SENDING', "leaseUntil" = ${leaseUntil}, "leaseOwner" = ${owner}, attempts = m.attempts + 1, "updatedAt" = ${at}
          FROM due WHERE m.id = due.id
          RETURNING m.id AS uuid, m.id::text, m."accountId"::text, m."batchId"::text, m."to", m."from", m.body, m.segments,
                    m.encoding::text AS encoding, m."sealedBody", m."sealedVariables", m.attempts, m.provider, m."templateId"::text, m.variables,
                    m.category::text, m."createdAt", due.previous::text AS previous
        ), logged AS (
          INSERT INTO "MessageEvent" ("messageId", status, source, applied, at)
          SELECT uuid, 'SENDING'::"MessageStatus", 'DISPATCHER', true, ${at} FROM claimed WHERE previous = 'QUEUED'
        )
        SELECT id, "accountId", "batchId", "to", "from", body, segments, encoding, "sealedBody", "sealedVariables", attempts, provider,
               "templateId", variables, category, "createdAt", previous
        FROM claimed`;
    },

    async templatesOf(ids) {
      if (ids.length === 0) return new Map();
      const rows = await prisma.template.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, providerTemplates: true } });
      return new Map(rows.map((r) => [r.id, { name: r.name, providerTemplates: parseProviderTemplates(r.providerTemplates) }]));
    },

    async identityProvidersOf(values) {
      if (values.length === 0) return new Map();
      const rows = await prisma.senderIdentity.findMany({ where: { value: { in: values }, provider: { not: null } }, select: { value: true, provider: true } });
      return new Map(rows.flatMap((r) => (r.provider ? [[r.value, r.provider] as const] : [])));
    },
  };
}

// Written by setTemplateProviderMapping, which validates each mapping; a mapping that does not
// parse (hand-edited) counts as absent, so no template-only provider is chosen for it.
const providerTemplate = z.object({ code: z.string(), params: z.array(z.string()).optional() });

function parseProviderTemplates(value: unknown): Record<string, ProviderTemplate> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const parsed: Record<string, ProviderTemplate> = {};
  for (const [provider, mapping] of Object.entries(value)) {
    const result = providerTemplate.safeParse(mapping);
    if (result.success) parsed[provider] = result.data;
  }
  return parsed;
}
