// GET /metrics: the process registry merged with this Herald's scrape-time gauges.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import type { ProviderPool } from '../providers/provider-pool.js';
import type { MessageStatsReads } from '../store/message-stats.js';
import type { ProviderQualityStore } from '../store/provider-quality.js';
import { qualityWindows, type QualityFigures } from '../domain/provider-quality.js';
import { processRegistry } from '../metrics/metrics.js';

export interface ScrapeSources {
  /** The messages-by-status count (the store's `stats`). */
  stats: Pick<MessageStatsReads, 'countByStatusAndProvider'>;
  pool: ProviderPool;
  logger: Logger;
  /** Open graphql-ws sockets and the subscriptions running on them. */
  sockets: () => { sockets: number; subscriptions: number };
  /** Providers' measured quality (the store's `providerQuality`: shared table, cached read). */
  quality: Pick<ProviderQualityStore, 'read'>;
}

const CIRCUIT_VALUE = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 } as const;

/**
 * The registry of one running Herald: its gauges read their sources when scraped. Messages by
 * status come from the database (one GROUP BY), not from counters: every instance then
 * reports the same, correct numbers whichever instance moved a message (use `max`, not `sum`,
 * across instances), and a restart loses nothing.
 */
export function createHeraldRegistry(sources: ScrapeSources): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'herald_messages',
    help: 'Messages in the database by status and provider (provider "none" before one was chosen)',
    labelNames: ['status', 'provider'] as const,
    registers: [registry],
    // Every process of one Herald reads the same table (http/cluster-metrics.ts adds processes up).
    aggregator: 'max',
    async collect() {
      this.reset();
      try {
        const rows = await sources.stats.countByStatusAndProvider();
        for (const row of rows) this.set({ status: row.status, provider: row.provider ?? 'none' }, row.count);
        up.set(1);
      } catch (error) {
        // The rest of the scrape is still worth having while the database is away.
        sources.logger.warn({ err: error }, 'metrics: counting messages failed');
        up.set(0);
      }
    },
  });
  const up = new Gauge({ name: 'herald_database_up', help: '1 when the last scrape could read the database', registers: [registry], aggregator: 'min' });
  new Gauge({
    name: 'herald_provider_circuit_state',
    help: "A provider's circuit breaker: 0 closed, 1 half-open (probing), 2 open",
    labelNames: ['provider'] as const,
    registers: [registry],
    // Only the dispatching process submits; HTTP workers' circuits stay closed.
    aggregator: 'max',
    collect() {
      for (const p of sources.pool.health()) this.set({ provider: p.name }, CIRCUIT_VALUE[p.circuit]);
    },
  });
  new Gauge({
    name: 'herald_provider_in_flight',
    help: 'Submissions waiting for a provider answer',
    labelNames: ['provider'] as const,
    registers: [registry],
    collect() {
      for (const p of sources.pool.health()) this.set({ provider: p.name }, p.inFlight);
    },
  });
  addQualityGauges(registry, sources);
  new Gauge({
    name: 'herald_websocket_connections',
    help: 'Open graphql-ws sockets',
    registers: [registry],
    collect() {
      this.set(sources.sockets().sockets);
    },
  });
  new Gauge({
    name: 'herald_subscriptions',
    help: 'Operations running on open graphql-ws sockets (subscriptions)',
    registers: [registry],
    collect() {
      this.set(sources.sockets().subscriptions);
    },
  });
  return registry;
}

/**
 * Providers' measured quality per provider, destination country and window ("5m", "1h", "24h"),
 * from the shared minute buckets at scrape time. A figure without data (a rate with nothing to
 * divide) has no sample rather than a made-up 0. Every process of one Herald reads the same
 * table, so the cluster's aggregation takes one value ('max'), never the sum.
 */
function addQualityGauges(registry: Registry, sources: ScrapeSources): void {
  // The four gauges read at once; the store's cache makes that one query.
  const figures = async () => {
    try {
      const all = await sources.quality.read();
      return all.flatMap((q) => qualityWindows.map((w) => ({ provider: q.provider, country: q.country, window: w.label, figures: q[w.name] })));
    } catch (error) {
      sources.logger.warn({ err: error }, 'metrics: reading provider quality failed');
      return [];
    }
  };
  const labelNames = ['provider', 'country', 'window'] as const;
  const gauge = (name: string, help: string, value: (f: QualityFigures) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      aggregator: 'max',
      async collect() {
        this.reset();
        for (const { provider, country, window, figures: f } of await figures()) {
          const v = value(f);
          if (v !== null) this.set({ provider, country, window }, v);
        }
      },
    });
  gauge('herald_provider_delivery_rate', 'Measured delivered / (delivered + failed + reports missing), per provider, destination country and window', (f) => f.deliveryRate);
  gauge('herald_provider_submit_error_rate', 'Measured submission errors / submissions, per provider, destination country and window', (f) => f.submitErrorRate);
  gauge('herald_provider_reports_missing_share', 'Measured messages without a report by the deadline / accepted submissions, per provider, destination country and window', (f) => f.reportsMissingShare);
  new Gauge({
    name: 'herald_provider_delivery_seconds',
    help: 'Measured time from SENT to DELIVERED (from log-scale buckets, within 4.4 %), per provider, destination country and window',
    labelNames: [...labelNames, 'quantile'] as const,
    registers: [registry],
    aggregator: 'max',
    async collect() {
      this.reset();
      for (const { provider, country, window, figures: f } of await figures()) {
        if (f.deliveryP50Ms !== null) this.set({ provider, country, window, quantile: '0.5' }, f.deliveryP50Ms / 1000);
        if (f.deliveryP95Ms !== null) this.set({ provider, country, window, quantile: '0.95' }, f.deliveryP95Ms / 1000);
      }
    },
  });
}

/**
 * Answers GET /metrics. Open by default, like most exporters (bind the port privately or set
 * METRICS_TOKEN); with a token it wants `Authorization: Bearer <token>`.
 */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  token: string | undefined,
  /** With several processes: every process's metrics added up (http/cluster-metrics.ts). */
  scrapeAll?: () => Promise<{ text: string; contentType: string } | undefined>,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'application/json', allow: 'GET' });
    return void res.end(JSON.stringify({ error: 'GET only' }));
  }
  if (token && !bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="metrics"' });
    return void res.end(JSON.stringify({ error: 'metrics need the METRICS_TOKEN bearer token' }));
  }
  // Only this process's when the others cannot be asked (the primary is gone or too slow).
  const all = await scrapeAll?.();
  const merged = withProcessMetrics(registry);
  const body = all?.text ?? (await merged.metrics());
  res.writeHead(200, { 'content-type': all?.contentType ?? merged.contentType });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** This process's metrics: Node's and Herald's counters, and the Herald registry's gauges. */
export function withProcessMetrics(registry: Registry): Registry {
  return Registry.merge([processRegistry, registry]);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
