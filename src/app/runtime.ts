// The moving parts shared by `herald` (server) and `herald worker`: the store, pub/sub, the
// providers behind routing, and (in processes that dispatch) the background loops that deliver.
import { Redis } from 'ioredis';
import { createBackgroundLoop, type BackgroundLoop } from '../concurrency/background-loop.js';
import type { Config } from '../config/config.js';
import { parseRoutingConfig, type RoutingConfig } from '../config/routes.js';
import type { Database } from '../db/database.js';
import { createDispatcher, type Dispatcher } from '../dispatch/dispatcher.js';
import { createReconciler, type Reconciler } from '../dispatch/reconciler.js';
import { applyStatusReports } from '../dispatch/reports.js';
import { createWakeSignal, type WakeSignal } from '../dispatch/wake.js';
import type { Logger } from '../logging/logger.js';
import { createOutbox } from '../outgoing-webhooks/outbox.js';
import { createDeliveryWorker, type DeliveryWorker } from '../outgoing-webhooks/worker.js';
import { ProviderPool, type ProviderHealth } from '../providers/provider-pool.js';
import { answer, askPrimary } from '../concurrency/cluster-requests.js';
import { createProviders } from '../providers/registry.js';
import type { ProviderEvents, SmsProvider } from '../providers/types.js';
import { createHeraldPubSub, type HeraldPubSub } from '../pubsub/pubsub.js';
import { createCompliance, type Compliance } from '../services/compliance.js';
import { receiveInbound, type InboundDeps } from '../services/inbound.js';
import { createStatsRollupLoop } from '../services/message-stats-rollup.js';
import { createQualityFlushLoop } from '../services/provider-quality.js';
import { createRouteFacts, type RouteFacts } from '../services/route-facts.js';
import { getMessageSealKey, getSimulatorSecret } from '../services/secrets.js';
import { createStore, type Store } from '../store/store.js';
import { createPublishing, type Publishing } from './publishing.js';

export interface Runtime extends Pick<Publishing, 'publishChanges' | 'publishAndWake'> {
  /** Every statement Herald runs, created once here and handed down. */
  store: Store;
  pubsub: HeraldPubSub;
  compliance: Compliance;
  providers: readonly SmsProvider[];
  /** The providers behind routing, circuits and limits. */
  pool: ProviderPool;
  /** SMS_ROUTES parsed (the pool routes by it). */
  routing: RoutingConfig;
  /** Each provider's price and measured quality for a message (routing and cost estimates). */
  routeFacts: RouteFacts;
  /**
   * Their health as the process that dispatches sees it: in an HTTP worker, asked of the
   * primary (a worker submits nothing, so its own circuits say nothing).
   */
  providerHealth: () => Promise<ProviderHealth[]>;
  /** What storing replies and answering their keywords needs, for the provider callbacks. */
  inbound: Omit<InboundDeps, 'logger'>;
  /** Undefined unless started with `dispatch: true`. */
  dispatcher: Dispatcher | undefined;
  /** Polls overdue SENT messages and expires them at the deadline; with the dispatcher. */
  reconciler: Reconciler | undefined;
  /** Sends outgoing webhooks; with the dispatcher. */
  webhookWorker: DeliveryWorker | undefined;
  startDispatcher(): void;
  stop(): Promise<void>;
}

