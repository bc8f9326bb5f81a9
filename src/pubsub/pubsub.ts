// Pub/sub between the parts of Herald and between instances: status changes, inbound messages
// and key revocations. In-process by default; between the processes of one Herald over Node's
// cluster IPC (pubsub/ipc-transport.ts); with REDIS_URL through Redis (pubsub/redis-transport.ts).
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import { createPubSub } from 'graphql-yoga';
import type { Logger } from '../logging/logger.js';
import type { InboundReceived, KeyRevoked, SettingsChanged, StatusChange } from './events.js';
import { createMessageFollowers } from './message-followers.js';
import { connectWorkerTransport, startPrimaryRelay } from './ipc-transport.js';
import { connectRedisTransport } from './redis-transport.js';

export type { InboundReceived, KeyRevoked, SettingsChanged, StatusChange } from './events.js';

const SUBSCRIBER_BUFFER = 10_000;

type Channels = {
  // One channel per account: a subscriber only ever receives its own account's events.
  'message-status': [accountId: string, change: StatusChange];
  'inbound-message': [accountId: string, event: InboundReceived];
  'key-revoked': [event: KeyRevoked];
  'settings-changed': [event: SettingsChanged];
};

export interface HeraldPubSub {
  publishStatus(change: StatusChange): void;
  /**
   * The account's status changes; with `keep`, only those it keeps ever enter the subscriber's
   * buffer (a subscriber to DELIVERED is not crowded out by the SENDING and SENT before them).
   */
  subscribeStatus(accountId: string, keep?: (change: StatusChange) => boolean): AsyncIterable<StatusChange>;
  /**
   * The status changes of one message of the account. Every follower of the account's messages
   * shares one listener on the account's channel, which hands each change to the followers of
   * that message only: an event costs one lookup, not one wake-up per subscriber of the account.
   */
  subscribeMessageStatus(accountId: string, messageId: string): AsyncIterable<StatusChange>;
  publishInbound(event: InboundReceived): void;
  subscribeInbound(accountId: string): AsyncIterable<InboundReceived>;
  publishKeyRevoked(event: KeyRevoked): void;
  /** Calls `listener` for every revocation made by any instance; returns the unsubscribe. */
  onKeyRevoked(listener: (event: KeyRevoked) => void): () => void;
  /** An account's compliance settings or word rules changed: every process drops its cached policy. */
  publishSettingsChanged(event: SettingsChanged): void;
  onSettingsChanged(listener: (event: SettingsChanged) => void): () => void;
  /**
   * Waits for the publishes still on their way to Redis, then closes. A short-lived process
   * (the CLI) passes `timeoutMs`: past it, the connections are dropped instead. Resolves true
   * when every publish reached Redis (always, without Redis).
   */
  close(options?: { timeoutMs?: number }): Promise<boolean>;
}

/**
 * In-process pub/sub by default; with REDIS_URL, Redis pub/sub so that a subscriber on any
 * instance sees changes made by every instance.
 */
export function createHeraldPubSub(options: {
  redisUrl: string | undefined;
  logger: Logger;
  /** One of several processes of one Herald on this machine, without Redis (app/cluster.ts). */
  processes?: 'primary' | 'worker';
}): HeraldPubSub {
  const redis = options.redisUrl ? connectRedisTransport(options.redisUrl, options.logger) : undefined;
  const ipc = redis || !options.processes ? undefined : options.processes === 'primary' ? startPrimaryRelay() : connectWorkerTransport();
  // Each subscriber gets a bounded buffer: without one, a subscriber slower than the publish
  // rate makes `publish` throw after 1024 pending events (RepeaterOverflowError), which would
  // take the whole server down. When it is full the oldest event is dropped; subscribers that
  // must not miss a transition (messageStatusChanged) read the event log, not the buffer.
  // The buffer must be the subscriber's own: yoga's pub/sub hands its one `repeaterBuffer` to
  // every subscription, and a buffer shared by several subscribers gives each event to only
  // one of them. So each subscription is made by a pub/sub of its own on the shared target.
  const target = redis?.eventTarget ?? ipc?.eventTarget ?? new EventTarget();
  const pubsub = createPubSub<Channels>({ eventTarget: target });
  const ownPubSub = () => createPubSub<Channels>({ eventTarget: target, repeaterBuffer: new SlidingBuffer(SUBSCRIBER_BUFFER) });

  const topicOf = (accountId: string) => `message-status:${accountId}`; // as `createPubSub` names it
  const subscribeMessageStatus = createMessageFollowers(target, topicOf, SUBSCRIBER_BUFFER);
  // Publishing is best effort after the commit: never let it fail the caller.
  const publishSafely = (what: string, publish: () => void) => {
    try {
      publish();
    } catch (error) {
      options.logger.error({ err: error }, `publishing ${what} failed`);
    }
  };
  return {
    publishStatus: (change) => publishSafely('a status change', () => pubsub.publish('message-status', change.accountId, change)),
    // A listener of its own on the account's topic (the name `createPubSub` gives it), so the
    // filter runs before the subscriber's buffer, not after.
    subscribeStatus: (accountId, keep = () => true) =>
      new Repeater<StatusChange>(async (push, stop) => {
        const topic = topicOf(accountId);
        const listener = (event: Event) => {
          const change = (event as CustomEvent<StatusChange>).detail;
          if (change && keep(change)) void push(change);
        };
        target.addEventListener(topic, listener);
        await stop;
        target.removeEventListener(topic, listener);
      }, new SlidingBuffer(SUBSCRIBER_BUFFER)),
    subscribeMessageStatus,
    publishInbound: (event) => publishSafely('an inbound message', () => pubsub.publish('inbound-message', event.accountId, event)),
    subscribeInbound: (accountId) => ownPubSub().subscribe('inbound-message', accountId),
    publishKeyRevoked: (event) => publishSafely('a key revocation', () => pubsub.publish('key-revoked', event)),
    // A plain listener on the shared target (no buffer, no iterator): revocations are rare and
    // each one is acted on at once. The topic is the channel name, as `createPubSub` names it.
    onKeyRevoked: (listener) => {
      const handler = (event: Event) => {
        const detail = (event as CustomEvent<KeyRevoked>).detail;
        if (detail?.keyId) listener(detail);
      };
      target.addEventListener('key-revoked', handler);
      return () => target.removeEventListener('key-revoked', handler);
    },
    publishSettingsChanged: (event) => publishSafely('a settings change', () => pubsub.publish('settings-changed', event)),
    onSettingsChanged: (listener) => {
      const handler = (event: Event) => {
        const detail = (event as CustomEvent<SettingsChanged>).detail;
        if (detail?.accountId) listener(detail);
      };
      target.addEventListener('settings-changed', handler);
      return () => target.removeEventListener('settings-changed', handler);
    },
    close: async (closeOptions) => {
      ipc?.close();
      return redis ? redis.close(closeOptions) : true;
    },
  };
}
