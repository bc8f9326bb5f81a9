import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { execute, GraphQLError, subscribe } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate, rateLimited } from './auth.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { isDatabaseUnavailable } from './db/unavailable.js';
import type { Logger } from './logger.js';
import { buildSchema } from './schema/index.js';
import type { Context } from './schema/context.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import type { SmsProvider } from './providers/types.js';
import type { ProviderPool } from './providers/provider-pool.js';
import type { Reconciler } from './dispatch/reconciler.js';
import type { HeraldPubSub } from './pubsub.js';
import { createRuntime } from './runtime.js';
import { bootstrapAdminKey, type CreatedApiKey } from './services/api-keys.js';
import { handleWebhook, isWebhookPath, type WebhookDeps } from './webhooks/router.js';
import { checkBodySize, sendPayloadTooLarge } from './http/body-limit.js';
import { queryLimitPlugins } from './security/query-limits.js';
import { CSRF_HEADERS } from './security/csrf.js';
import { currentLogContext, REQUEST_ID_HEADER, requestIdFrom, withLogContext, type LogContext } from './observability/log-context.js';
import { createHeraldRegistry, serveMetrics } from './observability/scrape.js';
import { isDashboardPath, serveDashboard } from './http/dashboard.js';

export interface HeraldOptions {
  config: Config;
  logger: Logger;
  /** An already-open database (tests share one); otherwise opened from the config at start. */
  database?: Database;
}