export async function createRuntime(options: {
  config: Config;
  logger: Logger;
  database: Database;
  publicUrl: () => string;
  dispatch: boolean;
  /**
   * Which of the worker processes of one Herald on this machine this is (app/cluster.ts): one
   * serving HTTP or the one dispatching. Absent: the only process.
   */
  role?: 'http' | 'dispatcher';
  /** Runs the messageStats rollup loop. Default: unless this is an HTTP worker. */
  statsRollup?: boolean;
}): Promise<Runtime> {
  const { config, logger, database } = options;
  // A read of providers' quality is reused for up to 2 s, never longer than the counts take to
  // reach the table (tests flush every few ms).
  const store = createStore(database, { qualityReadCacheMs: Math.min(2_000, config.qualityFlushMs || 2_000), qualityBucketMs: config.qualityBucketMs });
  const pubsub = createHeraldPubSub({ redisUrl: config.redisUrl, logger, processes: options.role && 'worker' });
  // Limits share one Redis connection (pub/sub needs its own two).
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (error) => logger.warn({ err: error }, 'redis (limits) connection error'));
  const ownCompliance = createCompliance({ settings: store.accountSettings, redis, clusterWorker: !redis && options.role !== undefined });
  // An edit of an account's settings through any process (any instance, with Redis) drops every
  // process's cached policy at once, not after the cache's lifetime.
  const stopSettingsListener = pubsub.onSettingsChanged(({ accountId }) => ownCompliance.invalidate(accountId));
  const compliance: Compliance = {
    ...ownCompliance,
    invalidate(accountId) {
      ownCompliance.invalidate(accountId);
      pubsub.publishSettingsChanged({ accountId });
    },
  };
  const wake = await createWakeSignal({ databaseUrl: database.kind === 'postgres' ? config.databaseUrl : undefined, logger });
  const publishing = createPublishing({ pubsub, outbox: createOutbox(store.outbox), wake, logger });
  const inbound: Omit<InboundDeps, 'logger'> = {
    store,
    compliance,
    publishInbound: publishing.publishInbound,
    publishAndWake: publishing.publishAndWake,
    sendOptions: { maxBodyLength: config.maxBodyLength, defaultCountry: config.defaultCountry },
  };
  // What SMPP receives on its connection takes the same path as a provider callback's reports.
  const events: ProviderEvents = {
    async statusReports(provider, reports) {
      publishing.publishChanges((await applyStatusReports(store, provider, reports)).changes);
    },
    async inbound(provider, reports) {
      await receiveInbound({ ...inbound, logger }, provider, reports, Buffer.from(JSON.stringify(reports)));
    },
  };
  const providers = createProviders({
    config,
    logger,
    publicUrl: options.publicUrl,
    simulatorSecret: await getSimulatorSecret(store.secrets),
    simulatorStore: store.simulatorSubmissions,
    events,
    dispatching: options.dispatch,
  });
  const routing = parseRoutingConfig(config.routes, config.providers);
  const routeFacts = createRouteFacts(store);
  const pool = new ProviderPool(providers, {
    routing,
    redis,
    // A message waiting this long for a provider's rate limit or window tries elsewhere.
    maxWaitMs: Math.min(5_000, config.dispatcher.leaseMs / 4),
    quality: store.providerQuality.aggregator,
  });
  const qualityFlush = createQualityFlushLoop({ quality: store.providerQuality, logger, flushMs: config.qualityFlushMs });
  qualityFlush.start();
  // The primary passes the HTTP workers' question on to the dispatching worker.
  const stopAnswering = options.role === 'dispatcher' ? answer({ 'providers:health': () => pool.health() }) : undefined;
  const providerHealth = async (): Promise<ProviderHealth[]> => {
    if (options.role !== 'http') return pool.health();
    const asked = await askPrimary<ProviderHealth[]>('providers:health');
    // Through IPC as JSON: the one date comes back a string.
    return asked?.map((p) => ({ ...p, lastErrorAt: p.lastErrorAt === null ? null : new Date(p.lastErrorAt) })) ?? pool.health();
  };
  const delivery = options.dispatch ? await createDelivery({ config, logger, store, pool, providers, wake, publishing, routeFacts }) : undefined;
  // messageStats' rollup, in every instance (one at a time does the work, under an advisory
  // lock); of the processes of one instance, in the dispatching one, or in the HTTP workers when
  // nothing dispatches (DISPATCH=off: there is no dispatching process then).
  const rollsUp = options.statsRollup ?? options.role !== 'http';
  const statsRollup = config.statsRollupPollMs > 0 && rollsUp ? createStatsRollupLoop({ rollup: store.statsRollup, logger, pollMs: config.statsRollupPollMs }) : undefined;
  statsRollup?.start();

  return {
    store,
    pubsub,
    compliance,
    providers,
    pool,
    routing,
    routeFacts,
    providerHealth,
    publishChanges: publishing.publishChanges,
    publishAndWake: publishing.publishAndWake,
    inbound,
    dispatcher: delivery?.dispatcher,
    reconciler: delivery?.reconciler,
    webhookWorker: delivery?.webhookWorker,
    startDispatcher: () => delivery?.start(),
    async stop() {
      // Providers' loops are asked to stop first and awaited after the providers closed: closing
      // cancels a running pass's callbacks, which would otherwise be retried with backoff before
      // stop() returns. The delivery loops finish their pass before the outbox is drained, so
      // what they publish is written.
      await statsRollup?.stop();
      const providerLoopsStopped = delivery?.stopProviderLoops();
      await delivery?.stopLoops();
      await publishing.drain();
      await Promise.all(providers.map((p) => p.close?.()));
      await providerLoopsStopped;
      // After everything that counts has stopped, before the database closes.
      await qualityFlush.stop();
      stopAnswering?.();
      stopSettingsListener();
      await wake.close();
      await pubsub.close();
      await compliance.close();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * What a process that dispatches runs in the background: the dispatcher, the reconciler, the
 * outgoing-webhook worker and providers' own work (the simulator, playing a remote provider,
 * sends the reports accepted by a process that died).
 */
async function createDelivery(deps: {
  config: Config;
  logger: Logger;
  store: Store;
  pool: ProviderPool;
  providers: readonly SmsProvider[];
  wake: WakeSignal;
  publishing: Publishing;
  routeFacts: RouteFacts;
}) {
  const { config, logger, store, pool } = deps;
  const publish = deps.publishing.publishChanges;
  const reconciler = createReconciler({ store: store.delivery, pool, publish, logger, options: config.reconcile });
  const dispatcher = createDispatcher({
    store: store.delivery,
    pool,
    publish,
    wake: deps.wake,
    logger,
    options: config.dispatcher,
    sealKey: await getMessageSealKey(store.secrets),
    routeFacts: deps.routeFacts,
  });
  const webhookWorker = createDeliveryWorker({ store, logger, options: config.outgoingWebhooks });
  const providerLoops: BackgroundLoop[] = deps.providers.flatMap(({ name, backgroundWork: work }) =>
    work ? [createBackgroundLoop({ name: `${name} background work`, pollMs: work.pollMs, pass: async () => void (await work.run()), logger })] : [],
  );
  return {
    dispatcher,
    reconciler,
    webhookWorker,
    start() {
      dispatcher.start();
      reconciler.start();
      webhookWorker.start();
      // Started here, not at creation: the simulator's reports go to Herald's own URL, known
      // once the server listens.
      for (const loop of providerLoops) loop.start();
    },
    /** Asks providers' own loops to stop; resolves once their running passes have finished. */
    stopProviderLoops: async (): Promise<void> => void (await Promise.all(providerLoops.map((loop) => loop.stop()))),
    /** Stops the reconciler, the dispatcher and the webhook worker, in that order. */
    async stopLoops(): Promise<void> {
      await reconciler.stop();
      await dispatcher.stop();
      await webhookWorker.stop();
    },
  };
}
