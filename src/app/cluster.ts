// Herald on PostgreSQL as several processes on one machine, with Node's own cluster module: the
// primary dispatches (dispatcher, reconciler, outgoing webhooks, providers' own work) and forks
// HTTP_WORKERS processes that share the port and serve HTTP, SSE and graphql-ws.
//
// Why split this way: sending and dispatching in one process starve each other (an intake flood
// delays deliveries, deliveries delay the answers), and one Node process uses one core. The
// dispatcher stays one process, as it was: its claims are leased rows, so this is about CPU, not
// correctness; several machines still scale out as several instances on PostgreSQL + Redis.
//
// What the processes share: the database; pub/sub (status changes, replies, key revocations) and
// the send limits through the primary over IPC (pubsub/ipc-transport.ts, and rate-limiter-
// flexible's RateLimiterClusterMaster), or through Redis when REDIS_URL is set; the dispatcher's
// wake-ups through PostgreSQL's LISTEN/NOTIFY, as between instances. A scrape of /metrics on any
// worker adds up every process's metrics (http/cluster-metrics.ts).
import cluster, { type Worker } from 'node:cluster';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { primaryMetrics } from '../http/cluster-metrics.js';
import { createHeraldRegistry, withProcessMetrics } from '../http/metrics-route.js';
import type { Logger } from '../logging/logger.js';
import { bootstrapAdminKey, type CreatedApiKey } from '../services/api-keys.js';
import { createRuntime } from './runtime.js';
import { startHerald, urlOf, type RunningHerald } from './server.js';

/** How long workers get to drain at stop before they are killed. */
const WORKER_STOP_MS = 10_000;
/** A worker that died is replaced after this long (not at once: a crash at start would spin). */
const RESPAWN_MS = 1_000;

export interface RunningPrimary {
  url: string;
  bootstrapKey: CreatedApiKey | undefined;
  stop(): Promise<void>;
}

/** In the primary: opens the database, forks the HTTP workers, then dispatches. */
export async function startPrimary(config: Config, logger: Logger): Promise<RunningPrimary> {
  // Migrations and the first key happen here, once, before any worker opens the database.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder: 'herald server' });
  const bootstrapKey = config.bootstrapAdminKey ? await bootstrapAdminKey(database.prisma) : undefined;
  // Counts of every worker's send limits live here (created before any worker asks).
  if (!config.redisUrl) new RateLimiterClusterMaster();
  let publicUrl = config.publicUrl ?? '';
  const runtime = await createRuntime({ config, logger, database, publicUrl: () => publicUrl, dispatch: config.dispatch, processes: 'primary' });

  const registry = createHeraldRegistry({ stats: runtime.store.stats, pool: runtime.pool, logger, sockets: () => ({ sockets: 0, subscriptions: 0 }) });
  const metrics = primaryMetrics(() => withProcessMetrics(registry));

  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'HTTP worker exited; starting another');
    setTimeout(() => !stopping && fork(), RESPAWN_MS).unref();
  });
  const listening = waitForListening(config.httpWorkers);
  for (let i = 0; i < config.httpWorkers; i++) fork();
  const port = await listening;
  const url = urlOf(config.host, port);
  publicUrl ||= url;
  runtime.startDispatcher();
  logger.info({ workers: config.httpWorkers, url }, 'HTTP workers listening; this process dispatches');

  return {
    url,
    bootstrapKey,
    async stop() {
      stopping = true;
      await stopWorkers(Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined));
      metrics.close();
      await runtime.stop();
      await database.close();
    },
  };
}

/** Resolves with the shared port once `count` workers listen (the first start's failure rejects). */
function waitForListening(count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let ready = 0;
    const onListening = (_worker: Worker, address: { port: number }) => {
      if (++ready < count) return;
      cleanup();
      resolve(address.port);
    };
    const onExit = (worker: Worker, code: number) => {
      cleanup();
      reject(new Error(`HTTP worker ${worker.process.pid} exited with code ${code} before listening`));
    };
    const cleanup = () => {
      cluster.off('listening', onListening);
      cluster.off('exit', onExit);
    };
    cluster.on('listening', onListening);
    cluster.on('exit', onExit);
  });
}

async function stopWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), WORKER_STOP_MS);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.process.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * In an HTTP worker: serves HTTP on the shared port and dispatches nothing. The primary says
 * when to stop (SIGTERM); a terminal's Ctrl-C reaches every process of the group, so SIGINT is
 * left to the primary. A worker whose primary is gone stops too.
 */
export async function startHttpWorker(config: Config, logger: Logger): Promise<RunningHerald> {
  const herald = await startHerald({ config: { ...config, dispatch: false, bootstrapAdminKey: false }, logger, processes: 'worker' });
  const stop = () => void herald.stop().finally(() => process.exit(0));
  process.on('SIGINT', () => {});
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  return herald;
}
