// GraphQL subscriptions (and any operation) over WebSocket, graphql-ws protocol, on /graphql.
// A socket is authenticated once, when it connects; each operation then goes through the same
// Yoga plugins and context factory as HTTP (`yoga.getEnveloped`). Sockets are tracked by API key
// so that revoking a key (on any instance: the revocation comes through pub/sub) closes them.
import type { IncomingMessage, Server } from 'node:http';
import { execute, GraphQLError, subscribe } from 'graphql';
import { CloseCode, type SubscribePayload } from 'graphql-ws';
import type { Context as WsServerContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate, presentsAccessToken, type AuthDeps } from './auth.js';
import { allowsUpgrade, type CorsPolicy } from '../security/cors.js';
import type { Logger } from '../logging/logger.js';
import { REQUEST_ID_HEADER, requestIdFrom, withLogContext, type LogContext } from '../logging/log-context.js';
import type { HeraldPubSub } from '../pubsub/pubsub.js';
import type { Context } from '../schema/context.js';
import type { ContextInput, HeraldYoga } from './yoga.js';

/** WebSocket close codes of RFC 6455 that Herald uses (graphql-ws's own are its CloseCode). */
export const WebSocketCloseCode = {
  /** The server is shutting down. */
  GoingAway: 1001,
  /** A message over the size limit (ws closes with it before parsing). */
  MessageTooBig: 1009,
} as const;

type WsExtra = {
  request: IncomingMessage;
  socket: WebSocket;
  auth?: Context['auth'];
  /** The socket's id (its upgrade request's x-request-id, or a new one). */
  requestId?: string;
};

type WsContext = WsServerContext<Record<string, unknown>, WsExtra>;

export interface GraphqlWs {
  /** Open graphql-ws connections and their subscriptions, for the gauges of /metrics. */
  counts(): { sockets: number; subscriptions: number };
  /** Closes every socket with GoingAway and stops accepting. */
  close(): void;
}

export function attachGraphqlWs(deps: { server: Server; yoga: HeraldYoga; auth: AuthDeps; pubsub: HeraldPubSub; logger: Logger; maxPayloadBytes: number; cors: CorsPolicy }): GraphqlWs {
  const { yoga, logger } = deps;
  const wss = new WebSocketServer({
    server: deps.server,
    path: '/graphql',
    // A message over the limit closes the socket (MessageTooBig) before it is parsed.
    maxPayload: deps.maxPayloadBytes,
    // A page of an origin CORS_ORIGINS does not grant gets no socket (HTTP 403 to the upgrade).
    verifyClient: ({ req }, accept) =>
      allowsUpgrade(deps.cors, req.headers.origin, req.headers.host) ? accept(true) : accept(false, 403, 'origin not allowed (CORS_ORIGINS)'),
  });
  const connections = new Set<{ subscriptions: Record<string, unknown> }>();
  // By API key id; an access token's socket is under its parent key, so revoking the key closes it.
  const socketsByKey = new Map<string, Set<WebSocket>>();
  const stopRevocations = deps.pubsub.onKeyRevoked(({ keyId }) => {
    for (const socket of socketsByKey.get(keyId) ?? []) socket.close(CloseCode.Forbidden, 'API key revoked');
  });

  function track(keyId: string, socket: WebSocket, onClose: (code: number) => void): void {
    let sockets = socketsByKey.get(keyId);
    if (!sockets) socketsByKey.set(keyId, (sockets = new Set()));
    sockets.add(socket);
    socket.once('close', (code) => {
      onClose(code);
      sockets.delete(socket);
      if (sockets.size === 0 && socketsByKey.get(keyId) === sockets) socketsByKey.delete(keyId);
    });
  }

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
          const auth = (ctx.extra.auth = await authenticate(deps.auth, authorization));
          const requestId = (ctx.extra.requestId = requestIdFrom(ctx.extra.request.headers[REQUEST_ID_HEADER]));
          connections.add(ctx);
          logger.debug({ requestId, keyId: auth.keyId }, 'graphql-ws connected');
          const expiry = auth.token && closeAtExpiry(ctx.extra.socket, auth.token.expiresAt);
          track(auth.keyId, ctx.extra.socket, (code) => {
            clearTimeout(expiry);
            connections.delete(ctx);
            logger.debug({ requestId, code }, 'graphql-ws closed');
          });
          return true;
        } catch (error) {
          // Unauthorized when no key was given or an access token is refused (with the reason: a
          // page then fetches a new token), Forbidden when a key is wrong or revoked.
          if (presentsAccessToken(authorization) && error instanceof GraphQLError) ctx.extra.socket.close(CloseCode.Unauthorized, closeReason(error.message));
          else if (authorization) ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden');
          else ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized');
          return false;
        }
      },
      onSubscribe: (ctx, id, params) => prepareOperation(yoga, ctx, id, params),
    },
    wss,
  );

  return {
    counts: () => ({ sockets: connections.size, subscriptions: [...connections].reduce((n, c) => n + Object.keys(c.subscriptions).length, 0) }),
    close() {
      stopRevocations();
      for (const client of wss.clients) client.close(WebSocketCloseCode.GoingAway, 'server shutting down');
      wss.close();
    },
  };
}

/**
 * An access token's socket ends when the token does (4401, like a refused token): its scope was
 * granted for that long only. The page reconnects with a new token.
 */
function closeAtExpiry(socket: WebSocket, expiresAt: Date): ReturnType<typeof setTimeout> {
  const timer = setTimeout(() => socket.close(CloseCode.Unauthorized, 'the access token has expired: get a new one'), Math.max(0, expiresAt.getTime() - Date.now()));
  timer.unref();
  return timer;
}

/** A close frame's reason is at most 123 bytes (RFC 6455). */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123 ? message : Buffer.from(message).subarray(0, 120).toString('utf8') + '...';
}

/**
 * A graphql-ws operation made ready to run through the same Yoga plugins and context factory as
 * HTTP, or the errors that refuse it (a malformed or over-limit document is an error message on
 * the socket, never a crash).
 */
async function prepareOperation(yoga: HeraldYoga, ctx: WsContext, id: string, params: SubscribePayload) {
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
    if (error instanceof GraphQLError) return [error];
    throw error;
  }
  const contextInput: Omit<ContextInput, 'request'> = { connectionParams: ctx.connectionParams, auth: ctx.extra.auth, logContext };
  const args = {
    schema,
    operationName: params.operationName,
    document,
    variableValues: params.variables,
    contextValue: await withLogContext(logContext, () => contextFactory(contextInput)),
    rootValue: { execute, subscribe, logContext },
  };
  const errors = validate(args.schema, args.document);
  if (errors.length) return errors;
  return args;
}
