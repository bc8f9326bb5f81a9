// What each step of dispatching needs, shared by the dispatcher's round (dispatcher.ts), the
// sending of one claimed message (send-claimed.ts) and the recording of its outcome
// (record-outcome.ts).
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
}

export interface ClaimedMessage extends ClaimedRow {
  /** performance.now() at the claim, for the dispatch latency histogram. */
  claimedAt: number;
}
