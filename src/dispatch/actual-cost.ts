// The actual cost of messages, as their providers report it (Twilio's `price`). Status callbacks
// carry no price and a provider may rate a message a while after delivery, so a background loop
// in the dispatching processes asks afterwards: messages in a final status, sent within
// ACTUAL_COST_WINDOW_MS by a provider whose adapter has `fetchCost`, without a cost yet. Each is
// asked at most ACTUAL_COST_MAX_ATTEMPTS times, the waits between asks growing from
// ACTUAL_COST_RETRY_MS by ×3 (not rated yet, or the provider could not be asked); a provider
// saying it will never report one ends the asking at once. A pass claims a small batch and asks
// with a few calls in flight at most, off the send path entirely.
import { createBackgroundLoop } from '../concurrency/background-loop.js';
import type { Money } from '../domain/money.js';
import { forEachBounded } from '../limits/for-each-bounded.js';
import type { Logger } from '../logging/logger.js';
import type { SmsProvider } from '../providers/types.js';
import type { ActualCostStore } from '../store/actual-cost.js';

export interface ActualCostOptions {
  /** Wait between passes (ACTUAL_COST_POLL_MS); 0 turns the fetcher off. */
  pollMs: number;
  /** Messages sent longer ago than this are not asked about (ACTUAL_COST_WINDOW_MS). */
  windowMs: number;
  /** Wait after the first ask before the second (ACTUAL_COST_RETRY_MS); later waits grow ×3. */
  retryMs: number;
  /** Asks per message at most (ACTUAL_COST_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Messages claimed per pass. Default 50. */
  batchSize?: number;
  /** Provider calls in flight at most. Default 4. */
  concurrency?: number;
}

/** How much longer each wait between two asks is than the one before. */
export const RETRY_GROWTH = 3;

export interface CostRound {
  /** Messages their provider was asked about. */
  asked: number;
  /** Costs written. */
  recorded: number;
  /** Not rated yet: asked again later. */
  pending: number;
  /** The provider could not be asked or answered something unreadable: asked again later. */
  failed: number;
  /** The provider will never report one: not asked again. */
  none: number;
}

export interface ActualCostFetcher {
  runOnce(): Promise<CostRound>;
  start(): void;
  stop(): Promise<void>;
}

export function createActualCostFetcher(deps: {
  store: { actualCost: ActualCostStore };
  /** The providers in force now, disabled ones included (their messages still have a cost). */
  providers: () => readonly SmsProvider[];
  logger: Logger;
  options: ActualCostOptions;
  now?: () => Date;
}): ActualCostFetcher {
  const { store, options, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 50;
  const concurrency = Math.max(1, options.concurrency ?? 4);

  async function runOnce(): Promise<CostRound> {
    const round: CostRound = { asked: 0, recorded: 0, pending: 0, failed: 0, none: 0 };
    const reporting = new Map(deps.providers().filter((p) => p.fetchCost).map((p) => [p.name, p]));
    if (reporting.size === 0) return round;
    const at = now();
    const rows = await store.actualCost.claimDue(at, {
      providers: [...reporting.keys()],
      sentAfter: new Date(at.getTime() - options.windowMs),
      retryMs: options.retryMs,
      growth: RETRY_GROWTH,
      maxChecks: options.maxAttempts,
      limit: batchSize,
    });
    const costs: { id: string; cost: Money }[] = [];
    const never: string[] = [];
    // Each ask settles on its own (a failure is counted and logged), so none stops the others.
    await forEachBounded(rows.length, concurrency, async (index) => {
      const row = rows[index];
      const provider = reporting.get(row.provider);
      if (!provider?.fetchCost) return;
      round.asked++;
      try {
        const cost = await provider.fetchCost({ id: row.id, to: row.to, providerMessageId: row.providerMessageId, sentAt: row.sentAt });
        if (cost === undefined) round.pending++;
        else if (cost === null) never.push(row.id);
        else costs.push({ id: row.id, cost });
      } catch (error) {
        round.failed++;
        const last = row.checks >= options.maxAttempts;
        logger.warn({ err: error, messageId: row.id, provider: row.provider, attempt: row.checks }, last ? 'actual cost query failed; giving up' : 'actual cost query failed; asking again later');
      }
    });
    round.recorded = await store.actualCost.record(now(), costs);
    round.none = never.length;
    await store.actualCost.giveUp(never, options.maxAttempts);
    return round;
  }

  const loop = createBackgroundLoop({
    name: 'actual cost fetcher',
    pollMs: options.pollMs,
    // A full batch says more may be waiting: the next pass starts at once.
    pass: async () => (await runOnce()).asked >= batchSize,
    logger,
  });
  return {
    runOnce,
    start: () => {
      if (options.pollMs > 0) loop.start();
    },
    stop: loop.stop,
  };
}
