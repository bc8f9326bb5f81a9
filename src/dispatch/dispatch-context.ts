// What each step of dispatching needs, shared by the dispatcher's round (dispatcher.ts), the
// sending of one claimed message (send-claimed.ts) and the recording of its outcome
// (record-outcome.ts).
import type { ProviderFacts, RoutingDecision } from '../domain/routing-strategy.js';
import type { Logger } from '../logging/logger.js';
import type { ProviderPool } from '../providers/provider-pool.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { ClaimedRow, DispatchQueueStore } from '../store/dispatch-queue.js';
import type { MessageStatusStore } from '../store/message-status.js';
import type { ReportStore } from '../store/reports.js';

export interface DispatcherOptions {
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Safety-net poll when no wake-up arrives (also how scheduled messages become due). */
  pollMs: number;
}

/** The statements the dispatcher runs: the background side of the store. */
export interface DispatchStore {
  queue: DispatchQueueStore;
  messageStatus: MessageStatusStore;
  reports: ReportStore;
}

export interface DispatchContext {
  store: DispatchStore;
  /** The providers behind routing, circuit breakers and limits. */
  pool: ProviderPool;
  publish: (changes: StatusChange[]) => void;
  logger: Logger;
  options: DispatcherOptions;
  /** Opens the sealed bodies of messages that carry a secret (verification codes). */
  sealKey: Buffer;
  now: () => Date;
  /**
   * Each provider's price and measured quality for this message's destination, for its route's
   * strategy and the cost it records (app/runtime.ts reads them from memory: no query per message).
   * Absent: no prices, no measurements.
   */
  routeFacts?: (message: ClaimedMessage, providers: readonly string[], minSamples?: number) => Promise<ProviderFacts[]>;
}

export interface ClaimedMessage extends ClaimedRow {
  /** performance.now() at the claim, for the dispatch latency histogram. */
  claimedAt: number;
  /** How its route ordered the providers (set by send-claimed.ts; recorded with the outcome). */
  routing?: RoutingDecision & { route: string | null };
}

/** Facts without prices or measurements: strategies that need them fall back to the route order. */
export const unknownFacts = (providers: readonly string[]): ProviderFacts[] =>
  providers.map((provider) => ({ provider, cost: null, deliveryRate: null, p95Ms: null, samples: 0 }));
