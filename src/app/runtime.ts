// The moving parts shared by `herald` (server) and `herald worker`: the store, pub/sub, the
// providers behind routing, and (in processes that dispatch) the background loops that deliver.
import { Redis } from 'ioredis';
import { createBackgroundLoop, type BackgroundLoop } from '../concurrency/background-loop.js';
import type { Config } from '../config/config.js';
import type { RoutingConfig } from '../config/routes.js';
import { environmentSpecs } from '../domain/provider-definitions.js';
import type { Database } from '../db/database.js';
import { createDispatcher, type Dispatcher } from '../dispatch/dispatcher.js';
import { createActualCostFetcher, type ActualCostFetcher } from '../dispatch/actual-cost.js';
import { createReconciler, type Reconciler } from '../dispatch/reconciler.js';
import { applyStatusReports } from '../dispatch/reports.js';
import { createWakeSignal, type WakeSignal } from '../dispatch/wake.js';
import type { Logger } from '../logging/logger.js';
import { createDeliveryWorker, type DeliveryWorker } from '../outgoing-webhooks/worker.js';
import { ProviderPool, type ProviderHealth } from '../providers/provider-pool.js';
import { answer, askPrimary } from '../concurrency/cluster-requests.js';
import { createProvider, updateInPlace } from '../providers/registry.js';
import type { ProviderEvents, SmsProvider } from '../providers/types.js';
import { createHeraldPubSub, type HeraldPubSub } from '../pubsub/pubsub.js';
import { createCompliance, type Compliance } from '../services/compliance.js';
import { createBudgetGuard } from '../services/budgets.js';
import { createRetentionLoop } from '../services/retention.js';
import { receiveInbound, type InboundDeps } from '../services/inbound.js';
import { createStatsRollupLoop } from '../services/message-stats-rollup.js';
import { createQualityFlushLoop } from '../services/provider-quality.js';
import { createRouteFacts, type RouteFacts } from '../services/route-facts.js';
import { getConfigSealKey, getMessageSealKey, getSimulatorSecret } from '../services/secrets.js';
import type { ConfigurationDeps } from '../services/configuration.js';
import { createLiveConfiguration, type LiveConfiguration } from '../services/live-configuration.js';
import { createStore, type Store } from '../store/store.js';
import { createPublishing, type Publishing } from './publishing.js';

export interface Runtime extends Pick<Publishing, 'publishChanges' | 'publishAndWake'> {
  /** Every statement Herald runs, created once here and handed down. */
  store: Store;
  pubsub: HeraldPubSub;
  compliance: Compliance;
  /** The providers in force (disabled ones included: they still take reports), as of now. */
  readonly providers: readonly SmsProvider[];
  /** The providers behind routing, circuits and limits. */
  pool: ProviderPool;
  /** The routing in force as of now: set at run time, else SMS_ROUTES (the pool routes by it). */
  readonly routing: RoutingConfig;
  /** Providers and routing as configured now, reloaded on every change (services/live-configuration.ts). */
  configuration: LiveConfiguration;
  /** What the configuration mutations need (services/configuration.ts). */
  configurationDeps: ConfigurationDeps;
  /** Whether the account is OPERATOR_ACCOUNT (looked up once it exists; accounts are never renamed). */
  isOperatorAccount: (accountId: string) => Promise<boolean>;
  /** Each provider's price and measured quality for a message (routing and cost estimates). */
  routeFacts: RouteFacts;
  /**
   * Their health as the process that dispatches sees it: in an HTTP worker, asked of the
   * primary (a worker submits nothing, so its own circuits say nothing).
   */
  providerHealth: () => Promise<ProviderHealth[]>;
  /** The configuration version in force where this instance dispatches; null when nothing does. */
  dispatchingConfigurationVersion: () => Promise<number | null>;
  /** What storing replies and answering their keywords needs, for the provider callbacks. */
  inbound: Omit<InboundDeps, 'logger'>;
  /** Undefined unless started with `dispatch: true`. */
  dispatcher: Dispatcher | undefined;
  /** Polls overdue SENT messages and expires them at the deadline; with the dispatcher. */
  reconciler: Reconciler | undefined;
  /** Asks providers what finished messages cost (ACTUAL_COST_*); with the dispatcher. */
  actualCost: ActualCostFetcher | undefined;
  /** Sends outgoing webhooks; with the dispatcher. */
  webhookWorker: DeliveryWorker | undefined;
  startDispatcher(): void;
  stop(): Promise<void>;
}

