// How committed changes leave the transaction that made them: to subscribers (pub/sub, every
// instance with Redis), to the outgoing-webhook outbox, and, for new work, to every dispatcher.
import type { WakeSignal } from '../dispatch/wake.js';
import type { Logger } from '../logging/logger.js';
import type { Outbox } from '../outgoing-webhooks/outbox.js';
import type { HeraldPubSub, InboundReceived, StatusChange } from '../pubsub/pubsub.js';

export interface Publishing {
  /** Status changes that committed: to subscribers and the outgoing-webhook outbox. */
  publishChanges(changes: StatusChange[]): void;
  /** The same, and wakes every dispatcher when a change is new work (QUEUED or SCHEDULED). */
  publishAndWake(changes: StatusChange[]): void;
  /** An inbound message that was stored: to subscribers and the outbox. */
  publishInbound(event: InboundReceived): void;
  /** Waits for the outbox writes still running (at stop). */
  drain(): Promise<void>;
}

export function createPublishing(deps: { pubsub: HeraldPubSub; outbox: Outbox; wake: WakeSignal; logger: Logger }): Publishing {
  const { pubsub, outbox, wake, logger } = deps;
  // Outgoing webhooks hear what subscribers hear. The outbox write is not awaited: a slow one
  // never holds up dispatch or a request; drain() waits for those still running.
  const outboxWrites = new Set<Promise<unknown>>();
  const toOutbox = (work: () => Promise<unknown>) => {
    const write = work()
      .catch((error: unknown) => logger.warn({ err: error }, 'outgoing webhook events could not be written'))
      .finally(() => outboxWrites.delete(write));
    outboxWrites.add(write);
  };
  const publishChanges = (changes: StatusChange[]) => {
    for (const change of changes) pubsub.publishStatus(change);
    if (changes.length > 0) toOutbox(() => outbox.statusChanges(changes));
  };
  return {
    publishChanges,
    publishAndWake: (changes) => {
      publishChanges(changes);
      if (changes.some((c) => c.status === 'QUEUED' || c.status === 'SCHEDULED')) wake.notify();
    },
    publishInbound: (event) => {
      pubsub.publishInbound(event);
      toOutbox(() => outbox.inboundReceived(event));
    },
    drain: async () => void (await Promise.all(outboxWrites)),
  };
}
