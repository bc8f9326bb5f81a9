// The store: every SQL statement Herald runs and every Prisma query of the hot paths (send,
// claim, status change, reports, inbound, stats, outbox), as named functions grouped by what
// they hold. It is created once at start-up from the open database and handed to services and
// the dispatcher; nothing below keeps module-level state, so two Heralds in one process (tests
// do this) never share a cache or a group.
import type { Database, PrismaClient } from '../db/database.js';
import { createAccountSettingsReads, type AccountSettingsReads } from './account-settings.js';
import { createApiKeyReads, type ApiKeyReads } from './api-keys.js';
import { createBatches, type Batches } from './batches.js';
import { createBudgetStore, type BudgetStore } from './budgets.js';
import { createIdempotencyRecords, type IdempotencyRecords } from './idempotency-records.js';
import { createInboundMessages, type InboundMessages } from './inbound-messages.js';
import { createMessageStatsReads, type MessageStatsReads } from './message-stats.js';
import { createMessageStatsRollup, type MessageStatsRollup } from './message-stats-rollup.js';
import { createNewMessages, type NewMessages } from './new-messages.js';
import { createOptOutStore, type OptOutStore } from './opt-outs.js';
import { PHONE_HASH_KEY_SETTING } from '../domain/audit.js';
import { createPriceReads, type PriceReads } from './prices.js';
import { createSecretStore, type SecretStore } from './secrets.js';
import { createSenderIdentityReads, type SenderIdentityReads } from './sender-identities.js';
import { createSubscriptionReads, type SubscriptionReads } from './subscription-reads.js';
import { createTemplateReads, type TemplateReads } from './templates.js';
import { createVerificationLocks, type VerificationLocks } from './verification-locks.js';
import { createDispatchQueueStore, type DispatchQueueStore } from './dispatch-queue.js';
import { createMessageStatusStore, type MessageStatusStore } from './message-status.js';
import { createOutboxRelayStore, type OutboxRelayStore } from './outbox-relay.js';
import { createRetentionStore, type RetentionStore } from './retention.js';
import { createReconciliationStore, type ReconciliationStore } from './reconciliation.js';
import { createActualCostStore, type ActualCostStore } from './actual-cost.js';
import { createReportStore, type ReportStore } from './reports.js';
import { createSimulatorSubmissionStores } from './simulator-submissions.js';
import type { SimulatorStore } from '../providers/simulator/simulator-memory-store.js';
import { createWebhookDeliveryStore, type WebhookDeliveryStore } from './webhook-deliveries.js';
import { QualityAggregator } from '../domain/provider-quality.js';
import { createProviderQualityStore, type ProviderQualityStore } from './provider-quality.js';

export interface Store {
  /** The client request handlers use. */
  readonly prisma: PrismaClient;
  /**
   * The client background work uses (dispatcher, reconciler, simulator, outbox): on PostgreSQL a
   * small pool of its own, so a flood of requests cannot starve delivery (see db/database.ts).
   */
  readonly background: PrismaClient;
  /** Whether the database answers (GET /readyz). */
  ping(): Promise<boolean>;
  /** API keys by prefix, as every request authenticates. */
  readonly apiKeys: ApiKeyReads;
  /** An account's sender identities (every send), and who owns a number (every reply). */
  readonly senderIdentities: SenderIdentityReads;
  /** An account's price list, for cost estimates. */
  readonly prices: PriceReads;
  /** An account's budgets (cached) and the spend rows sends lock and update. */
  readonly budgets: BudgetStore;
  /** Who opted out of an account's messages. */
  readonly optOuts: OptOutStore;
  /** Messages as single sends create them: grouped per turn, or sealed (batches' are `batches`'). */
  readonly newMessages: NewMessages;
  /** Idempotency keys of single sends. */
  readonly idempotency: IdempotencyRecords;
  /** sendMessages batches with their messages. */
  readonly batches: Batches;
  /** Live templates with their current version, and the locks of template edits. */
  readonly templates: TemplateReads;
  /** An account's settings as sends and inbound read them. */
  readonly accountSettings: AccountSettingsReads;
  /** Replies from handsets, with the keyword they carry applied. */
  readonly inboundMessages: InboundMessages;
  /** The locks that order concurrent verification starts and checks. */
  readonly verificationLocks: VerificationLocks;
  /** Per-install secrets (simulator webhook secret, message seal key, verification HMAC key). */
  readonly secrets: SecretStore;
  /** messageStats' aggregate and the /metrics message count. */
  readonly stats: MessageStatsReads;
  /** messageStats' rollup: its reads (on `prisma`) and the loop's transactions (on `background`). */
  readonly statsRollup: MessageStatsRollup;
  /** What subscriptions read per event, grouped across subscribers. */
  readonly subscriptionReads: SubscriptionReads;

