// Herald on PostgreSQL as several processes on one machine, with Node's own cluster module: a
// primary that only coordinates, HTTP_WORKERS processes that share the port and serve HTTP, SSE
// and graphql-ws, and one process that dispatches (dispatcher, reconciler, outgoing webhooks,
// providers' own work).
//
// Why split this way: sending and dispatching in one process starve each other (an intake flood
// delays deliveries, deliveries delay the answers), and one Node process uses one core. The
// primary does no request or delivery work of its own because every worker waits on it: it holds
// the send-limit counts and relays pub/sub, and a busy primary would delay every send. The
// dispatcher stays one process, as it was (its claims are leased rows, so this is about CPU, not
// correctness); several machines still scale out as several instances on PostgreSQL + Redis.
//
// What the processes share: the database; pub/sub (status changes, replies, key revocations,
// settings changes) and the send limits through the primary over IPC (pubsub/ipc-transport.ts,
// and limits/window-counter.ts, one message per turn each), or through Redis when REDIS_URL is set;
// the dispatcher's wake-ups through PostgreSQL's LISTEN/NOTIFY, as between instances. Questions
// only one process can answer go through the primary (concurrency/cluster-requests.ts): the
// providers' health (the dispatcher's), and /metrics (every process's, added up).
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { answer, askPrimary, askWorker, connectedWorkers } from '../concurrency/cluster-requests.js';
import type { Config } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { answerWindowChanges } from '../limits/window-counter.js';
import { workerMetrics } from '../http/cluster-metrics.js';
import { createHeraldRegistry, withProcessMetrics } from '../http/metrics-route.js';
import type { Logger } from '../logging/logger.js';
import { processRegistry } from '../metrics/metrics.js';
import { startPrimaryRelay } from '../pubsub/ipc-transport.js';
import { bootstrapAdminKey, type CreatedApiKey } from '../services/api-keys.js';
import { createRuntime } from './runtime.js';
import { startHerald, urlOf, type RunningHerald } from './server.js';

/** How long workers get to drain at stop before they are killed. */
const WORKER_STOP_MS = 10_000;
/** A worker that died is replaced after this long (not at once: a crash at start would spin). */
const RESPAWN_MS = 1_000;
/** Set in a worker's environment: what it runs. */
const ROLE_VARIABLE = 'HERALD_PROCESS_ROLE';

type Role = 'http' | 'dispatcher';
type Metrics = MetricObjectWithValues<MetricValue<string>>[];

export interface RunningPrimary {
  url: string;
  bootstrapKey: CreatedApiKey | undefined;
  stop(): Promise<void>;
}