export interface RunningHerald {
  url: string;
  port: number;
  database: Database;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
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

type WsExtra = {
  request: IncomingMessage;
  socket: import('ws').WebSocket;
  auth?: Context['auth'];
  /** The socket's id (its upgrade request's x-request-id, or a new one). */
  requestId?: string;
};

/**
 * Opens the database (applying migrations), then serves GraphQL over HTTP, SSE and
 * graphql-ws on one port, plus health endpoints. `stop()` closes everything it opened.
 */
export async function startHerald(options: HeraldOptions): Promise<RunningHerald> {
  const { config, logger } = options;
  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder: 'herald server' }));
  const ownsDatabase = !options.database;
  const { prisma } = database;
  const bootstrapKey = config.bootstrapAdminKey ? await bootstrapAdminKey(prisma) : undefined;
  let publicUrl = config.publicUrl ?? '';
  const runtime = await createRuntime({ config, logger, database, publicUrl: () => publicUrl, dispatch: config.dispatch });
  const { pubsub, providers, publish, announce } = runtime;
  // graphql-ws connections, for the socket and subscription gauges of /metrics.
  const wsConnections = new Set<{ subscriptions: Record<string, unknown> }>();
  const metricsRegistry = createHeraldRegistry({
    prisma,
    pool: runtime.pool,
    logger,
    sockets: () => ({ sockets: wsConnections.size, subscriptions: [...wsConnections].reduce((n, c) => n + Object.keys(c.subscriptions).length, 0) }),
  });

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    plugins: [
      // Oversized documents are refused at parse/validate, on HTTP and graphql-ws alike.
      ...queryLimitPlugins(config.graphqlLimits),
      // A browser can send a cross-site GET or a form/text POST without a preflight; such a
      // request must carry a header a page cannot set cross-site (any real client sends one).
      useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] }),
      // Operation counts, phase timings and errors, served by our GET /metrics.
      usePrometheus({
        registry: metricsRegistry,
        endpoint: false,
        // The URL is the same on every request (and carries the host): no label for it.
        labels: { url: false },
        metrics: {
          graphql_envelop_request: true,
          graphql_envelop_request_duration: true,
          graphql_envelop_phase_parse: true,
          graphql_envelop_phase_validate: true,
          graphql_envelop_phase_context: true,
          graphql_envelop_phase_execute: true,
          graphql_envelop_phase_subscribe: true,
          graphql_envelop_error_result: true,
          graphql_yoga_http_duration: true,
        },
      }),
    ],
    // Unexpected errors reach clients as "Unexpected error." in production; never stack or SQL.
    // A database that cannot be reached (restarting, refusing connections) is said as such, with
    // a code a client can retry on: nothing was done, so trying again is safe.
    maskedErrors: {
      isDev: !config.production,
      maskError: (error, message, isDev) => (isDatabaseUnavailable(error) ? databaseUnavailableError(error) : maskError(error, message, isDev)),
    },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error({ err: args.find((a) => a instanceof Error) }, args.map(String).join(' ')),
    },
    graphiql: {
      title: 'Herald GraphiQL',
      headers: JSON.stringify({ Authorization: 'Bearer <your API key>' }),
    },
    // The default GraphiQL loads its code from a CDN and is blank offline; this one is inlined.
    // Imported on the first visit: the inlined bundle is a ~0.5 s parse on every start otherwise.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    context: async ({
      request,
      connectionParams,
      auth,
      logContext,
    }: {
      request: Request;
      connectionParams?: Record<string, unknown>;
      auth?: Context['auth'];
      /** graphql-ws: the socket's id and the operation's (HTTP: taken from the request's context). */
      logContext?: LogContext;
    }) => ({
      prisma,
      store: runtime.store,
      config,
      pubsub,
      announce,
      compliance: runtime.compliance,
      providers,
      pool: runtime.pool,
      ...requestLogging(logContext ?? currentLogContext()),
      // WebSocket operations were authenticated when the socket connected.
      auth: await limitRequests(auth ?? (await authenticate(prisma, connectionParams?.authorization ?? request.headers.get('authorization')))),
    }),
  });

  function requestLogging(fields: LogContext): Pick<Context, 'requestId' | 'log'> {
    const requestId = fields.requestId ?? requestIdFrom(undefined);
    return { requestId, log: logger.child({ requestId, ...(fields.operationId && { operationId: fields.operationId }) }) };
  }

  /** Per-key request rate (every HTTP request and WebSocket operation counts). */
  async function limitRequests(auth: Context['auth']): Promise<Context['auth']> {
    const refused = await runtime.compliance.limiter.consumeRequest(auth.keyId, auth.accountId);
    if (refused) throw rateLimited(refused);
    return auth;
  }

  const webhookDeps: WebhookDeps = {
    prisma,
    providers: () => providers,
    publish,
    logger,
    publicUrl: () => publicUrl,
    inbound: runtime.inbound,
  };

  const openSockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    // One id per request, on every log line written while handling it and in the answer.
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    withLogContext({ requestId }, () => void route(req, res));
  });
  server.on('connection', (socket) => {
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const started = performance.now();
    res.once('finish', () => {
      if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
        logger.debug({ method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request');
      }
    });
    try {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        const ready = await runtime.store.ping();
        return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'database unreachable' });
      }
      if (path === '/graphql') {
        const body = await checkBodySize(req, config.maxRequestBytes);
        if (body.kind === 'too-large') return sendPayloadTooLarge(res, config.maxRequestBytes);
        // A chunked body was read here (to count it): yoga takes it as already read.
        if (body.kind === 'buffered') (req as IncomingMessage & { body?: Buffer }).body = body.body;
        return void (await yoga.handle(req, res));
      }
      if (path === '/metrics') return await serveMetrics(req, res, metricsRegistry, config.metricsToken);
      if (isWebhookPath(path)) return await handleWebhook(req, res, path, webhookDeps);
      if (isDashboardPath(path)) return await serveDashboard(req, res, path);
      sendJson(res, 404, { error: 'not found' });
    } catch (error) {
      // Providers retry a 503 with its Retry-After, as clients of /graphql do (see maskedErrors).
      const unavailable = isDatabaseUnavailable(error);
      logger[unavailable ? 'warn' : 'error']({ err: error }, unavailable ? 'database unavailable' : 'request failed');
      if (res.headersSent) res.end();
      else if (unavailable) {
        res.setHeader('retry-after', '1');
        sendJson(res, 503, { error: 'database unavailable, retry shortly' });
      } else sendJson(res, 500, { error: 'internal error' });
    }
  }

  // A message over the limit closes the socket (1009) before it is parsed.
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.maxRequestBytes });
  // Open graphql-ws sockets by API key: a revocation (from any instance) closes them at once.
  const socketsByKey = new Map<string, Set<WebSocket>>();
  const stopRevocations = pubsub.onKeyRevoked(({ keyId }) => {
    for (const socket of socketsByKey.get(keyId) ?? []) socket.close(4403, 'API key revoked');
  });
  useServer<Record<string, unknown>, WsExtra>(
    {
      // Operations run with the socket's id and their operation id on their log lines.
      execute: (args) => {
        const root = (args as unknown as { rootValue: { execute: typeof execute; logContext: LogContext } }).rootValue;
        return withLogContext(root.logContext, () => root.execute(args));
      },
      subscribe: (args) => {
        const root = (args as unknown as { rootValue: { subscribe: typeof subscribe; logContext: LogContext } }).rootValue;
        return withLogContext(root.logContext, () => root.subscribe(args));
      },
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          const auth = (ctx.extra.auth = await authenticate(prisma, authorization));
          const socket = ctx.extra.socket;
          const requestId = (ctx.extra.requestId = requestIdFrom(ctx.extra.request.headers[REQUEST_ID_HEADER]));
          wsConnections.add(ctx);
          logger.debug({ requestId, keyId: auth.keyId }, 'graphql-ws connected');
          let sockets = socketsByKey.get(auth.keyId);
          if (!sockets) socketsByKey.set(auth.keyId, (sockets = new Set()));
          sockets.add(socket);
          socket.once('close', (code) => {
            wsConnections.delete(ctx);
            logger.debug({ requestId, code }, 'graphql-ws closed');
            sockets.delete(socket);
            if (sockets.size === 0 && socketsByKey.get(auth.keyId) === sockets) socketsByKey.delete(auth.keyId);
          });
          return true;
        } catch {
          // 4401 when no key was given, 4403 when the key is wrong or revoked.
          ctx.extra.socket.close(authorization ? 4403 : 4401, authorization ? 'Forbidden' : 'Unauthorized');
          return false;
        }
      },
      onSubscribe: async (ctx, id, params) => {
        const logContext: LogContext = { requestId: ctx.extra.requestId, operationId: id };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          // A refused or malformed document is an error message on the socket, not a crash.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const args = {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await withLogContext(logContext, () => contextFactory({ connectionParams: ctx.connectionParams, auth: ctx.extra.auth, logContext })),
          rootValue: { execute, subscribe, logContext },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wss,
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  publicUrl ||= url;

  runtime.startDispatcher();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Stop accepting, let in-flight requests finish (bounded), then close the database.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      stopRevocations();
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      wss.close();
      server.closeIdleConnections();
      const deadline = setTimeout(() => {
        for (const socket of openSockets) socket.destroy();
      }, 5_000);
      await runtime.dispatcher?.stop();
      await closed;
      clearTimeout(deadline);
      await yoga.dispose?.();
      await runtime.stop();
      if (ownsDatabase) await database.close();
    })());

  return { url, port, database, yoga, bootstrapKey, providers, pool: runtime.pool, reconciler: runtime.reconciler, pubsub, dispatcher: runtime.dispatcher, stop };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The answer to an operation that failed because the database could not be reached. */
function databaseUnavailableError(error: unknown): GraphQLError {
  const located = error instanceof GraphQLError ? error : undefined;
  return new GraphQLError('The database is unavailable for a moment; nothing was done, retry shortly.', {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': '1' } } },
  });
}
