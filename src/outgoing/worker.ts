// The delivery worker: claims due outbox rows (FOR UPDATE SKIP LOCKED, so several instances
// share the work and never send one row twice at once), POSTs each signed (post-webhook.ts: to
// public addresses only, unless allowed), records the attempt, schedules the next one from the
// retry schedule, and disables an endpoint that keeps failing.
import type { OutgoingWebhookOptions } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { forgetEndpoints } from './outbox.js';
import { postWebhook } from './post-webhook.js';
import { nextDelayMs } from './schedule.js';
import { signedHeaders } from './signing.js';

export interface DeliveryWorker {
  start(): void;
  /** One pass: claims and delivers what is due; returns how many were attempted (tests). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

interface Claimed {
  id: string;
  endpointId: string;
  eventId: string;
  payload: string;
  attempts: number;
  url: string;
  secret: string;
}

export function createDeliveryWorker(deps: { prisma: PrismaClient; logger: Logger; options: OutgoingWebhookOptions; now?: () => Date }): DeliveryWorker {
  const { prisma, logger, options } = deps;
  const now = deps.now ?? (() => new Date());
  const maxAttempts = options.retrySchedule.length + 1;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  async function claim(): Promise<Claimed[]> {
    const at = now();
    // The claim moves nextAttemptAt past the attempt's timeout: it is the lease. A worker that
    // dies mid-attempt leaves the row due again once the lease runs out.
    const leaseUntil = new Date(at.getTime() + options.timeoutMs + 5_000);
    return prisma.$queryRaw<Claimed[]>`
      WITH due AS (
        SELECT d.id FROM "WebhookDelivery" d JOIN "WebhookEndpoint" e ON e.id = d."endpointId"
        WHERE d.status = 'PENDING' AND d."nextAttemptAt" <= ${at} AND e.enabled
        ORDER BY d."nextAttemptAt" LIMIT ${options.batchSize}
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE "WebhookDelivery" d SET "nextAttemptAt" = ${leaseUntil}, attempts = d.attempts + 1
      FROM due, "WebhookEndpoint" e
      WHERE d.id = due.id AND e.id = d."endpointId"
      RETURNING d.id::text, d."endpointId"::text, d."eventId", d.payload, d.attempts, e.url, e.secret`;
  }

  async function deliver(delivery: Claimed): Promise<void> {
    const result = await postWebhook(delivery.url, signedHeaders(delivery.secret, delivery.eventId, delivery.payload, now()), delivery.payload, options);
    const at = now();
    const succeeded = result.error === null;
    const delay = succeeded ? undefined : nextDelayMs(options.retrySchedule, delivery.attempts);
    const nextAttemptAt = delay === undefined ? null : new Date(at.getTime() + delay);
    const finalFailure = !succeeded && nextAttemptAt === null;
    await prisma.$transaction([
      prisma.webhookAttempt.create({
        data: { deliveryId: delivery.id, attempt: delivery.attempts, at, statusCode: result.statusCode, durationMs: result.durationMs, error: result.error, nextAttemptAt },
      }),
      prisma.webhookDelivery.update({
        where: { id: delivery.id },
        data: {
          status: succeeded ? 'SUCCEEDED' : finalFailure ? 'FAILED' : 'PENDING',
          nextAttemptAt,
          lastStatusCode: result.statusCode,
          lastError: result.error,
          completedAt: succeeded || finalFailure ? at : null,
        },
      }),
    ]);
    await recordHealth(delivery.endpointId, succeeded, finalFailure, at);
  }

  /** Success resets the endpoint's failure record; failures may disable it. */
  async function recordHealth(endpointId: string, succeeded: boolean, finalFailure: boolean, at: Date): Promise<void> {
    if (succeeded) {
      await prisma.webhookEndpoint.updateMany({
        where: { id: endpointId, OR: [{ consecutiveFailures: { gt: 0 } }, { failingSince: { not: null } }] },
        data: { consecutiveFailures: 0, failingSince: null },
      });
      return;
    }
    // One statement, so concurrent workers count every failure and disable once.
    const [row] = await prisma.$queryRaw<{ consecutiveFailures: number; failingSince: Date; enabled: boolean }[]>`
      UPDATE "WebhookEndpoint"
      SET "consecutiveFailures" = "consecutiveFailures" + ${finalFailure ? 1 : 0},
          "failingSince" = COALESCE("failingSince", ${at})
      WHERE id = ${endpointId}::uuid
      RETURNING "consecutiveFailures", "failingSince", enabled`;
    if (!row?.enabled) return;
    let reason: string | undefined;
    if (row.consecutiveFailures >= options.disableAfterFailures) {
      reason = `disabled by Herald: ${row.consecutiveFailures} deliveries in a row failed every attempt`;
    } else if (at.getTime() - row.failingSince.getTime() >= options.disableAfterMs) {
      reason = `disabled by Herald: every attempt failed since ${row.failingSince.toISOString()}`;
    }
    if (!reason) return;
    const disabled = await prisma.webhookEndpoint.updateMany({ where: { id: endpointId, enabled: true }, data: { enabled: false, disabledReason: reason, disabledAt: at } });
    if (disabled.count === 0) return;
    logger.warn({ endpointId, reason }, 'outgoing webhook endpoint disabled');
    // This process stops writing events for it at once (other instances within the cache's TTL).
    const endpoint = await prisma.webhookEndpoint.findUnique({ where: { id: endpointId }, select: { accountId: true } });
    if (endpoint) forgetEndpoints(endpoint.accountId);
  }

  async function runOnce(): Promise<number> {
    const claimed = await claim();
    await Promise.all(
      claimed.map((d) => deliver(d).catch((error: unknown) => logger.warn({ err: error, deliveryId: d.id }, 'outgoing webhook delivery could not be recorded'))),
    );
    return claimed.length;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .then((count) => schedule(count === options.batchSize ? 0 : options.pollMs))
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'outgoing webhook worker pass failed');
          schedule(options.pollMs);
        });
    }, delayMs);
    timer.unref();
  }

  return {
    start: () => schedule(0),
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
