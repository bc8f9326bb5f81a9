import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { MessageStatus } from './domain/status-machine.js';
import type { Logger } from './logger.js';

/** What is published on every status change: small, so each subscriber loads what it selects. */
export interface StatusChange {
  id: string;
  accountId: string;
  status: MessageStatus;
  batchId: string | null;
}

/** What is published when an inbound message was stored: subscribers load it by id. */
export interface InboundReceived {
  id: string;
  accountId: string;
}

/** Published when an API key is revoked: every instance closes that key's open WebSockets. */
export interface KeyRevoked {
  keyId: string;
  accountId: string;
}

const SUBSCRIBER_BUFFER = 10_000;

type Channels = {
  // One channel per account: a subscriber only ever receives its own account's events.
  'message-status': [accountId: string, change: StatusChange];
  'inbound-message': [accountId: string, event: InboundReceived];
  'key-revoked': [event: KeyRevoked];
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
export function createHeraldPubSub(options: { redisUrl: string | undefined; logger: Logger }): HeraldPubSub {
  let clients: Redis[] = [];
  // PUBLISH commands not answered yet, each resolving whether Redis took it.
  const publishing = new Set<Promise<boolean>>();
  let eventTarget;
  if (options.redisUrl) {
    const connect = (role: string) => {
      const client = new Redis(options.redisUrl!, { lazyConnect: false, maxRetriesPerRequest: null });
      // ioredis reconnects by itself; log transitions instead of crashing on 'error'.
      client.on('error', (error) => options.logger.warn({ err: error, role }, 'redis connection error'));
      return client;
    };
    clients = [connect('publish'), connect('subscribe')];
    const [publisher, subscriber] = clients;
    // The event target drops PUBLISH's promise. Kept here instead: a PUBLISH failed by a dropped
    // connection is logged, not an unhandled rejection, and close() can wait for the rest.
    const publishClient: Pick<Redis, 'publish'> = {
      publish: (channel: string | Buffer, message: string | Buffer) => {
        const sent = publisher.publish(channel, message).then(
          () => true,
          (error: unknown) => {
            options.logger.warn({ err: error, channel: String(channel) }, 'redis publish failed');
            return false;
          },
        );
        publishing.add(sent);
        void sent.then(() => publishing.delete(sent));
        return sent.then(() => 0);
      },
    };
    // The event target calls nothing but `publish` on its publish client.
    eventTarget = createRedisEventTarget({ publishClient: publishClient as Redis, subscribeClient: subscriber });
  }
  // Each subscriber gets a bounded buffer: without one, a subscriber slower than the publish
  // rate makes `publish` throw after 1024 pending events (RepeaterOverflowError), which would
  // take the whole server down. When it is full the oldest event is dropped; subscribers that
  // must not miss a transition (messageStatusChanged) read the event log, not the buffer.
  // The buffer must be the subscriber's own: yoga's pub/sub hands its one `repeaterBuffer` to
  // every subscription, and a buffer shared by several subscribers gives each event to only
  // one of them. So each subscription is made by a pub/sub of its own on the shared target.
  const target = eventTarget ?? new EventTarget();
  const pubsub = createPubSub<Channels>({ eventTarget: target });
  const ownPubSub = () => createPubSub<Channels>({ eventTarget: target, repeaterBuffer: new SlidingBuffer(SUBSCRIBER_BUFFER) });

  // Followers of single messages, per account: one listener per account channel (the topic
  // name `createPubSub` gives `message-status` with the account id), dispatching by message id.
  type Follower = (change: StatusChange) => void;
  const followedAccounts = new Map<string, { listener: (event: Event) => void; byMessage: Map<string, Set<Follower>> }>();
  const subscribeMessageStatus = (accountId: string, messageId: string): AsyncIterable<StatusChange> =>
    new Repeater<StatusChange>(async (push, stop) => {
      const topic = `message-status:${accountId}`;
      let account = followedAccounts.get(accountId);
      if (!account) {
        const byMessage = new Map<string, Set<Follower>>();
        const listener = (event: Event) => {
          const change = (event as CustomEvent<StatusChange>).detail;
          const followers = change && byMessage.get(change.id);
          if (followers) for (const follower of followers) follower(change);
        };
        account = { listener, byMessage };
        followedAccounts.set(accountId, account);
        target.addEventListener(topic, listener);
      }
      let followers = account.byMessage.get(messageId);
      if (!followers) account.byMessage.set(messageId, (followers = new Set()));
      const follower: Follower = (change) => void push(change);
      followers.add(follower);
      await stop;
      followers.delete(follower);
      if (followers.size === 0) account.byMessage.delete(messageId);
      if (account.byMessage.size === 0) {
        followedAccounts.delete(accountId);
        target.removeEventListener(topic, account.listener);
      }
    }, new SlidingBuffer(SUBSCRIBER_BUFFER));
  return {
    publishStatus: (change) => {
      try {
        pubsub.publish('message-status', change.accountId, change);
      } catch (error) {
        // Publishing is best effort after the commit: never let it fail the caller.
        options.logger.error({ err: error }, 'publishing a status change failed');
      }
    },
    // A listener of its own on the account's topic (the name `createPubSub` gives it), so the
    // filter runs before the subscriber's buffer, not after.
    subscribeStatus: (accountId, keep = () => true) =>
      new Repeater<StatusChange>(async (push, stop) => {
        const topic = `message-status:${accountId}`;
        const listener = (event: Event) => {
          const change = (event as CustomEvent<StatusChange>).detail;
          if (change && keep(change)) void push(change);
        };
        target.addEventListener(topic, listener);
        await stop;
        target.removeEventListener(topic, listener);
      }, new SlidingBuffer(SUBSCRIBER_BUFFER)),
    subscribeMessageStatus,
    publishInbound: (event) => {
      try {
        pubsub.publish('inbound-message', event.accountId, event);
      } catch (error) {
        options.logger.error({ err: error }, 'publishing an inbound message failed');
      }
    },
    subscribeInbound: (accountId) => ownPubSub().subscribe('inbound-message', accountId),
    publishKeyRevoked: (event) => {
      try {
        pubsub.publish('key-revoked', event);
      } catch (error) {
        options.logger.error({ err: error }, 'publishing a key revocation failed');
      }
    },
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
    close: async ({ timeoutMs } = {}) => {
      let delivered = false;
      // QUIT is answered after every command sent before it. While Redis is unreachable it waits
      // forever: past the deadline the connections are dropped instead.
      const quit = Promise.all(publishing)
        .then((results) => void (delivered = results.every(Boolean)))
        .then(() => Promise.all(clients.map((c) => c.quit())))
        .then(
          () => true,
          () => false,
        );
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<boolean>((resolve) => {
        if (timeoutMs !== undefined) timer = setTimeout(resolve, timeoutMs, false);
      });
      const quitInTime = await Promise.race([quit, deadline]);
      clearTimeout(timer);
      if (!quitInTime) for (const c of clients) c.disconnect();
      return delivered;
    },
  };
}
