// The delivery worker: claims due outbox rows (FOR UPDATE SKIP LOCKED, so several instances
// share the work and never send one row twice at once), POSTs each signed (post-webhook.ts: to
// public addresses only, unless allowed), records the attempt, schedules the next one from the
// retry schedule, and disables an endpoint that keeps failing.
import { createBackgroundLoop } from '../concurrency/background-loop.js';
import type { OutgoingWebhookOptions } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { OutboxRelayStore } from '../store/outbox-relay.js';
import type { ClaimedDelivery, WebhookDeliveryStore } from '../store/webhook-deliveries.js';
import { postWebhook } from './post-webhook.js';
import { relayOnce } from './relay.js';
import { nextDelayMs } from './schedule.js';
import { signedHeaders } from './signing.js';

export interface DeliveryWorker {
  start(): void;
  /** One pass: claims and delivers what is due; returns how many were attempted (tests). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function createDeliveryWorker(deps: {
  store: { webhookDeliveries: WebhookDeliveryStore; outbox: OutboxRelayStore };
  logger: Logger;
  options: OutgoingWebhookOptions;
  now?: () => Date;
}): DeliveryWorker {
  const { store, logger, options } = deps;
  const now = deps.now ?? (() => new Date());

  function claim(): Promise<ClaimedDelivery[]> {
    const at = now();
    // The claim moves nextAttemptAt past the attempt's timeout: it is the lease. A worker that
    // dies mid-attempt leaves the row due again once the lease runs out.
    const leaseUntil = new Date(at.getTime() + options.timeoutMs + 5_000);
    return store.webhookDeliveries.claimDue(at, leaseUntil, options.batchSize);
  }

  async function deliver(delivery: ClaimedDelivery): Promise<void> {
    const result = await postWebhook(delivery.url, signedHeaders(delivery.secret, delivery.eventId, delivery.payload, now()), delivery.payload, options);
    const at = now();
    const succeeded = result.error === null;
    const delay = succeeded ? undefined : nextDelayMs(options.retrySchedule, delivery.attempts);
    const nextAttemptAt = delay === undefined ? null : new Date(at.getTime() + delay);
    const finalFailure = !succeeded && nextAttemptAt === null;
    await store.webhookDeliveries.recordAttempt(delivery, {
      at,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      nextAttemptAt,
      status: succeeded ? 'SUCCEEDED' : finalFailure ? 'FAILED' : 'PENDING',
    });
    await recordHealth(delivery.endpointId, succeeded, finalFailure, at);
  }

  /** Success resets the endpoint's failure record; failures may disable it. */
  async function recordHealth(endpointId: string, succeeded: boolean, finalFailure: boolean, at: Date): Promise<void> {
    if (succeeded) return store.webhookDeliveries.clearFailures(endpointId);
    const row = await store.webhookDeliveries.countFailure(endpointId, finalFailure, at);
    if (!row?.enabled) return;
    let reason: string | undefined;
    if (row.consecutiveFailures >= options.disableAfterFailures) {
      reason = `disabled by Herald: ${row.consecutiveFailures} deliveries in a row failed every attempt`;
    } else if (at.getTime() - row.failingSince.getTime() >= options.disableAfterMs) {
      reason = `disabled by Herald: every attempt failed since ${row.failingSince.toISOString()}`;
    }
    if (!reason) return;
    const endpoint = await store.webhookDeliveries.disable(endpointId, reason, at);
    if (!endpoint) return;
    logger.warn({ endpointId, reason }, 'outgoing webhook endpoint disabled');
  }

  /** Relays committed events into deliveries, then sends what is due; says whether either was a full batch. */
  async function pass(): Promise<{ claimed: number; more: boolean }> {
    const moreEvents = await relayOnce(store.outbox);
    const claimed = await sendDue();
    return { claimed, more: moreEvents || claimed === options.batchSize };
  }

  async function runOnce(): Promise<number> {
    return (await pass()).claimed;
  }

  async function sendDue(): Promise<number> {
    const claimed = await claim();
    await Promise.all(
      claimed.map((d) => deliver(d).catch((error: unknown) => logger.warn({ err: error, deliveryId: d.id }, 'outgoing webhook delivery could not be recorded'))),
    );
    return claimed.length;
  }

  // Each pass first turns committed events into deliveries (the relay), then sends what is due.
  // A full batch of either means more is waiting: the next pass starts at once.
  const loop = createBackgroundLoop({
    name: 'outgoing webhook worker',
    pollMs: options.pollMs,
    pass: async () => (await pass()).more,
    logger,
  });
  return { start: loop.start, runOnce, stop: loop.stop };
}
