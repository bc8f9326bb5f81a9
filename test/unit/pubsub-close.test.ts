// Closing the pub/sub as a short-lived process (the CLI's `keys revoke`) does: it says whether
// what was published reached Redis, and never hangs or crashes when Redis cannot be reached.
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { createHeraldPubSub } from '../../src/pubsub/pubsub.js';
import { closedPort } from '../support/ports.js';

const logger = createLogger({ ...makeConfig(), logLevel: 'silent' });

describe('HeraldPubSub.close', () => {
  it('without Redis, has nothing to wait for', async () => {
    const pubsub = createHeraldPubSub({ redisUrl: undefined, logger });
    pubsub.publishKeyRevoked({ keyId: 'k', accountId: 'a' });
    expect(await pubsub.close({ timeoutMs: 100 })).toBe(true);
  });

  it('with Redis unreachable, gives up after timeoutMs, drops the connections and says the publish did not arrive', async () => {
    const pubsub = createHeraldPubSub({ redisUrl: `redis://127.0.0.1:${await closedPort()}`, logger });
    pubsub.publishKeyRevoked({ keyId: 'k', accountId: 'a' });
    const started = Date.now();
    // The dropped PUBLISH is rejected by ioredis: it must not surface as an unhandled rejection
    // (vitest fails the run on one).
    expect(await pubsub.close({ timeoutMs: 300 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('with Redis unreachable and nothing published, still returns by the deadline (QUIT alone would wait forever)', async () => {
    const pubsub = createHeraldPubSub({ redisUrl: `redis://127.0.0.1:${await closedPort()}`, logger });
    const started = Date.now();
    expect(await pubsub.close({ timeoutMs: 300 })).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
