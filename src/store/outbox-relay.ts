// The relay's statements (outgoing-webhooks/relay.ts decides what they mean). One pass is one
// transaction: lock the source's cursor row (another instance's pass skips it), read the
// transaction frontier, read the committed rows above the cursor for accounts with an enabled
// endpoint, write their deliveries and move the cursor, all or nothing.
//
// The frontier: the oldest transaction still running (in this pass's snapshot), so every
// transaction below it has committed or rolled back and no row of theirs can appear later. Rows
// are read by (txid, id) below it; a row committed by a slower transaction with a lower id than
// one already read cannot be skipped, as a plain id cursor would.
//
// Transaction ids are shared by every database of a PostgreSQL server, so a long transaction in
// another database (another application, a migration) would hold the frontier of this one: the
// running transactions pg_stat_activity shows in another database are left out (a backend serves
// one database; one it cannot show, or that ended meanwhile, is kept: the frontier only waits).
import type { PrismaClient } from '../db/database.js';
import { Prisma } from '../generated/prisma/client.js';
import type { EndpointInfo, InboundSnapshot, MessageSnapshot, NewDelivery } from './outbox.js';

export type RelaySource = 'message-events' | 'inbound';

export interface RelayedEvent {
  /** MessageEvent id (text: it is a bigint). */
  id: string;
  txid: bigint;
  accountId: string;
  status: string;
  at: Date;
  /** The message as it is now, with the event's own provider and code where it has them. */
  message: MessageSnapshot & { status: string };
  eventProvider: string | null;
  eventErrorCode: string | null;
}

export interface RelayedInbound extends InboundSnapshot {
  txid: bigint;
  accountId: string;
  createdAt: Date;
}

export interface RelayEndpoint extends EndpointInfo {
  accountId: string;
  createdAt: Date;
}

/** What one pass hands to the caller's `decide`, inside the transaction. */
export interface RelayBatch<Row> {
  rows: Row[];
  endpoints: RelayEndpoint[];
}

export interface OutboxRelayStore {
  /**
   * One pass over `source`: up to `limit` committed rows past the cursor, for accounts with an
   * enabled endpoint; `decide` turns them into deliveries, written with the cursor's move. Returns
   * how many rows were read, or null when another pass holds the cursor.
   */
  relayMessageEvents(limit: number, decide: (batch: RelayBatch<RelayedEvent>) => NewDelivery[]): Promise<number | null>;
  relayInbound(limit: number, decide: (batch: RelayBatch<RelayedInbound>) => NewDelivery[]): Promise<number | null>;
}

