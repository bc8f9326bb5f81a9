// The flush of providers' measured quality, without a database: a failed write keeps its counts
// for the next flush, and the loop writes what is left when it stops.
import { describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/database.js';
import { QualityAggregator } from '../../src/domain/provider-quality.js';
import { createLogger } from '../../src/logging/logger.js';
import { makeConfig } from '../../src/config/config.js';
import { createQualityFlushLoop } from '../../src/services/provider-quality.js';
import { createProviderQualityStore } from '../../src/store/provider-quality.js';

const logger = createLogger(makeConfig({ logLevel: 'silent' }));

/** Polls `done` (the loop runs on real timers, 5 ms apart) until it holds, or fails after 5 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A client whose statements fail while `down` is set, and that counts them. */
function fakeClient() {
  const client = {
    down: false,
    statements: 0,
    async $executeRaw() {
      client.statements++;
      if (client.down) throw new Error('database unreachable');
      return 0;
    },
  };
  return client;
}

describe('flushing provider quality', () => {
  it('keeps the counts of a flush that failed, and writes them with the next one', async () => {
    const client = fakeClient();
    const aggregator = new QualityAggregator(() => Date.parse('2026-12-03T12:00:30Z'));
    const db = client as unknown as PrismaClient;
    const store = createProviderQualityStore({ prisma: db, background: db, aggregator });
    aggregator.recordSubmission('sim', '+14155550100', true);
    client.down = true;
    await expect(store.flush()).rejects.toThrow('database unreachable');
    expect(aggregator.size).toBe(1);
    aggregator.recordSubmission('sim', '+14155550100', false);
    client.down = false;
    expect(await store.flush()).toBe(1); // one minute bucket, both submissions in it
    expect(aggregator.size).toBe(0);
    expect(await store.flush()).toBe(0);
    expect(client.statements).toBe(2); // nothing counted: no statement
  });

  it('writes what is left when the loop stops, even with the loop off', async () => {
    const calls: string[] = [];
    const quality = {
      flush: async () => (calls.push('flush'), 0),
      prune: async () => (calls.push('prune'), 0),
    };
    const off = createQualityFlushLoop({ quality, logger, flushMs: 0 });
    off.start();
    await off.stop();
    expect(calls).toEqual(['flush']);
  });

  it('prunes at most once a minute, at once again while batches come back full', async () => {
    const calls: string[] = [];
    let now = 0;
    const deletions = [5_000, 10, 0];
    const quality = {
      flush: async () => (calls.push('flush'), 0),
      prune: async () => (calls.push('prune'), deletions.shift() ?? 0),
    };
    const loop = createQualityFlushLoop({ quality, logger, flushMs: 5, now: () => now });
    const prunes = () => calls.filter((c) => c === 'prune').length;
    const flushes = () => calls.filter((c) => c === 'flush').length;
    loop.start();
    // The first pass prunes a full batch, so the second prunes again at once; then a minute's rest.
    await until(() => flushes() >= 5);
    expect(prunes()).toBe(2);
    now += 60_000;
    await until(() => prunes() === 3 && flushes() >= 8);
    await loop.stop();
    expect(prunes()).toBe(3);
    expect(calls.at(-1)).toBe('flush');
  });
});