  // Delivery: status changes, reports, the delivery loops and the outbox.
  /** Status changes for request handlers (cancel, provider webhooks, SMPP receipts), on `prisma`. */
  readonly messageStatus: MessageStatusStore;
  /** Delivery reports for request handlers (provider webhooks, SMPP receipts), on `prisma`. */
  readonly reports: ReportStore;
  /** What the dispatcher and the reconciler run, on `background`. */
  readonly delivery: DeliveryStore;
  /** The outgoing-webhook relay's statements (committed events → deliveries), on `background`. */
  readonly outbox: OutboxRelayStore;
  /** Retention policies and the batches that apply them (on `background`). */
  readonly retention: RetentionStore;
  /** The outgoing webhook worker's deliveries and endpoint health, on `background`. */
  readonly webhookDeliveries: WebhookDeliveryStore;
  /** The simulator's submissions (what a remote provider would remember), on `background`. */
  /** Each simulator's submissions, by its name. */
  readonly simulatorSubmissions: (simulator: string) => SimulatorStore;
  /**
   * Providers' measured quality per destination country: this process's counts (status changes,
   * reports and expiries above record into its aggregator; so does the provider pool), their
   * flush (on `background`) and the cached reader (on `prisma`).
   */
  readonly providerQuality: ProviderQualityStore;
}

export interface StoreOptions {
  /** How long a read of providers' measured quality is reused (default 2000 ms). */
  qualityReadCacheMs?: number;
  /** One provider-quality bucket (QUALITY_BUCKET_MS); default a minute. */
  qualityBucketMs?: number;
}

/**
 * The background side of delivery. Its status changes and reports are grouped apart from the
 * request handlers' (they run on the other client), except on PGlite where both sides are one
 * client and share one group.
 */
export interface DeliveryStore {
  readonly queue: DispatchQueueStore;
  readonly messageStatus: MessageStatusStore;
  readonly reports: ReportStore;
  readonly reconciliation: ReconciliationStore;
  /** What providers charged, asked after the final status (dispatch/actual-cost.ts). */
  readonly actualCost: ActualCostStore;
}

export function createStore(database: Pick<Database, 'prisma' | 'background' | 'poolSize'>, options: StoreOptions = {}): Store {
  const { prisma, background } = database;
  const secrets = createSecretStore(prisma);
  const optOuts = createOptOutStore(prisma, async () => Buffer.from(await secrets.getOrCreate(PHONE_HASH_KEY_SETTING), 'hex'));
  const newMessages = createNewMessages(prisma);
  const quality = new QualityAggregator(Date.now, options.qualityBucketMs);
  const onRequests = { messageStatus: createMessageStatusStore(prisma, quality), reports: createReportStore(prisma, quality) };
  const onBackground =
    background === prisma
      ? onRequests
      : { messageStatus: createMessageStatusStore(background, quality), reports: createReportStore(background, quality) };
  return {
    prisma,
    background,
    ping: () =>
      prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      ),
    apiKeys: createApiKeyReads(prisma),
    senderIdentities: createSenderIdentityReads(prisma),
    prices: createPriceReads(prisma),
    budgets: createBudgetStore(prisma),
    optOuts,
    newMessages,
    idempotency: createIdempotencyRecords(prisma),
    batches: createBatches(prisma, database.poolSize),
    templates: createTemplateReads(prisma),
    accountSettings: createAccountSettingsReads(prisma),
    inboundMessages: createInboundMessages(prisma, optOuts),
    verificationLocks: createVerificationLocks(),
    secrets,
    stats: createMessageStatsReads(prisma),
    statsRollup: createMessageStatsRollup({ prisma, background }),
    subscriptionReads: createSubscriptionReads(prisma),
    ...onRequests,
    delivery: { ...onBackground, queue: createDispatchQueueStore(background), reconciliation: createReconciliationStore(background, quality), actualCost: createActualCostStore(background) },
    outbox: createOutboxRelayStore(background),
    retention: createRetentionStore(background),
    webhookDeliveries: createWebhookDeliveryStore(background),
    simulatorSubmissions: createSimulatorSubmissionStores(background),
    providerQuality: createProviderQualityStore({ prisma, background, aggregator: quality, cacheMs: options.qualityReadCacheMs, bucketMs: options.qualityBucketMs }),
  };
}
