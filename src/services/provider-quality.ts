// The loop that moves this process's provider-quality counts (domain/provider-quality.ts) into
// the shared tables every QUALITY_FLUSH_MS, and deletes minutes past retention now and then.
// Every process runs one: the dispatching one counts submissions and expiries, HTTP workers
// count the reports that reach them. stop() flushes what is left, so a clean stop loses nothing.
import { createBackgroundLoop } from '../concurrency/background-loop.js';
import type { Logger } from '../logging/logger.js';
import type { ProviderQualityStore } from '../store/provider-quality.js';

/** Deletions of old minutes run at most this often; a full batch asks for the next at once. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 5_000;

export interface QualityFlushLoop {
  start(): void;
  /** Stops the loop, then flushes what was counted since its last pass. */
  stop(): Promise<void>;
}

export function createQualityFlushLoop(options: {
  quality: Pick<ProviderQualityStore, 'flush' | 'prune'>;
  logger: Logger;
  /** 0: no loop; counts are written at stop only. */
  flushMs: number;
  now?: () => number;
}): QualityFlushLoop {
  const { quality, logger } = options;
  const now = options.now ?? Date.now;
  let lastPrune = -Infinity;
  const loop =
    options.flushMs > 0
      ? createBackgroundLoop({
          name: 'provider quality',
          pollMs: options.flushMs,
          logger,
          pass: async () => {
            await quality.flush();
            if (now() - lastPrune < PRUNE_EVERY_MS) return false;
            const deleted = await quality.prune(PRUNE_BATCH);
            // A batch that was full leaves more: the next pass continues at once.
            if (deleted >= PRUNE_BATCH) return true;
            lastPrune = now();
            return false;
          },
        })
      : undefined;
  return {
    start: () => loop?.start(),
    async stop() {
      await loop?.stop();
      try {
        await quality.flush();
      } catch (error) {
        logger.warn({ err: error }, 'provider quality: the last counts could not be written at stop');
      }
    },
  };
}
