// How committed changes leave the transaction that made them: to subscribers (pub/sub, every
// instance with Redis) and, for new work, to every dispatcher. Outgoing webhooks do not depend on
// this (a process may die right after a commit): the relay reads them from the committed rows
// (outgoing-webhooks/relay.ts).
import type { WakeSignal } from '../dispatch/wake.js';
import type { HeraldPubSub, InboundReceived, StatusChange } from '../pubsub/pubsub.js';

export interface Publishing {
  /** Status changes that committed: to subscribers. */
  publishChanges(changes: StatusChange[]): void;
  /** The same, and wakes every dispatcher when a change is new work (QUEUED or SCHEDULED). */
  publishAndWake(changes: StatusChange[]): void;
  /** An inbound message that was stored: to subscribers. */
  publishInbound(event: InboundReceived): void;
}

export function createPublishing(deps: { pubsub: HeraldPubSub; wake: WakeSignal }): Publishing {
  const { pubsub, wake } = deps;
  const publishChanges = (changes: StatusChange[]) => {
    for (const change of changes) pubsub.publishStatus(change);
  };
  return {
    publishChanges,
    publishAndWake: (changes) => {
      publishChanges(changes);
      if (changes.some((c) => c.status === 'QUEUED' || c.status === 'SCHEDULED')) wake.notify();
    },
    publishInbound: (event) => pubsub.publishInbound(event),
  };
}
