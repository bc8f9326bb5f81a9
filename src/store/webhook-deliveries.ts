// The outgoing webhook worker's statements: claiming due deliveries, recording each attempt,
// and the health record of endpoints (which may disable one that keeps failing). Claims use
// FOR UPDATE SKIP LOCKED, so several instances share the work and never send one row twice at
// once.
import type { PrismaClient } from '../db/database.js';

/** A due delivery as the claim returns it, with where and how to send it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  payload: string;
  /** Counting this attempt. */
  attempts: number;
  url: string;
  secret: string;
}

export interface AttemptRecord {
  at: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** Null when no attempt follows. */
  nextAttemptAt: Date | null;
  status: 'SUCCEEDED' | 'FAILED' | 'PENDING';
}

/** An endpoint's failure record after counting a failure. */
export interface EndpointFailures {
  consecutiveFailures: number;
  failingSince: Date;
  enabled: boolean;
}

export interface WebhookDeliveryStore {
  /**
   * Claims due deliveries of enabled endpoints, counting an attempt each. The claim moves
   * nextAttemptAt to `leaseUntil`: it is the lease.
   */
  claimDue(at: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]>;
  /** Records one attempt and the delivery's new state together. */
  recordAttempt(delivery: ClaimedDelivery, attempt: AttemptRecord): Promise<void>;
  /** A success clears the endpoint's failure record. */
  clearFailures(endpointId: string): Promise<void>;
  /**
   * Counts a failed attempt (`finalFailure`: the delivery used every attempt) in one
   * statement, so concurrent workers count every failure; undefined when the endpoint is gone.
   */
  countFailure(endpointId: string, finalFailure: boolean, at: Date): Promise<EndpointFailures | undefined>;
  /** Disables the endpoint unless already disabled; returns its account when this call did. */
  disable(endpointId: string, reason: string, at: Date): Promise<{ accountId: string } | undefined>;
}

export function createWebhookDeliveryStore(prisma: PrismaClient): WebhookDeliveryStore {
  return {
    claimDue(at, leaseUntil, limit) {
      return prisma.$queryRaw<ClaimedDelivery[]>`
        WITH due AS (
          SELECT d.id FROM "WebhookDelivery" d JOIN "WebhookEndpoint" e ON e.id = d."endpointId"
          WHERE d.status = 'PENDING' AND d."nextAttemptAt" <= ${at} AND e.enabled
          ORDER BY d."nextAttemptAt" LIMIT ${limit}
          FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE "WebhookDelivery" d SET "nextAttemptAt" = ${leaseUntil}, attempts = d.attempts + 1
        FROM due, "WebhookEndpoint" e
        WHERE d.id = due.id AND e.id = d."endpointId"
        RETURNING d.id::text, d."endpointId"::text, d."eventId", d.payload, d.attempts, e.url, e.secret`;
    },

    async recordAttempt(delivery, attempt) {
      const { at, statusCode, durationMs, error, nextAttemptAt, status } = attempt;
      await prisma.$transaction([
        prisma.webhookAttempt.create({ data: { deliveryId: delivery.id, attempt: delivery.attempts, at, statusCode, durationMs, error, nextAttemptAt } }),
        prisma.webhookDelivery.update({
          where: { id: delivery.id },
          data: { status, nextAttemptAt, lastStatusCode: statusCode, lastError: error, completedAt: status === 'PENDING' ? null : at },
        }),
      ]);
    },

    async clearFailures(endpointId) {
      await prisma.webhookEndpoint.updateMany({
        where: { id: endpointId, OR: [{ consecutiveFailures: { gt: 0 } }, { failingSince: { not: null } }] },
        data: { consecutiveFailures: 0, failingSince: null },
      });
    },

    async countFailure(endpointId, finalFailure, at) {
      const [row] = await prisma.$queryRaw<EndpointFailures[]>`
        UPDATE "WebhookEndpoint"
        SET "consecutiveFailures" = "consecutiveFailures" + ${finalFailure ? 1 : 0},
            "failingSince" = COALESCE("failingSince", ${at})
        WHERE id = ${endpointId}::uuid
        RETURNING "consecutiveFailures", "failingSince", enabled`;
      return row;
    },

    async disable(endpointId, reason, at) {
      const disabled = await prisma.webhookEndpoint.updateMany({ where: { id: endpointId, enabled: true }, data: { enabled: false, disabledReason: reason, disabledAt: at } });
      if (disabled.count === 0) return undefined;
      return (await prisma.webhookEndpoint.findUnique({ where: { id: endpointId }, select: { accountId: true } })) ?? undefined;
    },
  };
}
