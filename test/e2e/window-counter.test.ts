// A refused send takes back what it added to its windows; a take-back that lands after its window
// closed must not open the next window below zero (which would let an extra send through). In
// memory and on the real Redis.
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createWindowCounter } from '../../src/limits/window-counter.js';
import { REDIS_URL, requireRedis } from '../support/services.js';

const clients: Redis[] = [];
afterAll(() => clients.forEach((c) => c.disconnect()));

async function counters() {
  await requireRedis();
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  clients.push(redis);
  await redis.connect();
  const keyPrefix = `herald:test:${randomUUID()}`;
  return { memory: createWindowCounter({ keyPrefix }), redis: createWindowCounter({ keyPrefix, redis }) };
}

describe('window counters', () => {
  it.each(['memory', 'redis'] as const)('%s: takes back only from a window still open', async (kind) => {
    const counter = (await counters())[kind];
    expect((await counter.add('k', 1, 1)).consumed).toBe(1);
    expect((await counter.add('k', 1, 1)).consumed).toBe(2);
    await counter.subtract('k', 1, 1);
    expect((await counter.add('k', 1, 1)).consumed).toBe(2);
    await counter.subtract('k', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the window closes
    await counter.subtract('k', 1, 1); // a late take-back
    expect((await counter.add('k', 1, 1)).consumed).toBe(1);
  });
});
