// The moving parts shared by `herald` (server) and `herald worker`: pub/sub, the dispatcher's
// wake-up signal, the providers and the dispatcher itself.
import { createBackgroundLoop, type BackgroundLoop } from './concurrency/background-loop.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createDispatcher, type Dispatcher } from './dispatch/dispatcher.js';
import { createReconciler, type Reconciler } from './dispatch/reconciler.js';
import { createWakeSignal } from './dispatch/wake.js';
import type { Logger } from './logger.js';
import { createProviders } from './providers/registry.js';
import { ProviderPool } from './providers/provider-pool.js';
import { parseRoutingConfig } from './config/routes.js';
import type { ProviderEvents, SmsProvider } from './providers/types.js';
import { applyStatusReports } from './dispatch/reports.js';
import { receiveInbound, type InboundDeps } from './services/inbound.js';
import { createHeraldPubSub, type HeraldPubSub, type StatusChange } from './pubsub.js';
import { Redis } from 'ioredis';
import { createCompliance, type Compliance } from './services/compliance.js';
import { getMessageSealKey, getSimulatorSecret } from './services/secrets.js';
import { createOutbox } from './outgoing/outbox.js';
import { createDeliveryWorker, type DeliveryWorker } from './outgoing/worker.js';
import { createStore, type Store } from './store/store.js';

export interface Runtime {
  /** Every statement Herald runs, created once here and handed down. */
  store: Store;
  pubsub: HeraldPubSub;
  compliance: Compliance;
  providers: readonly SmsProvider[];
  /** The providers behind routing, circuits and limits (the `providers` query reads it). */
  pool: ProviderPool;
  /** Publishes status changes that have been committed. */
  publish(changes: StatusChange[]): void;
  /** Publishes and, for new work (QUEUED/SCHEDULED), wakes every dispatcher. */
  announce(changes: StatusChange[]): void;
  /** What storing replies and answering their keywords needs, for the webhook routes. */
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
}): Promise<Runtime> {
  const { config, logger, database } = options;
  const store = createStore(database);
  const pubsub = createHeraldPubSub({ redisUrl: config.redisUrl, logger });
  // Limits share one Redis connection (pub/sub needs its own two).
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (error) => logger.warn({ err: error }, 'redis (limits) connection error'));
  const compliance = createCompliance({ settings: store.accountSettings, redis });
  const wake = await createWakeSignal({ databaseUrl: database.kind === 'postgres' ? config.databaseUrl : undefined, logger });
  // Outgoing webhooks hear what subscribers hear: every committed change is also written to
  // the webhook outbox (not awaited: a slow outbox write never holds up dispatch or a request;
  // stop() waits for the writes still running).
  const outbox = createOutbox(store.outbox);
  const outboxWrites = new Set<Promise<unknown>>();
  const toOutbox = (work: () => Promise<unknown>) => {
    const write = work()
      .catch((error: unknown) => logger.warn({ err: error }, 'outgoing webhook events could not be written'))
      .finally(() => outboxWrites.delete(write));
    outboxWrites.add(write);
  };
  const publish = (changes: StatusChange[]) => {
    for (const change of changes) pubsub.publishStatus(change);
    if (changes.length > 0) toOutbox(() => outbox.statusChanges(changes));
  };
  const announce = (changes: StatusChange[]) => {
    publish(changes);
    if (changes.some((c) => c.status === 'QUEUED' || c.status === 'SCHEDULED')) wake.notify();
  };
  const inbound: Omit<InboundDeps, 'logger'> = {
    store,
    compliance,
    publishInbound: (event) => {
      pubsub.publishInbound(event);
      toOutbox(() => outbox.inboundReceived(event));
    },
    announce,
    sendOptions: { maxBodyLength: config.maxBodyLength, defaultCountry: config.defaultCountry },
  };
  // What SMPP receives on its connection takes the same path as a webhook's reports.
  const events: ProviderEvents = {
    async statusReports(provider, reports) {
      publish((await applyStatusReports(store, provider, reports)).changes);
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
  // Only processes that dispatch take part in providers' own work.
  const providerLoops = options.dispatch ? providerBackgroundLoops(providers, logger) : [];
  const pool = new ProviderPool(providers, {
    routing: parseRoutingConfig(config.routes, config.providers),
    redis,
    // A message waiting this long for a provider's rate limit or window tries elsewhere.
    maxWaitMs: Math.min(5_000, config.dispatcher.leaseMs / 4),
  });
  const reconciler = options.dispatch
    ? createReconciler({ store: store.delivery, pool, publish, logger, options: config.reconcile })
    : undefined;
  const dispatcher = options.dispatch
    ? createDispatcher({ store: store.delivery, pool, publish, wake, logger, options: config.dispatcher, sealKey: await getMessageSealKey(store.secrets) })
    : undefined;
  const webhookWorker = options.dispatch
    ? createDeliveryWorker({ store, logger, options: config.outgoingWebhooks })
    : undefined;

  return {
    store,
    pubsub,
    compliance,
    providers,
    pool,
    publish,
    announce,
    inbound,
    dispatcher,
    reconciler,
    webhookWorker,
    startDispatcher: () => {
      dispatcher?.start();
      reconciler?.start();
      webhookWorker?.start();
      // Started here, not at creation: the simulator's reports go to Herald's own URL, known
      // once the server listens.
      for (const loop of providerLoops) loop.start();
    },
    async stop() {
      // Asked to stop first, awaited after the providers closed: closing cancels a running
      // pass's callbacks, which would otherwise be retried with backoff before stop() returns.
      const providerLoopsStopped = Promise.all(providerLoops.map((loop) => loop.stop()));
      await reconciler?.stop();
      await dispatcher?.stop();
      await webhookWorker?.stop();
      await Promise.all(outboxWrites);
      await Promise.all(providers.map((p) => p.close?.()));
      await providerLoopsStopped;
      await wake.close();
      await pubsub.close();
      await compliance.close();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * One loop per provider that works on its own (the simulator, playing a remote provider, sends
 * the reports accepted by a process that died).
 */
function providerBackgroundLoops(providers: readonly SmsProvider[], logger: Logger): BackgroundLoop[] {
  return providers.flatMap(({ name, backgroundWork: work }) =>
    work ? [createBackgroundLoop({ name: `${name} background work`, pollMs: work.pollMs, pass: async () => void (await work.run()), logger })] : [],
  );
}
