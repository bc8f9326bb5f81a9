// The moving parts shared by `herald` (server) and `herald worker`: pub/sub, the dispatcher's
// wake-up signal, the providers and the dispatcher itself.
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createDispatcher, type Dispatcher } from './dispatch/dispatcher.js';
import { createWakeSignal } from './dispatch/wake.js';
import type { Logger } from './logger.js';
import { createProviders } from './providers/registry.js';
import type { SmsProvider } from './providers/types.js';
import { createHeraldPubSub, type HeraldPubSub, type StatusChange } from './pubsub.js';
import { Redis } from 'ioredis';
import { SimulatorProvider } from './providers/simulator.js';
import { createCompliance, type Compliance } from './services/compliance.js';
import { getMessageSealKey, getOrCreateSecret, SIMULATOR_SECRET_KEY } from './services/settings.js';
import { createDatabaseSimulatorStore } from './services/simulator-store.js';

export interface Runtime {
  pubsub: HeraldPubSub;
  compliance: Compliance;
  providers: readonly SmsProvider[];
  /** Publishes status changes that have been committed. */
  publish(changes: StatusChange[]): void;
  /** Publishes and, for new work (QUEUED/SCHEDULED), wakes every dispatcher. */
  announce(changes: StatusChange[]): void;
  /** Undefined unless started with `dispatch: true`. */
  dispatcher: Dispatcher | undefined;
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
  const { prisma } = database;
  const pubsub = createHeraldPubSub({ redisUrl: config.redisUrl, logger });
  // Limits share one Redis connection (pub/sub needs its own two).
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (error) => logger.warn({ err: error }, 'redis (limits) connection error'));
  const compliance = createCompliance({ prisma, redis });
  const wake = await createWakeSignal({ databaseUrl: database.kind === 'postgres' ? config.databaseUrl : undefined, logger });
  const providers = createProviders({
    config,
    logger,
    publicUrl: options.publicUrl,
    simulatorSecret: await getOrCreateSecret(prisma, SIMULATOR_SECRET_KEY),
    simulatorStore: createDatabaseSimulatorStore(prisma),
  });
  // The simulator plays a remote provider: reports accepted by a process that died are sent
  // by a surviving one. Only processes that dispatch take part.
  const recovery = options.dispatch
    ? setInterval(() => {
        for (const provider of providers) {
          if (provider instanceof SimulatorProvider) {
            provider.recoverOverdueReports().catch((error: unknown) => logger.warn({ err: error }, 'simulator report recovery failed'));
          }
        }
      }, 1_000)
    : undefined;
  recovery?.unref();
  const publish = (changes: StatusChange[]) => {
    for (const change of changes) pubsub.publishStatus(change);
  };
  const dispatcher = options.dispatch
    ? createDispatcher({ prisma, providers, publish, wake, logger, options: config.dispatcher, sealKey: await getMessageSealKey(prisma) })
    : undefined;

  return {
    pubsub,
    compliance,
    providers,
    publish,
    announce(changes) {
      publish(changes);
      if (changes.some((c) => c.status === 'QUEUED' || c.status === 'SCHEDULED')) wake.notify();
    },
    dispatcher,
    startDispatcher: () => dispatcher?.start(),
    async stop() {
      clearInterval(recovery);
      await dispatcher?.stop();
      await Promise.all(providers.map((p) => p.close?.()));
      await wake.close();
      await pubsub.close();
      await compliance.close();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
