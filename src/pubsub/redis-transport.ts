// Carries pub/sub events between Herald instances through Redis: one connection publishes, one
// subscribes (a subscribed Redis connection can do nothing else). The event target from
// @graphql-yoga/redis-event-target does the channel work; this adds what it leaves out:
// connection errors are logged instead of crashing, failed publishes are logged instead of being
// unhandled rejections, and close() can wait for the publishes still on their way.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';

export interface RedisTransport {
  eventTarget: EventTarget;
  /** See HeraldPubSub.close: resolves true when every publish reached Redis. */
  close(options?: { timeoutMs?: number }): Promise<boolean>;
}

export function connectRedisTransport(redisUrl: string, logger: Logger): RedisTransport {
  const connect = (role: string) => {
    const client = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
    // ioredis reconnects by itself; log transitions instead of crashing on 'error'.
    client.on('error', (error) => logger.warn({ err: error, role }, 'redis connection error'));
    return client;
  };
  const clients = [connect('publish'), connect('subscribe')] as const;
  const [publisher, subscriber] = clients;
  // PUBLISH commands not answered yet, each resolving whether Redis took it.
  const publishing = new Set<Promise<boolean>>();
  // The event target drops PUBLISH's promise. Kept here instead: a PUBLISH failed by a dropped
  // connection is logged, not an unhandled rejection, and close() can wait for the rest.
  const publishClient: Pick<Redis, 'publish'> = {
    publish: (channel: string | Buffer, message: string | Buffer) => {
      const sent = publisher.publish(channel, message).then(
        () => true,
        (error: unknown) => {
          logger.warn({ err: error, channel: String(channel) }, 'redis publish failed');
          return false;
        },
      );
      publishing.add(sent);
      void sent.then(() => publishing.delete(sent));
      return sent.then(() => 0);
    },
  };
  return {
    // The event target calls nothing but `publish` on its publish client.
    eventTarget: createRedisEventTarget({ publishClient: publishClient as Redis, subscribeClient: subscriber }),
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