const FRONTIER = Prisma.sql`
  SELECT least(
    pg_snapshot_xmax(q.s)::text::bigint,
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(q.s) AS x
      WHERE (x::text::bigint & 4294967295) NOT IN (
        SELECT backend_xid::text::bigint FROM pg_stat_activity WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL))
  ) AS frontier
  FROM (SELECT pg_current_snapshot() AS s) q`;

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export function createOutboxRelayStore(prisma: PrismaClient): OutboxRelayStore {
  async function pass<Row extends { txid: bigint; id: string; accountId: string }>(
    source: RelaySource,
    read: (tx: Tx, cursor: { txid: bigint; lastId: string }, frontier: bigint) => Promise<Row[]>,
    limit: number,
    decide: (batch: RelayBatch<Row>) => NewDelivery[],
  ): Promise<number | null> {
    return prisma.$transaction(async (tx) => {
      const [cursor] = await tx.$queryRaw<{ txid: bigint; lastId: string }[]>`
        SELECT txid, "lastId" FROM "OutboxRelay" WHERE source = ${source} FOR UPDATE SKIP LOCKED`;
      if (!cursor) return null;
      const [{ frontier }] = await tx.$queryRaw<{ frontier: bigint }[]>`${FRONTIER}`;
      const rows = await read(tx, cursor, frontier);
      const accountIds = [...new Set(rows.map((r) => r.accountId))];
      const endpoints =
        accountIds.length === 0
          ? []
          : await tx.webhookEndpoint.findMany({ where: { accountId: { in: accountIds }, enabled: true }, select: { id: true, accountId: true, eventTypes: true, createdAt: true } });
      const deliveries = rows.length === 0 ? [] : decide({ rows, endpoints });
      if (deliveries.length > 0) await tx.webhookDelivery.createMany({ data: deliveries });
      // A full batch: the next pass goes on from its last row. Otherwise every row below the
      // frontier is done (those of accounts without endpoints included, never to be read again).
      const last = rows.at(-1);
      const next = rows.length === limit && last ? { txid: last.txid, lastId: last.id } : { txid: frontier, lastId: source === 'inbound' ? '00000000-0000-0000-0000-000000000000' : '0' };
      if (next.txid !== cursor.txid || next.lastId !== cursor.lastId) {
        await tx.$executeRaw`UPDATE "OutboxRelay" SET txid = ${next.txid}, "lastId" = ${next.lastId} WHERE source = ${source}`;
      }
      return rows.length;
    });
  }

  return {
    relayMessageEvents: (limit, decide) =>
      pass<RelayedEvent>(
        'message-events',
        async (tx, cursor, frontier) => {
          const rows = await tx.$queryRaw<
            {
              id: bigint;
              txid: bigint;
              status: string;
              at: Date;
              eventProvider: string | null;
              eventErrorCode: string | null;
              messageId: string;
              accountId: string;
              to: string;
              from: string | null;
              segments: number;
              provider: string | null;
              errorCode: string | null;
              batchId: string | null;
              messageStatus: string;
            }[]
          >`
            SELECT e.id, e.txid, e.status::text AS status, e.at, e.provider AS "eventProvider", e."errorCode" AS "eventErrorCode",
                   m.id AS "messageId", m."accountId", m."to", m."from", m.segments, m.provider, m."errorCode", m."batchId", m.status::text AS "messageStatus"
            FROM "MessageEvent" e JOIN "Message" m ON m.id = e."messageId"
            WHERE (e.txid > ${cursor.txid} OR (e.txid = ${cursor.txid} AND e.id > ${BigInt(cursor.lastId)}))
              AND e.txid < ${frontier} AND e.applied
              AND EXISTS (SELECT 1 FROM "WebhookEndpoint" w WHERE w."accountId" = m."accountId" AND w.enabled)
            ORDER BY e.txid, e.id
            LIMIT ${limit}`;
          return rows.map((r) => ({
            id: String(r.id),
            txid: r.txid,
            accountId: r.accountId,
            status: r.status,
            at: r.at,
            eventProvider: r.eventProvider,
            eventErrorCode: r.eventErrorCode,
            message: { id: r.messageId, to: r.to, from: r.from, segments: r.segments, provider: r.provider, errorCode: r.errorCode, batchId: r.batchId, status: r.messageStatus },
          }));
        },
        limit,
        decide,
      ),
    relayInbound: (limit, decide) =>
      pass<RelayedInbound>(
        'inbound',
        (tx, cursor, frontier) => tx.$queryRaw<RelayedInbound[]>`
          SELECT i.id::text AS id, i.txid, i."accountId", i."from", i."to", i.body, i.keyword, i."receivedAt", i."inReplyToId"::text AS "inReplyToId", i."createdAt"
          FROM "InboundMessage" i
          WHERE (i.txid > ${cursor.txid} OR (i.txid = ${cursor.txid} AND i.id > ${cursor.lastId}::uuid))
            AND i.txid < ${frontier}
            AND EXISTS (SELECT 1 FROM "WebhookEndpoint" w WHERE w."accountId" = i."accountId" AND w.enabled)
          ORDER BY i.txid, i.id
          LIMIT ${limit}`,
        limit,
        decide,
      ),
  };
}
