// The GraphQL server proper: Yoga over the schema, with the plugins every operation goes through
// (query limits, CSRF prevention, Prometheus), error masking, the inlined GraphiQL, and the
// context factory that authenticates and rate-limits each operation. HTTP, SSE and graphql-ws
// operations all use this one instance (graphql-ws through `yoga.getEnveloped`).
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import { authenticate, rateLimited, type AuthDeps } from './auth.js';
import { accessTokenAudience } from '../domain/access-token.js';
import type { Config } from '../config/config.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { Logger } from '../logging/logger.js';
import { currentLogContext, requestIdFrom, type LogContext } from '../logging/log-context.js';
import type { Context } from '../schema/context.js';
import { exposeExpectedError } from '../schema/expected-errors.js';
import { buildSchema } from '../schema/index.js';
import { useTokenScope } from '../schema/token-scope.js';
import { CSRF_HEADERS } from '../security/csrf.js';
import { queryLimitPlugins } from '../security/query-limits.js';

export type HeraldYoga = YogaServerInstance<Record<string, unknown>, Context>;

/** The parts of the runtime (app/runtime.ts) every operation's context carries. */
export type ContextSources = Pick<Context, 'store' | 'pubsub' | 'publishAndWake' | 'compliance' | 'providers' | 'routing' | 'routeFacts' | 'providerHealth' | 'dispatchingConfigurationVersion' | 'configuration' | 'configurationDeps' | 'isOperatorAccount'>;

/** What the context factory is given besides the request (graphql-ws passes the socket's). */
export interface ContextInput {
  request: Request;
  connectionParams?: Record<string, unknown>;
  /** graphql-ws: the socket was authenticated when it connected. */
  auth?: Context['auth'];
  /** graphql-ws: the socket's id and the operation's (HTTP: taken from the request's context). */
  logContext?: LogContext;
}

export function createHeraldYoga(deps: { config: Config; logger: Logger; runtime: ContextSources; metricsRegistry: Registry }): HeraldYoga {
  const { config, logger, runtime } = deps;
  const { prisma } = runtime.store;
  const authDeps: AuthDeps = { store: runtime.store, tokenAudience: accessTokenAudience(config.publicUrl) };
  return createYoga<Record<string, unknown>, Context>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Yoga's default CORS reflects any Origin with credentials; the router grants CORS_ORIGINS
    // only, on every /graphql answer (security/cors.ts).
    cors: false,
    plugins: [
      // Oversized documents are refused at parse/validate, on HTTP and graphql-ws alike.
      ...queryLimitPlugins(config.graphqlLimits),
      // A browser can send a cross-site GET or a form/text POST without a preflight; such a
      // request must carry a header a page cannot set cross-site (any real client sends one).
      useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] }),
      // An access token may run only what its scope grants (deny by default; schema/token-scope.ts).
      useTokenScope(),
      // Operation counts, phase timings and errors, served by our GET /metrics.
      usePrometheus({
        registry: deps.metricsRegistry,
        endpoint: false,
        // The URL is the same on every request (and carries the host): no label for it.
        labels: { url: false },
        // Per request: the count, the whole duration, execution, errors and the HTTP duration.
        // Not the parse/validate/context/subscribe phase histograms (parse and validate are
        // cached, context is the key lookup, timed on its own) nor the deprecated-field count
        // (the schema deprecates nothing): each walked or timed every request, a few per cent of
        // an intake process's CPU (docs/benchmarks.md).
        metrics: {
          graphql_envelop_request: true,
          graphql_envelop_request_duration: true,
          graphql_envelop_phase_parse: false,
          graphql_envelop_phase_validate: false,
          graphql_envelop_phase_context: false,
          graphql_envelop_phase_execute: true,
          graphql_envelop_phase_subscribe: false,
          graphql_envelop_error_result: true,
          graphql_envelop_deprecated_field: false,
          graphql_envelop_schema_change: false,
          graphql_yoga_http_duration: true,
        },
      }),
    ],
    // Unexpected errors reach clients as "Unexpected error." in production; never stack or SQL.
    // Expected ones (HeraldError) outside a result union keep their message and code.
    // A database that cannot be reached (restarting, refusing connections) is said as such, with
    // a code a client can retry on: nothing was done, so trying again is safe.
    maskedErrors: {
      isDev: !config.production,
      maskError: (error, message, isDev) => (isDatabaseUnavailable(error) ? databaseUnavailableError(error) : maskError(exposeExpectedError(error), message, isDev)),
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
    // The router has read every body within MAX_REQUEST_BYTES before yoga sees it
    // (security/body-limit.ts); yoga's own limit would count it again through a stream.
    maxRequestBodySize: false,
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    context: async ({ request, connectionParams, auth, logContext }: ContextInput) => ({
      prisma,
      store: runtime.store,
      config,
      pubsub: runtime.pubsub,
      publishAndWake: runtime.publishAndWake,
      compliance: runtime.compliance,
      providers: runtime.providers,
      routing: runtime.routing,
      routeFacts: runtime.routeFacts,
      configuration: runtime.configuration,
      configurationDeps: runtime.configurationDeps,
      isOperatorAccount: runtime.isOperatorAccount,
      providerHealth: runtime.providerHealth,
      dispatchingConfigurationVersion: runtime.dispatchingConfigurationVersion,
      ...requestLogging(logger, logContext ?? currentLogContext()),
      // WebSocket operations were authenticated when the socket connected.
      auth: await limitRequests(runtime, auth ?? (await authenticate(authDeps, connectionParams?.authorization ?? request.headers.get('authorization')))),
    }),
  });
}

function requestLogging(logger: Logger, fields: LogContext): Pick<Context, 'requestId' | 'log'> {
  const requestId = fields.requestId ?? requestIdFrom(undefined);
  return { requestId, log: logger.child({ requestId, ...(fields.operationId && { operationId: fields.operationId }) }) };
}

/**
 * Per-key request rate (every HTTP request and WebSocket operation counts). An access token has
 * a budget of its own, the same size: the pages of one backend must not use up its key's.
 */
async function limitRequests(runtime: ContextSources, auth: Context['auth']): Promise<Context['auth']> {
  const refused = await runtime.compliance.limiter.consumeRequest(auth.token ? `token:${auth.token.tokenId}` : auth.keyId, auth.accountId);
  if (refused) throw rateLimited(refused);
  return auth;
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
