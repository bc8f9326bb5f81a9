// Every HTTP path Herald serves on its one port: health and readiness, GraphQL (HTTP and SSE;
// WebSocket upgrades are graphql-ws.ts's), metrics, provider callbacks and the dashboard. Each
// request gets an id, on every log line written while handling it and in the answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { Logger } from '../logging/logger.js';
import { REQUEST_ID_HEADER, requestIdFrom, withLogContext } from '../logging/log-context.js';
import { serveMetrics } from './metrics-route.js';
import type { Store } from '../store/store.js';
import { handleWebhook, isWebhookPath, type WebhookDeps } from '../provider-callbacks/router.js';
import { checkBodySize, sendPayloadTooLarge } from '../security/body-limit.js';
import { corsHeaders, type CorsPolicy } from '../security/cors.js';
import { BACKUP_PATH, serveBackup, type BackupRouteDeps } from './backup-route.js';
import { isDashboardPath, serveDashboard } from './dashboard.js';
import type { HeraldYoga } from './yoga.js';

export interface RouterDeps {
  config: Config;
  logger: Logger;
  store: Store;
  yoga: HeraldYoga;
  metricsRegistry: Registry;
  /** In an HTTP worker of several processes: every process's metrics (http/cluster-metrics.ts). */
  scrapeAll?: () => Promise<{ text: string; contentType: string } | undefined>;
  webhooks: WebhookDeps;
  /** Cross-origin grants for /graphql (CORS_ORIGINS). */
  cors: CorsPolicy;
  /** GET /admin/backup (http/backup-route.ts). */
  backup: BackupRouteDeps;
}

/** Paths polled by probes and scrapers: not logged per request. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function createRequestHandler(deps: RouterDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    withLogContext({ requestId }, () => void handle(deps, req, res));
  };
}

async function handle(deps: RouterDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { config, logger } = deps;
  const path = (req.url ?? '/').split('?')[0]!;
  const started = performance.now();
  res.once('finish', () => {
    if (!QUIET_PATHS.has(path)) logger.debug({ method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request');
  });
  try {
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = await deps.store.ping();
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'database unreachable' });
    }
    if (path === '/graphql') {
      // Set first, so that every answer carries the grant: yoga's, a 401, and this router's own
      // 413 and 503 below (a page can read why it was refused).
      const grant = corsHeaders(deps.cors, req.headers.origin);
      for (const [name, value] of Object.entries(grant ?? {})) res.setHeader(name, value);
      // Granted or not depends on the Origin: a shared cache must not give one origin's answer
      // (or an answer to no Origin) to another.
      res.setHeader('Vary', 'Origin');
      // A preflight: the grant (or, for another origin, none) is the whole answer.
      if (req.method === 'OPTIONS') return void res.writeHead(204, { 'content-length': '0' }).end();
      const body = await checkBodySize(req, config.maxRequestBytes);
      if (body.kind === 'too-large') return sendPayloadTooLarge(res, config.maxRequestBytes);
      // The body was read here (to count it): yoga takes it as already read.
      if (body.kind === 'buffered') (req as IncomingMessage & { body?: unknown }).body = alreadyRead(req, body.body);
      return void (await deps.yoga.handle(req, res));
    }
    if (path === '/metrics') return await serveMetrics(req, res, deps.metricsRegistry, config.metricsToken, deps.scrapeAll);
    if (path === BACKUP_PATH) return await serveBackup(req, res, deps.backup);
    if (isWebhookPath(path)) return await handleWebhook(req, res, path, deps.webhooks);
    if (isDashboardPath(path)) return await serveDashboard(req, res, path);
    sendJson(res, 404, { error: 'not found' });
  } catch (error) {
    // Providers retry a 503 with its Retry-After, as clients of /graphql do (see http/yoga.ts).
    const unavailable = isDatabaseUnavailable(error);
    logger[unavailable ? 'warn' : 'error']({ err: error }, unavailable ? 'database unavailable' : 'request failed');
    if (res.headersSent) res.end();
    else if (unavailable) {
      res.setHeader('retry-after', '1');
      sendJson(res, 503, { error: 'database unavailable, retry shortly' });
    } else sendJson(res, 500, { error: 'internal error' });
  }
}

/**
 * A body read by the router, as yoga takes it: a JSON object parsed (yoga would parse it the
 * same way), anything else as the bytes, which yoga answers as before. Not the bytes for JSON:
 * @whatwg-node/server counts an already-read body's keys before it checks whether it is bytes,
 * and Object.keys of a Buffer makes one string per byte (400 000 for a 10 000-recipient
 * sendMessages, then garbage to collect).
 */
function alreadyRead(req: IncomingMessage, body: Buffer): unknown {
  if (!req.headers['content-type']?.toLowerCase().includes('json')) return body;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? parsed : body;
  } catch {
    return body;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