/** The safety net for a lost change notification: how often each process checks the configuration's version. */
const CONFIGURATION_POLL_MS = 10_000;

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
  const publishing = createPublishing({ pubsub, wake });
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
  const providerContext = {
    config,
    logger,
    publicUrl: options.publicUrl,
    simulatorSecret: await getSimulatorSecret(store.secrets),
    simulatorStore: store.simulatorSubmissions,
    events,
    dispatching: options.dispatch,
  };
  const configurationDeps: ConfigurationDeps = {
    prisma: store.prisma,
    // SMS_ROUTES was parsed and checked with the rest of the environment (config/config.ts).
    environment: { providers: environmentSpecs(config), routes: config.routes === undefined ? undefined : JSON.parse(config.routes) },
    sealKey: await getConfigSealKey(store.secrets),
  };
  const configuration = await createLiveConfiguration({
    ...configurationDeps,
    build: (spec) => createProvider(spec, providerContext),
    updateInPlace,
    logger,
    pollMs: CONFIGURATION_POLL_MS,
    // A replaced adapter's calls in flight end within the provider timeout.
    retireAfterMs: config.providerTimeoutMs + 1_000,
  });
  let operatorId: string | undefined;
  const isOperatorAccount = async (accountId: string): Promise<boolean> => {
    operatorId ??= (await store.prisma.account.findUnique({ where: { name: config.operatorAccount }, select: { id: true } }))?.id;
    return operatorId === accountId;
  };
  const inForce = configuration.current();
  const routeFacts = createRouteFacts(store);
  // Set here, once the routing in force is known; `compliance` is the object every send path
  // holds (the inbound keyword replies' since above), so they all see it.
  compliance.budgets = createBudgetGuard({
    routing: () => configuration.current().routing.config,
    routeFacts,
    prices: store.prices,
    budgets: store.budgets,
    prisma: store.prisma,
  });
  const pool = new ProviderPool(inForce.adapters, {
    routing: inForce.routing.config,
    redis,
    // A message waiting this long for a provider's rate limit or window tries elsewhere.
    maxWaitMs: Math.min(5_000, config.dispatcher.leaseMs / 4),
    quality: store.providerQuality.aggregator,
    enabled: inForce.enabled,
  });
  const stopReconfiguring = configuration.onApplied((state) => pool.reconfigure(state.adapters, state.routing.config, state.enabled));
  const qualityFlush = createQualityFlushLoop({ quality: store.providerQuality, logger, flushMs: config.qualityFlushMs });
  qualityFlush.start();
  // The primary passes the HTTP workers' question on to the dispatching worker.
  const stopAnswering =
    options.role === 'dispatcher' ? answer({ 'providers:health': () => pool.health(), 'configuration:version': () => configuration.current().version }) : undefined;
  const providerHealth = async (): Promise<ProviderHealth[]> => {
    if (options.role !== 'http') return pool.health();
    const asked = await askPrimary<ProviderHealth[]>('providers:health');
    // Through IPC as JSON: the one date comes back a string.
    return asked?.map((p) => ({ ...p, lastErrorAt: p.lastErrorAt === null ? null : new Date(p.lastErrorAt) })) ?? pool.health();
  };
  const dispatchingConfigurationVersion = async (): Promise<number | null> => {
    if (options.role !== 'http') return options.dispatch ? configuration.current().version : null;
    return (await askPrimary<number>('configuration:version')) ?? null;
  };
  const delivery = options.dispatch ? await createDelivery({ config, logger, store, pool, configuration, wake, publishing, routeFacts }) : undefined;
  // messageStats' rollup, in every instance (one at a time does the work, under an advisory
  // lock); of the processes of one instance, in the dispatching one, or in the HTTP workers when
  // nothing dispatches (DISPATCH=off: there is no dispatching process then).
  const rollsUp = options.statsRollup ?? options.role !== 'http';
  const statsRollup = config.statsRollupPollMs > 0 && rollsUp ? createStatsRollupLoop({ rollup: store.statsRollup, logger, pollMs: config.statsRollupPollMs }) : undefined;
  statsRollup?.start();
  // Retention runs where the rollup does (it deletes only days the rollup has made final).
  const retention = config.retentionPollMs > 0 && rollsUp ? createRetentionLoop({ store: store.retention, logger, pollMs: config.retentionPollMs }) : undefined;
  retention?.start();

  return {
    store,
    pubsub,
    compliance,
    get providers() {
      return configuration.current().adapters;
    },
    pool,
    get routing() {
      return configuration.current().routing.config;
    },
    configuration,
    configurationDeps,
    isOperatorAccount,
    routeFacts,
    providerHealth,
    dispatchingConfigurationVersion,
    publishChanges: publishing.publishChanges,
    publishAndWake: publishing.publishAndWake,
    inbound,
    dispatcher: delivery?.dispatcher,
    reconciler: delivery?.reconciler,
    actualCost: delivery?.actualCost,
    webhookWorker: delivery?.webhookWorker,
    startDispatcher: () => delivery?.start(),
    async stop() {
      // Providers' loops are asked to stop first and awaited after the providers closed: closing
      // cancels a running pass's callbacks, which would otherwise be retried with backoff before
      // stop() returns. The delivery loops finish their pass.
      await statsRollup?.stop();
      await retention?.stop();
      const providerLoopsStopped = delivery?.stopProviderLoops();
      await delivery?.stopLoops();
      stopReconfiguring();
      await configuration.close();
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
 * actual-cost fetcher, the outgoing-webhook worker and providers' own work (the simulator, playing a remote provider,
 * sends the reports accepted by a process that died).
 */
async function createDelivery(deps: {
  config: Config;
  logger: Logger;
  store: Store;
  pool: ProviderPool;
  configuration: LiveConfiguration;
  wake: WakeSignal;
  publishing: Publishing;
  routeFacts: RouteFacts;
}) {
  const { config, logger, store, pool } = deps;
  const publish = deps.publishing.publishChanges;
  const reconciler = createReconciler({ store: store.delivery, pool, publish, logger, options: config.reconcile });
  const actualCost = createActualCostFetcher({ store: store.delivery, providers: () => pool.providers, logger, options: config.actualCost });
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
  // Providers' own loops, one per adapter with background work; a reconfiguration starts those
  // of new adapters and stops those of replaced ones.
  const providerLoops = new Map<SmsProvider, BackgroundLoop>();
  let started = false;
  const loopFor = (provider: SmsProvider): BackgroundLoop | undefined => {
    const work = provider.backgroundWork;
    if (!work) return undefined;
    let loop = providerLoops.get(provider);
    if (!loop) {
      loop = createBackgroundLoop({ name: `${provider.name} background work`, pollMs: work.pollMs, pass: async () => void (await work.run()), logger });
      providerLoops.set(provider, loop);
      if (started) loop.start();
    }
    return loop;
  };
  for (const provider of deps.configuration.current().adapters) loopFor(provider);
  const stopFollowing = deps.configuration.onApplied((state, retired) => {
    for (const provider of state.adapters) loopFor(provider);
    for (const provider of retired) {
      void providerLoops.get(provider)?.stop();
      providerLoops.delete(provider);
    }
  });
  return {
    dispatcher,
    reconciler,
    actualCost,
    webhookWorker,
    start() {
      dispatcher.start();
      reconciler.start();
      actualCost.start();
      webhookWorker.start();
      // Started here, not at creation: the simulator's reports go to Herald's own URL, known
      // once the server listens.
      started = true;
      for (const loop of providerLoops.values()) loop.start();
    },
    /** Asks providers' own loops to stop; resolves once their running passes have finished. */
    async stopProviderLoops(): Promise<void> {
      stopFollowing();
      await Promise.all([...providerLoops.values()].map((loop) => loop.stop()));
    },
    /** Stops the reconciler, the actual-cost fetcher, the dispatcher and the webhook worker, in that order. */
    async stopLoops(): Promise<void> {
      await reconciler.stop();
      await actualCost.stop();
      await dispatcher.stop();
      await webhookWorker.stop();
    },
  };
}
