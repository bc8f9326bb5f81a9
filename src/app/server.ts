// Herald's lifecycle: open the database, make the first key, start the runtime (providers,
// pub/sub, dispatcher), serve HTTP + graphql-ws on one port, and stop all of it in order.
// What each request does lives in http/: router.ts (paths), yoga.ts (GraphQL), graphql-ws.ts.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/config.js';
import { openDatabase, type Database } from '../db/database.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Reconciler } from '../dispatch/reconciler.js';
import { attachGraphqlWs, type GraphqlWs } from '../http/graphql-ws.js';
import { createRequestHandler } from '../http/router.js';
import { createHeraldYoga, type HeraldYoga } from '../http/yoga.js';
import type { Logger } from '../logging/logger.js';
import { workerMetrics } from '../http/cluster-metrics.js';
import { createHeraldRegistry, withProcessMetrics } from '../http/metrics-route.js';
import type { ProviderPool } from '../providers/provider-pool.js';
import type { SmsProvider } from '../providers/types.js';
import type { HeraldPubSub } from '../pubsub/pubsub.js';
import { createRuntime } from './runtime.js';
import { bootstrapAdminKey, type CreatedApiKey } from '../services/api-keys.js';
import { createCorsPolicy } from '../security/cors.js';
import { accessTokenAudience } from '../domain/access-token.js';

export interface HeraldOptions {
  config: Config;
  logger: Logger;
  /** An already-open database (tests share one); otherwise opened from the config at start. */
  database?: Database;
  /** Set in an HTTP worker of several Herald processes (app/cluster.ts). */
  role?: 'http';
  /** An HTTP worker rolls up messageStats only when no process of its Herald dispatches. */
  statsRollup?: boolean;
}

export interface RunningHerald {
  url: string;
  port: number;
  database: Database;
  yoga: HeraldYoga;
  /** The first ADMIN key, when this start created it on an empty database. */
  bootstrapKey: CreatedApiKey | undefined;
  providers: readonly SmsProvider[];
  pool: ProviderPool;
  /** Undefined unless dispatching. */
  reconciler: Reconciler | undefined;
  pubsub: HeraldPubSub;
  /** Undefined when DISPATCH=off. */
  dispatcher: Dispatcher | undefined;
  stop(): Promise<void>;
}

/** In-flight requests get this long to finish at stop before their sockets are cut. */
const DRAIN_MS = 5_000;

/**
 * Opens the database (applying migrations), then serves GraphQL over HTTP, SSE and
 * graphql-ws on one port, plus health endpoints. `stop()` closes everything it opened.
 */
export async function startHerald(options: HeraldOptions): Promise<RunningHerald> {
  const { config, logger } = options;
  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder: 'herald server' }));
  const bootstrapKey = config.bootstrapAdminKey ? await bootstrapAdminKey(database.prisma) : undefined;
  // Provider callback URLs need the address we listen on, known once listening.
  let publicUrl = config.publicUrl ?? '';
  const runtime = await createRuntime({ config, logger, database, publicUrl: () => publicUrl, dispatch: config.dispatch, role: options.role, statsRollup: options.statsRollup });

  let graphqlWs: GraphqlWs | undefined;
  const metricsRegistry = createHeraldRegistry({
    stats: runtime.store.stats,
    pool: runtime.pool,
    logger,
    sockets: () => graphqlWs?.counts() ?? { sockets: 0, subscriptions: 0 },
    quality: runtime.store.providerQuality,
  });
  const yoga = createHeraldYoga({ config, logger, runtime, metricsRegistry });
  const cors = createCorsPolicy(config.cors, config.publicUrl);
  if (config.cors.anyOrigin) logger.warn('CORS_ORIGINS=* (CORS_ALLOW_ANY_ORIGIN=true): every web page may call this Herald with a token or key it holds; for development only');
  const clusterMetrics = options.role === 'http' ? workerMetrics(() => withProcessMetrics(metricsRegistry)) : undefined;
  const server: Server = createServer(
    createRequestHandler({
      config,
      logger,
      store: runtime.store,
      yoga,
      metricsRegistry,
      scrapeAll: clusterMetrics?.scrape,
      webhooks: { store: runtime.store, providers: () => runtime.providers, publish: runtime.publishChanges, logger, publicUrl: () => publicUrl, inbound: runtime.inbound },
      cors,
      backup: { auth: { store: runtime.store, tokenAudience: accessTokenAudience(config.publicUrl) }, pglite: database.pglite, logger },
    }),
  );
  const openSockets = trackSockets(server);
  graphqlWs = attachGraphqlWs({ server, yoga, auth: { store: runtime.store, tokenAudience: accessTokenAudience(config.publicUrl) }, pubsub: runtime.pubsub, logger, maxPayloadBytes: config.maxRequestBytes, cors });

  const url = await listen(server, config.host, config.port);
  publicUrl ||= url;
  runtime.startDispatcher();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Stop accepting, let in-flight requests finish (bounded), then close the database.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      graphqlWs.close();
      server.closeIdleConnections();
      const deadline = setTimeout(() => {
        for (const socket of openSockets) socket.destroy();
      }, DRAIN_MS);
      await runtime.dispatcher?.stop();
      await closed;
      clearTimeout(deadline);
      await yoga.dispose?.();
      clusterMetrics?.close();
      await runtime.stop();
      if (!options.database) await database.close();
    })());

  return {
    url,
    port: Number(new URL(url).port),
    database,
    yoga,
    bootstrapKey,
    providers: runtime.providers,
    pool: runtime.pool,
    reconciler: runtime.reconciler,
    pubsub: runtime.pubsub,
    dispatcher: runtime.dispatcher,
    stop,
  };
}

/** The server's open TCP sockets, so that stop() can cut those still open after the drain. */
function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** Listens and returns the base URL (the port the system chose when `port` is 0). */
async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return urlOf(host, typeof address === 'object' && address ? address.port : port);
}

/** Herald's base URL on this host and port. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