/** In the primary: prepares the database, forks the workers, then coordinates them. */
export async function startPrimary(config: Config, logger: Logger): Promise<RunningPrimary> {
  // Migrations and the first key happen here, once, before any worker opens the database.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder: 'herald server' });
  const bootstrapKey = config.bootstrapAdminKey ? await bootstrapAdminKey(database.prisma) : undefined;
  await database.close();
  // Counts of every worker's send limits live here (created before any worker asks).
  const stopCounting = config.redisUrl ? undefined : answerWindowChanges();
  const relay = config.redisUrl ? undefined : startPrimaryRelay();
  const roles = new Map<Worker, Role>();
  const dispatcher = () => [...roles].find(([w, role]) => role === 'dispatcher' && w.isConnected())?.[0];
  let dispatcherStarted!: () => void;
  const dispatcherReady = new Promise<void>((resolve) => (dispatcherStarted = resolve));
  const stopAnswering = answer({
    'dispatcher:ready': () => void dispatcherStarted(),
    'providers:health': async () => {
      const worker = dispatcher();
      return worker ? askWorker(worker, 'providers:health') : undefined;
    },
    'configuration:version': async () => {
      const worker = dispatcher();
      return worker ? askWorker(worker, 'configuration:version') : undefined;
    },
    'metrics:scrape': async () => {
      const all = await Promise.all([processRegistry.getMetricsAsJSON(), ...connectedWorkers().map((w) => askWorker<Metrics>(w, 'metrics:collect'))]);
      const aggregated = AggregatorRegistry.aggregate(all.filter((m): m is Metrics => m !== undefined));
      return { text: await aggregated.metrics(), contentType: aggregated.contentType };
    },
  });

  let stopping = false;
  let publicUrl = config.publicUrl;
  const fork = (role: Role) => {
    // The dispatcher's providers call back to the HTTP workers' address, known once they listen.
    const worker = cluster.fork({ [ROLE_VARIABLE]: role, ...(role === 'dispatcher' && publicUrl ? { PUBLIC_URL: publicUrl } : {}) });
    roles.set(worker, role);
  };
  cluster.on('exit', (worker, code, signal) => {
    const role = roles.get(worker);
    roles.delete(worker);
    if (stopping || !role) return;
    logger.error({ workerPid: worker.process.pid, role, code, signal }, `${role === 'http' ? 'HTTP worker' : 'dispatcher'} exited; starting another`);
    setTimeout(() => !stopping && fork(role), RESPAWN_MS).unref();
  });
  const listening = waitForListening(config.httpWorkers);
  for (let i = 0; i < config.httpWorkers; i++) fork('http');
  const url = urlOf(config.host, await listening);
  publicUrl ??= url;
  // Ready once it dispatches too: until then the providers' health has no one to answer it.
  // (A dispatcher that dies while starting is replaced; its successor says it is ready.)
  if (config.dispatch) {
    fork('dispatcher');
    await dispatcherReady;
  }
  logger.info({ workers: config.httpWorkers, dispatching: config.dispatch, url }, 'HTTP workers listening');

  return {
    url,
    bootstrapKey,
    async stop() {
      stopping = true;
      // HTTP workers first (no new messages), then the dispatcher finishes what it holds.
      const byRole = (role: Role) => [...roles].filter(([, r]) => r === role).map(([w]) => w);
      await stopWorkers(byRole('http'));
      await stopWorkers(byRole('dispatcher'));
      stopAnswering();
      stopCounting?.();
      relay?.close();
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
      reject(new Error(`worker ${worker.process.pid} exited with code ${code} before the HTTP workers listened`));
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

/** In a worker: what the primary asked it to run. */
export async function startWorker(config: Config, logger: Logger): Promise<void> {
  const stopWith = (stop: () => Promise<void>) => {
    const exit = () => void stop().finally(() => process.exit(0));
    // The primary says when to stop (SIGTERM); a terminal's Ctrl-C reaches every process of the
    // group, so SIGINT is left to the primary. A worker whose primary is gone stops too.
    process.on('SIGINT', () => {});
    process.once('SIGTERM', exit);
    process.once('disconnect', exit);
  };
  if (process.env[ROLE_VARIABLE] === 'dispatcher') {
    const { stop } = await startDispatcher(config, logger);
    return stopWith(stop);
  }
  const herald: RunningHerald = await startHerald({
    config: { ...config, dispatch: false, bootstrapAdminKey: false },
    logger,
    role: 'http',
    statsRollup: !config.dispatch,
  });
  stopWith(herald.stop);
}

/** The dispatching worker: the runtime with its background loops, and no HTTP. */
async function startDispatcher(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder: 'herald dispatcher' });
  const publicUrl = config.publicUrl ?? urlOf(config.host, config.port);
  const runtime = await createRuntime({ config, logger, database, publicUrl: () => publicUrl, dispatch: true, role: 'dispatcher' });
  const registry = createHeraldRegistry({
    stats: runtime.store.stats,
    pool: runtime.pool,
    logger,
    sockets: () => ({ sockets: 0, subscriptions: 0 }),
    quality: runtime.store.providerQuality,
  });
  const metrics = workerMetrics(() => withProcessMetrics(registry));
  runtime.startDispatcher();
  await askPrimary('dispatcher:ready');
  return {
    async stop() {
      metrics.close();
      await runtime.stop();
      await database.close();
    },
  };
}
